//! Signal handling survives a panicking reload: real SIGHUP and SIGTERM are
//! sent to this test process (its only test, since signals are
//! process-wide) and handled by the same loop `duet run` uses. The panic is
//! logged at ERROR through duet's logging, redacted like every line.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use duet::config::Config;
use duet::ops::spawn_signal_loop;
use duet::shutdown::Shutdown;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "sk-Panic-Canary-91c2";

fn raise(signal: libc::c_int) {
    // SAFETY: kill(2) on our own pid with a valid signal number; the loop
    // has installed handlers for it, so it does not end the process.
    let sent = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(sent, 0, "kill(self, {signal})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_reload_leaves_sighup_and_sigterm_working() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("duet.log");
    let env = HashMap::from([
        ("OPENAI_API_KEY".to_string(), KEY.to_string()),
        ("LOG_FILE".to_string(), log.display().to_string()),
        ("LOG_FORMAT".to_string(), "json".to_string()),
    ]);
    duet::logging::init(&Config::from_env(&env).unwrap(), None).expect("logging");
    let shutdown = Shutdown::new();
    let (reported, mut reloads) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    spawn_signal_loop(shutdown.clone(), move || {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let reported = reported.clone();
        async move {
            reported.send(call).expect("the test listens");
            // The first reload panics, as a bad input once did, with a
            // message that holds a secret.
            assert_ne!(call, 0, "reload failed for key {}", KEY.to_uppercase());
        }
    })
    .expect("signal handlers installed");

    raise(libc::SIGHUP);
    let first = tokio::time::timeout(WAIT, reloads.recv()).await;
    assert_eq!(first.expect("the first SIGHUP ran the reload"), Some(0));

    raise(libc::SIGHUP);
    let second = tokio::time::timeout(WAIT, reloads.recv()).await;
    assert_eq!(
        second.expect("a SIGHUP after the panic still reloads"),
        Some(1)
    );

    assert!(!shutdown.is_requested());
    raise(libc::SIGTERM);
    tokio::time::timeout(WAIT, shutdown.requested())
        .await
        .expect("SIGTERM after the panic still starts the shutdown");

    let logged = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = logged
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    let panicked = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("panicked:"))
        })
        .unwrap_or_else(|| panic!("the panic is logged:\n{logged}"));
    assert_eq!(panicked["level"], "ERROR");
    assert!(
        panicked["message"]
            .as_str()
            .unwrap()
            .contains("reload failed for key [redacted]")
    );
    assert!(
        lines.iter().any(|l| l["level"] == "ERROR"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("SIGHUP reload panicked"))),
        "{logged}"
    );
    assert!(!logged.to_lowercase().contains("canary"), "{logged}");
}
