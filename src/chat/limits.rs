//! Per-user rate limiting: RATE_LIMIT messages per RATE_LIMIT_PER seconds,
//! enforced with governor's GCRA (smooth, no fixed windows), keyed by user.
//! A limited user is told once when to try again; further messages inside
//! the same wait are dropped silently instead of earning a notice each.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::LimitsConfig;

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
        }
    }

    /// Whether this limiter was built from the same limits.
    pub fn matches(&self, config: &LimitsConfig) -> bool {
        self.limit == config.rate_limit && self.per == config.rate_limit_per
    }

    pub fn admit(&self, user: &str) -> Admission {
        let now = Instant::now();
        match self.limiter.check_key(&user.to_string()) {
            Ok(snapshot) => {
                self.told_until.remove(user);
                self.remaining
                    .insert(user.to_string(), (snapshot.remaining_burst_capacity(), now));
                Admission::Allowed
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                let already_told = self.told_until.get(user).is_some_and(|until| *until > now);
                if already_told {
                    return Admission::Quiet;
                }
                self.told_until.insert(user.to_string(), now + wait);
                Admission::Notify(wait)
            }
        }
    }

    /// Messages `user` could send right now (an estimate from the last
    /// admitted message plus the cells replenished since).
    pub fn remaining(&self, user: &str) -> u32 {
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

    #[test]
    fn a_limited_user_is_told_once_then_ignored_quietly() {
        let limiter = UserLimiter::new(&limits(2, 3600));
        assert_eq!(limiter.admit("ann"), Admission::Allowed);
        assert_eq!(limiter.admit("ann"), Admission::Allowed);
        let Admission::Notify(wait) = limiter.admit("ann") else {
            panic!("the third message is limited");
        };
        assert!(
            wait > Duration::from_secs(1000) && wait <= Duration::from_secs(1800),
            "{wait:?}"
        );
        assert_eq!(limiter.admit("ann"), Admission::Quiet);
        assert_eq!(limiter.admit("ann"), Admission::Quiet);
        assert_eq!(
            limiter.admit("bob"),
            Admission::Allowed,
            "other users are not affected"
        );
    }

    #[test]
    fn remaining_counts_down_with_each_message() {
        let limiter = UserLimiter::new(&limits(3, 3600));
        assert_eq!(limiter.remaining("ann"), 3);
        limiter.admit("ann");
        assert_eq!(limiter.remaining("ann"), 2);
        limiter.admit("ann");
        limiter.admit("ann");
        assert_eq!(limiter.remaining("ann"), 0);
        assert!(limiter.matches(&limits(3, 3600)) && !limiter.matches(&limits(4, 3600)));
    }
}
