//! The real `duet run` as a child process, pointed at a fake Discord and the
//! mock LLM. It logs JSON lines to stderr; a task reads them as they come so
//! tests can await a log line instead of sleeping, and every line is kept for
//! failure messages. The child is killed when the handle drops.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::fake_discord::FakeDiscord;
use super::mock_llm::MockLlm;

/// Longest a test waits for the child to log, serve or exit.
pub const PROCESS_WAIT: Duration = Duration::from_secs(30);

/// The log line the child writes once the health server is bound.
const HEALTH_LISTENING: &str = "health server listening";
/// The log line the child writes once it watches its config file and
/// handles signals (it connects to Discord next).
const STARTING: &str = "duet is starting";

/// Everything the child wrote to stderr, one JSON value per line (plain
/// lines become JSON strings), and whether stderr has closed.
struct Logs {
    lines: Mutex<Vec<Value>>,
    changed: watch::Sender<(usize, bool)>,
}

impl Logs {
    fn new() -> Self {
        Self {
            lines: Mutex::default(),
            changed: watch::channel((0, false)).0,
        }
    }

    fn push(&self, line: &str) {
        let value = serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.into()));
        let count = {
            let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            lines.push(value);
            lines.len()
        };
        self.changed.send_replace((count, false));
    }

    fn close(&self) {
        self.changed.send_modify(|(_, closed)| *closed = true);
    }

    fn snapshot(&self) -> Vec<Value> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The `duet` binary of this build. Cargo puts an integration test's
/// executable in `target/<profile>/deps/` and the package's binaries one
/// level up (`env!("CARGO_BIN_EXE_duet")` is only known to the duet
/// package's own tests, not to this crate).
pub fn duet_binary() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test binary's path");
    let exe = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in target/<profile>/deps")
        .join(format!("duet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        exe.is_file(),
        "{} is not built: run the duet package's tests (cargo test --workspace)",
        exe.display()
    );
    exe
}

