//! [`DiscordStatus`]: what the health endpoint reports about the Discord
//! connection (this process's shards and their state, gateway latency,
//! guild count).

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serenity::all::{ConnectionStage, ShardId, ShardManager};

use super::directory::Directory;

use crate::config::ShardPlan;

/// Shared handle to the state of a running Discord frontend; empty until
/// [`super::run`] has connected, and again after it returned.
#[derive(Default)]
pub struct DiscordStatus {
    live: Mutex<Option<Live>>,
}

#[derive(Clone)]
struct Live {
    shards: Arc<ShardManager>,
    directory: Arc<Directory>,
    plan: ShardPlan,
}

/// One shard of this process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardState {
    pub id: u32,
    /// `connected`, `connecting`, `identifying`, `resuming`, `handshake`,
    /// `disconnected` or `not started` (waiting for its turn to identify).
    pub stage: &'static str,
    pub latency_ms: Option<u64>,
}

/// A point-in-time view of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiscordStatusSnapshot {
    /// The client is running (between start and shutdown).
    pub running: bool,
    /// Shards this process runs (started or waiting for their turn).
    pub shards: usize,
    /// The bot's shard count (every process's shards together).
    pub shard_total: u32,
    /// This process's shards, by id.
    pub shard_states: Vec<ShardState>,
    /// Shards with a live, identified or resumed gateway session.
    pub shards_connected: usize,
    /// Guilds this process's shards serve.
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

    pub(crate) fn attach(
        &self,
        shards: Arc<ShardManager>,
        directory: Arc<Directory>,
        plan: ShardPlan,
    ) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(Live {
            shards,
            directory,
            plan,
        });
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
        let shard_states: Vec<ShardState> = {
            let runners = live.shards.runners.lock().await;
            live.plan
                .ids()
                .map(|id| match runners.get(&ShardId(id)) {
                    Some(runner) => ShardState {
                        id,
                        stage: stage_name(&runner.stage),
                        latency_ms: runner.latency.map(millis),
                    },
                    None => ShardState {
                        id,
                        stage: "not started",
                        latency_ms: None,
                    },
                })
                .collect()
        };
        DiscordStatusSnapshot {
            running: true,
            shards: shard_states.len(),
            shard_total: live.plan.total,
            shards_connected: shard_states
                .iter()
                .filter(|s| s.stage == "connected")
                .count(),
            guilds: live.directory.guild_count(),
            latency_ms: shard_states.iter().filter_map(|s| s.latency_ms).max(),
            shard_states,
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn stage_name(stage: &ConnectionStage) -> &'static str {
    match stage {
        ConnectionStage::Connected => "connected",
        ConnectionStage::Connecting => "connecting",
        ConnectionStage::Disconnected => "disconnected",
        ConnectionStage::Handshake => "handshake",
        ConnectionStage::Identifying => "identifying",
        ConnectionStage::Resuming => "resuming",
        _ => "unknown",
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
