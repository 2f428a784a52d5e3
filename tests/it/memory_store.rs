//! Conversation memory against real SQLite files in temporary directories,
//! and the same behaviour from the in-RAM backend and from PostgreSQL (a
//! schema of its own per test on `DUET_TEST_DATABASE_URL`; without the
//! variable the PostgreSQL part is skipped with a printed reason): the tests
//! that take [`each_backend`] are the one store suite every backend passes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use duet::chat::memory::{Memory, MemoryError};
use duet::chat::prompt::build_prompt;
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::{ProviderKind, Role};
use duet::secret::Secret;
use duet_testkit::postgres::TestSchema;

const DAY: i64 = 86_400;

fn config(backend: MemoryBackend, path: PathBuf, cache: usize) -> MemoryConfig {
    MemoryConfig {
        backend,
        database_path: path,
        database_url: None,
        database_max_connections: 10,
        scope: MemoryScope::UserChannel,
        ttl: Some(Duration::from_secs(7 * DAY as u64)),
        cache_conversations: cache,
    }
}

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join("duet.db")
}

fn open_sqlite(path: &Path, max_history: usize) -> Memory {
    Memory::open(
        &config(MemoryBackend::Sqlite, path.into(), 100),
        max_history,
    )
    .unwrap()
}

/// One backend of the suite, with what it needs kept alive.
struct Store {
    memory: Memory,
    backend: MemoryBackend,
    /// SQLite's directory.
    dir: Option<tempfile::TempDir>,
    /// PostgreSQL's schema, dropped with the store.
    schema: Option<TestSchema>,
}

/// Memory on `schema` (created by the caller).
async fn open_postgres(schema: &TestSchema, max_history: usize) -> Memory {
    let mut config = config(MemoryBackend::Postgres, PathBuf::new(), 100);
    config.database_url = Some(Secret::new(schema.url.clone()));
    Memory::connect(&config, max_history).await.unwrap()
}

/// RAM, SQLite (with its directory) and, when `DUET_TEST_DATABASE_URL` is
/// set, PostgreSQL (in a schema of its own): every test of the suite runs
/// against each.
async fn each_backend(test: &str, max_history: usize) -> Vec<Store> {
    let dir = tempfile::tempdir().unwrap();
    let ram = config(MemoryBackend::Memory, PathBuf::new(), 100);
    let mut stores = vec![
        Store {
            memory: Memory::open(&ram, max_history).unwrap(),
            backend: MemoryBackend::Memory,
            dir: None,
            schema: None,
        },
        Store {
            memory: open_sqlite(&db_path(&dir), max_history),
            backend: MemoryBackend::Sqlite,
            dir: Some(dir),
            schema: None,
        },
    ];
    if let Some(schema) = TestSchema::create(test).await {
        stores.push(Store {
            memory: open_postgres(&schema, max_history).await,
            backend: MemoryBackend::Postgres,
            dir: None,
            schema: Some(schema),
        });
    }
    stores
}

fn turn(user: &str, question: &str, at: i64) -> Turn {
    Turn {
        user_id: user.into(),
        question: question.into(),
        answer: format!("answer to {question}"),
        provider: ProviderKind::Perplexity,
        model: "sonar-pro".into(),
        at,
    }
}

fn key(user: &str, channel: &str) -> ConversationKey {
    ConversationKey::new(MemoryScope::UserChannel, user, channel)
}

fn questions(turns: &[Turn]) -> Vec<&str> {
    turns.iter().map(|t| t.question.as_str()).collect()
}

fn count(conn: &rusqlite::Connection, sql: &str, arg: &str) -> i64 {
    conn.query_row(sql, [arg], |row| row.get(0)).unwrap()
}

