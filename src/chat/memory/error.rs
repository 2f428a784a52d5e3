//! [`MemoryError`]: what can go wrong storing or reading conversations.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("the memory database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot prepare the memory database at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("[Memory] DATABASE_PATH is empty")]
    NoPath,
    #[error("the memory database has schema version {found}; this duet knows version {supported}")]
    UnknownSchema { found: i64, supported: i64 },
    #[error("the memory database holds a row this duet cannot read: {0}")]
    Corrupt(String),
    #[error("a turn is too large to keep in memory")]
    TooLarge,
    #[error("{0:?} is not a day (expected YYYY-MM-DD)")]
    InvalidDay(String),
    #[error("cannot write the export: {0}")]
    Export(#[source] serde_json::Error),
    #[error("the memory database worker stopped")]
    WorkerGone,
    #[error("PostgreSQL failed: {0}")]
    Postgres(String),
    #[error("cannot reach PostgreSQL: {0}")]
    Unreachable(String),
    #[error("PostgreSQL aborted the transaction because another one touched the same rows")]
    Conflict,
    #[error("PostgreSQL did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error(
        "[Memory] DATABASE_URL is missing or not a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
    )]
    BadUrl,
    #[error("MEMORY_BACKEND = postgres is opened with Memory::connect")]
    NeedsConnect,
    #[error(
        "{} is in use by another duet{}: stop that process first, or give this one its own DATABASE_PATH (one process per SQLite file)",
        database.display(),
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked {
        database: PathBuf,
        holder: Option<u32>,
    },
}

impl From<tokio_postgres::Error> for MemoryError {
    /// Built from the server's own message, the socket error or a fixed
    /// phrase, never from the driver's text (which could quote the URL).
    fn from(error: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        if let Some(db) = error.as_db_error() {
            let code = db.code();
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
            {
                return MemoryError::Conflict;
            }
            return MemoryError::Postgres(format!("{} (SQLSTATE {})", db.message(), code.code()));
        }
        if error.is_closed() {
            return MemoryError::Unreachable("the connection was closed".into());
        }
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                return MemoryError::Unreachable(io.to_string());
            }
            source = cause.source();
        }
        // Formatted only to be classified, never shown.
        if error.to_string().starts_with("timeout") {
            return MemoryError::Unreachable("connecting timed out".into());
        }
        MemoryError::Postgres(
            "the driver failed (a protocol error or a column of an unexpected type)".into(),
        )
    }
}

impl MemoryError {
    /// A stable one-word kind, for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            MemoryError::Sqlite(_) => "sqlite",
            MemoryError::Io { .. } | MemoryError::NoPath => "io",
            MemoryError::UnknownSchema { .. } => "schema",
            MemoryError::Corrupt(_) => "corrupt",
            MemoryError::TooLarge => "too_large",
            MemoryError::InvalidDay(_) => "invalid_day",
            MemoryError::Export(_) => "export",
            MemoryError::WorkerGone => "worker_gone",
            MemoryError::Locked { .. } => "locked",
            MemoryError::Postgres(_) => "postgres",
            MemoryError::Unreachable(_) => "unreachable",
            MemoryError::Conflict => "conflict",
            MemoryError::Timeout(_) => "timeout",
            MemoryError::BadUrl | MemoryError::NeedsConnect => "config",
        }
    }
}
