//! Settings storage on [`Memory`]: server, channel and user settings in the
//! same database as the conversations, so they survive restarts.
//!
//! Each backend implements four row operations on plain strings, nothing
//! more (SQLite in `settings_sqlite.rs`, PostgreSQL in `settings_postgres.rs`,
//! RAM in `settings_ram.rs`), on the
//! row types of `settings_row.rs`:
//! - `settings_rows(scopes)`: every `(key, value)` stored under each scope;
//! - `put_setting(scope, key, Option<value>) -> old value`: upsert or delete, atomically;
//! - `clear_settings(scope) -> count`: delete exactly one scope's rows;
//! - `remove_guild_settings(guild) -> count`: delete a server's and its channels' rows.
//!
//! A scope is `(guild_id, channel_id, user_id)` with `''` for unused parts:
//! a server is `(g, '', '')`, a channel `(g, c, '')`, a user `('', '', u)`.
//! Everything typed (keys, precedence, checks) lives above, in
//! [`crate::chat::settings`]; a row with a key this build does not know is skipped.

use std::collections::BTreeMap;

use super::error::MemoryError;
use super::settings_row::{ScopeParts, SettingRow};
use super::store::{Backend, Memory};
use crate::chat::settings::{Layers, Scope, SettingKey};

fn parts(scope: &Scope) -> ScopeParts {
    let (g, c, u) = scope.parts();
    (g.to_owned(), c.to_owned(), u.to_owned())
}

impl Memory {
    /// The stored values that may apply to a message of `user` in `channel`
    /// of `guild` (no server or channel layer in a DM).
    pub async fn settings_layers(
        &self,
        guild: Option<&str>,
        channel: &str,
        user: &str,
    ) -> Result<Layers, MemoryError> {
        let server = guild.map(|g| Scope::Server { guild: g.into() });
        let channel = guild.map(|g| Scope::Channel {
            guild: g.into(),
            channel: channel.into(),
        });
        let user = Scope::User { user: user.into() };
        let scopes: Vec<&Scope> = [server.as_ref(), channel.as_ref(), Some(&user)]
            .into_iter()
            .flatten()
            .collect();
        let rows = self.rows(scopes.iter().map(|s| parts(s)).collect()).await?;
        let mut layers = Layers::default();
        for row in rows {
            let Some(key) = SettingKey::parse(&row.key) else {
                continue;
            };
            let layer = match (row.scope.0.is_empty(), row.scope.1.is_empty()) {
                (true, _) => &mut layers.user,
                (false, true) => &mut layers.server,
                (false, false) => &mut layers.channel,
            };
            layer.insert(key, row.value);
        }
        Ok(layers)
    }

    /// The values stored under exactly `scope`.
    pub async fn scope_settings(
        &self,
        scope: &Scope,
    ) -> Result<BTreeMap<SettingKey, String>, MemoryError> {
        let rows = self.rows(vec![parts(scope)]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| SettingKey::parse(&row.key).map(|k| (k, row.value)))
            .collect())
    }

    /// Sets (`Some`) or removes (`None`) one setting; returns the value it replaced.
    pub async fn change_setting(
        &self,
        scope: &Scope,
        key: SettingKey,
        value: Option<&str>,
    ) -> Result<Option<String>, MemoryError> {
        let (scope, key) = (parts(scope), key.as_str().to_owned());
        let value = value.map(str::to_owned);
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.settings.put(scope, key, value)),
            Backend::Sqlite(db) => db.put_setting(scope, key, value).await,
            Backend::Postgres(db) => db.put_setting(scope, key, value).await,
        }
    }

    /// Drops every setting of `scope`; returns how many went.
    pub async fn clear_settings(&self, scope: &Scope) -> Result<usize, MemoryError> {
        let scope = parts(scope);
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.settings.clear(&scope)),
            Backend::Sqlite(db) => db.clear_settings(scope).await,
            Backend::Postgres(db) => db.clear_settings(scope).await,
        }
    }

    /// Drops the settings of a server and of all its channels (the bot left it).
    pub async fn remove_guild_settings(&self, guild: &str) -> Result<usize, MemoryError> {
        // '' is the guild part of every user row.
        if guild.is_empty() {
            return Ok(0);
        }
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.settings.remove_guild(guild)),
            Backend::Sqlite(db) => db.remove_guild_settings(guild.to_owned()).await,
            Backend::Postgres(db) => db.remove_guild_settings(guild.to_owned()).await,
        }
    }

    async fn rows(&self, scopes: Vec<ScopeParts>) -> Result<Vec<SettingRow>, MemoryError> {
        match &*self.backend {
            Backend::Ram(ram) => Ok(ram.settings.rows(&scopes)),
            Backend::Sqlite(db) => db.settings_rows(scopes).await,
            Backend::Postgres(db) => db.settings_rows(scopes).await,
        }
    }

    /// The user's own settings as JSON, for `/export`.
    pub(super) async fn user_settings_json(
        &self,
        user_id: &str,
    ) -> Result<serde_json::Value, MemoryError> {
        let scope = Scope::User {
            user: user_id.into(),
        };
        let settings = self.scope_settings(&scope).await?;
        let map: serde_json::Map<String, serde_json::Value> = settings
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), serde_json::Value::String(v)))
            .collect();
        Ok(serde_json::Value::Object(map))
    }
}
