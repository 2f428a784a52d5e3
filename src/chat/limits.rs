//! Per-user rate limiting: RATE_LIMIT messages per RATE_LIMIT_PER seconds,
//! enforced with governor's GCRA (smooth, no fixed windows), keyed by user.
//! A limited user is told once when to try again; further messages inside
//! the same wait are dropped silently instead of earning a notice each.
//!
//! With `REDIS_URL` the same limit is kept in Redis, shared by every process
//! (see `crate::coord`); while Redis is unreachable the in-process limiter
//! takes over, so a user may then get up to the limit from each process.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::LimitsConfig;
use crate::coord::Coordinator;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The verdict for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Limited; tell the user to wait this long.
    Notify(Duration),
    /// Limited, and the user was already told.
    Quiet,
}

pub struct UserLimiter {
    limiter: Keyed,
    limit: u32,
    per: Duration,
    /// Users already told to wait, until when.
    told_until: DashMap<String, Instant>,
    /// Remaining burst after each user's last admitted message, and when.
    remaining: DashMap<String, (u32, Instant)>,
    coordinator: Option<Coordinator>,
}

impl UserLimiter {
    pub fn new(config: &LimitsConfig) -> Self {
        let limit = NonZeroU32::new(config.rate_limit).unwrap_or(NonZeroU32::MIN);
        let period = config.rate_limit_per / limit.get();
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .expect("a non-zero period")
            .allow_burst(limit);
        Self {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit: limit.get(),
            per: config.rate_limit_per,
            told_until: DashMap::new(),
            remaining: DashMap::new(),
            coordinator: None,
        }
    }

    /// Keeps the limit in Redis, shared by every process, while it answers.
    pub fn coordinated(mut self, coordinator: Option<Coordinator>) -> Self {
        self.coordinator = coordinator;
        self
    }

    /// Whether this limiter was built from the same limits.
    pub fn matches(&self, config: &LimitsConfig) -> bool {
        self.limit == config.rate_limit && self.per == config.rate_limit_per
    }

    pub async fn admit(&self, user: &str) -> Admission {
        if let Some(coordinator) = &self.coordinator {
            // An error means Redis is away: the in-process limiter decides.
            if let Ok(take) = coordinator.take_user(user, self.limit, self.per).await {
                if take.allowed {
                    return self.allowed(user, take.remaining);
                }
                return self.refused(user, take.wait);
            }
        }
        match self.limiter.check_key(&user.to_string()) {
            Ok(snapshot) => self.allowed(user, snapshot.remaining_burst_capacity()),
            Err(not_until) => {
                self.refused(user, not_until.wait_time_from(self.limiter.clock().now()))
            }
        }
    }

    fn allowed(&self, user: &str, remaining: u32) -> Admission {
        self.told_until.remove(user);
        self.remaining
            .insert(user.to_string(), (remaining, Instant::now()));
        Admission::Allowed
    }

    fn refused(&self, user: &str, wait: Duration) -> Admission {
        let now = Instant::now();
        let already_told = self.told_until.get(user).is_some_and(|until| *until > now);
        if already_told {
            return Admission::Quiet;
        }
        self.told_until.insert(user.to_string(), now + wait);
        Admission::Notify(wait)
    }

    /// Messages `user` could send right now (an estimate from the last
    /// admitted message plus the cells replenished since).
    pub async fn remaining(&self, user: &str) -> u32 {
        if let Some(coordinator) = &self.coordinator
            && let Ok(left) = coordinator.user_remaining(user, self.limit, self.per).await
        {
            return left;
        }
        let Some(entry) = self.remaining.get(user) else {
            return self.limit;
        };
        let (left, at) = *entry;
        let interval = self.per / self.limit;
        let replenished = (at.elapsed().as_nanos() / interval.as_nanos().max(1)) as u32;
        left.saturating_add(replenished).min(self.limit)
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.per
    }

    /// Drops state of users who are back to a full budget (periodic housekeeping).
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        let now = Instant::now();
        self.told_until.retain(|_, until| *until > now);
        self.remaining.retain(|_, (_, at)| at.elapsed() < self.per);
    }

    /// Users with live rate-limit state.
    pub fn tracked_users(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate_limit: u32, per_secs: u64) -> LimitsConfig {
        LimitsConfig {
            rate_limit,
            rate_limit_per: Duration::from_secs(per_secs),
            max_queued_per_conversation: 3,
            max_concurrent_turns: 10,
            user_daily_tokens: 0,
            redis_url: None,
            redis_key_prefix: "duet:".into(),
        }
    }

    #[tokio::test]
    async fn a_limited_user_is_told_once_then_ignored_quietly() {
        let limiter = UserLimiter::new(&limits(2, 3600));
        assert_eq!(limiter.admit("ann").await, Admission::Allowed);
        assert_eq!(limiter.admit("ann").await, Admission::Allowed);
        let Admission::Notify(wait) = limiter.admit("ann").await else {
            panic!("the third message is limited");
        };
        assert!(
            wait > Duration::from_secs(1000) && wait <= Duration::from_secs(1800),
            "{wait:?}"
        );
        assert_eq!(limiter.admit("ann").await, Admission::Quiet);
        assert_eq!(limiter.admit("ann").await, Admission::Quiet);
        assert_eq!(
            limiter.admit("bob").await,
            Admission::Allowed,
            "other users are not affected"
        );
    }

    #[tokio::test]
    async fn remaining_counts_down_with_each_message() {
        let limiter = UserLimiter::new(&limits(3, 3600));
        assert_eq!(limiter.remaining("ann").await, 3);
        limiter.admit("ann").await;
        assert_eq!(limiter.remaining("ann").await, 2);
        limiter.admit("ann").await;
        limiter.admit("ann").await;
        assert_eq!(limiter.remaining("ann").await, 0);
        assert!(limiter.matches(&limits(3, 3600)) && !limiter.matches(&limits(4, 3600)));
    }
}
