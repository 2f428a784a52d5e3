//! Starting this process's shards one at a time, each after the
//! [`IdentifyPacer`] grants its bucket.
//!
//! serenity boots a whole range through its `ShardQueuer`, 5 s apart, and
//! never asks anyone else. To let a pacer shared by several processes have
//! the last word, the first shard starts through `Client::start_shard`
//! (which also returns the fatal gateway errors, such as a rejected token)
//! and every later one through `ShardManager::restart`, which boots a shard
//! by id. `restart` first waits up to 5 s for the old runner to confirm its
//! shutdown; there is none, so the confirmation is sent beforehand with
//! `shutdown_finished`.

use std::sync::Arc;

use serenity::all::{Client, ShardId, ShardManager};
use tokio::time::{Duration, Instant};
use tracing::info;

use super::identify::{IDENTIFY_INTERVAL, IdentifyPacer, bucket_of};
use crate::config::ShardPlan;

/// How often the start-up looks whether serenity has booted a shard.
const BOOT_POLL: Duration = Duration::from_millis(50);

/// Runs the shards of `plan` until the client stops (a fatal gateway error
/// or a shutdown of every shard).
pub(super) async fn run_shards(
    client: &mut Client,
    plan: ShardPlan,
    max_concurrency: u32,
    pacer: Arc<dyn IdentifyPacer>,
) -> Result<(), serenity::Error> {
    pacer
        .wait_turn(bucket_of(plan.first, max_concurrency))
        .await;
    info!(
        shard = plan.first,
        total = plan.total,
        "starting Discord shard"
    );
    let manager = Arc::clone(&client.shard_manager);
    let rest = async move {
        start_the_rest(&manager, plan, max_concurrency, pacer.as_ref()).await;
        // Started them all; the client's own future decides when this ends.
        std::future::pending::<()>().await
    };
    tokio::select! {
        result = client.start_shard(plan.first, plan.total) => result,
        () = rest => Ok(()),
    }
}

/// Shards after the first, each once the previous one has booted, 5 s
/// later (serenity's queuer would wait that long anyway) and after the
/// pacer's grant.
async fn start_the_rest(
    manager: &ShardManager,
    plan: ShardPlan,
    max_concurrency: u32,
    pacer: &dyn IdentifyPacer,
) {
    let mut previous = plan.first;
    for shard in plan.ids().skip(1) {
        wait_until_booted(manager, previous).await;
        tokio::time::sleep_until(Instant::now() + IDENTIFY_INTERVAL).await;
        pacer.wait_turn(bucket_of(shard, max_concurrency)).await;
        info!(shard, total = plan.total, "starting Discord shard");
        manager.shutdown_finished(ShardId(shard));
        manager.restart(ShardId(shard)).await;
        previous = shard;
    }
}

async fn wait_until_booted(manager: &ShardManager, shard: u32) {
    while !manager.has(ShardId(shard)).await {
        tokio::time::sleep(BOOT_POLL).await;
    }
}
