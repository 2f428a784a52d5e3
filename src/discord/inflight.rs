//! Turns in progress, for a clean shutdown: once stopping, new messages are
//! ignored, running turns get a grace period to finish, and those still
//! running afterwards are interrupted (they tell the user so).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// How long interrupted turns get to post their notice.
const NOTICE_GRACE: Duration = Duration::from_secs(5);

/// Counts running turns and interrupts them on request.
pub struct InFlight {
    running: watch::Sender<usize>,
    stopping: AtomicBool,
    interrupt: CancellationToken,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            running: watch::channel(0).0,
            stopping: AtomicBool::new(false),
            interrupt: CancellationToken::new(),
        }
    }
}

impl InFlight {
    /// Registers a new turn; `None` once shutdown has begun.
    pub fn begin(self: &Arc<Self>) -> Option<TurnGuard> {
        if self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        self.running.send_modify(|n| *n += 1);
        Some(TurnGuard {
            inflight: Arc::clone(self),
        })
    }

    #[cfg(test)]
    pub fn running(&self) -> usize {
        *self.running.borrow()
    }

    /// Refuses new turns, waits up to `grace` for running ones, then
    /// interrupts the rest and gives them a moment to say so. Returns how
    /// many turns were interrupted.
    pub async fn drain(&self, grace: Duration) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        let mut running = self.running.subscribe();
        if tokio::time::timeout(grace, running.wait_for(|n| *n == 0))
            .await
            .is_ok()
        {
            return 0;
        }
        let interrupted = *running.borrow();
        self.interrupt.cancel();
        let _ = tokio::time::timeout(NOTICE_GRACE, running.wait_for(|n| *n == 0)).await;
        interrupted
    }
}

/// One running turn; dropping it marks the turn finished.
pub struct TurnGuard {
    inflight: Arc<InFlight>,
}

impl TurnGuard {
    /// Resolves when the turn must stop because the bot is shutting down.
    pub fn interrupted(&self) -> WaitForCancellationFuture<'_> {
        self.inflight.interrupt.cancelled()
    }
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.inflight.running.send_modify(|n| *n -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drain_waits_for_turns_that_finish_in_time() {
        let inflight = Arc::new(InFlight::default());
        let turn = inflight.begin().expect("accepting");
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(turn);
        });
        assert_eq!(inflight.drain(Duration::from_secs(10)).await, 0);
        assert!(inflight.begin().is_none(), "no new turns while stopping");
        finisher.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn drain_interrupts_turns_that_outlast_the_grace() {
        let inflight = Arc::new(InFlight::default());
        let turn = inflight.begin().expect("accepting");
        let worker = tokio::spawn(async move {
            tokio::select! {
                () = turn.interrupted() => "interrupted",
                () = tokio::time::sleep(Duration::from_secs(3600)) => "finished",
            }
        });
        assert_eq!(inflight.drain(Duration::from_secs(10)).await, 1);
        assert_eq!(worker.await.unwrap(), "interrupted");
        assert_eq!(inflight.running(), 0);
    }
}
