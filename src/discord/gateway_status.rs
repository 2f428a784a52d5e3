//! [`DiscordStatus`]: what the health endpoint reports about the Discord
//! connection (shards connected, gateway latency, guild count).

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serenity::all::{Cache, ConnectionStage, ShardManager};

/// Shared handle to the state of a running Discord frontend; empty until
/// [`super::run`] has connected, and again after it returned.
#[derive(Default)]
pub struct DiscordStatus {
    live: Mutex<Option<Live>>,
}

#[derive(Clone)]
struct Live {
    shards: Arc<ShardManager>,
    cache: Arc<Cache>,
}

/// A point-in-time view of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiscordStatusSnapshot {
    /// The client is running (between start and shutdown).
    pub running: bool,
    /// Shards started by this process.
    pub shards: usize,
    /// Shards with a live, identified or resumed gateway session.
    pub shards_connected: usize,
    /// Guilds in the cache.
    pub guilds: usize,
    /// Slowest shard's last heartbeat round trip.
    pub latency_ms: Option<u64>,
}

impl DiscordStatusSnapshot {
    /// Every shard is connected (the bot can receive messages).
    pub fn is_ready(&self) -> bool {
        self.running && self.shards > 0 && self.shards_connected == self.shards
    }
}

impl DiscordStatus {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    pub(crate) fn attach(&self, shards: Arc<ShardManager>, cache: Arc<Cache>) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(Live { shards, cache });
    }

    pub(crate) fn detach(&self) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub async fn snapshot(&self) -> DiscordStatusSnapshot {
        // Clone out of the std mutex: it must not be held across the await below.
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(live) = live else {
            return DiscordStatusSnapshot::default();
        };
        let runners = live.shards.runners.lock().await;
        DiscordStatusSnapshot {
            running: true,
            shards: runners.len(),
            shards_connected: runners
                .values()
                .filter(|r| r.stage == ConnectionStage::Connected)
                .count(),
            guilds: live.cache.guild_count(),
            latency_ms: runners
                .values()
                .filter_map(|r| r.latency)
                .max()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_status_that_never_ran_reports_not_ready() {
        let status = DiscordStatus::new();
        let snapshot = status.snapshot().await;
        assert!(!snapshot.running);
        assert!(!snapshot.is_ready());
    }

    #[test]
    fn ready_means_every_shard_connected() {
        let mut snapshot = DiscordStatusSnapshot {
            running: true,
            shards: 2,
            shards_connected: 1,
            ..DiscordStatusSnapshot::default()
        };
        assert!(!snapshot.is_ready());
        snapshot.shards_connected = 2;
        assert!(snapshot.is_ready());
    }
}
