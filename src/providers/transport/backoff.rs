//! How long to wait before trying a failed provider request again, when the
//! provider did not say: exponential backoff with full jitter (a random wait
//! between zero and the exponential cap), which spreads the retries of many
//! callers instead of synchronising them. Which statuses are worth a retry
//! at all is decided here too.

use std::time::Duration;

/// First backoff cap; doubles per attempt.
pub const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Largest backoff cap.
pub const BACKOFF_MAX: Duration = Duration::from_secs(8);

/// Statuses worth another attempt after a backoff (429 is handled apart).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 500 | 502 | 503 | 504)
}

/// A random wait in `[0, min(BACKOFF_MAX, BACKOFF_BASE * 2^attempt)]`.
pub fn full_jitter_backoff(attempt: u32) -> Duration {
    let cap = backoff_cap(attempt);
    let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

/// The upper bound of the backoff before attempt number `attempt` (0-based).
pub fn backoff_cap(attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_a_cap_that_doubles_then_saturates() {
        assert_eq!(backoff_cap(0), BACKOFF_BASE);
        assert_eq!(backoff_cap(2), BACKOFF_BASE * 4);
        assert_eq!(backoff_cap(30), BACKOFF_MAX);
        for attempt in 0..40 {
            assert!(full_jitter_backoff(attempt) <= backoff_cap(attempt));
        }
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for status in [408, 500, 502, 503, 504] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422, 429, 501] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }
}
