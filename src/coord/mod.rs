//! Coordination of several duet processes through Redis (`[Limits]
//! REDIS_URL`): per-user rate limits and daily token budgets
//! (`limits.rs`), each provider's requests per minute and its 429 pause
//! (`pause.rs`), the per-conversation lock (`lock.rs`) and identify pacing
//! for the gateway (`identify.rs`). Every check-and-change is one Lua
//! script, so two processes never both take the last slot.
//!
//! Redis is a helper, never a single point of failure: when it cannot be
//! reached every call fails fast with [`CoordError::Down`] and the caller
//! keeps its in-process behaviour (limits per process) until the probe in
//! `health.rs` sees Redis again; the connection manager reconnects by itself.

mod health;
mod identify;
mod limits;
mod lock;
mod pause;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, Script};
use tracing::warn;

use crate::secret::{Redactor, Secret};

pub use identify::IDENTIFY_SPACING;
pub use limits::Take;
pub use lock::{ConversationLock, LOCK_RENEW_EVERY, LOCK_TTL};

use health::Health;

/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one command may take before Redis counts as lost.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a coordination call did not happen; the caller falls back to its
/// per-process behaviour. The text never holds REDIS_URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CoordError {
    #[error("Redis is unreachable: {0}")]
    Down(String),
    #[error("Redis refused a command: {0}")]
    Refused(String),
}

/// The shared connection and key prefix; cheap to clone.
#[derive(Clone)]
pub struct Coordinator {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    prefix: String,
    url: Secret,
    redactor: Redactor,
    health: Arc<Health>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Coordinator {
    /// Connects and pings once; a failure here means "do not start".
    pub async fn connect(url: &Secret, prefix: &str) -> Result<Self, CoordError> {
        let redactor = Redactor::new([url.clone()]);
        let clean = |e: &RedisError| redactor.clean(&e.to_string());
        let client =
            redis::Client::open(url.expose()).map_err(|e| CoordError::Refused(clean(&e)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let connecting = ConnectionManager::new_with_config(client, config);
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT * 2, connecting)
            .await
            .map_err(|_| CoordError::Down("connecting timed out".into()))?
            .map_err(|e| CoordError::Down(clean(&e)))?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| CoordError::Down(clean(&e)))?;
        let health = Arc::new(Health::new());
        let coordinator = Self {
            inner: Arc::new(Inner {
                conn,
                prefix: prefix.to_string(),
                url: url.clone(),
                redactor,
                health,
            }),
        };
        health::spawn_probe(&coordinator);
        Ok(coordinator)
    }

    /// Whether this coordinator was built from `url` (a reload keeps it then).
    pub fn serves(&self, url: &Secret) -> bool {
        self.inner.url == *url
    }

    /// `None` while Redis answers; otherwise what `/health` should say.
    pub fn problem(&self) -> Option<String> {
        self.inner.health.problem()
    }

    pub fn is_up(&self) -> bool {
        self.inner.health.is_up()
    }

    /// `<prefix><kind>:<name>`, the one way keys are spelled.
    pub fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.inner.prefix)
    }

    /// Runs `script` with `keys` and `args`; fails fast while Redis is down.
    async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[String],
    ) -> Result<T, CoordError> {
        self.ready()?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.inner.conn.clone();
        let result = invocation.invoke_async(&mut conn).await;
        self.settle(result)
    }

    /// Runs one command; fails fast while Redis is down.
    async fn command<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, CoordError> {
        self.ready()?;
        let mut conn = self.inner.conn.clone();
        let result = cmd.query_async(&mut conn).await;
        self.settle(result)
    }

    fn ready(&self) -> Result<(), CoordError> {
        match self.inner.health.problem() {
            None => Ok(()),
            Some(_) => Err(CoordError::Down(self.inner.health.reason())),
        }
    }

    /// A lost connection marks Redis down; other errors concern one call.
    fn settle<T>(&self, result: Result<T, RedisError>) -> Result<T, CoordError> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                let text = self.inner.redactor.clean(&error.to_string());
                if is_connection_error(&error) {
                    self.inner.health.mark_down(&text);
                    Err(CoordError::Down(text))
                } else {
                    warn!(error = %text, "a Redis command failed; falling back to per-process state for it");
                    Err(CoordError::Refused(text))
                }
            }
        }
    }

    /// A PING outside the fail-fast gate, for the probe.
    async fn ping(&self) -> Result<(), String> {
        let mut conn = self.inner.conn.clone();
        let result: Result<String, RedisError> = redis::cmd("PING").query_async(&mut conn).await;
        result
            .map(|_| ())
            .map_err(|e| self.inner.redactor.clean(&e.to_string()))
    }
}

fn is_connection_error(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}