#[tokio::test]
async fn history_and_token_counts_survive_closing_and_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let memory = open_sqlite(&path, 50);
    memory
        .append(&key("ann", "dm"), turn("ann", "first", 10))
        .await
        .unwrap();
    memory
        .append(&key("ann", "dm"), turn("ann", "second", 20))
        .await
        .unwrap();
    memory
        .append(&key("bob", "general"), turn("bob", "hi", 30))
        .await
        .unwrap();
    assert_eq!(
        memory.add_tokens("ann", "2026-01-02", 700).await.unwrap(),
        700
    );
    memory.flush().await.unwrap();
    drop(memory);

    let reopened = open_sqlite(&path, 50);
    assert_eq!(
        reopened.cached_conversations(),
        0,
        "nothing is served from an old cache"
    );
    let ann = reopened.load(&key("ann", "dm")).await.unwrap();
    assert_eq!(questions(&ann), ["first", "second"]);
    assert_eq!(ann[1], turn("ann", "second", 20), "every field comes back");
    assert_eq!(reopened.conversation_count().await.unwrap(), 2);
    assert_eq!(
        reopened.tokens_used("ann", "2026-01-02").await.unwrap(),
        700
    );
    assert_eq!(reopened.tokens_used("ann", "2026-01-03").await.unwrap(), 0);
}

#[tokio::test]
async fn the_database_file_is_private_and_its_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("duet.db");
    let memory = open_sqlite(&path, 50);
    memory
        .append(&key("ann", "dm"), turn("ann", "q", 1))
        .await
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let wal = path.with_extension("db-wal");
    assert!(wal.exists(), "WAL mode is on");
    assert_eq!(mode(&wal), 0o600, "SQLite copies the database file's mode");
}

#[tokio::test]
async fn an_existing_world_readable_database_is_made_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("duet.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _memory = open_sqlite(&path, 50);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn scopes_keep_a_dm_apart_from_channels_or_share_as_configured() {
    for Store { memory, .. } in each_backend("scopes", 50).await {
        let dm = ConversationKey::new(MemoryScope::UserChannel, "ann", "dm-1");
        let public = ConversationKey::new(MemoryScope::UserChannel, "ann", "general");
        memory
            .append(&dm, turn("ann", "my secret", 1))
            .await
            .unwrap();
        assert!(
            memory.load(&public).await.unwrap().is_empty(),
            "a DM never leaks"
        );

        let everywhere = ConversationKey::new(MemoryScope::User, "ann", "dm-1");
        memory
            .append(&everywhere, turn("ann", "remember me", 2))
            .await
            .unwrap();
        let elsewhere = ConversationKey::new(MemoryScope::User, "ann", "general");
        assert_eq!(
            questions(&memory.load(&elsewhere).await.unwrap()),
            ["remember me"]
        );

        let room = |user| ConversationKey::new(MemoryScope::Channel, user, "general");
        memory
            .append(&room("ann"), turn("ann", "from ann", 3))
            .await
            .unwrap();
        memory
            .append(&room("bob"), turn("bob", "from bob", 4))
            .await
            .unwrap();
        let shared = memory.load(&room("carl")).await.unwrap();
        assert_eq!(questions(&shared), ["from ann", "from bob"]);
        assert_eq!(shared[1].user_id, "bob");
    }
}

#[tokio::test]
async fn trimming_keeps_whole_recent_turns_for_odd_and_even_limits() {
    for max_history in [2, 3, 4, 5, 7, 50] {
        for store in each_backend("trimming", max_history).await {
            let memory = &store.memory;
            let k = key("ann", "dm");
            for i in 0..30 {
                memory
                    .append(&k, turn("ann", &format!("q{i}"), i))
                    .await
                    .unwrap();
            }
            let kept = memory.load(&k).await.unwrap();
            let expected: Vec<String> = (30 - max_history as i64 / 2..30)
                .map(|i| format!("q{i}"))
                .collect();
            assert_eq!(questions(&kept), expected, "max {max_history}");
            assert!(2 * kept.len() <= max_history);
            assert!(
                kept.iter()
                    .all(|t| t.answer == format!("answer to {}", t.question))
            );
            let prompt = build_prompt("sys", &kept, "next", 100_000);
            assert_eq!(prompt[1].role, Role::User, "history starts with a question");
            let rows = stored_rows(
                &store,
                "SELECT count(*) FROM turns WHERE user_id = $1",
                "ann",
            )
            .await;
            if let Some(rows) = rows {
                assert_eq!(rows, max_history as i64 / 2, "the database is trimmed too");
            }
        }
    }
}

