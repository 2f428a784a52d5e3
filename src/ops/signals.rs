//! Unix signals as a stream of typed events: SIGTERM/SIGINT ask for a
//! graceful shutdown, SIGHUP for a reload (and a log file reopen).

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

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
