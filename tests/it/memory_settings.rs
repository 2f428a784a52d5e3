//! The settings methods of `Memory`, run against every backend in
//! [`backends`] (add a backend there and every test covers it), plus the
//! SQLite specifics: persistence across reopening and the v1 → v2 migration.

use std::path::PathBuf;
use std::time::Duration;

use duet::chat::memory::Memory;
use duet::chat::settings::{Scope, SettingKey};
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::ProviderKind;
use duet::secret::Secret;
use duet_testkit::postgres::TestSchema;

/// One store under test, and what keeps its storage alive.
struct Backend {
    name: &'static str,
    memory: Memory,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<TestSchema>,
}

fn config(backend: MemoryBackend, path: PathBuf) -> MemoryConfig {
    MemoryConfig {
        backend,
        database_path: path,
        database_url: None,
        database_max_connections: 4,
        scope: MemoryScope::UserChannel,
        ttl: Some(Duration::from_secs(86_400)),
        cache_conversations: 10,
    }
}

/// Every backend the settings must work on: RAM, SQLite and, when
/// `DUET_TEST_DATABASE_URL` is set, PostgreSQL in a schema of its own.
async fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = config(MemoryBackend::Sqlite, dir.path().join("duet.db"));
    let mut backends = vec![
        Backend {
            name: "memory",
            memory: Memory::open(&config(MemoryBackend::Memory, PathBuf::new()), 20).unwrap(),
            _dir: None,
            _schema: None,
        },
        Backend {
            name: "sqlite",
            memory: Memory::open(&sqlite, 20).unwrap(),
            _dir: Some(dir),
            _schema: None,
        },
    ];
    if let Some(schema) = TestSchema::create(test).await {
        let mut postgres = config(MemoryBackend::Postgres, PathBuf::new());
        postgres.database_url = Some(Secret::new(schema.url.clone()));
        backends.push(Backend {
            name: "postgres",
            memory: Memory::connect(&postgres, 20).await.unwrap(),
            _dir: None,
            _schema: Some(schema),
        });
    }
    backends
}

fn server(guild: &str) -> Scope {
    Scope::Server {
        guild: guild.into(),
    }
}

fn channel(guild: &str, channel: &str) -> Scope {
    Scope::Channel {
        guild: guild.into(),
        channel: channel.into(),
    }
}

fn user(id: &str) -> Scope {
    Scope::User { user: id.into() }
}