/// `sql` (a count with one argument, written `$1`) run on the store's
/// database; `None` for RAM.
async fn stored_rows(store: &Store, sql: &str, arg: &str) -> Option<i64> {
    if let Some(dir) = &store.dir {
        let conn = rusqlite::Connection::open(db_path(dir)).unwrap();
        return Some(count(&conn, &sql.replace("$1", "?1"), arg));
    }
    Some(store.schema.as_ref()?.count(sql, arg).await)
}

#[tokio::test]
async fn a_smaller_limit_after_a_restart_loads_only_the_newest_turns() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let memory = open_sqlite(&path, 20);
    for i in 0..10 {
        memory
            .append(&key("ann", "dm"), turn("ann", &format!("q{i}"), i))
            .await
            .unwrap();
    }
    drop(memory);
    let memory = open_sqlite(&path, 4);
    assert_eq!(
        questions(&memory.load(&key("ann", "dm")).await.unwrap()),
        ["q8", "q9"]
    );
}

#[tokio::test]
async fn pruning_removes_idle_conversations_and_keeps_active_ones() {
    for Store {
        memory,
        backend,
        dir,
        schema,
    } in each_backend("pruning", 50).await
    {
        let now = 100 * DAY;
        memory
            .append(&key("old", "dm"), turn("old", "long ago", now - 8 * DAY))
            .await
            .unwrap();
        memory
            .append(&key("new", "dm"), turn("new", "recent", now - DAY))
            .await
            .unwrap();
        memory.add_tokens("old", "1970-01-05", 10).await.unwrap();
        memory.add_tokens("new", "1970-04-10", 10).await.unwrap();
        memory.load(&key("old", "dm")).await.unwrap();
        memory.load(&key("new", "dm")).await.unwrap();
        let cached = memory.cached_conversations();
        let expected = if backend == MemoryBackend::Postgres {
            0
        } else {
            2
        };
        assert_eq!(cached, expected, "postgres keeps no cache");

        let ttl = Duration::from_secs(7 * DAY as u64);
        assert_eq!(memory.prune_idle(ttl, now).await.unwrap(), 1);
        assert_eq!(
            memory.cached_conversations(),
            cached.saturating_sub(1),
            "evicted from the cache too"
        );
        assert!(memory.load(&key("old", "dm")).await.unwrap().is_empty());
        assert_eq!(
            questions(&memory.load(&key("new", "dm")).await.unwrap()),
            ["recent"]
        );
        assert_eq!(memory.conversation_count().await.unwrap(), 1);
        assert_eq!(memory.tokens_used("old", "1970-01-05").await.unwrap(), 0);
        assert_eq!(memory.tokens_used("new", "1970-04-10").await.unwrap(), 10);
        assert_eq!(memory.prune_idle(ttl, now).await.unwrap(), 0);

        if let Some(dir) = dir {
            drop(memory);
            let reopened = open_sqlite(&db_path(&dir), 50);
            assert!(reopened.load(&key("old", "dm")).await.unwrap().is_empty());
            assert_eq!(reopened.conversation_count().await.unwrap(), 1);
        }
        if let Some(schema) = &schema {
            let reopened = open_postgres(schema, 50).await;
            assert!(reopened.load(&key("old", "dm")).await.unwrap().is_empty());
            assert_eq!(reopened.conversation_count().await.unwrap(), 1);
        }
    }
}

