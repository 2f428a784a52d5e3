//! The 429 pause of one provider. When the provider says "slow down", every
//! request to it waits until the reset, not only the one that got the 429:
//! otherwise each concurrent request would spend its own 429 to learn the
//! same thing (a thundering herd). Waiters wake with a little jitter so the
//! end of a pause is not a burst either.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Longest jitter added when a pause ends.
const WAKE_JITTER_MAX: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
pub struct PauseGate {
    until: Mutex<Option<Instant>>,
}

impl PauseGate {
    /// Pauses the provider for `wait` from now; a longer pause already in place stays.
    pub fn pause_for(&self, wait: Duration) -> Instant {
        let target = Instant::now() + wait;
        let mut until = self.until.lock().unwrap_or_else(|e| e.into_inner());
        let end = until.map_or(target, |current| current.max(target));
        *until = Some(end);
        end
    }

    /// When the current pause ends, or `None` when the provider is not paused.
    pub fn paused_until(&self) -> Option<Instant> {
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        until.filter(|end| *end > Instant::now())
    }

    /// How much longer the pause lasts.
    pub fn remaining(&self) -> Option<Duration> {
        self.paused_until()
            .map(|end| end.saturating_duration_since(Instant::now()))
    }

    /// Waits out the pause. `Ok(true)` when it had to wait; `Err(remaining)`
    /// when the pause outlasts `deadline`, so waiting would be pointless.
    pub async fn wait(&self, deadline: Instant) -> Result<bool, Duration> {
        let mut waited = false;
        while let Some(end) = self.paused_until() {
            if end > deadline {
                return Err(end.saturating_duration_since(Instant::now()));
            }
            let left = end.saturating_duration_since(Instant::now());
            let jitter_cap = (left / 10).min(WAKE_JITTER_MAX);
            let jitter_ms = fastrand::u64(0..=jitter_cap.as_millis() as u64);
            let wake = (end + Duration::from_millis(jitter_ms)).min(deadline);
            tokio::time::sleep_until(wake).await;
            waited = true;
        }
        Ok(waited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waiters_are_released_only_after_the_pause() {
        let gate = PauseGate::default();
        let start = Instant::now();
        gate.pause_for(Duration::from_secs(2));
        let waited = gate.wait(start + Duration::from_secs(60)).await;
        assert_eq!(waited, Ok(true));
        assert!(start.elapsed() >= Duration::from_secs(2));
        assert_eq!(gate.paused_until(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_pause_never_shortens_a_longer_one() {
        let gate = PauseGate::default();
        let long = gate.pause_for(Duration::from_secs(5));
        let still = gate.pause_for(Duration::from_secs(1));
        assert_eq!(long, still);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_beyond_the_deadline_fails_at_once() {
        let gate = PauseGate::default();
        gate.pause_for(Duration::from_secs(30));
        let result = gate.wait(Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(result, Err(Duration::from_secs(30)));
    }

    #[tokio::test(start_paused = true)]
    async fn no_pause_means_no_wait() {
        let gate = PauseGate::default();
        assert_eq!(gate.wait(Instant::now()).await, Ok(false));
        assert_eq!(gate.remaining(), None);
    }
}
