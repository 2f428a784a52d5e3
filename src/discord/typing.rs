//! The typing indicator shown while a turn runs. Discord hides it after 10
//! seconds, so it is sent again every [`TYPING_REFRESH`] until the reply goes
//! out (or fails); dropping the guard stops it.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Resend interval: comfortably inside Discord's 10-second expiry.
pub const TYPING_REFRESH: Duration = Duration::from_secs(8);

/// How long the first message waits for the first typing request to finish,
/// so the indicator never arrives after the reply it announces.
const FIRST_TRIGGER_WAIT: Duration = Duration::from_secs(3);

/// A running typing indicator; stops when dropped.
#[must_use = "the indicator stops when the guard is dropped"]
pub struct TypingGuard {
    task: JoinHandle<()>,
    first_sent: watch::Receiver<bool>,
}

impl TypingGuard {
    /// Starts calling `trigger` now and then every `every`.
    pub fn start<F, Fut>(every: Duration, trigger: F) -> Self
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (sent_tx, first_sent) = watch::channel(false);
        let task = tokio::spawn(async move {
            trigger().await;
            // Nobody may be waiting any more; that is fine.
            let _ = sent_tx.send(true);
            loop {
                tokio::time::sleep(every).await;
                trigger().await;
            }
        });
        Self { task, first_sent }
    }

    /// Stops refreshing, after letting the first trigger finish (bounded wait).
    pub async fn stop(mut self) {
        let _ =
            tokio::time::timeout(FIRST_TRIGGER_WAIT, self.first_sent.wait_for(|sent| *sent)).await;
        self.task.abort();
    }
}

impl Drop for TypingGuard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting() -> (
        Arc<AtomicUsize>,
        impl Fn() -> std::future::Ready<()> + Send + 'static,
    ) {
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        (count, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::ready(())
        })
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_before_the_ten_second_expiry_until_dropped() {
        let (count, trigger) = counting();
        let guard = TypingGuard::start(TYPING_REFRESH, trigger);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(count.load(Ordering::SeqCst), 1, "sent at once");
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(count.load(Ordering::SeqCst), 3);
        drop(guard);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            count.load(Ordering::SeqCst),
            3,
            "no refresh after the reply"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stop_waits_for_the_first_trigger_then_ends_the_refresh() {
        let (count, trigger) = counting();
        let guard = TypingGuard::start(TYPING_REFRESH, trigger);
        guard.stop().await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}
