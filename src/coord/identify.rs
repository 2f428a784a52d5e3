//! Identify pacing across processes: Discord allows one IDENTIFY per
//! `max_concurrency` bucket every 5 seconds for the whole bot, whichever
//! process sends it. A lock per bucket that expires after 5 s (and is never
//! released early) spaces them out.

use std::time::Duration;

use super::coordinator::{CoordError, Coordinator};

/// Spacing of two IDENTIFYs in one bucket.
pub const IDENTIFY_SPACING: Duration = Duration::from_secs(5);
/// Shortest wait between two tries (Redis says how long the lock has left).
const MIN_RETRY: Duration = Duration::from_millis(20);

impl Coordinator {
    /// Returns when this process may send an IDENTIFY in `bucket`
    /// (`shard_id % max_concurrency`). An error means Redis is unreachable:
    /// the caller paces on its own.
    pub async fn acquire_identify(&self, bucket: u64) -> Result<(), CoordError> {
        self.acquire_identify_every(bucket, IDENTIFY_SPACING).await
    }

    /// [`Self::acquire_identify`] with another spacing (tests).
    pub async fn acquire_identify_every(
        &self,
        bucket: u64,
        spacing: Duration,
    ) -> Result<(), CoordError> {
        let key = self.key("identify", &bucket.to_string());
        let token = format!("{}", std::process::id());
        let ms = spacing.as_millis().max(1).to_string();
        loop {
            if self.set_new(&key, &token, &ms).await? {
                return Ok(());
            }
            let left: i64 = self.command(redis::cmd("PTTL").arg(&key)).await?;
            let wait = Duration::from_millis(left.max(0) as u64).max(MIN_RETRY);
            tokio::time::sleep(wait + Duration::from_millis(fastrand::u64(0..10))).await;
        }
    }
}