/// `duet ARGS` in `dir` with exactly `env`, no stdin, killed when dropped.
fn duet_command(
    args: &[impl AsRef<std::ffi::OsStr>],
    env: &HashMap<String, String>,
    dir: &Path,
) -> Command {
    let mut command = Command::new(duet_binary());
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `duet ARGS` in `dir` with exactly `env` until it exits by itself
/// (at most [`PROCESS_WAIT`]): its exit code, stdout and stderr.
pub async fn run_to_exit(
    args: &[&str],
    env: &HashMap<String, String>,
    dir: &Path,
) -> (Option<i32>, String, String) {
    let output = tokio::time::timeout(PROCESS_WAIT, duet_command(args, env, dir).output())
        .await
        .expect("duet exits by itself")
        .expect("duet runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A running `duet run`.
pub struct DuetProcess {
    child: Child,
    logs: Arc<Logs>,
    /// Where the health server listens.
    pub health: SocketAddr,
    http: reqwest::Client,
}

/// The environment for `duet run` against `discord` and `mock`: memory in
/// `data_dir`, the health server on a port the OS picks, JSON logs, replies
/// sent whole (not streamed).
pub fn run_env(discord: &FakeDiscord, mock: &MockLlm, data_dir: &Path) -> HashMap<String, String> {
    let mut env = mock.config_env();
    for (key, value) in [
        ("DISCORD_TOKEN", "fake-token".to_string()),
        ("DISCORD_API_BASE_URL", discord.base_url()),
        ("STREAM_REPLIES", "false".into()),
        (
            "DATABASE_PATH",
            data_dir.join("duet.db").display().to_string(),
        ),
        ("HEALTH_HOST", "127.0.0.1".into()),
        ("HEALTH_PORT", "0".into()),
        ("LOG_FORMAT", "json".into()),
        ("LOG_LEVEL", "info".into()),
    ] {
        env.insert(key.to_string(), value);
    }
    env
}

impl DuetProcess {
    /// Starts `duet [--config FILE] run` in `dir` with exactly `env` and
    /// waits until its health server listens and it handles signals and
    /// config file changes.
    pub async fn start(env: &HashMap<String, String>, config: Option<&Path>, dir: &Path) -> Self {
        let mut args = Vec::new();
        if let Some(config) = config {
            args.extend([Path::new("--config"), config]);
        }
        args.push(Path::new("run"));
        let mut child = duet_command(&args, env, dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("duet starts");
        let logs = Arc::new(Logs::new());
        let stderr = child.stderr.take().expect("piped stderr");
        let reader_logs = Arc::clone(&logs);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                reader_logs.push(&line);
            }
            reader_logs.close();
        });
        let mut process = Self {
            child,
            logs,
            health: SocketAddr::from(([127, 0, 0, 1], 0)),
            http: reqwest::Client::new(),
        };
        let (at, listening) = process.wait_for_log(0, HEALTH_LISTENING).await;
        process.wait_for_log(at, STARTING).await;
        process.health = listening["address"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .expect("the health server logs its address");
        process
    }

    pub fn pid(&self) -> i32 {
        self.child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .expect("the child is running")
    }

    /// Sends a Unix signal (`libc::SIGTERM`, `libc::SIGHUP`, …) to the child.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) with the pid of our own child and a valid signal number.
        let sent = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(sent, 0, "kill({}, {signal})", self.pid());
    }

    /// Lines logged so far: pass it to [`Self::wait_for_log`] to look only
    /// at what comes next.
    pub fn log_mark(&self) -> usize {
        self.logs.snapshot().len()
    }

    pub fn logs(&self) -> Vec<Value> {
        self.logs.snapshot()
    }

    /// Waits for a line at index `from` or later whose message contains
    /// `message`; returns its index and the line.
    pub async fn wait_for_log(&self, from: usize, message: &str) -> (usize, Value) {
        let mut changed = self.logs.changed.subscribe();
        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        loop {
            let closed = changed.borrow_and_update().1;
            let lines = self.logs.snapshot();
            if let Some(found) = lines
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, line)| log_message(line).contains(message))
            {
                return (found.0, found.1.clone());
            }
            let waited = tokio::time::timeout_at(deadline, changed.changed()).await;
            if closed || !matches!(waited, Ok(Ok(()))) {
                panic!(
                    "no log line with {message:?} (stderr closed: {closed}); logged:\n{}",
                    describe(&self.logs.snapshot())
                );
            }
        }
    }

    /// `GET path` on the health server: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("http://{}{path}", self.health))
            .timeout(PROCESS_WAIT)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status().as_u16();
        (status, response.text().await.expect("a body"))
    }

    /// `GET /health` as JSON, with its status.
    pub async fn health_json(&self) -> (u16, Value) {
        let (status, body) = self.get("/health").await;
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|error| panic!("/health is not JSON ({error}): {body}"));
        (status, json)
    }

    /// Polls `/health` until `done` holds for its JSON (the state it waits
    /// for lives in the child, which has no other way to announce it).
    pub async fn wait_for_health(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        loop {
            let (_, health) = self.health_json().await;
            if done(&health) {
                return health;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; last /health: {health:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the child to exit on its own and for its last log line
    /// to be read (stderr is read by another task, which may lag the exit).
    pub async fn wait_for_exit(&mut self) -> ExitStatus {
        let status = match tokio::time::timeout(PROCESS_WAIT, self.child.wait()).await {
            Ok(status) => status.expect("wait for duet"),
            Err(_) => panic!(
                "duet did not exit; logged:\n{}",
                describe(&self.logs.snapshot())
            ),
        };
        let mut changed = self.logs.changed.subscribe();
        let closed = changed.wait_for(|(_, closed)| *closed);
        if tokio::time::timeout(PROCESS_WAIT, closed).await.is_err() {
            panic!("duet exited but its stderr stayed open");
        }
        status
    }
}

/// The `message` field of a JSON log line, or the whole plain line.
pub fn log_message(line: &Value) -> String {
    match line {
        Value::String(text) => text.clone(),
        other => other["message"].as_str().unwrap_or_default().to_string(),
    }
}

fn describe(lines: &[Value]) -> String {
    lines
        .iter()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A temporary directory with `config.ini` holding `text`.
pub struct ConfigFile {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl ConfigFile {
    pub fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("config.ini");
        std::fs::write(&path, text).expect("write config.ini");
        Self { dir, path }
    }

    /// Replaces the file's content, as an editor saving in place would.
    pub fn write(&self, text: &str) {
        std::fs::write(&self.path, text).expect("rewrite config.ini");
    }
}
