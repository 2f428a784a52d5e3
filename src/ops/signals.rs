//! Unix signals: SIGTERM/SIGINT ask for a graceful shutdown (a second one
//! exits at once), SIGHUP for a reload (and a log file reopen).
//!
//! Nothing that runs on a signal may take signal handling down with it:
//! each SIGHUP's work runs in its own task through [`isolated`], so a panic
//! there is logged as a failed reload and the next SIGHUP and SIGTERM are
//! still handled.

use std::future::Future;

use crate::shutdown::Shutdown;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// Exit status when a second signal cuts the graceful shutdown short.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Reload,
}

/// Starts listening; every received signal arrives on the channel.
pub fn signals() -> std::io::Result<mpsc::UnboundedReceiver<Signal>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                _ = term.recv() => Signal::Terminate,
                _ = int.recv() => Signal::Terminate,
                _ = hup.recv() => Signal::Reload,
            };
            if tx.send(received).is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

/// Runs `task` in a task of its own. A panic inside it is logged at ERROR
/// as a failure of `what` (the panic hook logs the message) and gives
/// `None`; the caller carries on.
pub async fn isolated<T: Send + 'static>(
    what: &'static str,
    task: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    match tokio::spawn(task).await {
        Ok(value) => Some(value),
        Err(failure) if failure.is_panic() => {
            error!(
                task = what,
                "{what} panicked and was abandoned; duet carries on"
            );
            None
        }
        Err(_) => None,
    }
}

/// Handles signals for the rest of the process: the first SIGTERM/SIGINT
/// requests `shutdown`, a second one exits with [`EXIT_INTERRUPTED`]; each
/// SIGHUP runs `on_hangup()`, one at a time, each [`isolated`], so neither
/// a slow nor a panicking reload ever delays or stops signal handling.
pub fn spawn_signal_loop<F, Fut>(
    shutdown: Shutdown,
    on_hangup: F,
) -> std::io::Result<JoinHandle<()>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut received = signals()?;
    let (hangups, mut pending) = mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        while pending.recv().await.is_some() {
            isolated("the SIGHUP reload", on_hangup()).await;
        }
    });
    Ok(tokio::spawn(async move {
        while let Some(signal) = received.recv().await {
            match signal {
                Signal::Terminate if shutdown.is_requested() => {
                    warn!("second signal: exiting now");
                    std::process::exit(EXIT_INTERRUPTED);
                }
                Signal::Terminate => {
                    info!("shutting down: finishing turns in flight");
                    shutdown.request();
                }
                Signal::Reload => {
                    if hangups.send(()).is_err() {
                        warn!("SIGHUP ignored: the reload task is gone");
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_inside_an_isolated_task_is_a_none_not_a_crash() {
        let failed = isolated::<()>("a test task", async { panic!("boom") }).await;
        assert_eq!(failed, None);
        assert_eq!(isolated("a test task", async { 7 }).await, Some(7));
    }
}
