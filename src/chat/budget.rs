//! Daily token budgets (`USER_DAILY_TOKENS`), counted in memory and, with
//! `REDIS_URL`, also in Redis so every process sees what the others spent.
//! The larger of the two counts wins: memory alone misses other processes,
//! Redis alone misses what was spent while it was unreachable.

use tracing::warn;

use super::live::Live;
use super::memory::{Memory, MemoryError};

/// Tokens `user` spent on `day`.
pub(super) async fn tokens_used(
    live: &Live,
    memory: &Memory,
    user: &str,
    day: &str,
) -> Result<u64, MemoryError> {
    let shared = match live.providers.coordinator() {
        Some(coordinator) => coordinator.tokens_used(user, day).await.ok(),
        None => None,
    };
    match (memory.tokens_used(user, day).await, shared) {
        (Ok(local), shared) => Ok(local.max(shared.unwrap_or(0))),
        (Err(_), Some(shared)) => Ok(shared),
        (Err(error), None) => Err(error),
    }
}

/// Records `tokens` spent by `user` on `day`; failures are logged.
pub(super) async fn add_tokens(live: &Live, memory: &Memory, user: &str, day: &str, tokens: u64) {
    if let Err(error) = memory.add_tokens(user, day, tokens).await {
        warn!(%error, "could not record token usage");
    }
    if let Some(coordinator) = live.providers.coordinator()
        && let Err(error) = coordinator.add_tokens(user, day, tokens).await
    {
        warn!(%error, "could not record token usage in Redis; other processes undercount it");
    }
}