#[tokio::test]
async fn forget_user_removes_every_row_about_the_user_and_nothing_of_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let memory = open_sqlite(&path, 50);
    let room = ConversationKey::new(MemoryScope::Channel, "any", "general");
    memory
        .append(&key("ann", "dm"), turn("ann", "ann dm", 1))
        .await
        .unwrap();
    memory
        .append(&key("ann", "general"), turn("ann", "ann public", 2))
        .await
        .unwrap();
    memory
        .append(&room, turn("ann", "ann in room", 3))
        .await
        .unwrap();
    memory
        .append(&room, turn("bob", "bob in room", 4))
        .await
        .unwrap();
    memory
        .append(&key("bob", "dm"), turn("bob", "bob dm", 5))
        .await
        .unwrap();
    memory.add_tokens("ann", "2026-01-01", 5).await.unwrap();
    memory.add_tokens("bob", "2026-01-01", 7).await.unwrap();
    memory.load(&key("ann", "dm")).await.unwrap();

    assert_eq!(memory.forget_user("ann").await.unwrap(), 3);

    let conn = rusqlite::Connection::open(&path).unwrap();
    let about_ann = [
        "SELECT count(*) FROM turns WHERE user_id = ?1",
        "SELECT count(*) FROM token_usage WHERE user_id = ?1",
        "SELECT count(*) FROM conversations WHERE key LIKE 'user:' || ?1 || '/%'",
    ];
    for sql in about_ann {
        assert_eq!(count(&conn, sql, "ann"), 0, "{sql}");
    }
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM turns WHERE user_id = ?1",
            "bob"
        ),
        2
    );
    assert_eq!(
        count(
            &conn,
            "SELECT tokens FROM token_usage WHERE user_id = ?1",
            "bob"
        ),
        7
    );
    let last: i64 = conn
        .query_row(
            "SELECT last_active FROM conversations WHERE key = ?1",
            [room.as_str()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(last, 4);

    assert!(
        memory.load(&key("ann", "dm")).await.unwrap().is_empty(),
        "cache forgot too"
    );
    assert_eq!(
        questions(&memory.load(&room).await.unwrap()),
        ["bob in room"]
    );
    assert_eq!(memory.conversation_count().await.unwrap(), 2);
}

#[tokio::test]
async fn every_backend_forgets_a_user_everywhere_and_keeps_others() {
    for store in each_backend("forget", 50).await {
        let memory = &store.memory;
        let room = ConversationKey::new(MemoryScope::Channel, "any", "general");
        memory
            .append(&key("ann", "dm"), turn("ann", "ann dm", 1))
            .await
            .unwrap();
        memory
            .append(&room, turn("ann", "ann in room", 2))
            .await
            .unwrap();
        memory
            .append(&room, turn("bob", "bob in room", 3))
            .await
            .unwrap();
        memory.add_tokens("ann", "2026-01-01", 5).await.unwrap();
        memory.add_tokens("bob", "2026-01-01", 7).await.unwrap();
        assert_eq!(memory.forget_user("ann").await.unwrap(), 2);
        assert_eq!(memory.conversation_count().await.unwrap(), 1);
        assert_eq!(memory.tokens_used("ann", "2026-01-01").await.unwrap(), 0);
        assert_eq!(memory.tokens_used("bob", "2026-01-01").await.unwrap(), 7);
        let export: serde_json::Value =
            serde_json::from_str(&memory.export_user("ann").await.unwrap()).unwrap();
        assert!(export["conversations"].as_array().unwrap().is_empty());
        assert_eq!(
            questions(&memory.load(&room).await.unwrap()),
            ["bob in room"]
        );
        assert!(memory.load(&key("ann", "dm")).await.unwrap().is_empty());
        let about_ann = [
            "SELECT count(*) FROM turns WHERE user_id = $1",
            "SELECT count(*) FROM token_usage WHERE user_id = $1",
            "SELECT count(*) FROM conversations WHERE key LIKE 'user:' || $1 || '/%'",
        ];
        for sql in about_ann {
            if let Some(rows) = stored_rows(&store, sql, "ann").await {
                assert_eq!(rows, 0, "{sql}");
            }
        }
        let last_active = "SELECT last_active FROM conversations WHERE key = $1";
        if let Some(last) = stored_rows(&store, last_active, room.as_str()).await {
            assert_eq!(last, 3, "recomputed from what is left");
        }
    }
}

#[tokio::test]
async fn export_user_returns_all_their_turns_as_json() {
    for Store { memory, .. } in each_backend("export", 50).await {
        let room = ConversationKey::new(MemoryScope::Channel, "any", "general");
        memory
            .append(&key("ann", "dm"), turn("ann", "one", 1))
            .await
            .unwrap();
        memory
            .append(&key("ann", "dm"), turn("ann", "two", 2))
            .await
            .unwrap();
        memory
            .append(&room, turn("bob", "not ann's", 3))
            .await
            .unwrap();
        memory.append(&room, turn("ann", "three", 4)).await.unwrap();
        memory.add_tokens("ann", "2026-01-01", 42).await.unwrap();

        let json = memory.export_user("ann").await.unwrap();
        assert!(json.contains("\n  "), "pretty-printed");
        let export: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(export["user_id"], "ann");
        let conversations = export["conversations"].as_array().unwrap();
        let all: Vec<&str> = conversations
            .iter()
            .flat_map(|c| c["turns"].as_array().unwrap())
            .map(|t| t["question"].as_str().unwrap())
            .collect();
        assert_eq!(conversations.len(), 2);
        assert_eq!(all.len(), 3);
        for q in ["one", "two", "three"] {
            assert!(all.contains(&q), "{q} in {all:?}");
        }
        let dm = conversations
            .iter()
            .find(|c| c["conversation"] == key("ann", "dm").as_str())
            .unwrap();
        assert_eq!(dm["turns"][1]["answer"], "answer to two");
        assert_eq!(dm["turns"][1]["provider"], "perplexity");
        assert_eq!(export["token_usage"][0]["tokens"], 42);
    }
}

#[tokio::test]
async fn reset_empties_one_conversation_only() {
    for Store { memory, .. } in each_backend("reset", 50).await {
        memory
            .append(&key("ann", "dm"), turn("ann", "a", 1))
            .await
            .unwrap();
        memory
            .append(&key("ann", "dm"), turn("ann", "b", 2))
            .await
            .unwrap();
        memory
            .append(&key("ann", "general"), turn("ann", "c", 3))
            .await
            .unwrap();
        assert_eq!(memory.reset(&key("ann", "dm")).await.unwrap(), 2);
        assert_eq!(memory.reset(&key("ann", "dm")).await.unwrap(), 0);
        assert!(memory.load(&key("ann", "dm")).await.unwrap().is_empty());
        assert_eq!(memory.load(&key("ann", "general")).await.unwrap().len(), 1);
        assert_eq!(memory.conversation_count().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn daily_token_counts_add_up_per_user_and_day_and_reject_bad_days() {
    for Store { memory, .. } in each_backend("daily_tokens", 50).await {
        assert_eq!(
            memory.add_tokens("ann", "2026-03-01", 100).await.unwrap(),
            100
        );
        assert_eq!(
            memory.add_tokens("ann", "2026-03-01", 50).await.unwrap(),
            150
        );
        assert_eq!(memory.add_tokens("ann", "2026-03-02", 1).await.unwrap(), 1);
        assert_eq!(memory.add_tokens("bob", "2026-03-01", 9).await.unwrap(), 9);
        assert_eq!(
            memory
                .add_tokens("bob", "2026-03-01", u64::MAX)
                .await
                .unwrap(),
            i64::MAX as u64
        );
        assert_eq!(memory.tokens_used("ann", "2026-03-01").await.unwrap(), 150);
        for bad in ["2026-3-1", "yesterday", "", "2026-02-30"] {
            let err = memory.add_tokens("ann", bad, 1).await.unwrap_err();
            assert!(matches!(err, MemoryError::InvalidDay(_)), "{bad}: {err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_lose_no_turn() {
    for Store { memory, .. } in each_backend("concurrent", 1_000).await {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let memory = memory.clone();
            tasks.push(tokio::spawn(async move {
                let shared = key("crowd", "one-conversation");
                memory
                    .append(&shared, turn("crowd", &format!("s{i}"), i))
                    .await
                    .unwrap();
                let own = key(&format!("user{}", i % 20), "dm");
                memory
                    .append(&own, turn("x", &format!("o{i}"), i))
                    .await
                    .unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let shared = memory
            .load(&key("crowd", "one-conversation"))
            .await
            .unwrap();
        let mut seen: Vec<&str> = questions(&shared);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 200);
        for u in 0..20 {
            let own = memory.load(&key(&format!("user{u}"), "dm")).await.unwrap();
            assert_eq!(own.len(), 10, "user{u}");
        }
        assert_eq!(memory.conversation_count().await.unwrap(), 21);
    }
}

#[tokio::test]
async fn the_hot_cache_stays_bounded_and_misses_are_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Memory::open(&config(MemoryBackend::Sqlite, db_path(&dir), 3), 50).unwrap();
    for i in 0..10 {
        let k = key(&format!("u{i}"), "dm");
        memory
            .append(&k, turn("u", &format!("q{i}"), i))
            .await
            .unwrap();
        memory.load(&k).await.unwrap();
        assert!(memory.cached_conversations() <= 3);
    }
    for i in 0..10 {
        let turns = memory.load(&key(&format!("u{i}"), "dm")).await.unwrap();
        assert_eq!(questions(&turns), [format!("q{i}").as_str()]);
    }
    assert_eq!(memory.cached_conversations(), 3);
}

#[tokio::test]
async fn hot_conversations_are_served_without_touching_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let memory = open_sqlite(&path, 50);
    memory
        .append(&key("ann", "dm"), turn("ann", "cached", 1))
        .await
        .unwrap();
    memory.load(&key("ann", "dm")).await.unwrap();
    // Rows deleted behind the store's back: only a cache read still sees them.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM turns", []).unwrap();
    assert_eq!(
        questions(&memory.load(&key("ann", "dm")).await.unwrap()),
        ["cached"]
    );
}

#[tokio::test]
async fn a_row_with_an_unknown_provider_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    open_sqlite(&path, 50).flush().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO turns (conversation, user_id, question, answer, provider, model, at)
         VALUES (?1, 'ann', 'q', 'a', 'gemini', 'm', 1)",
        [key("ann", "dm").as_str()],
    )
    .unwrap();
    let memory = open_sqlite(&path, 50);
    let err = memory.load(&key("ann", "dm")).await.unwrap_err();
    assert!(matches!(err, MemoryError::Corrupt(_)), "{err}");
    assert_eq!(err.kind(), "corrupt");
}

#[tokio::test]
async fn a_newer_schema_or_a_file_that_is_not_a_database_fails_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 9)
        .unwrap();
    let err = Memory::open(&config(MemoryBackend::Sqlite, newer, 10), 50).unwrap_err();
    assert!(
        matches!(
            err,
            MemoryError::UnknownSchema {
                found: 9,
                supported: 2
            }
        ),
        "{err}"
    );

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).unwrap();
    let err = Memory::open(&config(MemoryBackend::Sqlite, garbage, 10), 50).unwrap_err();
    assert!(matches!(err, MemoryError::Sqlite(_)), "{err}");

    let err = Memory::open(&config(MemoryBackend::Sqlite, PathBuf::new(), 10), 50).unwrap_err();
    assert!(matches!(err, MemoryError::NoPath), "{err}");
}

#[tokio::test]
async fn the_schema_version_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    open_sqlite(&path, 50).flush().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
