//! The PostgreSQL schema and its versioned migrations, applied at start.
//!
//! `schema_version(version, applied_at)` lists every migration applied. All
//! of them run in one transaction holding a transaction-scoped advisory
//! lock ([`MIGRATION_LOCK`]), so several processes starting at once apply
//! each migration exactly once (the others wait, then find nothing to do),
//! and running them again is a no-op. A database migrated by a newer duet
//! (a version this build does not know) is refused, not touched.
//!
//! A later store adds its tables as the next [`Migration`] in [`MIGRATIONS`].
//!
//! Version 1: `conversations(key, last_active)`, `turns(id, conversation,
//! user_id, question, answer, provider, model, at)` and
//! `token_usage(user_id, day, tokens)`, as in SQLite.
//!
//! Version 2: `settings(guild_id, channel_id, user_id, key, value)`, the
//! server, channel and user settings, as in SQLite.

use deadpool_postgres::Object;

use super::error::MemoryError;

/// `pg_advisory_xact_lock` key of duet's migrations ("duet" and 1).
const MIGRATION_LOCK: i64 = 0x6475_6574_0000_0001;

pub(super) struct Migration {
    pub version: i32,
    pub sql: &'static str,
}

pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
CREATE TABLE conversations (
    key         text   PRIMARY KEY,
    last_active bigint NOT NULL
);
CREATE INDEX conversations_by_activity ON conversations (last_active);
CREATE TABLE turns (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation text   NOT NULL,
    user_id      text   NOT NULL,
    question     text   NOT NULL,
    answer       text   NOT NULL,
    provider     text   NOT NULL,
    model        text   NOT NULL,
    at           bigint NOT NULL
);
CREATE INDEX turns_by_conversation ON turns (conversation, id);
CREATE INDEX turns_by_user ON turns (user_id);
CREATE TABLE token_usage (
    user_id text   NOT NULL,
    day     text   NOT NULL,
    tokens  bigint NOT NULL,
    PRIMARY KEY (user_id, day)
);
",
    },
    Migration {
        version: 2,
        sql: "
CREATE TABLE settings (
    guild_id   text NOT NULL,
    channel_id text NOT NULL,
    user_id    text NOT NULL,
    key        text NOT NULL,
    value      text NOT NULL,
    PRIMARY KEY (guild_id, channel_id, user_id, key)
);
CREATE INDEX settings_by_user ON settings (user_id) WHERE user_id <> '';
",
    },
];

/// The newest version this build knows.
pub(super) fn supported_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies every migration the database lacks; returns how many ran.
pub(super) async fn migrate(client: &mut Object) -> Result<usize, MemoryError> {
    let tx = client.transaction().await?;
    // A process stuck holding the lock must not hang every other start.
    tx.batch_execute("SET LOCAL lock_timeout = '30s'").await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    integer     PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await?;
    let found: i32 = row
        .try_get(0)
        .map_err(|_| MemoryError::Corrupt("schema_version is not a number".into()))?;
    let supported = supported_version();
    if found > supported {
        // Ended here, not left to a drop, so the lock goes at once.
        tx.rollback().await?;
        return Err(MemoryError::UnknownSchema {
            found: i64::from(found),
            supported: i64::from(supported),
        });
    }
    let mut applied = 0;
    for migration in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&migration.version],
        )
        .await?;
        applied += 1;
    }
    tx.commit().await?;
    Ok(applied)
}
