//! How a real `duet run` refuses to start: exit status 2 and a message that
//! names the cause and the fix, for a second instance on the same SQLite
//! file, a token Discord rejects and a Discord that refuses connections.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;

use duet_testkit::duet_process::{DuetProcess, PROCESS_WAIT, run_env};
use duet_testkit::fake_discord::FakeDiscord;
use duet_testkit::mock_llm::MockLlm;
use tokio::process::Command;

/// Runs `duet run` with `env` until it exits by itself: its exit status and stderr.
async fn run_to_exit(env: &HashMap<String, String>, dir: &Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("run")
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PROCESS_WAIT, output)
        .await
        .expect("duet exits by itself")
        .expect("duet runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_duet_on_the_same_database_refuses_to_start_and_names_the_first() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = run_env(&discord, &mock, dir.path());
    let first = DuetProcess::start(&env, None, dir.path()).await;

    let (status, stderr) = run_to_exit(&env, dir.path()).await;
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

    let (status, stderr) = run_to_exit(&env, dir.path()).await;
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

    let (status, stderr) = run_to_exit(&env, dir.path()).await;
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("the connection to Discord was refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
