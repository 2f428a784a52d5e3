//! `[Memory]`: where conversations are stored and for how long. Read once at
//! start: a change waits for a restart.

use std::path::PathBuf;
use std::time::Duration;

use super::parse::to_usize;
use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{DAY, KeySpec, Kind, ReloadClass, names};
use crate::secret::Secret;

const S: &str = "Memory";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBackend {
    Sqlite,
    Memory,
    /// PostgreSQL at `[Memory] DATABASE_URL`, shared by several processes.
    Postgres,
}

impl MemoryBackend {
    const CHOICES: [(&'static str, Self); 3] = [
        ("sqlite", Self::Sqlite),
        ("memory", Self::Memory),
        ("postgres", Self::Postgres),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

/// `[Memory] MEMORY_SCOPE`: what one conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryScope {
    /// One history per user everywhere (the older bot's behaviour).
    User,
    /// One per user per channel (a DM, each thread and each channel apart).
    UserChannel,
    /// One per channel, shared by everyone in it.
    Channel,
}

impl MemoryScope {
    const CHOICES: [(&'static str, Self); 3] = [
        ("user_channel", Self::UserChannel),
        ("user", Self::User),
        ("channel", Self::Channel),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

pub const MEMORY_BACKEND: KeySpec = KeySpec::new(
    S,
    "MEMORY_BACKEND",
    "sqlite",
    Kind::Choice(&MemoryBackend::NAMES),
    "sqlite (durable, one process), postgres (durable, shared by several processes; needs DATABASE_URL) or memory (lost on restart; tests and throwaway runs).",
)
.reload(ReloadClass::Restart);
pub const DATABASE_PATH: KeySpec = KeySpec::new(
    S,
    "DATABASE_PATH",
    "data/duet.db",
    Kind::Path,
    "SQLite file; its directory is created.",
)
.reload(ReloadClass::Restart);
pub const DATABASE_URL: KeySpec = KeySpec::new(
    S,
    "DATABASE_URL",
    "",
    Kind::Secret,
    "PostgreSQL URL for MEMORY_BACKEND = postgres, e.g. postgres://duet:PASSWORD@db:5432/duet (plain TCP: no TLS).",
)
.reload(ReloadClass::Restart);
pub const DATABASE_MAX_CONNECTIONS: KeySpec = KeySpec::new(
    S,
    "DATABASE_MAX_CONNECTIONS",
    "10",
    Kind::Uint { min: 1, max: 1000 },
    "Most PostgreSQL connections this process opens.",
)
.reload(ReloadClass::Restart);
pub const MEMORY_SCOPE: KeySpec = KeySpec::new(
    S,
    "MEMORY_SCOPE",
    "user_channel",
    Kind::Choice(&MemoryScope::NAMES),
    "user_channel (per user per channel), user (one history everywhere) or channel (shared by a channel).",
)
.reload(ReloadClass::Restart);
pub const MEMORY_TTL: KeySpec = KeySpec::new(
    S,
    "MEMORY_TTL",
    "7d",
    Kind::Duration {
        min: Duration::ZERO,
        max: Duration::from_secs(DAY.as_secs() * 3650),
    },
    "Conversations idle this long are deleted (e.g. 7d, 12h, 0 = keep forever).",
);
pub const MEMORY_CACHE_CONVERSATIONS: KeySpec = KeySpec::new(
    S,
    "MEMORY_CACHE_CONVERSATIONS",
    "1000",
    Kind::Uint {
        min: 1,
        max: 10_000_000,
    },
    "Conversations kept in RAM in front of SQLite.",
)
.reload(ReloadClass::Restart);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Conversation memory.",
    keys: &[
        MEMORY_BACKEND,
        DATABASE_PATH,
        DATABASE_URL,
        DATABASE_MAX_CONNECTIONS,
        MEMORY_SCOPE,
        MEMORY_TTL,
        MEMORY_CACHE_CONVERSATIONS,
    ],
};

/// `[Memory]`
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryConfig {
    pub backend: MemoryBackend,
    pub database_path: PathBuf,
    /// `postgres` only; required there.
    pub database_url: Option<Secret>,
    pub database_max_connections: usize,
    pub scope: MemoryScope,
    /// `None` keeps conversations forever.
    pub ttl: Option<Duration>,
    pub cache_conversations: usize,
}

impl MemoryConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let config = Self {
            backend: r.choice(&MEMORY_BACKEND, &MemoryBackend::CHOICES),
            database_path: r.path(&DATABASE_PATH),
            database_url: r.secret(&DATABASE_URL),
            database_max_connections: to_usize(r.uint(&DATABASE_MAX_CONNECTIONS)),
            scope: r.choice(&MEMORY_SCOPE, &MemoryScope::CHOICES),
            ttl: Some(r.duration(&MEMORY_TTL)).filter(|d| !d.is_zero()),
            cache_conversations: to_usize(r.uint(&MEMORY_CACHE_CONVERSATIONS)),
        };
        if config.backend == MemoryBackend::Postgres {
            check_database_url(r, config.database_url.as_ref());
        }
        config
    }
}

/// The URL must be there and parse; the messages never repeat it (a secret).
fn check_database_url(r: &mut Reader, url: Option<&Secret>) {
    let Some(url) = url else {
        r.error(
            &DATABASE_URL,
            "MEMORY_BACKEND = postgres needs DATABASE_URL, e.g. postgres://duet:PASSWORD@db:5432/duet".into(),
        );
        return;
    };
    match url.expose().parse::<tokio_postgres::Config>() {
        Ok(parsed) if parsed.get_ssl_mode() == tokio_postgres::config::SslMode::Require => {
            r.error(
                &DATABASE_URL,
                "sslmode=require is not supported: duet connects to PostgreSQL without TLS (use a private network)".into(),
            );
        }
        Ok(_) => {}
        Err(_) => r.error(
            &DATABASE_URL,
            "is not a PostgreSQL URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)".into(),
        ),
    }
}
