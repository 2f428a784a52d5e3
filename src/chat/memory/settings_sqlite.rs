//! The SQLite side of settings storage (the `settings` table of schema
//! version 2, declared in `sqlite.rs`): the four row operations [`super::settings_store`] builds on. Rows are
//! plain strings; `''` stands for an unused part of the scope.

use rusqlite::{OptionalExtension, params};

use super::error::MemoryError;
use super::settings_row::{ScopeParts, SettingRow};
use super::worker::SqliteStore;

impl SqliteStore {
    /// Every row stored under one of `scopes`.
    pub(super) async fn settings_rows(
        &self,
        scopes: Vec<ScopeParts>,
    ) -> Result<Vec<SettingRow>, MemoryError> {
        self.run(move |db| {
            let mut stmt = db.conn.prepare_cached(
                "SELECT key, value FROM settings
                 WHERE guild_id = ?1 AND channel_id = ?2 AND user_id = ?3 ORDER BY key",
            )?;
            let mut rows = Vec::new();
            for scope in &scopes {
                let found = stmt.query_map(params![scope.0, scope.1, scope.2], |row| {
                    Ok(SettingRow {
                        scope: scope.clone(),
                        key: row.get(0)?,
                        value: row.get(1)?,
                    })
                })?;
                for row in found {
                    rows.push(row?);
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
        self.run(move |db| {
            let tx = db.conn.transaction()?;
            let where_ = "guild_id = ?1 AND channel_id = ?2 AND user_id = ?3 AND key = ?4";
            let old: Option<String> = tx
                .query_row(
                    &format!("SELECT value FROM settings WHERE {where_}"),
                    params![scope.0, scope.1, scope.2, key],
                    |row| row.get(0),
                )
                .optional()?;
            match &value {
                Some(value) => tx.execute(
                    "INSERT INTO settings (guild_id, channel_id, user_id, key, value)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (guild_id, channel_id, user_id, key)
                     DO UPDATE SET value = excluded.value",
                    params![scope.0, scope.1, scope.2, key, value],
                )?,
                None => tx.execute(
                    &format!("DELETE FROM settings WHERE {where_}"),
                    params![scope.0, scope.1, scope.2, key],
                )?,
            };
            tx.commit()?;
            Ok(old)
        })
        .await
    }

    /// Deletes every row of exactly this scope; returns how many went.
    pub(super) async fn clear_settings(&self, scope: ScopeParts) -> Result<usize, MemoryError> {
        self.run(move |db| {
            Ok(db.conn.execute(
                "DELETE FROM settings WHERE guild_id = ?1 AND channel_id = ?2 AND user_id = ?3",
                params![scope.0, scope.1, scope.2],
            )?)
        })
        .await
    }

    /// Deletes the server's rows and those of its channels.
    pub(super) async fn remove_guild_settings(&self, guild: String) -> Result<usize, MemoryError> {
        self.run(move |db| {
            Ok(db
                .conn
                .execute("DELETE FROM settings WHERE guild_id = ?1", [guild])?)
        })
        .await
    }
}
