//! Section 7 with the real binary: `duet run`, built next to this harness,
//! started against the mock and a fake Discord (on the mock's thread). It is
//! ready when it has connected to the gateway and registered its slash
//! commands; its resident memory is read after a second of idling, then it
//! is stopped with SIGTERM as an operator would.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::child::Scratch;
use crate::discord::CONNECT_WAIT;
use crate::mock_host::MockHost;
use crate::sys::status_bytes;
use duet_testkit::fake_discord::FakeDiscord;

/// How long the started bot idles before its memory is read.
const IDLE: Duration = Duration::from_secs(1);

/// The `duet` binary of the same build as this harness, if it was built.
pub fn duet_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.with_file_name("duet");
    exe.is_file().then_some(exe)
}

/// Starts `duet run` with `env` (the mock's settings) and reports when it
/// was ready and its idle memory; skipped when the binary is not built.
pub async fn measure(host: &MockHost, env: &HashMap<String, String>) -> anyhow::Result<Value> {
    let Some(exe) = duet_binary() else {
        return Ok(json!({
            "skipped": "the duet binary is not built next to duet-bench (cargo build --release -p duet)"
        }));
    };
    let discord = host.run(FakeDiscord::start()).await;
    let scratch = Scratch::new("duet-run")?;
    let log_file = scratch.0.join("duet.log");
    let mut env = env.clone();
    for (key, value) in [
        ("DISCORD_TOKEN", "fake-token".to_string()),
        ("DISCORD_API_BASE_URL", discord.base_url()),
        (
            "DATABASE_PATH",
            scratch.0.join("duet.db").display().to_string(),
        ),
        ("HEALTH_PORT", "0".into()),
        ("LOG_FILE", log_file.display().to_string()),
    ] {
        env.insert(key.into(), value);
    }
    let started = Instant::now();
    let (mut child, pid) = spawn_run(&exe, &env, None)?;
    let pid = pid.to_string();
    let connected = tokio::time::timeout(CONNECT_WAIT, discord.wait_for_commands()).await;
    let Ok(log) = connected else {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        bail!("duet run did not connect to the fake Discord; its log:\n{log}");
    };
    let ready = log
        .iter()
        .find(|r| r.method == "PUT")
        .map(|r| r.at.saturating_duration_since(started))
        .unwrap_or_default();
    tokio::time::sleep(IDLE).await;
    let rss = status_bytes(&pid, "VmRSS").unwrap_or(0);
    let mib = |bytes: Option<u64>| bytes.map(|b| (b as f64 / 1_048_576.0 * 100.0).round() / 100.0);
    let figures = json!({
        "ready_ms": crate::sys::ms(ready),
        "idle_rss_bytes": rss,
        "idle_rss_mib": mib(Some(rss)),
        "rss_anon_mib": mib(status_bytes(&pid, "RssAnon")),
        "rss_file_mib": mib(status_bytes(&pid, "RssFile")),
        "binary_bytes": std::fs::metadata(&exe).map(|m| m.len()).ok(),
        "exit": stop(&mut child, &pid).await,
    });
    Ok(figures)
}

/// SIGTERM, then how the process ended (it should exit 0 after draining).
/// `duet run` from `exe` with exactly `env` (in `dir` when given), its
/// output discarded, killed when dropped; with its pid.
pub fn spawn_run(
    exe: &Path,
    env: &HashMap<String, String>,
    dir: Option<&Path>,
) -> anyhow::Result<(tokio::process::Child, u32)> {
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("run")
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let child = command
        .spawn()
        .with_context(|| format!("start {}", exe.display()))?;
    let pid = child.id().context("the child's pid")?;
    Ok((child, pid))
}

pub async fn stop(child: &mut tokio::process::Child, pid: &str) -> Value {
    if let Ok(pid) = pid.parse::<libc::pid_t>() {
        // SAFETY: kill(2) on our own child's pid with a valid signal number.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
        Ok(Ok(status)) => json!(status.code()),
        _ => {
            let _ = child.kill().await;
            json!("killed after 15 s")
        }
    }
}
