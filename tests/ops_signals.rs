//! Signal handling survives a panicking reload: real SIGHUP and SIGTERM are
//! sent to this test process (its only test, since signals are
//! process-wide) and handled by the same loop `duet run` uses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use duet::ops::spawn_signal_loop;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

fn raise(signal: libc::c_int) {
    // SAFETY: kill(2) on our own pid with a valid signal number; the loop
    // has installed handlers for it, so it does not end the process.
    let sent = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(sent, 0, "kill(self, {signal})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_reload_leaves_sighup_and_sigterm_working() {
    let shutdown = CancellationToken::new();
    let (reported, mut reloads) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    spawn_signal_loop(shutdown.clone(), move || {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let reported = reported.clone();
        async move {
            reported.send(call).expect("the test listens");
            assert_ne!(call, 0, "the first reload panics, as a bad input once did");
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

    assert!(!shutdown.is_cancelled());
    raise(libc::SIGTERM);
    tokio::time::timeout(WAIT, shutdown.cancelled())
        .await
        .expect("SIGTERM after the panic still starts the shutdown");
}
