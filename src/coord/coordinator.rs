//! [`Coordinator`]: the shared Redis connection, the key prefix, and the
//! fail-fast gate every coordination call goes through.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, Script};
use tracing::warn;

use crate::secret::{Redactor, Secret};

use super::health::{Health, PROBE_EVERY};

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
        spawn_probe(&coordinator);
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
    pub(super) async fn script<T: FromRedisValue>(
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
    pub(super) async fn command<T: FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, CoordError> {
        self.ready()?;
        let mut conn = self.inner.conn.clone();
        let result = cmd.query_async(&mut conn).await;
        self.settle(result)
    }

    /// `SET key token NX PX ms`: true when this call took the key (it was
    /// free), false when another holder has it.
    pub(super) async fn set_new(
        &self,
        key: &str,
        token: &str,
        ms: &str,
    ) -> Result<bool, CoordError> {
        let set: Option<String> = self
            .command(
                redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ms),
            )
            .await?;
        Ok(set.is_some())
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

/// Pings Redis every [`PROBE_EVERY`] until the last clone of the coordinator
/// is dropped, marking it up or down.
fn spawn_probe(coordinator: &Coordinator) {
    let weak = Arc::downgrade(&coordinator.inner);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PROBE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let coordinator = Coordinator { inner };
            match coordinator.ping().await {
                Ok(()) => coordinator.inner.health.mark_up(),
                Err(reason) => coordinator.inner.health.mark_down(&reason),
            }
        }
    });
}
