//! The `postgres` memory backend against the real server named by
//! `DUET_TEST_DATABASE_URL` (each test in a schema of its own, dropped
//! afterwards; without the variable these print why they are skipped):
//! migrations, several handles (processes) on one database, losing the
//! server while running and getting it back, and the URL kept secret. The
//! behaviour every backend shares is the store suite in `memory_store.rs`.
//! The start-up and check-config tests need no server at all.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use duet::chat::memory::{Memory, MemoryError};
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::ProviderKind;
use duet::secret::Secret;
use duet_testkit::duet_process::{DuetProcess, PROCESS_WAIT, run_env, run_to_exit};
use duet_testkit::fake_discord::fixtures::{ALICE, DM_ALICE};
use duet_testkit::fake_discord::{FakeDiscord, UserMessage};
use duet_testkit::mock_llm::MockLlm;
use duet_testkit::postgres::TestSchema;
use duet_testkit::tcp_proxy::TcpProxy;

const PASSWORD: &str = "hunter2-pg-SECRET";

fn config(url: &str) -> MemoryConfig {
    MemoryConfig {
        backend: MemoryBackend::Postgres,
        database_path: PathBuf::new(),
        database_url: Some(Secret::new(url)),
        database_max_connections: 4,
        scope: MemoryScope::UserChannel,
        ttl: None,
        cache_conversations: 100,
    }
}

async fn connect(url: &str) -> Result<Memory, MemoryError> {
    Memory::connect(&config(url), 50).await
}

/// A fresh schema named `name` and a memory connected to it; `None` (the
/// test is skipped) without DUET_TEST_DATABASE_URL.
async fn connected(name: &str) -> Option<(TestSchema, Memory)> {
    let schema = TestSchema::create(name).await?;
    let memory = connect(&schema.url).await.unwrap();
    Some((schema, memory))
}

