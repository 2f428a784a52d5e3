//! [`PgPool`]: the PostgreSQL connections of one process, shared by every
//! store kept in PostgreSQL (conversation memory; per-server settings can
//! take a clone). A deadpool of tokio-postgres clients, at most
//! `[Memory] DATABASE_MAX_CONNECTIONS` of them.
//!
//! Connections are plain TCP (`NoTls`): run PostgreSQL on a private
//! network. A connection that broke is dropped when it is next taken from
//! the pool and a new one is dialled, so the store recovers by itself once
//! the server is back, without a restart. Every call is bounded in time:
//! a server that stops answering fails the call instead of hanging a turn.
//!
//! The URL is a secret: nothing here formats it, nor a driver error that
//! could quote it (see `From<tokio_postgres::Error> for MemoryError`).

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::NoTls;

use super::error::MemoryError;
use crate::secret::Secret;

/// How long dialling one connection may take (unless the URL sets `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one store operation (taking a connection included) may take.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a health check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Cheap to clone: every clone shares the connections.
#[derive(Clone)]
pub(super) struct PgPool {
    pool: Pool,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PgPool")
            .field("size", &status.size)
            .field("max_size", &status.max_size)
            .finish()
    }
}

impl PgPool {
    /// Parses the URL, builds the pool and dials one connection, so an
    /// unreachable server or a refused login fails here, at start.
    pub(super) async fn connect(url: &Secret, max_connections: usize) -> Result<Self, MemoryError> {
        let mut config: tokio_postgres::Config =
            url.expose().parse().map_err(|_| MemoryError::BadUrl)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("duet");
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(OPERATION_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|_| MemoryError::Postgres("cannot build the connection pool".into()))?;
        let pool = Self { pool };
        drop(pool.client().await?);
        Ok(pool)
    }

    /// A connection from the pool (a new one when none is idle).
    pub(super) async fn client(&self) -> Result<Object, MemoryError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs one store operation within [`OPERATION_TIMEOUT`].
    pub(super) async fn timed<T>(
        &self,
        operation: impl Future<Output = Result<T, MemoryError>>,
    ) -> Result<T, MemoryError> {
        tokio::time::timeout(OPERATION_TIMEOUT, operation)
            .await
            .unwrap_or(Err(MemoryError::Timeout(OPERATION_TIMEOUT)))
    }

    /// Whether the server answers a trivial query now.
    pub(super) async fn check(&self) -> Result<(), MemoryError> {
        let probe = async {
            let client = self.client().await?;
            client.simple_query("SELECT 1").await?;
            Ok(())
        };
        tokio::time::timeout(CHECK_TIMEOUT, probe)
            .await
            .unwrap_or(Err(MemoryError::Timeout(CHECK_TIMEOUT)))
    }
}

/// Runs `attempt` again (up to three times in all) when PostgreSQL aborted
/// it for a deadlock or a serialization failure; each attempt is one
/// transaction, so a retry never doubles a write.
pub(super) async fn retry_conflicts<T, F>(attempt: impl Fn() -> F) -> Result<T, MemoryError>
where
    F: Future<Output = Result<T, MemoryError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(MemoryError::Conflict) if tries < 3 => tries += 1,
            result => return result,
        }
    }
}

fn pool_error(error: PoolError) -> MemoryError {
    match error {
        PoolError::Backend(error) => MemoryError::from(error),
        PoolError::Timeout(_) => MemoryError::Unreachable(
            "no connection could be had in time (the server is slow or unreachable, or every connection is busy)".into(),
        ),
        PoolError::Closed => MemoryError::Unreachable("the connection pool is closed".into()),
        PoolError::NoRuntimeSpecified => {
            MemoryError::Postgres("the connection pool has no runtime".into())
        }
        PoolError::PostCreateHook(_) => {
            MemoryError::Unreachable("a new connection could not be set up".into())
        }
    }
}
