//! A provider's 429 pause, shared: a 429 seen by one process pauses the
//! provider for every process until the reset. The pause is a key whose
//! expiry is the reset; a shorter pause never shortens a longer one.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::coordinator::{CoordError, Coordinator};

/// KEYS[1] the pause; ARGV[1] its length in ms. Returns the pause in force, in ms.
static EXTEND_PAUSE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local wanted = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  return wanted
end
return left
",
    )
});

impl Coordinator {
    /// Pauses `provider` for every process for `wait` from now.
    pub async fn pause_provider(
        &self,
        provider: &str,
        wait: Duration,
    ) -> Result<Duration, CoordError> {
        let key = self.key("pause", provider);
        let ms = wait.as_millis().clamp(1, i64::MAX as u128);
        let left: i64 = self
            .script(&EXTEND_PAUSE, &[&key], &[ms.to_string()])
            .await?;
        Ok(Duration::from_millis(left.max(0) as u64))
    }

    /// How much longer `provider` is paused, `None` when it is not.
    pub async fn provider_pause(&self, provider: &str) -> Result<Option<Duration>, CoordError> {
        let key = self.key("pause", provider);
        let left: i64 = self.command(redis::cmd("PTTL").arg(&key)).await?;
        Ok((left > 0).then(|| Duration::from_millis(left as u64)))
    }
}
