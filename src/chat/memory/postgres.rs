//! The `postgres` backend: conversation memory in PostgreSQL, shared by
//! every duet process of one bot. Same tables and behaviour as SQLite
//! ([`super::sqlite`]), with what several processes need:
//!
//! - **No hot cache.** Any process may serve any conversation (DMs arrive
//!   on shard 0, `MEMORY_SCOPE = user` spans shards), so every load reads
//!   the database: a process never serves history another one changed, and
//!   `/forget` anywhere holds everywhere as soon as it returns.
//! - **One transaction per write.** An append (its turn, the trim and the
//!   conversation's last activity) commits whole or not at all; a lost
//!   connection leaves nothing half-written.
//! - **Row locks in one order.** Appends lock their conversation's row
//!   first, so two processes appending to one conversation keep it trimmed
//!   and ordered; forget and prune lock the rows they change in key order.
//!   A deadlock PostgreSQL still detects is retried as a whole transaction.
//!
//! PostgreSQL text cannot hold NUL characters: they are stored as U+FFFD.

use std::borrow::Cow;
use std::collections::BTreeSet;

use tokio_postgres::Row;

use super::error::MemoryError;
use super::export::UserExport;
use super::poison::add_capped;
use super::postgres_pool::{PgPool, retry_conflicts};
use super::postgres_schema::migrate;
use crate::chat::types::Turn;
use crate::providers::ProviderKind;
use crate::secret::Secret;

const LOAD: &str = "SELECT user_id, question, answer, provider, model, at FROM turns
     WHERE conversation = $1 ORDER BY id DESC LIMIT $2";
const TOUCH: &str = "INSERT INTO conversations (key, last_active) VALUES ($1, $2)
     ON CONFLICT (key) DO UPDATE SET last_active = GREATEST(conversations.last_active, excluded.last_active)";
const INSERT: &str =
    "INSERT INTO turns (conversation, user_id, question, answer, provider, model, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// Everything at or before the (max_turns + 1)-th newest turn goes.
const TRIM: &str = "DELETE FROM turns WHERE conversation = $1 AND id <= (
     SELECT id FROM turns WHERE conversation = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)";
const ADD_TOKENS: &str = "INSERT INTO token_usage (user_id, day, tokens) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, day) DO UPDATE SET tokens =
         LEAST(token_usage.tokens::numeric + excluded.tokens, 9223372036854775807)::bigint
     RETURNING tokens";

#[derive(Debug)]
pub(super) struct PostgresStore {
    /// Shared with the other stores kept in this database (a sibling
    /// `impl PostgresStore`, e.g. per-server settings, uses it directly).
    pub(super) pool: PgPool,
    max_turns: usize,
}

impl PostgresStore {
    /// Connects (exit 2 at start when this fails) and applies migrations.
    pub(super) async fn connect(
        url: Option<&Secret>,
        max_connections: usize,
        max_turns: usize,
    ) -> Result<Self, MemoryError> {
        let url = url.ok_or(MemoryError::BadUrl)?;
        let pool = PgPool::connect(url, max_connections).await?;
        let mut client = pool.client().await?;
        let applied = migrate(&mut client).await?;
        if applied > 0 {
            tracing::info!(applied, "applied PostgreSQL migrations");
        }
        Ok(Self { pool, max_turns })
    }

