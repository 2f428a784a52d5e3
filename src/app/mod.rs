//! [`App`]: the one start-up of every way duet runs (`duet run`, `duet
//! chat`, `duet ask`, the benchmark harness and the tests). It builds the
//! provider clients, memory, the live configuration channel, the shutdown
//! and the pipeline, and it is where they stop ([`App::stop`]).

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::chat::ChatService;
use crate::chat::live::{Live, LiveReceiver, LiveSender};
use crate::chat::memory::{Memory, MemoryError};
use crate::config::{Config, MemoryBackend};
use crate::coord::{CoordError, Coordinator};
use crate::providers::{ProviderSetupError, Providers};
use crate::shutdown::{Drained, Shutdown};

/// What the process is started for; it decides what start-up does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The Discord bot: warm provider connections, the configured memory.
    Bot,
    /// `duet chat`: the configured memory, so a terminal conversation
    /// continues where it was left.
    Terminal,
    /// `duet ask`: one question; memory stays in RAM and is dropped.
    OneShot,
}

/// Why the process could not start; each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot set up the providers: {0}")]
    Providers(#[from] ProviderSetupError),
    #[error(
        "cannot reach Redis at [Limits] REDIS_URL ({0}); start Redis, correct REDIS_URL, or leave it empty for per-process limits"
    )]
    Redis(CoordError),
    #[error("cannot open conversation memory at {path}: {source}")]
    Memory {
        path: std::path::PathBuf,
        #[source]
        source: MemoryError,
    },
    /// Never shows the URL (a secret), nor a driver error that could quote it.
    #[error(
        "cannot use PostgreSQL for memory ([Memory] DATABASE_URL): {0}. Check that the server runs and is reachable from here, and that DATABASE_URL names the right host, port, user, password and database (or set MEMORY_BACKEND = sqlite)"
    )]
    Postgres(#[source] MemoryError),
}

/// A started duet: everything a frontend needs, built once.
pub struct App {
    pub service: ChatService,
    /// Publishes the next live value (configuration reloads).
    pub live: LiveSender,
    pub shutdown: Shutdown,
    memory: Memory,
}

impl App {
    /// Builds providers (and warms them up for the bot), opens memory and
    /// the pipeline. Blocking parts (opening SQLite, connecting to
    /// PostgreSQL and migrating it) run before serving.
    pub async fn build(config: Arc<Config>, role: Role) -> Result<App, StartError> {
        let coordinator = connect_coordinator(&config, role).await?;
        let providers = Providers::from_config_coordinated(&config, coordinator)?;
        if role == Role::Bot {
            providers.warm_up().await;
        }
        let memory = open_memory(&config, role).await?;
        let (live, receiver) = Live::first(config, Arc::new(providers)).channel();
        let shutdown = Shutdown::new();
        let service = ChatService::new(receiver, memory.clone(), shutdown.clone());
        Ok(App {
            service,
            live,
            shutdown,
            memory,
        })
    }

    /// A receiver of the live value, for frontends and the health server.
    pub fn subscribe(&self) -> LiveReceiver {
        self.live.subscribe()
    }

    pub fn config(&self) -> Arc<Config> {
        self.live.borrow().config.clone()
    }

    /// The one drain: refuses new work, lets turns in flight finish for
    /// SHUTDOWN_GRACE_SECS (the value in force now), interrupts the rest
    /// (their users are told), then flushes memory.
    pub async fn stop(&self) -> Drained {
        self.stop_within(self.config().orchestrator.shutdown_grace)
            .await
    }

    /// [`Self::stop`] with an explicit grace period.
    pub async fn stop_within(&self, grace: Duration) -> Drained {
        let drained = self.shutdown.drain(grace).await;
        if let Err(error) = self.memory.flush().await {
            warn!(%error, "could not flush memory at shutdown");
        }
        drained
    }
}

/// Connects to `REDIS_URL` when set (not for a one-shot `duet ask`, which
/// shares nothing); says so when limits stay per process.
async fn connect_coordinator(
    config: &Config,
    role: Role,
) -> Result<Option<Coordinator>, StartError> {
    let limits = &config.limits;
    let Some(url) = limits.redis_url.as_ref().filter(|_| role != Role::OneShot) else {
        if role == Role::Bot {
            info!(
                "REDIS_URL is not set: rate limits, budgets, provider pauses and conversation queues are per process"
            );
        }
        return Ok(None);
    };
    let coordinator = Coordinator::connect(url, &limits.redis_key_prefix)
        .await
        .map_err(StartError::Redis)?;
    info!(prefix = %limits.redis_key_prefix, "connected to Redis: limits are shared across processes");
    Ok(Some(coordinator))
}

async fn open_memory(config: &Config, role: Role) -> Result<Memory, StartError> {
    let max_history = config.orchestrator.max_history;
    let opened = if role == Role::OneShot {
        let mut ram = config.memory.clone();
        ram.backend = MemoryBackend::Memory;
        Memory::open(&ram, max_history)
    } else {
        Memory::connect(&config.memory, max_history).await
    };
    if config.memory.backend == MemoryBackend::Postgres && role != Role::OneShot {
        return opened.map_err(StartError::Postgres);
    }
    opened.map_err(|source| StartError::Memory {
        path: config.memory.database_path.clone(),
        source,
    })
}
