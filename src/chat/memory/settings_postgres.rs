//! The PostgreSQL side of settings storage (the `settings` table of schema
//! version 2, declared in `postgres_schema.rs`): the four row operations
//! [`super::settings_store`] builds on, each one statement or one
//! transaction, so every process sees a change as soon as it returns.

use super::error::MemoryError;
use super::postgres::{PostgresStore, text};
use super::settings_row::{ScopeParts, SettingRow};

const SCOPE: &str = "guild_id = $1 AND channel_id = $2 AND user_id = $3";

impl PostgresStore {
    /// Every row stored under one of `scopes`.
    pub(super) async fn settings_rows(
        &self,
        scopes: Vec<ScopeParts>,
    ) -> Result<Vec<SettingRow>, MemoryError> {
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let select = format!("SELECT key, value FROM settings WHERE {SCOPE} ORDER BY key");
                let mut rows = Vec::new();
                for scope in &scopes {
                    let (g, c, u) = (text(&scope.0), text(&scope.1), text(&scope.2));
                    for row in client.query(&select, &[&g, &c, &u]).await? {
                        rows.push(SettingRow {
                            scope: scope.clone(),
                            key: row.try_get(0)?,
                            value: row.try_get(1)?,
                        });
                    }
                }
                Ok(rows)
            })
            .await
    }

    /// Sets (`Some`) or removes (`None`) one value; returns the one it replaced.
    pub(super) async fn put_setting(
        &self,
        scope: ScopeParts,
        key: String,
        value: Option<String>,
    ) -> Result<Option<String>, MemoryError> {
        let (g, c, u) = (text(&scope.0), text(&scope.1), text(&scope.2));
        let key = text(&key);
        self.pool
            .timed(async {
                let mut client = self.pool.client().await?;
                let tx = client.transaction().await?;
                let old = tx
                    .query_opt(
                        &format!(
                            "SELECT value FROM settings WHERE {SCOPE} AND key = $4 FOR UPDATE"
                        ),
                        &[&g, &c, &u, &key],
                    )
                    .await?
                    .map(|row| row.try_get::<_, String>(0))
                    .transpose()?;
                match &value {
                    Some(value) => {
                        let value = text(value);
                        tx.execute(
                            "INSERT INTO settings (guild_id, channel_id, user_id, key, value)
                             VALUES ($1, $2, $3, $4, $5)
                             ON CONFLICT (guild_id, channel_id, user_id, key)
                             DO UPDATE SET value = excluded.value",
                            &[&g, &c, &u, &key, &value],
                        )
                        .await?
                    }
                    None => {
                        tx.execute(
                            &format!("DELETE FROM settings WHERE {SCOPE} AND key = $4"),
                            &[&g, &c, &u, &key],
                        )
                        .await?
                    }
                };
                tx.commit().await?;
                Ok(old)
            })
            .await
    }

    /// Deletes every row of exactly this scope; returns how many went.
    pub(super) async fn clear_settings(&self, scope: ScopeParts) -> Result<usize, MemoryError> {
        let (g, c, u) = (text(&scope.0), text(&scope.1), text(&scope.2));
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let gone = client
                    .execute(
                        &format!("DELETE FROM settings WHERE {SCOPE}"),
                        &[&g, &c, &u],
                    )
                    .await?;
                Ok(usize::try_from(gone).unwrap_or(usize::MAX))
            })
            .await
    }

    /// Deletes the server's rows and those of its channels.
    pub(super) async fn remove_guild_settings(&self, guild: String) -> Result<usize, MemoryError> {
        let guild = text(&guild);
        self.pool
            .timed(async {
                let client = self.pool.client().await?;
                let gone = client
                    .execute("DELETE FROM settings WHERE guild_id = $1", &[&guild])
                    .await?;
                Ok(usize::try_from(gone).unwrap_or(usize::MAX))
            })
            .await
    }
}