/// Sends Alice's direct message `text` and returns the bot's reply.
async fn dm_reply(discord: &FakeDiscord, text: &str) -> String {
    let reply = discord.send_awaiting_reply(UserMessage::dm(ALICE, DM_ALICE, text));
    let reply = tokio::time::timeout(PROCESS_WAIT, reply)
        .await
        .unwrap()
        .unwrap();
    reply.body["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn turn(user: &str, question: &str, at: i64) -> Turn {
    Turn {
        user_id: user.into(),
        question: question.into(),
        answer: format!("answer to {question}"),
        provider: ProviderKind::OpenAi,
        model: "gpt-test".into(),
        at,
    }
}

fn key(user: &str) -> ConversationKey {
    ConversationKey::new(MemoryScope::UserChannel, user, "dm")
}

fn questions(turns: &[Turn]) -> Vec<&str> {
    turns.iter().map(|t| t.question.as_str()).collect()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_run_once_when_processes_start_together_and_again_change_nothing() {
    let Some(schema) = TestSchema::create("migrations").await else {
        return;
    };
    let starts = (0..4).map(|_| connect(&schema.url));
    for started in futures::future::join_all(starts).await {
        started.expect("every concurrent start succeeds");
    }
    let again = connect(&schema.url).await.unwrap();
    again
        .append(&key("ann"), turn("ann", "q", 1))
        .await
        .unwrap();
    connect(&schema.url).await.unwrap();
    let client = schema.client().await;
    let versions: Vec<i32> = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2], "each migration recorded once");
    assert_eq!(
        schema
            .count("SELECT count(*) FROM turns WHERE user_id = $1", "ann")
            .await,
        1,
        "a second start keeps the data"
    );
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_duet_is_refused_untouched() {
    let Some((schema, _)) = connected("newer").await else {
        return;
    };
    let client = schema.client().await;
    client
        .execute("INSERT INTO schema_version (version) VALUES (99)", &[])
        .await
        .unwrap();
    let error = connect(&schema.url).await.unwrap_err();
    assert!(
        matches!(
            error,
            MemoryError::UnknownSchema {
                found: 99,
                supported: 2
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn two_processes_see_each_others_appends_and_forgets_at_once() {
    let Some((schema, first)) = connected("two_handles").await else {
        return;
    };
    let second = connect(&schema.url).await.unwrap();
    first
        .append(&key("ann"), turn("ann", "one", 1))
        .await
        .unwrap();
    assert_eq!(questions(&second.load(&key("ann")).await.unwrap()), ["one"]);
    // The second has just read it: a cache would now serve it stale.
    first
        .append(&key("ann"), turn("ann", "two", 2))
        .await
        .unwrap();
    assert_eq!(
        questions(&second.load(&key("ann")).await.unwrap()),
        ["one", "two"]
    );
    second
        .append(&key("ann"), turn("ann", "three", 3))
        .await
        .unwrap();
    assert_eq!(first.load(&key("ann")).await.unwrap().len(), 3);
    first.add_tokens("ann", "2026-01-01", 10).await.unwrap();
    assert_eq!(second.add_tokens("ann", "2026-01-01", 5).await.unwrap(), 15);

    assert_eq!(second.forget_user("ann").await.unwrap(), 3);
    assert!(
        first.load(&key("ann")).await.unwrap().is_empty(),
        "forget wins everywhere"
    );
    assert_eq!(first.tokens_used("ann", "2026-01-01").await.unwrap(), 0);
    assert_eq!(first.conversation_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn appends_from_two_processes_to_one_conversation_stay_trimmed_and_whole() {
    let Some(schema) = TestSchema::create("shared_trim").await else {
        return;
    };
    let mut cfg = config(&schema.url);
    cfg.database_max_connections = 8;
    let first = Memory::connect(&cfg, 6).await.unwrap();
    let second = Memory::connect(&cfg, 6).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let memory = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            memory
                .append(&key("crowd"), turn("crowd", &format!("q{i}"), i))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("no append fails");
    }
    let kept = first.load(&key("crowd")).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(
        schema
            .count("SELECT count(*) FROM turns WHERE user_id = $1", "crowd")
            .await,
        3,
        "trimmed in the database too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_server_fails_calls_cleanly_and_they_work_again_once_it_is_back() {
    let Some(schema) = TestSchema::create("loss").await else {
        return;
    };
    let proxy = TcpProxy::start(schema.server_address()).await;
    let memory = connect(&schema.url_via(proxy.addr())).await.unwrap();
    memory
        .append(&key("ann"), turn("ann", "kept", 1))
        .await
        .unwrap();
    memory.check().await.unwrap();

    proxy.cut();
    let lost = memory.load(&key("ann")).await.unwrap_err();
    assert!(
        ["unreachable", "timeout"].contains(&lost.kind()),
        "{lost} ({})",
        lost.kind()
    );
    let failed = memory.append(&key("ann"), turn("ann", "lost", 2)).await;
    assert!(failed.is_err(), "an append while the server is gone fails");
    assert!(memory.check().await.is_err(), "health sees it");
    assert_eq!(
        memory.write_failures(),
        [("append", failed.unwrap_err().kind())]
    );

    proxy.restore();
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    while memory.check().await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "never reconnected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        questions(&memory.load(&key("ann")).await.unwrap()),
        ["kept"],
        "nothing of the failed append was written"
    );
    memory
        .append(&key("ann"), turn("ann", "again", 3))
        .await
        .unwrap();
    assert!(
        memory.write_failures().is_empty(),
        "the next write clears it"
    );
}

#[tokio::test]
async fn errors_never_show_the_database_url_or_its_password() {
    let url = format!(
        "postgres://duet:{PASSWORD}@127.0.0.1:{}/duet?connect_timeout=2",
        closed_port()
    );
    let error = connect(&url).await.unwrap_err();
    assert_eq!(error.kind(), "unreachable", "{error}");
    let text = format!("{error} {error:?}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains("127.0.0.1:"), "no part of the URL: {text}");

    let mut bad = config("not a url at all with password=oops");
    bad.database_url = Some(Secret::new(format!("postgres://duet:{PASSWORD}@[bad")));
    let error = Memory::connect(&bad, 50).await.unwrap_err();
    assert!(matches!(error, MemoryError::BadUrl), "{error}");
    assert!(!format!("{error} {error:?}").contains(PASSWORD));
}

#[tokio::test]
async fn check_config_redacts_the_database_url_and_wants_one_for_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = HashMap::from([
        ("DISCORD_TOKEN".to_string(), "fake-token".to_string()),
        ("OPENAI_API_KEY".to_string(), "sk-test".to_string()),
        ("MEMORY_BACKEND".to_string(), "postgres".to_string()),
        (
            "DATABASE_URL".to_string(),
            format!("postgres://duet:{PASSWORD}@db.internal:5432/duet"),
        ),
        ("DATABASE_MAX_CONNECTIONS".to_string(), "25".to_string()),
    ]);
    let (status, stdout, stderr) = run_to_exit(&["check-config"], &env, dir.path()).await;
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "{stdout}{stderr}"
    );
    assert!(
        !stdout.contains("db.internal"),
        "the whole URL is hidden: {stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("DATABASE_URL"))
        .unwrap_or_default();
    assert!(line.contains("[redacted]"), "{stdout}");
    assert!(stdout.contains("25"), "{stdout}");

    env.insert(
        "DATABASE_URL".into(),
        format!("mysql://duet:{PASSWORD}@[db"),
    );
    let (status, stdout, stderr) = run_to_exit(&["check-config"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "{stdout}{stderr}"
    );

    env.remove("DATABASE_URL");
    let (status, _, stderr) = run_to_exit(&["check-config"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("MEMORY_BACKEND = postgres needs DATABASE_URL"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_at_start_exits_2_naming_the_key_without_the_url() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("MEMORY_BACKEND".into(), "postgres".into());
    env.insert(
        "DATABASE_URL".into(),
        format!(
            "postgres://duet:{PASSWORD}@127.0.0.1:{}/duet",
            closed_port()
        ),
    );
    let (status, _, stderr) = run_to_exit(&["run"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot use PostgreSQL for memory ([Memory] DATABASE_URL)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("MEMORY_BACKEND = sqlite"),
        "says what else to do: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_bot_reports_a_lost_server_tells_the_user_and_recovers() {
    let Some(schema) = TestSchema::create("bot_loss").await else {
        return;
    };
    let proxy = TcpProxy::start(schema.server_address()).await;
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("MEMORY_BACKEND".into(), "postgres".into());
    env.insert("DATABASE_URL".into(), schema.url_via(proxy.addr()));
    let duet = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;
    duet.wait_for_health("healthy", |h| h["status"] == "ok")
        .await;

    proxy.cut();
    let health = duet
        .wait_for_health("degraded by the database", |h| h["status"] == "degraded")
        .await;
    let problems = health["problems"].to_string();
    assert!(
        problems.contains("memory: the database is unavailable"),
        "{problems}"
    );
    let text = dm_reply(&discord, "are you there").await;
    assert!(
        text.contains("can't reach my conversation memory"),
        "{text}"
    );

    proxy.restore();
    duet.wait_for_health("recovered", |h| h["status"] == "ok")
        .await;
    let text = dm_reply(&discord, "hello again").await;
    assert!(text.contains("hello again"), "{text}");
    assert_eq!(
        schema
            .count(
                "SELECT count(*) FROM turns WHERE question LIKE $1",
                "%hello again%"
            )
            .await,
        1,
        "the turn after recovery is stored"
    );
    let logs = duet
        .logs()
        .iter()
        .map(|l| l.to_string())
        .collect::<String>();
    assert!(
        !logs.contains(&schema.url_via(proxy.addr())),
        "the URL is never logged"
    );
}

#[tokio::test]
async fn rows_it_cannot_read_are_typed_errors_and_nul_characters_are_stored_as_replacements() {
    let Some((schema, memory)) = connected("odd_rows").await else {
        return;
    };
    memory
        .append(&key("ann"), turn("ann", "a\0b", 1))
        .await
        .unwrap();
    assert_eq!(
        questions(&memory.load(&key("ann")).await.unwrap()),
        ["a\u{FFFD}b"]
    );
    schema
        .client()
        .await
        .execute(
            "INSERT INTO turns (conversation, user_id, question, answer, provider, model, at)
             VALUES ($1, 'bob', 'q', 'a', 'gemini', 'm', 1)",
            &[&key("bob").as_str()],
        )
        .await
        .unwrap();
    let error = memory.load(&key("bob")).await.unwrap_err();
    assert!(matches!(error, MemoryError::Corrupt(_)), "{error}");
}
