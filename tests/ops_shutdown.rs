//! Graceful shutdown of a real `duet run` process: SIGTERM lets a slow turn
//! finish (its reply is sent and its history stored) and exits 0; a turn that
//! outlasts SHUTDOWN_GRACE_SECS is interrupted with a notice; a second signal
//! exits at once with 130.

mod support;

use std::collections::HashMap;
use std::path::Path;

use duet::chat::ConversationKey;
use duet::chat::memory::Memory;
use duet::chat::messages::INTERRUPTED;
use duet::config::{Config, MemoryScope};
use support::duet_process::{DuetProcess, PROCESS_WAIT, log_message, run_env};
use support::fake_discord::fixtures::{ALICE, DM_ALICE};
use support::fake_discord::{FakeDiscord, Recorded, UserMessage};
use support::mock_llm::MockLlm;

const SHUTTING_DOWN: &str = "shutting down: finishing turns in flight";

fn dm_replies(log: &[Recorded]) -> Vec<String> {
    let path = format!("/channels/{DM_ALICE}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .filter_map(|r| r.content().map(str::to_string))
        .collect()
}

/// Starts `duet run` with SHUTDOWN_GRACE_SECS = `grace` and sends Alice's
/// DM `question`, which the mock holds: on return the turn is in flight.
async fn bot_with_a_held_turn(
    discord: &FakeDiscord,
    mock: &MockLlm,
    dir: &Path,
    grace: &str,
    question: &str,
) -> DuetProcess {
    let mut env = run_env(discord, mock, dir);
    env.insert("SHUTDOWN_GRACE_SECS".into(), grace.into());
    let duet = DuetProcess::start(&env, None, dir).await;
    discord.wait_for_commands().await;
    mock.hold();
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, question));
    mock.wait_for_requests(1).await;
    duet
}

/// Alice's DM conversation as stored in the database the child used.
async fn stored_dm(dir: &Path) -> Vec<(String, String)> {
    let env = HashMap::from([(
        "DATABASE_PATH".to_string(),
        dir.join("duet.db").display().to_string(),
    )]);
    let config = Config::from_env(&env).expect("a valid memory config");
    let memory = Memory::open(&config.memory, config.orchestrator.max_history).expect("the db");
    let key = ConversationKey::new(
        MemoryScope::UserChannel,
        &ALICE.id.to_string(),
        &DM_ALICE.to_string(),
    );
    memory
        .load(&key)
        .await
        .expect("load the conversation")
        .iter()
        .map(|turn| (turn.question.clone(), turn.answer.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_turn_finish_then_exits_zero_with_the_turn_stored() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "20", "slow question").await;

    let mark = duet.log_mark();
    duet.signal(libc::SIGTERM);
    duet.wait_for_log(mark, SHUTTING_DOWN).await;
    duet.wait_for_log(mark, "closing Discord shards").await;
    mock.release();

    discord
        .wait_until("the slow answer", |log| !dm_replies(log).is_empty())
        .await;
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "{:#?}", duet.logs());
    assert_eq!(dm_replies(&discord.requests()), ["You said: slow question"]);
    let logged: Vec<String> = duet.logs().iter().map(log_message).collect();
    assert!(logged.iter().any(|m| m == "duet stopped"), "{logged:#?}");
    assert!(
        !logged.iter().any(|m| m.contains("interrupt")),
        "nothing was cut off: {logged:#?}"
    );
    assert_eq!(
        stored_dm(dir.path()).await,
        [(
            "slow question".to_string(),
            "You said: slow question".to_string()
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_outlasting_the_grace_period_is_interrupted_with_a_notice() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "1", "endless question").await;

    duet.signal(libc::SIGTERM);
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "{:#?}", duet.logs());
    assert_eq!(dm_replies(&discord.requests()), [INTERRUPTED]);
    assert!(
        stored_dm(dir.path()).await.is_empty(),
        "an unfinished turn is not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once_with_130() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "20", "slow question").await;

    let mark = duet.log_mark();
    duet.signal(libc::SIGTERM);
    duet.wait_for_log(mark, SHUTTING_DOWN).await;
    duet.signal(libc::SIGINT);
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(130), "{:#?}", duet.logs());
    assert!(dm_replies(&discord.requests()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_discord_never_answers_at_start_still_exits_zero() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A "Discord" that accepts connections and never answers them.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("DISCORD_API_BASE_URL".into(), silent_url);
    let mut duet = DuetProcess::start(&env, None, dir.path()).await;
    duet.signal(libc::SIGTERM);
    let status = duet.wait_for_exit().await;
    assert_eq!(
        status.code(),
        Some(0),
        "one SIGTERM is enough while connecting"
    );
    held.abort();
}

/// `duet chat` on the mock with SHUTDOWN_GRACE_SECS = `grace`, one line
/// typed and held by the mock: on return the turn is in flight.
async fn chat_with_a_held_turn(
    mock: &MockLlm,
    dir: &Path,
    grace: &str,
) -> (tokio::process::Child, ChatOutput) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut env = mock.config_env();
    env.insert(
        "DATABASE_PATH".into(),
        dir.join("duet.db").display().to_string(),
    );
    env.insert("SHUTDOWN_GRACE_SECS".into(), grace.into());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
        .args(["chat", "--user", "ann"])
        .env_clear()
        .envs(&env)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("duet chat starts");
    mock.hold();
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"a slow question\n").await.unwrap();
    // Keep stdin open: end of input would end the session by itself.
    std::mem::forget(stdin);
    mock.wait_for_requests(1).await;
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let output = ChatOutput {
        stdout: tokio::io::BufReader::new(stdout).lines(),
        stderr: tokio::io::BufReader::new(stderr).lines(),
    };
    (child, output)
}

struct ChatOutput {
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    stderr: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
}

impl ChatOutput {
    /// Waits until `duet chat` says on stderr that it is stopping.
    async fn wait_until_stopping(&mut self) {
        let wait = async {
            while let Ok(Some(line)) = self.stderr.next_line().await {
                if line.contains("stopping") {
                    return;
                }
            }
            panic!("stderr closed before the stopping notice");
        };
        tokio::time::timeout(PROCESS_WAIT, wait)
            .await
            .expect("the signal is handled");
    }
}

async fn rest_of(
    mut lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut out = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_duet_chat_goes_through_the_drain_and_interrupts_with_the_notice() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, output) = chat_with_a_held_turn(&mock, dir.path(), "1").await;

    let pid = child.id().expect("running") as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = tokio::time::timeout(PROCESS_WAIT, child.wait())
        .await
        .expect("duet chat exits")
        .unwrap();
    let out = tokio::time::timeout(PROCESS_WAIT, rest_of(output.stdout))
        .await
        .expect("stdout closes");
    assert_eq!(status.code(), Some(0));
    assert!(out.contains(INTERRUPTED), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_duet_chat_lets_the_answer_in_progress_finish_within_the_grace() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut output) = chat_with_a_held_turn(&mock, dir.path(), "20").await;

    let pid = child.id().expect("running") as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid, libc::SIGINT) };
    output.wait_until_stopping().await;
    mock.release();
    let status = tokio::time::timeout(PROCESS_WAIT, child.wait())
        .await
        .expect("duet chat exits")
        .unwrap();
    let out = rest_of(output.stdout).await;
    assert_eq!(status.code(), Some(0));
    assert!(out.contains("a slow question"), "the answer arrived: {out}");
    assert!(!out.contains(INTERRUPTED), "{out}");
}
