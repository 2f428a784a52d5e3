//! [`Memory`], the one handle the pipeline and the frontends hold, whatever
//! `[Memory] MEMORY_BACKEND` says.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::MemoryError;
use super::postgres::PostgresStore;
use super::ram::RamStore;
use super::worker::SqliteStore;
use crate::chat::types::ConversationKey;
use crate::chat::types::Turn;
use crate::config::{MemoryBackend, MemoryConfig};
use crate::metric_names::MEMORY_WRITE_FAILURES;

/// Token counts are kept this many days at least when pruning, so a budget
/// day that straddles a time zone is never cut short.
const MIN_USAGE_DAYS: i64 = 2;

/// Per-conversation history and per-user daily token counts. Cheap to clone
/// (an `Arc` inside); every clone sees the same store.
///
/// A conversation keeps `max_history_messages / 2` whole turns (a turn is a
/// question and its answer), so an odd limit rounds down and no answer is
/// ever kept without its question.
#[derive(Clone, Debug)]
pub struct Memory {
    pub(super) backend: Arc<Backend>,
    /// Per write operation, the kind of its last failure while no write of
    /// that operation has succeeded since.
    write_failures: Arc<Mutex<BTreeMap<&'static str, &'static str>>>,
}

#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per store, already behind an Arc"
)]
pub(super) enum Backend {
    Ram(RamStore),
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Memory {
    /// sqlite: creates the database directory (0700) and file (0600), turns on
    /// WAL and migrates the schema, then starts the worker thread; memory:
    /// in-process only. Blocking: call it at start, before serving.
    /// postgres needs [`Memory::connect`].
    pub fn open(config: &MemoryConfig, max_history_messages: usize) -> Result<Memory, MemoryError> {
        let max_turns = max_history_messages / 2;
        let backend = match config.backend {
            MemoryBackend::Postgres => return Err(MemoryError::NeedsConnect),
            MemoryBackend::Memory => Backend::Ram(RamStore::new(max_turns)),
            MemoryBackend::Sqlite => Backend::Sqlite(SqliteStore::open(
                &config.database_path,
                config.cache_conversations,
                max_turns,
            )?),
        };
        Ok(Memory::with(backend))
    }

    /// Any backend; postgres connects (an unreachable server or a refused
    /// login fails here) and applies migrations, the others as [`Memory::open`].
    pub async fn connect(
        config: &MemoryConfig,
        max_history_messages: usize,
    ) -> Result<Memory, MemoryError> {
        if config.backend != MemoryBackend::Postgres {
            return Memory::open(config, max_history_messages);
        }
        let store = PostgresStore::connect(
            config.database_url.as_ref(),
            config.database_max_connections,
            max_history_messages / 2,
        )
        .await?;
        Ok(Memory::with(Backend::Postgres(store)))
    }

    fn with(backend: Backend) -> Memory {
        Memory {
            backend: Arc::new(backend),
            write_failures: Arc::default(),
        }
    }

    /// Whether the store can be used now: PostgreSQL answers a query; the
    /// embedded stores always can. `/health` reports a failure.
    pub async fn check(&self) -> Result<(), MemoryError> {
        match &*self.backend {
            Backend::Postgres(db) => db.check().await,
            Backend::Ram(_) | Backend::Sqlite(_) => Ok(()),
        }
    }

    /// The conversation's turns, oldest first (empty for an unknown key).
    /// Hot conversations come from RAM without touching SQLite.
    pub async fn load(&self, key: &ConversationKey) -> Result<Arc<[Turn]>, MemoryError> {
        let turns = match &*self.backend {
            Backend::Ram(ram) => ram.load(key),
            Backend::Sqlite(db) => db.load(key).await?,
            Backend::Postgres(db) => db.load(key.as_str()).await?,
        };
        Ok(turns.into())
    }

    /// Stores one successful turn atomically and trims the conversation to
    /// `max_history_messages` (2 per turn, oldest turns first).
    pub async fn append(&self, key: &ConversationKey, turn: Turn) -> Result<(), MemoryError> {
        let result = match &*self.backend {
            Backend::Ram(ram) => ram.append(key, turn),
            Backend::Sqlite(db) => db.append(key, turn).await,
            Backend::Postgres(db) => db.append(key.as_str(), &turn).await,
        };
        self.note_write("append", &result);
        result
    }

    /// Counts a failed write in the metrics and remembers it for `/health`.
    fn note_write<T>(&self, operation: &'static str, result: &Result<T, MemoryError>) {
        let mut failures = super::poison::lock(&self.write_failures);
        match result {
            Ok(_) => {
                failures.remove(operation);
            }
            Err(error) => {
                let kind = error.kind();
                metrics::counter!(MEMORY_WRITE_FAILURES, "operation" => operation, "kind" => kind)
                    .increment(1);
                failures.insert(operation, kind);
            }
        }
    }

    /// Each write operation (`append`, `add_tokens`) whose last attempt
    /// failed, with the failure's kind.
    pub fn write_failures(&self) -> Vec<(&'static str, &'static str)> {
        super::poison::lock(&self.write_failures)
            .iter()
            .map(|(operation, kind)| (*operation, *kind))
            .collect()
    }

    /// Empties one conversation; returns the turns removed.
    pub async fn reset(&self, key: &ConversationKey) -> Result<usize, MemoryError> {
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.reset(key)),
            Backend::Sqlite(db) => db.reset(key).await,
            Backend::Postgres(db) => db.reset(key.as_str()).await,
        }
    }

    /// Privacy: removes every stored row about the user (their turns in every
    /// conversation, shared ones included, and their token counts). Returns
    /// the turns removed. Their own settings go too.
    pub async fn forget_user(&self, user_id: &str) -> Result<usize, MemoryError> {
        let removed = match &*self.backend {
            Backend::Ram(ram) => ram.forget_user(user_id),
            Backend::Sqlite(db) => db.forget_user(user_id).await?,
            Backend::Postgres(db) => db.forget_user(user_id).await?,
        };
        let own = crate::chat::settings::Scope::User {
            user: user_id.into(),
        };
        self.clear_settings(&own).await?;
        Ok(removed)
    }

    /// All of a user's turns (every conversation) and token counts as pretty
    /// JSON; the format is documented in `memory/export.rs`.
    /// Their own settings (`/model`) are included under `"settings"`.
    pub async fn export_user(&self, user_id: &str) -> Result<String, MemoryError> {
        let json = match &*self.backend {
            Backend::Ram(ram) => ram.export_user(user_id)?,
            Backend::Sqlite(db) => db.export_user(user_id).await?,
            Backend::Postgres(db) => db.export_user(user_id).await?,
        };
        let settings = self.user_settings_json(user_id).await?;
        let mut value: serde_json::Value =
            serde_json::from_str(&json).map_err(MemoryError::Export)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("settings".into(), settings);
        }
        serde_json::to_string_pretty(&value).map_err(MemoryError::Export)
    }

    /// Deletes conversations whose newest turn is more than `ttl` before
    /// `now_unix`, and token counts older than `ttl` (at least two days);
    /// returns how many conversations went.
    pub async fn prune_idle(&self, ttl: Duration, now_unix: i64) -> Result<usize, MemoryError> {
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let cutoff = now_unix.saturating_sub(ttl_secs);
        let usage_secs = ttl_secs.max(MIN_USAGE_DAYS * 86_400);
        let oldest_day = utc_day(now_unix.saturating_sub(usage_secs));
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.prune(cutoff, oldest_day.as_deref())),
            Backend::Postgres(db) => db.prune(cutoff, oldest_day.as_deref()).await,
            Backend::Sqlite(db) => db.prune(cutoff, oldest_day).await,
        }
    }

    /// Adds to the user's token count for `day` (UTC, "YYYY-MM-DD"); returns the new total.
    pub async fn add_tokens(
        &self,
        user_id: &str,
        day: &str,
        tokens: u64,
    ) -> Result<u64, MemoryError> {
        check_day(day)?;
        let result = match &*self.backend {
            Backend::Ram(ram) => Ok(ram.add_tokens(user_id, day, tokens)),
            Backend::Sqlite(db) => db.add_tokens(user_id, day, tokens).await,
            Backend::Postgres(db) => db.add_tokens(user_id, day, tokens).await,
        };
        self.note_write("add_tokens", &result);
        result
    }

    /// The user's token count for `day` (0 when none).
    pub async fn tokens_used(&self, user_id: &str, day: &str) -> Result<u64, MemoryError> {
        check_day(day)?;
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.tokens_used(user_id, day)),
            Backend::Sqlite(db) => db.tokens_used(user_id, day).await,
            Backend::Postgres(db) => db.tokens_used(user_id, day).await,
        }
    }

    /// Conversations held in RAM: the hot cache for sqlite, every one for
    /// memory, none for postgres (it has no cache: several processes share it).
    pub fn cached_conversations(&self) -> usize {
        match &*self.backend {
            Backend::Ram(ram) => ram.conversation_count(),
            Backend::Sqlite(db) => db.cached_conversations(),
            Backend::Postgres(_) => 0,
        }
    }

    /// Stored conversations with at least one turn.
    pub async fn conversation_count(&self) -> Result<u64, MemoryError> {
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.conversation_count() as u64),
            Backend::Sqlite(db) => db.conversation_count().await,
            Backend::Postgres(db) => db.conversation_count().await,
        }
    }

    /// Waits until every accepted write is on disk (call it at shutdown).
    pub async fn flush(&self) -> Result<(), MemoryError> {
        match &*self.backend {
            // Every PostgreSQL write is committed before it returns.
            Backend::Ram(_) | Backend::Postgres(_) => Ok(()),
            Backend::Sqlite(db) => db.flush().await,
        }
    }
}

fn check_day(day: &str) -> Result<(), MemoryError> {
    let well_formed = day.len() == 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok();
    if well_formed {
        Ok(())
    } else {
        Err(MemoryError::InvalidDay(day.to_owned()))
    }
}

fn utc_day(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%d").to_string())
}
