//! How a real `duet run` refuses to start: exit status 2 and a message that
//! names the cause and the fix, for a second instance on the same SQLite
//! file, a token Discord rejects and a Discord that refuses connections.

use duet_testkit::duet_process::{DuetProcess, run_env, run_to_exit};
use duet_testkit::fake_discord::FakeDiscord;
use duet_testkit::mock_llm::MockLlm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_duet_on_the_same_database_refuses_to_start_and_names_the_first() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = run_env(&discord, &mock, dir.path());
    let first = DuetProcess::start(&env, None, dir.path()).await;

    let (status, _, stderr) = run_to_exit(&["run"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("in use by another duet (pid {})", first.pid())),
        "{stderr}"
    );
    assert!(
        stderr.contains("DATABASE_PATH"),
        "says what to do: {stderr}"
    );
    assert_eq!(
        first.get("/health/live").await.0,
        200,
        "the first one runs on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_exits_2_and_says_where_to_get_a_new_one() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("DISCORD_TOKEN".into(), "not-the-token".into());

    let (status, _, stderr) = run_to_exit(&["run"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("Discord rejected the token") && stderr.contains("DISCORD_TOKEN"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_that_refuses_connections_exits_2_naming_the_refusal_without_its_password() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // A REST proxy with credentials in its URL: they must not be printed.
    let nowhere = format!("http://duet:hunter2@{}", closed.local_addr().unwrap());
    drop(closed);
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("DISCORD_API_BASE_URL".into(), nowhere);

    let (status, _, stderr) = run_to_exit(&["run"], &env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("the connection to Discord was refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