    pub(super) async fn load(&self, key: &str) -> Result<Vec<Turn>, MemoryError> {
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let statement = client.prepare_cached(LOAD).await?;
                let rows = client.query(&statement, &[&key, &self.limit()]).await?;
                let mut turns = rows
                    .iter()
                    .map(turn_from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                turns.reverse();
                Ok(turns)
            })
            .await
    }

    pub(super) async fn append(&self, key: &str, turn: &Turn) -> Result<(), MemoryError> {
        if self.max_turns == 0 {
            return Ok(());
        }
        retry_conflicts(|| self.pool.timed(self.append_once(key, turn))).await
    }

    async fn append_once(&self, key: &str, turn: &Turn) -> Result<(), MemoryError> {
        let mut client = self.pool.client().await?;
        let tx = client.transaction().await?;
        let touch = tx.prepare_cached(TOUCH).await?;
        tx.execute(&touch, &[&key, &turn.at]).await?;
        let insert = tx.prepare_cached(INSERT).await?;
        tx.execute(
            &insert,
            &[
                &key,
                &text(&turn.user_id),
                &text(&turn.question),
                &text(&turn.answer),
                &turn.provider.as_str(),
                &text(&turn.model),
                &turn.at,
            ],
        )
        .await?;
        let trim = tx.prepare_cached(TRIM).await?;
        tx.execute(&trim, &[&key, &self.limit()]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn reset(&self, key: &str) -> Result<usize, MemoryError> {
        retry_conflicts(|| {
            self.pool.timed(async {
                let mut client = self.pool.client().await?;
                let tx = client.transaction().await?;
                tx.execute(
                    "SELECT key FROM conversations WHERE key = $1 FOR UPDATE",
                    &[&key],
                )
                .await?;
                let removed = tx
                    .execute("DELETE FROM turns WHERE conversation = $1", &[&key])
                    .await?;
                tx.execute("DELETE FROM conversations WHERE key = $1", &[&key])
                    .await?;
                tx.commit().await?;
                Ok(to_usize(removed))
            })
        })
        .await
    }

    /// Deletes the user's turns everywhere and their token counts;
    /// conversations left empty go too, the others get their last activity
    /// recomputed.
    pub(super) async fn forget_user(&self, user_id: &str) -> Result<usize, MemoryError> {
        retry_conflicts(|| self.pool.timed(self.forget_once(user_id))).await
    }

    async fn forget_once(&self, user_id: &str) -> Result<usize, MemoryError> {
        let user_id = text(user_id);
        let mut client = self.pool.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT key FROM conversations WHERE key IN
                 (SELECT conversation FROM turns WHERE user_id = $1)
             ORDER BY key FOR UPDATE",
            &[&user_id],
        )
        .await?;
        let gone = tx
            .query(
                "DELETE FROM turns WHERE user_id = $1 RETURNING conversation",
                &[&user_id],
            )
            .await?;
        let touched: Vec<String> = gone
            .iter()
            .map(|row| row.try_get::<_, String>(0))
            .collect::<Result<BTreeSet<_>, _>>()?
            .into_iter()
            .collect();
        tx.execute(
            "DELETE FROM conversations c WHERE c.key = ANY($1)
             AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.conversation = c.key)",
            &[&touched],
        )
        .await?;
        tx.execute(
            "UPDATE conversations c SET last_active =
                 (SELECT max(at) FROM turns t WHERE t.conversation = c.key)
             WHERE c.key = ANY($1)",
            &[&touched],
        )
        .await?;
        tx.execute("DELETE FROM token_usage WHERE user_id = $1", &[&user_id])
            .await?;
        tx.commit().await?;
        Ok(gone.len())
    }

    pub(super) async fn export_user(&self, user_id: &str) -> Result<String, MemoryError> {
        let user_id = text(user_id);
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let mut export = UserExport::new(&user_id);
                let turns = client
                    .query(
                        "SELECT user_id, question, answer, provider, model, at, conversation
                         FROM turns WHERE user_id = $1 ORDER BY conversation COLLATE \"C\", id",
                        &[&user_id],
                    )
                    .await?;
                for row in &turns {
                    let key: String = row.try_get(6)?;
                    export.push_turn(&key, turn_from_row(row)?);
                }
                let usage = client
                    .query(
                        "SELECT day, tokens FROM token_usage WHERE user_id = $1
                         ORDER BY day COLLATE \"C\"",
                        &[&user_id],
                    )
                    .await?;
                for row in &usage {
                    let day: String = row.try_get(0)?;
                    let tokens: i64 = row.try_get(1)?;
                    export.push_usage(&day, u64::try_from(tokens).unwrap_or(0));
                }
                export.to_json()
            })
            .await
    }

    /// Deletes conversations idle since before `cutoff` (and token counts of
    /// days before `oldest_day`); returns how many conversations went.
    pub(super) async fn prune(
        &self,
        cutoff: i64,
        oldest_day: Option<&str>,
    ) -> Result<usize, MemoryError> {
        retry_conflicts(|| self.pool.timed(self.prune_once(cutoff, oldest_day))).await
    }

    async fn prune_once(
        &self,
        cutoff: i64,
        oldest_day: Option<&str>,
    ) -> Result<usize, MemoryError> {
        let mut client = self.pool.client().await?;
        let tx = client.transaction().await?;
        let idle = tx
            .query(
                "SELECT key FROM conversations WHERE last_active < $1 ORDER BY key FOR UPDATE",
                &[&cutoff],
            )
            .await?;
        let keys: Vec<String> = idle
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        if !keys.is_empty() {
            tx.execute("DELETE FROM turns WHERE conversation = ANY($1)", &[&keys])
                .await?;
            tx.execute("DELETE FROM conversations WHERE key = ANY($1)", &[&keys])
                .await?;
        }
        if let Some(day) = oldest_day {
            tx.execute("DELETE FROM token_usage WHERE day < $1", &[&day])
                .await?;
        }
        tx.commit().await?;
        Ok(keys.len())
    }

    pub(super) async fn add_tokens(
        &self,
        user_id: &str,
        day: &str,
        tokens: u64,
    ) -> Result<u64, MemoryError> {
        let tokens = i64::try_from(add_capped(0, tokens)).unwrap_or(i64::MAX);
        retry_conflicts(|| {
            self.pool.timed(async {
                let client = self.pool.client().await?;
                let statement = client.prepare_cached(ADD_TOKENS).await?;
                let row = client
                    .query_one(&statement, &[&text(user_id), &day, &tokens])
                    .await?;
                let total: i64 = row.try_get(0)?;
                Ok(u64::try_from(total).unwrap_or(0))
            })
        })
        .await
    }

    pub(super) async fn tokens_used(&self, user_id: &str, day: &str) -> Result<u64, MemoryError> {
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let row = client
                    .query_opt(
                        "SELECT tokens FROM token_usage WHERE user_id = $1 AND day = $2",
                        &[&text(user_id), &day],
                    )
                    .await?;
                let tokens: Option<i64> = row.map(|row| row.try_get(0)).transpose()?;
                Ok(tokens.map_or(0, |t| u64::try_from(t).unwrap_or(0)))
            })
            .await
    }

    pub(super) async fn conversation_count(&self) -> Result<u64, MemoryError> {
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let row = client
                    .query_one("SELECT count(*) FROM conversations", &[])
                    .await?;
                let n: i64 = row.try_get(0)?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    pub(super) async fn check(&self) -> Result<(), MemoryError> {
        self.pool.check().await
    }

    fn limit(&self) -> i64 {
        i64::try_from(self.max_turns).unwrap_or(i64::MAX)
    }
}

/// PostgreSQL text cannot hold NUL.
pub(super) fn text(value: &str) -> Cow<'_, str> {
    if value.contains('\0') {
        Cow::Owned(value.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Reads columns 0..=5 (user_id, question, answer, provider, model, at).
fn turn_from_row(row: &Row) -> Result<Turn, MemoryError> {
    let provider: String = row.try_get(3)?;
    let Some(provider) = ProviderKind::parse(&provider) else {
        return Err(MemoryError::Corrupt(format!(
            "unknown provider {provider:?} in a stored turn"
        )));
    };
    Ok(Turn {
        user_id: row.try_get(0)?,
        question: row.try_get(1)?,
        answer: row.try_get(2)?,
        provider,
        model: row.try_get(4)?,
        at: row.try_get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_replaced_and_other_text_is_kept() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
        assert!(matches!(text("plain"), Cow::Borrowed("plain")));
    }
}
