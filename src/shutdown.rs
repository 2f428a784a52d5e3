//! The one shutdown of a duet process. Every frontend (Discord, `duet chat`)
//! and the pipeline share one [`Shutdown`]: once it begins, no new work is
//! accepted; work in progress gets a grace period; what is still running
//! after it is interrupted and given a moment to tell its user so.
//!
//! Work registers with [`Shutdown::begin`] (a [`Work`] guard) or
//! [`Shutdown::track`] (a future); [`Shutdown::drain`] is the only drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tracing::warn;

/// How long interrupted work gets to post its notice.
pub const NOTICE_GRACE: Duration = Duration::from_secs(5);

/// Cheap to clone; every clone is the same shutdown.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopping: AtomicBool,
    /// Cancelled when the grace period is over.
    interrupt: CancellationToken,
    /// Cancelled when shutdown begins (frontends stop listening).
    requested: CancellationToken,
    work: TaskTracker,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Work that was still running when the grace period ended.
    pub interrupted: usize,
}

impl Drained {
    pub fn clean(self) -> bool {
        self.interrupted == 0
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers one piece of work; `None` once shutdown has begun.
    pub fn begin(&self) -> Option<Work> {
        if self.is_stopping() {
            return None;
        }
        Some(Work {
            _token: self.inner.work.token(),
            interrupt: self.inner.interrupt.clone(),
        })
    }

    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// Asks every frontend to stop taking work; [`Self::drain`] does the rest.
    pub fn request(&self) {
        self.inner.requested.cancel();
    }

    pub fn is_requested(&self) -> bool {
        self.inner.requested.is_cancelled()
    }

    /// Resolves once shutdown was requested.
    pub fn requested(&self) -> WaitForCancellationFuture<'_> {
        self.inner.requested.cancelled()
    }

    /// An owned version of [`Self::requested`], for tasks.
    pub fn requested_owned(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.inner.requested.clone().cancelled_owned()
    }

    /// Resolves when running work must stop (the grace period is over).
    pub fn interrupted(&self) -> WaitForCancellationFuture<'_> {
        self.inner.interrupt.cancelled()
    }

    /// Work registered and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.inner.work.len()
    }

    /// Refuses new work, waits up to `grace` for running work, then
    /// interrupts the rest and waits up to [`NOTICE_GRACE`] for it to say so.
    pub async fn drain(&self, grace: Duration) -> Drained {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.requested.cancel();
        self.inner.work.close();
        if tokio::time::timeout(grace, self.inner.work.wait())
            .await
            .is_ok()
        {
            return Drained { interrupted: 0 };
        }
        let interrupted = self.inner.work.len();
        warn!(interrupted, "grace period over; interrupting turns");
        self.inner.interrupt.cancel();
        if tokio::time::timeout(NOTICE_GRACE, self.inner.work.wait())
            .await
            .is_err()
        {
            warn!(
                still_running = self.inner.work.len(),
                "interrupted turns did not finish"
            );
        }
        Drained { interrupted }
    }
}

/// One piece of registered work; dropping it marks it finished.
pub struct Work {
    _token: TaskTrackerToken,
    interrupt: CancellationToken,
}

impl Work {
    /// Resolves when the work must stop because the grace period is over.
    pub fn interrupted(&self) -> WaitForCancellationFuture<'_> {
        self.interrupt.cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drain_waits_for_work_that_finishes_in_time() {
        let shutdown = Shutdown::new();
        let work = shutdown.begin().expect("accepting");
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(work);
        });
        assert!(shutdown.drain(Duration::from_secs(10)).await.clean());
        assert!(shutdown.begin().is_none(), "no new work while stopping");
        assert!(shutdown.is_requested());
        finisher.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn drain_interrupts_work_that_outlasts_the_grace() {
        let shutdown = Shutdown::new();
        let work = shutdown.begin().expect("accepting");
        let worker = tokio::spawn(async move {
            tokio::select! {
                () = work.interrupted() => "interrupted",
                () = tokio::time::sleep(Duration::from_secs(3600)) => "finished",
            }
        });
        let drained = shutdown.drain(Duration::from_secs(10)).await;
        assert_eq!(drained.interrupted, 1);
        assert_eq!(worker.await.unwrap(), "interrupted");
        assert_eq!(shutdown.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn nested_registrations_are_all_waited_for() {
        let shutdown = Shutdown::new();
        let outer = shutdown.begin().expect("accepting");
        let inner = shutdown.begin().expect("still accepting");
        drop(outer);
        assert_eq!(shutdown.in_flight(), 1);
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.drain(Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(inner);
        assert!(waiter.await.unwrap().clean());
    }
}
