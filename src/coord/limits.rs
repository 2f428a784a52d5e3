//! Shared rate limits and token budgets. Rate limits use the same GCRA as
//! the in-process governor limiter (a burst of `limit`, one cell back every
//! `per / limit`), computed in one Lua script on Redis' own clock, so every
//! process agrees on the time and two never both take the last cell.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::coordinator::{CoordError, Coordinator};

/// Token counters outlive their UTC day by this much (then Redis drops them).
const BUDGET_KEEP_SECS: u64 = 2 * 24 * 3600;

/// KEYS[1] the theoretical arrival time (µs); ARGV[1] the emission interval
/// in µs, ARGV[2] the burst, ARGV[3] "1" to take a cell or "0" to look.
/// Returns {allowed, remaining, wait µs}.
static GCRA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
if ARGV[3] == '0' then
  return {1, math.floor((tolerance - (tat - now)) / interval), 0}
end
local new_tat = tat + interval
local allowed_at = new_tat - tolerance
if now < allowed_at then
  return {0, 0, allowed_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((tolerance - (new_tat - now)) / interval), 0}
",
    )
});

/// KEYS[1] the counter; ARGV[1] tokens to add, ARGV[2] expiry in seconds.
static ADD_TOKENS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return total
",
    )
});

/// The verdict for one cell of a shared limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Take {
    pub allowed: bool,
    /// Cells left after this one (0 when refused).
    pub remaining: u32,
    /// When refused: how long until a cell is free.
    pub wait: Duration,
}

impl Coordinator {
    /// Takes one of `user`'s `limit` messages per `per`.
    pub async fn take_user(
        &self,
        user: &str,
        limit: u32,
        per: Duration,
    ) -> Result<Take, CoordError> {
        self.gcra(&self.key("rate", user), limit, per, true).await
    }

    /// Messages `user` could send now, without taking one.
    pub async fn user_remaining(
        &self,
        user: &str,
        limit: u32,
        per: Duration,
    ) -> Result<u32, CoordError> {
        let take = self
            .gcra(&self.key("rate", user), limit, per, false)
            .await?;
        Ok(take.remaining.min(limit))
    }

    /// Takes one of `provider`'s requests per minute, for every process.
    pub async fn take_provider(&self, provider: &str, per_minute: u32) -> Result<Take, CoordError> {
        let key = self.key("rpm", provider);
        self.gcra(&key, per_minute, Duration::from_secs(60), true)
            .await
    }

    /// Adds `tokens` to `user`'s count for `day`; returns the new total.
    pub async fn add_tokens(&self, user: &str, day: &str, tokens: u64) -> Result<u64, CoordError> {
        let key = self.key("tokens", &format!("{day}:{user}"));
        let args = [tokens.to_string(), BUDGET_KEEP_SECS.to_string()];
        let total: u64 = self.script(&ADD_TOKENS, &[&key], &args).await?;
        Ok(total)
    }

    /// Tokens `user` spent on `day` across every process.
    pub async fn tokens_used(&self, user: &str, day: &str) -> Result<u64, CoordError> {
        let key = self.key("tokens", &format!("{day}:{user}"));
        let used: Option<u64> = self.command(redis::cmd("GET").arg(&key)).await?;
        Ok(used.unwrap_or(0))
    }

    async fn gcra(
        &self,
        key: &str,
        limit: u32,
        per: Duration,
        take: bool,
    ) -> Result<Take, CoordError> {
        let limit = limit.max(1);
        let interval = (per.as_micros() / u128::from(limit)).max(1);
        let args = [
            interval.to_string(),
            limit.to_string(),
            if take { "1" } else { "0" }.to_string(),
        ];
        let (allowed, remaining, wait): (i64, i64, i64) = self.script(&GCRA, &[key], &args).await?;
        Ok(Take {
            allowed: allowed == 1,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            wait: Duration::from_micros(wait.max(0) as u64),
        })
    }
}
