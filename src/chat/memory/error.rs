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
        }
    }
}
