//! `[Logging]`: where logs go, how much and in which format. The logger is
//! set up once at start: a change waits for a restart.

use std::path::PathBuf;

use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass, names};

const S: &str = "Logging";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    const CHOICES: [(&'static str, Self); 2] = [("pretty", Self::Pretty), ("json", Self::Json)];
    const NAMES: [&'static str; 2] = names(&Self::CHOICES);
}

/// Accepted spellings (the older bot's Python names too) and the tracing level each means.
const LEVELS: [(&str, &str); 7] = [
    ("trace", "trace"),
    ("debug", "debug"),
    ("info", "info"),
    ("warn", "warn"),
    ("warning", "warn"),
    ("error", "error"),
    ("critical", "error"),
];
const LEVEL_NAMES: [&str; 7] = names(&LEVELS);

pub const LOG_FILE: KeySpec = KeySpec::new(
    S,
    "LOG_FILE",
    "",
    Kind::OptPath,
    "Append logs to this file as well as stderr; reopened on SIGHUP.",
)
.reload(ReloadClass::Restart);
pub const LOG_LEVEL: KeySpec = KeySpec::new(
    S,
    "LOG_LEVEL",
    "INFO",
    Kind::Choice(&LEVEL_NAMES),
    "Least severe level logged, in any case; RUST_LOG wins when set.",
)
.reload(ReloadClass::Restart);
pub const LOG_FORMAT: KeySpec = KeySpec::new(
    S,
    "LOG_FORMAT",
    "pretty",
    Kind::Choice(&LogFormat::NAMES),
    "Human-readable lines or one JSON object per line.",
)
.reload(ReloadClass::Restart);
pub const LOG_MESSAGE_CONTENT: KeySpec = KeySpec::new(
    S,
    "LOG_MESSAGE_CONTENT",
    "false",
    Kind::Bool,
    "Log message text (off by default for privacy).",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Logs go to stderr, and to LOG_FILE when set.",
    keys: &[LOG_FILE, LOG_LEVEL, LOG_FORMAT, LOG_MESSAGE_CONTENT],
};

/// `[Logging]`
#[derive(Debug, Clone, PartialEq)]
pub struct LoggingConfig {
    pub file: Option<PathBuf>,
    /// Lowercase tracing level: trace, debug, info, warn or error.
    pub level: &'static str,
    pub format: LogFormat,
    pub message_content: bool,
}

impl LoggingConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            file: r.opt_path(&LOG_FILE),
            level: r.choice(&LOG_LEVEL, &LEVELS),
            format: r.choice(&LOG_FORMAT, &LogFormat::CHOICES),
            message_content: r.boolean(&LOG_MESSAGE_CONTENT),
        }
    }
}
