//! Sharding in the fake: the shard count and `max_concurrency` that
//! `GET /gateway/bot` reports, guilds added besides the fixture guild (each
//! created on the shard Discord would put it on), and which shards have a
//! live session.

use std::collections::BTreeMap;

use serde_json::Value;

use super::realistic::{self, GuildSize};
use super::{FakeDiscord, Shared, WAIT, lock};

/// Discord's rule: `(guild_id >> 22) % shards`.
pub fn shard_of(guild_id: u64, shards: u32) -> u32 {
    let shard = (guild_id >> 22) % u64::from(shards.max(1));
    u32::try_from(shard).unwrap_or(0)
}

/// A guild id whose shard is `shard` of `shards`; `n` tells apart several
/// guilds of one shard.
pub fn guild_on_shard(shard: u32, shards: u32, n: u64) -> u64 {
    // Far above the fixture's ids; the low bits stay free for channel ids.
    let slot = (n + 1_000) * u64::from(shards.max(1)) + u64::from(shard);
    (slot << 22) + 1
}

/// The shard layout and the added guilds.
#[derive(Debug)]
pub(crate) struct ShardWorld {
    pub count: u32,
    pub max_concurrency: u32,
    pub guilds: BTreeMap<u64, GuildSize>,
}

impl Default for ShardWorld {
    fn default() -> Self {
        Self {
            count: 1,
            max_concurrency: 1,
            guilds: BTreeMap::new(),
        }
    }
}

impl Shared {
    pub(super) fn shard_count(&self) -> u32 {
        lock(&self.world).count
    }

    /// The added guilds on `shard` of `shards`.
    pub(super) fn guilds_of_shard(&self, shard: u32, shards: u32) -> Vec<u64> {
        lock(&self.world)
            .guilds
            .keys()
            .copied()
            .filter(|id| shard_of(*id, shards) == shard)
            .collect()
    }

    /// Publishes which shards have a live session now.
    pub(super) fn live_changed(&self) {
        let mut live: Vec<u32> = self.gateway().live.keys().copied().collect();
        live.sort_unstable();
        self.live_shards.send_replace(live);
    }
}

/// GUILD_CREATE of an added guild.
pub(super) fn guild_json(shared: &Shared, id: u64) -> Value {
    let size = lock(&shared.world)
        .guilds
        .get(&id)
        .copied()
        .unwrap_or(realistic::SMALL);
    realistic::guild_create(id, size)
}

impl FakeDiscord {
    /// From now on `GET /gateway/bot` recommends `shards` shards with this
    /// `max_concurrency`, and events are routed by that count.
    pub fn set_shards(&self, shards: u32, max_concurrency: u32) {
        let mut world = lock(&self.shared.world);
        world.count = shards.max(1);
        world.max_concurrency = max_concurrency.max(1);
    }

    /// `(shards, max_concurrency)` as `GET /gateway/bot` reports them.
    pub fn shards(&self) -> (u32, u32) {
        let world = lock(&self.shared.world);
        (world.count, world.max_concurrency)
    }

    /// Adds a small guild (three text channels; `#general` is
    /// [`realistic::general_channel`]), created on its shard's next session.
    pub fn add_guild(&self, id: u64) {
        lock(&self.shared.world).guilds.insert(id, realistic::SMALL);
    }

    /// Adds `n` realistic guilds (50 channels, 30 roles, 5 members each),
    /// spread over the shards; returns their ids.
    pub fn add_realistic_guilds(&self, n: u64) -> Vec<u64> {
        let mut world = lock(&self.shared.world);
        let shards = world.count;
        let start = world.guilds.len() as u64;
        let ids: Vec<u64> = (start..start + n)
            .map(|i| {
                let shard = u32::try_from(i % u64::from(shards)).unwrap_or(0);
                guild_on_shard(shard, shards, i / u64::from(shards) + 1_000_000)
            })
            .collect();
        for id in &ids {
            world.guilds.insert(*id, realistic::REALISTIC);
        }
        ids
    }

    /// Shards with a live session, in order.
    pub fn live_shards(&self) -> Vec<u32> {
        self.shared.live_shards.borrow().clone()
    }

    /// Waits (at most [`WAIT`]) until exactly `shards` have a live session.
    pub async fn wait_for_live_shards(&self, shards: &[u32]) {
        let mut live = self.shared.live_shards.subscribe();
        let wanted = shards.to_vec();
        let reached = tokio::time::timeout(WAIT, live.wait_for(|now| *now == wanted)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "timed out waiting for live shards {wanted:?}; live: {:?}",
            self.live_shards()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guilds_made_for_a_shard_land_on_it() {
        for shards in 1..5 {
            for shard in 0..shards {
                for n in 0..3 {
                    assert_eq!(shard_of(guild_on_shard(shard, shards, n), shards), shard);
                }
            }
        }
        assert_eq!(shard_of(super::super::fixtures::GUILD_ID, 2), 0);
    }
}
