//! `[Orchestrator]`: routing consistency, history length, housekeeping and
//! the shutdown grace.

use std::time::Duration;

use super::parse::to_usize;
use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind};

const S: &str = "Orchestrator";

pub const LOOKBACK_MESSAGES_FOR_CONSISTENCY: KeySpec = KeySpec::new(
    S,
    "LOOKBACK_MESSAGES_FOR_CONSISTENCY",
    "6",
    Kind::Uint { min: 0, max: 1000 },
    "Follow-ups stay with the provider that answered within this many recent messages.",
);
pub const MAX_HISTORY_PER_USER: KeySpec = KeySpec::new(
    S,
    "MAX_HISTORY_PER_USER",
    "50",
    Kind::Uint {
        min: 2,
        max: 10_000,
    },
    "Messages kept per conversation (oldest question/answer pairs dropped first).",
);
pub const USER_LOCK_CLEANUP_INTERVAL: KeySpec = KeySpec::new(
    S,
    "USER_LOCK_CLEANUP_INTERVAL",
    "3600",
    Kind::Uint {
        min: 1,
        max: 604_800,
    },
    "Seconds between sweeps that drop idle per-conversation queues and rate-limit state.",
);
pub const ENTITY_DETECTION_MIN_WORDS: KeySpec = KeySpec::new(
    S,
    "ENTITY_DETECTION_MIN_WORDS",
    "10",
    Kind::Uint { min: 0, max: 1000 },
    "Questions about a named entity with fewer words than this go to web search.",
);
pub const SHUTDOWN_GRACE_SECS: KeySpec = KeySpec::new(
    S,
    "SHUTDOWN_GRACE_SECS",
    "20",
    Kind::Uint { min: 0, max: 3600 },
    "Seconds in-flight turns may finish after SIGTERM before they are cut off.",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Conversation handling.",
    keys: &[
        LOOKBACK_MESSAGES_FOR_CONSISTENCY,
        MAX_HISTORY_PER_USER,
        USER_LOCK_CLEANUP_INTERVAL,
        ENTITY_DETECTION_MIN_WORDS,
        SHUTDOWN_GRACE_SECS,
    ],
};

/// `[Orchestrator]`
#[derive(Debug, Clone, PartialEq)]
pub struct OrchestratorConfig {
    pub lookback_messages: usize,
    pub max_history: usize,
    pub cleanup_interval: Duration,
    pub entity_min_words: usize,
    pub shutdown_grace: Duration,
}

impl OrchestratorConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            lookback_messages: to_usize(r.uint(&LOOKBACK_MESSAGES_FOR_CONSISTENCY)),
            max_history: to_usize(r.uint(&MAX_HISTORY_PER_USER)),
            cleanup_interval: Duration::from_secs(r.uint(&USER_LOCK_CLEANUP_INTERVAL)),
            entity_min_words: to_usize(r.uint(&ENTITY_DETECTION_MIN_WORDS)),
            shutdown_grace: Duration::from_secs(r.uint(&SHUTDOWN_GRACE_SECS)),
        }
    }
}
