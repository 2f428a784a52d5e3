//! The durable store: one SQLite connection in WAL mode with
//! `synchronous=NORMAL` (a commit survives a crash of the bot; the last commits
//! may be lost on power failure, never corrupted). Only the worker thread
//! ([`super::worker`]) touches it, and it keeps the hot cache in step with
//! each commit, so the cache always matches the database.
//!
//! Schema (version 1, in `PRAGMA user_version`):
//! - `turns(id, conversation, user_id, question, answer, provider, model, at)`,
//!   indexed by `(conversation, id)` and by `user_id`;
//! - `conversations(key, last_active)`, indexed by `last_active` for TTL pruning;
//! - `token_usage(user_id, day, tokens)`;
//! - version 2 adds `settings(guild_id, channel_id, user_id, key, value)`
//!   (rows read and written by `settings_sqlite.rs`).

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::cache::ConversationTable;
use super::error::MemoryError;
use super::export::UserExport;
use super::lock::DatabaseLock;
use super::poison::{add_capped, lock};
use crate::chat::types::Turn;
use crate::providers::ProviderKind;

pub(super) const SCHEMA_VERSION: i64 = 2;

const SCHEMA_V1: &str = "
CREATE TABLE turns (
    id           INTEGER PRIMARY KEY,
    conversation TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    question     TEXT    NOT NULL,
    answer       TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX turns_by_conversation ON turns (conversation, id);
CREATE INDEX turns_by_user ON turns (user_id);
CREATE TABLE conversations (
    key         TEXT    PRIMARY KEY,
    last_active INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX conversations_by_activity ON conversations (last_active);
CREATE TABLE token_usage (
    user_id TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    tokens  INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
";

/// Schema version 2 adds settings: one row per (scope, key).
pub(super) const SCHEMA_V2: &str = "
CREATE TABLE settings (
    guild_id   TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (guild_id, channel_id, user_id, key)
) WITHOUT ROWID;
";

/// Creates the directory (0700) and the file (0600) before SQLite opens it:
/// SQLite gives its `-wal` and `-shm` files the database file's mode. Takes
/// the one-writer lock first ([`DatabaseLock`]); keep it as long as the connection.
pub(super) fn open_connection(path: &Path) -> Result<(Connection, DatabaseLock), MemoryError> {
    if path.as_os_str().is_empty() {
        return Err(MemoryError::NoPath);
    }
    let io = |source| MemoryError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    let lock = DatabaseLock::acquire(path)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.set_permissions(Permissions::from_mode(0o600))
        .map_err(io)?;
    drop(file);
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok((conn, lock))
}

fn configure(conn: &Connection) -> Result<(), MemoryError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode; writes will be slower");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), MemoryError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        SCHEMA_VERSION => Ok(()),
        0 | 1 => {
            let tx = conn.transaction()?;
            if version == 0 {
                tx.execute_batch(SCHEMA_V1)?;
            }
            tx.execute_batch(SCHEMA_V2)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
            Ok(())
        }
        found => Err(MemoryError::UnknownSchema {
            found,
            supported: SCHEMA_VERSION,
        }),
    }
}

/// The connection and the cache it keeps coherent; owned by the worker thread.
pub(super) struct Db {
    pub(super) conn: Connection,
    pub(super) cache: Arc<Mutex<ConversationTable>>,
    pub(super) max_turns: usize,
    /// Declared after `conn`, so the connection closes before the lock goes.
    pub(super) _lock: DatabaseLock,
}

impl Db {
    /// Reads a conversation that missed the cache, and caches it.
    pub(super) fn load(&mut self, key: &str) -> Result<Vec<Turn>, MemoryError> {
        // Another job may have cached it since the caller looked.
        if let Some(turns) = lock(&self.cache).get(key) {
            return Ok(turns);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT user_id, question, answer, provider, model, at FROM turns
             WHERE conversation = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let limit = i64::try_from(self.max_turns).unwrap_or(i64::MAX);
        let mut turns = stmt
            .query_map(params![key, limit], turn_from_row)?
            .collect::<Result<Result<Vec<Turn>, MemoryError>, rusqlite::Error>>()??;
        turns.reverse();
        if lock(&self.cache).insert(key, turns.clone()).is_err() {
            lock(&self.cache).remove(key);
        }
        Ok(turns)
    }

    /// Inserts the turn and trims the conversation in one transaction.
    pub(super) fn append(&mut self, key: &str, turn: Turn) -> Result<(), MemoryError> {
        if self.max_turns == 0 {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO turns (conversation, user_id, question, answer, provider, model, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            key,
            turn.user_id,
            turn.question,
            turn.answer,
            turn.provider.as_str(),
            turn.model,
            turn.at
        ])?;
        // Everything at or before the (max_turns + 1)-th newest turn goes.
        tx.prepare_cached(
            "DELETE FROM turns WHERE conversation = ?1 AND id <= (
                 SELECT id FROM turns WHERE conversation = ?1
                 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        )?
        .execute(params![
            key,
            i64::try_from(self.max_turns).unwrap_or(i64::MAX)
        ])?;
        tx.prepare_cached(
            "INSERT INTO conversations (key, last_active) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET last_active = max(last_active, excluded.last_active)",
        )?
        .execute(params![key, turn.at])?;
        tx.commit()?;
        let mut cache = lock(&self.cache);
        if cache.append_if_present(key, turn).is_err() {
            cache.remove(key);
        }
        Ok(())
    }

    pub(super) fn reset(&mut self, key: &str) -> Result<usize, MemoryError> {
        let tx = self.conn.transaction()?;
        let removed = tx.execute("DELETE FROM turns WHERE conversation = ?1", [key])?;
        tx.execute("DELETE FROM conversations WHERE key = ?1", [key])?;
        tx.commit()?;
        lock(&self.cache).remove(key);
        Ok(removed)
    }

    /// Deletes the user's turns everywhere and their token counts; conversations
    /// left empty go too, the others get their last activity recomputed.
    pub(super) fn forget_user(&mut self, user_id: &str) -> Result<usize, MemoryError> {
        let tx = self.conn.transaction()?;
        let touched: Vec<String> = tx
            .prepare("SELECT DISTINCT conversation FROM turns WHERE user_id = ?1")?
            .query_map([user_id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let removed = tx.execute("DELETE FROM turns WHERE user_id = ?1", [user_id])?;
        for key in &touched {
            tx.execute(
                "DELETE FROM conversations WHERE key = ?1
                 AND NOT EXISTS (SELECT 1 FROM turns WHERE conversation = ?1)",
                [key],
            )?;
            tx.execute(
                "UPDATE conversations SET last_active =
                     (SELECT max(at) FROM turns WHERE conversation = ?1)
                 WHERE key = ?1",
                [key],
            )?;
        }
        tx.execute("DELETE FROM token_usage WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        lock(&self.cache).remove_user(user_id, false);
        Ok(removed)
    }

    pub(super) fn export_user(&mut self, user_id: &str) -> Result<String, MemoryError> {
        let mut export = UserExport::new(user_id);
        let mut stmt = self.conn.prepare(
            "SELECT user_id, question, answer, provider, model, at, conversation FROM turns
             WHERE user_id = ?1 ORDER BY conversation, id",
        )?;
        let rows = stmt.query_map([user_id], |row| {
            Ok((turn_from_row(row)?, row.get::<_, String>(6)?))
        })?;
        for row in rows {
            let (turn, key) = row?;
            export.push_turn(&key, turn?);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT day, tokens FROM token_usage WHERE user_id = ?1 ORDER BY day")?;
        let usage = stmt.query_map([user_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in usage {
            let (day, tokens) = row?;
            export.push_usage(&day, u64::try_from(tokens).unwrap_or(0));
        }
        export.to_json()
    }

    /// Deletes conversations idle since before `cutoff` (and token counts of
    /// days before `oldest_day`); returns how many conversations went.
    pub(super) fn prune(
        &mut self,
        cutoff: i64,
        oldest_day: Option<&str>,
    ) -> Result<usize, MemoryError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM turns WHERE conversation IN
                 (SELECT key FROM conversations WHERE last_active < ?1)",
            [cutoff],
        )?;
        let gone: Vec<String> = tx
            .prepare("DELETE FROM conversations WHERE last_active < ?1 RETURNING key")?
            .query_map([cutoff], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(day) = oldest_day {
            tx.execute("DELETE FROM token_usage WHERE day < ?1", [day])?;
        }
        tx.commit()?;
        let mut cache = lock(&self.cache);
        for key in &gone {
            cache.remove(key);
        }
        Ok(gone.len())
    }

    pub(super) fn add_tokens(
        &mut self,
        user_id: &str,
        day: &str,
        tokens: u64,
    ) -> Result<u64, MemoryError> {
        let tx = self.conn.transaction()?;
        let used = read_tokens(&tx, user_id, day)?;
        let total = add_capped(used, tokens);
        tx.execute(
            "INSERT INTO token_usage (user_id, day, tokens) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, day) DO UPDATE SET tokens = excluded.tokens",
            params![user_id, day, i64::try_from(total).unwrap_or(i64::MAX)],
        )?;
        tx.commit()?;
        Ok(total)
    }

    pub(super) fn tokens_used(&mut self, user_id: &str, day: &str) -> Result<u64, MemoryError> {
        read_tokens(&self.conn, user_id, day)
    }

    pub(super) fn conversation_count(&mut self) -> Result<u64, MemoryError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM conversations", [], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Moves the write-ahead log into the database file and syncs it.
    pub(super) fn checkpoint(&mut self) -> Result<(), MemoryError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn read_tokens(conn: &Connection, user_id: &str, day: &str) -> Result<u64, MemoryError> {
    let tokens: Option<i64> = conn
        .query_row(
            "SELECT tokens FROM token_usage WHERE user_id = ?1 AND day = ?2",
            [user_id, day],
            |row| row.get(0),
        )
        .optional()?;
    Ok(tokens.map_or(0, |t| u64::try_from(t).unwrap_or(0)))
}

/// Reads columns 0..=5 (user_id, question, answer, provider, model, at).
/// A provider name this build does not know is a typed error, not a panic.
fn turn_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Turn, MemoryError>> {
    let provider: String = row.get(3)?;
    let Some(provider) = ProviderKind::parse(&provider) else {
        return Ok(Err(MemoryError::Corrupt(format!(
            "unknown provider {provider:?} in a stored turn"
        ))));
    };
    Ok(Ok(Turn {
        user_id: row.get(0)?,
        question: row.get(1)?,
        answer: row.get(2)?,
        provider,
        model: row.get(4)?,
        at: row.get(5)?,
    }))
}
