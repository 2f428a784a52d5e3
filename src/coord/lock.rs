//! The per-conversation lock across processes, taken after the in-process
//! queue: one turn at a time per conversation whichever process serves it.
//! The lock is a key holding a random token with an expiry ([`LOCK_TTL`]),
//! renewed every [`LOCK_RENEW_EVERY`] while the turn runs, so a process that
//! dies mid-turn blocks the conversation for at most the expiry. Renewal
//! and release compare the token first: a holder whose lock expired never
//! extends or deletes the next holder's lock.
//!
//! Waiters poll (with backoff), so across processes the order of waiting
//! turns is not strictly first come, first served; within one process the
//! in-process queue keeps it.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::coordinator::{CoordError, Coordinator};

/// How long a lock lives without renewal.
pub const LOCK_TTL: Duration = Duration::from_secs(30);
/// How often a held lock is renewed.
pub const LOCK_RENEW_EVERY: Duration = Duration::from_secs(10);
const POLL_FIRST: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(250);

/// KEYS[1] the lock; ARGV[1] the holder's token, ARGV[2] the new expiry in ms.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// KEYS[1] the lock; ARGV[1] the holder's token. Deletes only one's own lock.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// A held conversation lock; dropping it releases it (in the background).
#[must_use = "the lock is released when dropped"]
pub struct ConversationLock {
    coordinator: Coordinator,
    key: String,
    token: String,
    renewal: Option<JoinHandle<()>>,
}

impl Coordinator {
    /// Waits for `conversation`'s lock. An error means Redis became
    /// unreachable: the caller goes on with its in-process queue only.
    pub async fn lock_conversation(
        &self,
        conversation: &str,
    ) -> Result<ConversationLock, CoordError> {
        self.lock_with(conversation, LOCK_TTL, LOCK_RENEW_EVERY)
            .await
    }

    /// [`Self::lock_conversation`] with its timings given (tests).
    pub async fn lock_with(
        &self,
        conversation: &str,
        ttl: Duration,
        renew_every: Duration,
    ) -> Result<ConversationLock, CoordError> {
        let mut poll = POLL_FIRST;
        loop {
            if let Some(lock) = self.try_lock(conversation, ttl, renew_every).await? {
                return Ok(lock);
            }
            if poll == POLL_FIRST {
                debug!(%conversation, "waiting for the conversation lock another turn holds");
            }
            tokio::time::sleep(poll + Duration::from_millis(fastrand::u64(0..10))).await;
            poll = (poll * 2).min(POLL_MAX);
        }
    }

    /// Takes the lock if it is free.
    pub async fn try_lock(
        &self,
        conversation: &str,
        ttl: Duration,
        renew_every: Duration,
    ) -> Result<Option<ConversationLock>, CoordError> {
        let key = self.key("lock", conversation);
        let token = format!("{}-{:032x}", std::process::id(), fastrand::u128(..));
        let ms = ttl.as_millis().max(1).to_string();
        if !self.set_new(&key, &token, &ms).await? {
            return Ok(None);
        }
        let renewal = tokio::spawn(renew(
            self.clone(),
            key.clone(),
            token.clone(),
            ms,
            renew_every,
        ));
        Ok(Some(ConversationLock {
            coordinator: self.clone(),
            key,
            token,
            renewal: Some(renewal),
        }))
    }
}

async fn renew(
    coordinator: Coordinator,
    key: String,
    token: String,
    ttl_ms: String,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let renewed: Result<i64, CoordError> = coordinator
            .script(&RENEW, &[&key], &[token.clone(), ttl_ms.clone()])
            .await;
        match renewed {
            Ok(1) => {}
            Ok(_) => {
                warn!(
                    "a conversation lock expired while its turn ran; another process may serve the conversation"
                );
                return;
            }
            // Redis is away: the probe notices, the turn goes on.
            Err(_) => {}
        }
    }
}

impl ConversationLock {
    /// Releases the lock; `Ok(false)` when it had expired and was not ours any more.
    pub async fn release(mut self) -> Result<bool, CoordError> {
        self.stop_renewal();
        let key = std::mem::take(&mut self.key);
        let deleted: i64 = self
            .coordinator
            .script(&RELEASE, &[&key], std::slice::from_ref(&self.token))
            .await?;
        Ok(deleted == 1)
    }

    fn stop_renewal(&mut self) {
        if let Some(renewal) = self.renewal.take() {
            renewal.abort();
        }
    }
}

impl Drop for ConversationLock {
    fn drop(&mut self) {
        self.stop_renewal();
        if self.key.is_empty() {
            return;
        }
        let coordinator = self.coordinator.clone();
        let key = std::mem::take(&mut self.key);
        let token = std::mem::take(&mut self.token);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // A failed release only leaves the lock to expire.
                let _: Result<i64, CoordError> =
                    coordinator.script(&RELEASE, &[&key], &[token]).await;
            });
        }
    }
}
