//! Whether Redis answers, for `/health`, the `duet_redis_up` gauge and the
//! fail-fast gate of every call. A failed call marks Redis down; a probe
//! (in `coordinator.rs`) pings it every [`PROBE_EVERY`] and marks it up
//! again once it answers, so a process recovers without a restart.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::{info, warn};

use crate::metric_names as names;

/// How often the probe pings Redis.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

pub(super) struct Health {
    up: AtomicBool,
    reason: Mutex<String>,
}

impl Health {
    pub(super) fn new() -> Self {
        metrics::gauge!(names::REDIS_UP).set(1.0);
        Self {
            up: AtomicBool::new(true),
            reason: Mutex::new(String::new()),
        }
    }

    pub(super) fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    pub(super) fn reason(&self) -> String {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn problem(&self) -> Option<String> {
        if self.is_up() {
            return None;
        }
        Some(format!(
            "redis: unreachable ({}); limits, provider pauses and conversation locks are per process until it is back",
            self.reason()
        ))
    }

    pub(super) fn mark_down(&self, reason: &str) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = reason.to_string();
        if self.up.swap(false, Ordering::SeqCst) {
            metrics::gauge!(names::REDIS_UP).set(0.0);
            warn!(error = %reason, "lost Redis; limits are per process until it is back");
        }
    }

    pub(super) fn mark_up(&self) {
        if !self.up.swap(true, Ordering::SeqCst) {
            metrics::gauge!(names::REDIS_UP).set(1.0);
            info!("Redis is back; limits are shared across processes again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_redis_is_a_problem_with_its_reason_until_it_answers_again() {
        let health = Health::new();
        assert!(health.is_up() && health.problem().is_none());
        health.mark_down("connection refused");
        let problem = health.problem().expect("a problem");
        assert!(
            problem.starts_with("redis: unreachable (connection refused)"),
            "{problem}"
        );
        assert!(problem.contains("per process"), "{problem}");
        health.mark_down("still refused");
        assert!(
            health.problem().unwrap().contains("still refused"),
            "the latest reason"
        );
        health.mark_up();
        assert!(health.is_up() && health.problem().is_none());
    }
}
