//! `duet chat` as a person uses it: a real child process on the mock LLM,
//! lines typed on stdin, answers read from stdout. Answers print as plain
//! text; Ctrl-C goes through the bot's one shutdown drain.

use std::path::Path;

use duet::chat::messages::INTERRUPTED;
use duet_testkit::duet_process::PROCESS_WAIT;
use duet_testkit::mock_llm::MockLlm;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// `duet chat --user ann` on the mock, memory in `dir`, `extra` on top.
fn spawn_chat(
    mock: &MockLlm,
    dir: &Path,
    extra: &[(&str, &str)],
) -> (
    tokio::process::Child,
    tokio::process::ChildStdin,
    ChatOutput,
) {
    let mut env = mock.config_env();
    env.insert(
        "DATABASE_PATH".into(),
        dir.join("duet.db").display().to_string(),
    );
    for (key, value) in extra {
        env.insert(key.to_string(), value.to_string());
    }
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
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let output = ChatOutput {
        stdout: tokio::io::BufReader::new(stdout).lines(),
        stderr: tokio::io::BufReader::new(stderr).lines(),
    };
    (child, stdin, output)
}

/// `duet chat` with SHUTDOWN_GRACE_SECS = `grace`, one line typed and held
/// by the mock: on return the turn is in flight.
async fn chat_with_a_held_turn(
    mock: &MockLlm,
    dir: &Path,
    grace: &str,
) -> (tokio::process::Child, ChatOutput) {
    let (child, mut stdin, output) = spawn_chat(mock, dir, &[("SHUTDOWN_GRACE_SECS", grace)]);
    mock.hold();
    stdin.write_all(b"a slow question\n").await.unwrap();
    // Keep stdin open: end of input would end the session by itself.
    std::mem::forget(stdin);
    mock.wait_for_requests(1).await;
    (child, output)
}

/// Types `lines` (then end of input) and returns all of stdout once the
/// session ends.
async fn session(mock: &MockLlm, lines: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stdin, output) = spawn_chat(mock, dir.path(), &[]);
    stdin.write_all(lines.as_bytes()).await.unwrap();
    drop(stdin);
    let status = tokio::time::timeout(PROCESS_WAIT, child.wait())
        .await
        .expect("duet chat exits at end of input")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    rest_of(output.stdout).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_answer_prints_as_plain_text_with_numbered_sources() {
    let mock = MockLlm::start().await;
    let out = session(&mock, "search: latest rust news\n").await;
    assert!(out.contains("[1] Alpha <https://"), "{out}");
    assert!(out.contains("[2] Beta <https://"), "{out}");
    assert!(!out.contains("](<"), "no masked links: {out}");
    assert!(!out.contains("**"), "no Discord bold: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_command_lists_the_commands_instead_of_asking_the_model() {
    let mock = MockLlm::start().await;
    let out = session(&mock, "/frobnicate\n").await;
    assert!(out.contains("/frobnicate is not a command"), "{out}");
    assert!(out.contains("/reset"), "{out}");
    assert!(mock.requests().is_empty(), "nothing was sent to the model");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_answer_shows_its_searches_on_one_stderr_line() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stdin, mut output) = spawn_chat(&mock, dir.path(), &[]);
    stdin
        .write_all(b"search: latest rust news\n")
        .await
        .unwrap();
    drop(stdin);
    let status = tokio::time::timeout(PROCESS_WAIT, child.wait())
        .await
        .expect("duet chat exits at end of input")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    while let Ok(Some(line)) = output.stderr.next_line().await {
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let searching = duet::chat::messages::searching(&[duet_testkit::mock_llm::search_query(
        "latest rust news",
    )]);
    assert_eq!(stderr.matches(&searching).count(), 1, "{stderr}");
    let out = rest_of(output.stdout).await;
    assert!(
        !out.contains("Searching"),
        "stdout has only the answer: {out}"
    );
    assert!(out.contains("[1] Alpha <https://"), "{out}");
}
