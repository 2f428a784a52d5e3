//! Identify pacing: Discord allows one IDENTIFY per rate-limit bucket per
//! 5 seconds, where a shard's bucket is `shard_id % max_concurrency` (the
//! `max_concurrency` of `GET /gateway/bot`). Going faster gets sessions
//! invalidated, and every IDENTIFY counts against the daily start limit.
//!
//! [`IdentifyPacer`] is the one question the shard start-up asks before each
//! shard connects. [`LocalPacer`] answers it inside one process; several
//! processes of one bot need a pacer they share (a lock per bucket in Redis,
//! for example), or starts staggered by hand (see the README, "Sharding").

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tracing::warn;

use crate::coord::Coordinator;

/// Discord's window: one IDENTIFY per bucket per this long.
pub const IDENTIFY_INTERVAL: Duration = Duration::from_secs(5);

/// Decides when a shard may identify.
///
/// `wait_turn(bucket)` returns once an IDENTIFY in `bucket` (=
/// `shard_id % max_concurrency`) may be sent; the caller connects the shard
/// at once. An implementation grants each bucket at most once per
/// [`IDENTIFY_INTERVAL`] across everyone it coordinates, and must not fail:
/// when its shared store is unreachable it should fall back to waiting
/// locally rather than block start-up forever.
#[async_trait]
pub trait IdentifyPacer: Send + Sync {
    async fn wait_turn(&self, bucket: u32);
}

/// The bucket of `shard` (`max_concurrency` 0 is read as 1).
pub fn bucket_of(shard: u32, max_concurrency: u32) -> u32 {
    shard % max_concurrency.max(1)
}

/// Paces the shards of this process only: one grant per bucket per 5 s.
#[derive(Debug, Default)]
pub struct LocalPacer {
    /// When each bucket may identify next.
    next: Mutex<HashMap<u32, Instant>>,
}

impl LocalPacer {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdentifyPacer for LocalPacer {
    async fn wait_turn(&self, bucket: u32) {
        let now = Instant::now();
        // Reserve the slot under the lock, sleep without it.
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = next.get(&bucket).copied().unwrap_or(now).max(now);
            next.insert(bucket, at + IDENTIFY_INTERVAL);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Paces through Redis when `REDIS_URL` is set (one lock per bucket shared
/// by every process of the bot), and inside this process otherwise or while
/// Redis is unreachable.
pub struct SharedPacer {
    coordinator: Option<Coordinator>,
    local: LocalPacer,
}

impl SharedPacer {
    pub fn new(coordinator: Option<Coordinator>) -> Self {
        SharedPacer {
            coordinator,
            local: LocalPacer::new(),
        }
    }
}

#[async_trait]
impl IdentifyPacer for SharedPacer {
    async fn wait_turn(&self, bucket: u32) {
        if let Some(coordinator) = &self.coordinator {
            match coordinator.acquire_identify(u64::from(bucket)).await {
                Ok(()) => return,
                Err(error) => warn!(
                    bucket,
                    %error,
                    "the shared identify lock is unavailable; pacing this process on its own"
                ),
            }
        }
        self.local.wait_turn(bucket).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn buckets_are_the_shard_modulo_max_concurrency() {
        assert_eq!(bucket_of(17, 16), 1);
        assert_eq!(bucket_of(5, 1), 0);
        assert_eq!(bucket_of(5, 0), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn one_bucket_is_granted_once_per_five_seconds() {
        let pacer = Arc::new(LocalPacer::new());
        let start = Instant::now();
        let mut grants = Vec::new();
        for _ in 0..3 {
            pacer.wait_turn(0).await;
            grants.push(start.elapsed());
        }
        assert_eq!(
            grants,
            [Duration::ZERO, IDENTIFY_INTERVAL, IDENTIFY_INTERVAL * 2]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn different_buckets_do_not_wait_for_each_other() {
        let pacer = LocalPacer::new();
        let start = Instant::now();
        pacer.wait_turn(0).await;
        pacer.wait_turn(1).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_on_one_bucket_are_spaced_apart() {
        let pacer = Arc::new(LocalPacer::new());
        let start = Instant::now();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let pacer = Arc::clone(&pacer);
                tokio::spawn(async move {
                    pacer.wait_turn(2).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut grants = Vec::new();
        for waiter in waiters {
            grants.push(waiter.await.unwrap());
        }
        grants.sort();
        assert_eq!(
            grants,
            [Duration::ZERO, IDENTIFY_INTERVAL, IDENTIFY_INTERVAL * 2]
        );
    }
}