#[tokio::test]
async fn each_scope_lands_in_its_own_layer_and_other_places_see_nothing() {
    for Backend { name, memory, .. } in backends("each_scope_lands_in_its_").await {
        memory
            .change_setting(&server("g"), SettingKey::Prompt, Some("server"))
            .await
            .unwrap();
        memory
            .change_setting(&channel("g", "c"), SettingKey::Model, Some("m"))
            .await
            .unwrap();
        memory
            .change_setting(&user("u"), SettingKey::Model, Some("mine"))
            .await
            .unwrap();
        memory
            .change_setting(&server("other"), SettingKey::Web, Some("false"))
            .await
            .unwrap();

        let here = memory.settings_layers(Some("g"), "c", "u").await.unwrap();
        assert_eq!(
            here.server.get(&SettingKey::Prompt).map(String::as_str),
            Some("server"),
            "{name}"
        );
        assert_eq!(
            here.channel.get(&SettingKey::Model).map(String::as_str),
            Some("m"),
            "{name}"
        );
        assert_eq!(
            here.user.get(&SettingKey::Model).map(String::as_str),
            Some("mine"),
            "{name}"
        );
        assert!(!here.server.contains_key(&SettingKey::Web), "{name}");

        let other_channel = memory.settings_layers(Some("g"), "c2", "v").await.unwrap();
        assert!(
            other_channel.channel.is_empty() && other_channel.user.is_empty(),
            "{name}"
        );
        let dm = memory.settings_layers(None, "c", "u").await.unwrap();
        assert!(dm.server.is_empty() && dm.channel.is_empty(), "{name}");
        assert_eq!(dm.user.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn a_change_returns_the_old_value_and_none_removes_it() {
    for Backend { name, memory, .. } in backends("a_change_returns_the_old").await {
        let scope = server("g");
        let first = memory
            .change_setting(&scope, SettingKey::Model, Some("a"))
            .await
            .unwrap();
        assert_eq!(first, None, "{name}");
        let second = memory
            .change_setting(&scope, SettingKey::Model, Some("b"))
            .await
            .unwrap();
        assert_eq!(second.as_deref(), Some("a"), "{name}");
        let removed = memory
            .change_setting(&scope, SettingKey::Model, None)
            .await
            .unwrap();
        assert_eq!(removed.as_deref(), Some("b"), "{name}");
        assert_eq!(
            memory
                .change_setting(&scope, SettingKey::Model, None)
                .await
                .unwrap(),
            None
        );
        assert!(
            memory.scope_settings(&scope).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn clearing_a_scope_leaves_the_others() {
    for Backend { name, memory, .. } in backends("clearing_a_scope_leaves_").await {
        memory
            .change_setting(&server("g"), SettingKey::Prompt, Some("p"))
            .await
            .unwrap();
        memory
            .change_setting(&server("g"), SettingKey::Web, Some("false"))
            .await
            .unwrap();
        memory
            .change_setting(&channel("g", "c"), SettingKey::Prompt, Some("q"))
            .await
            .unwrap();
        assert_eq!(
            memory.clear_settings(&server("g")).await.unwrap(),
            2,
            "{name}"
        );
        let left = memory.settings_layers(Some("g"), "c", "u").await.unwrap();
        assert!(left.server.is_empty(), "{name}");
        assert_eq!(left.channel.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn removing_a_guild_takes_its_channels_and_keeps_users_and_other_guilds() {
    for Backend { name, memory, .. } in backends("removing_a_guild_takes_i").await {
        memory
            .change_setting(&server("g"), SettingKey::Prompt, Some("p"))
            .await
            .unwrap();
        memory
            .change_setting(&channel("g", "c"), SettingKey::ReplyAll, Some("true"))
            .await
            .unwrap();
        memory
            .change_setting(&server("h"), SettingKey::Prompt, Some("h"))
            .await
            .unwrap();
        memory
            .change_setting(&user("u"), SettingKey::Model, Some("m"))
            .await
            .unwrap();
        assert_eq!(
            memory.remove_guild_settings("g").await.unwrap(),
            2,
            "{name}"
        );
        assert_eq!(memory.remove_guild_settings("").await.unwrap(), 0, "{name}");
        let g = memory.settings_layers(Some("g"), "c", "u").await.unwrap();
        assert!(g.server.is_empty() && g.channel.is_empty(), "{name}");
        assert_eq!(g.user.len(), 1, "{name}");
        let h = memory.settings_layers(Some("h"), "c", "u").await.unwrap();
        assert_eq!(h.server.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn a_users_own_settings_are_exported_and_forgotten_with_them() {
    for Backend { name, memory, .. } in backends("a_users_own_settings_are").await {
        memory
            .change_setting(&user("u"), SettingKey::Model, Some("mine"))
            .await
            .unwrap();
        memory
            .change_setting(&user("v"), SettingKey::Model, Some("theirs"))
            .await
            .unwrap();
        let key = ConversationKey::new(MemoryScope::UserChannel, "u", "c");
        let turn = Turn {
            user_id: "u".into(),
            question: "q".into(),
            answer: "a".into(),
            provider: ProviderKind::OpenAi,
            model: "mine".into(),
            at: 1,
        };
        memory.append(&key, turn).await.unwrap();
        let export: serde_json::Value =
            serde_json::from_str(&memory.export_user("u").await.unwrap()).unwrap();
        assert_eq!(export["settings"]["model"], "mine", "{name}");
        assert_eq!(
            export["conversations"].as_array().map(Vec::len),
            Some(1),
            "{name}"
        );

        memory.forget_user("u").await.unwrap();
        assert!(
            memory.scope_settings(&user("u")).await.unwrap().is_empty(),
            "{name}"
        );
        assert_eq!(
            memory.scope_settings(&user("v")).await.unwrap().len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn sqlite_settings_survive_reopening_and_a_version_1_database_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE turns (id INTEGER PRIMARY KEY, conversation TEXT NOT NULL,
                 user_id TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
                 provider TEXT NOT NULL, model TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE TABLE conversations (key TEXT PRIMARY KEY, last_active INTEGER NOT NULL);
             CREATE TABLE token_usage (user_id TEXT NOT NULL, day TEXT NOT NULL,
                 tokens INTEGER NOT NULL, PRIMARY KEY (user_id, day));
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let sqlite = config(MemoryBackend::Sqlite, path.clone());
    {
        let memory = Memory::open(&sqlite, 20).unwrap();
        memory
            .change_setting(&server("g"), SettingKey::Prompt, Some("kept"))
            .await
            .unwrap();
        memory.flush().await.unwrap();
    }
    let reopened = Memory::open(&sqlite, 20).unwrap();
    let layers = reopened.settings_layers(Some("g"), "c", "u").await.unwrap();
    assert_eq!(
        layers.server.get(&SettingKey::Prompt).map(String::as_str),
        Some("kept")
    );
    drop(reopened);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}
