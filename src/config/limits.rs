//! `[Limits]`: fairness and cost limits per user and for the whole bot.

use std::time::Duration;

use super::parse::to_usize;
use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass};
use crate::secret::Secret;

const S: &str = "Limits";

pub const RATE_LIMIT: KeySpec = KeySpec::new(
    S,
    "RATE_LIMIT",
    "10",
    Kind::Uint {
        min: 1,
        max: 100_000,
    },
    "Messages a user may send per RATE_LIMIT_PER seconds.",
);
pub const RATE_LIMIT_PER: KeySpec = KeySpec::new(
    S,
    "RATE_LIMIT_PER",
    "60",
    Kind::Uint {
        min: 1,
        max: 86_400,
    },
    "Window of RATE_LIMIT, in seconds.",
);
pub const MAX_QUEUED_PER_CONVERSATION: KeySpec = KeySpec::new(
    S,
    "MAX_QUEUED_PER_CONVERSATION",
    "3",
    Kind::Uint { min: 1, max: 1000 },
    "Messages waiting in one conversation before the user is asked to wait.",
);
pub const MAX_CONCURRENT_TURNS: KeySpec = KeySpec::new(
    S,
    "MAX_CONCURRENT_TURNS",
    "200",
    Kind::Uint {
        min: 1,
        max: 100_000,
    },
    "Turns in progress across all users before the bot answers \"busy\".",
);
pub const USER_DAILY_TOKENS: KeySpec = KeySpec::new(
    S,
    "USER_DAILY_TOKENS",
    "0",
    Kind::Uint {
        min: 0,
        max: 4_294_967_295_000,
    },
    "Tokens a user may spend per day (UTC); 0 = unlimited.",
);

pub const REDIS_URL: KeySpec = KeySpec::new(
    S,
    "REDIS_URL",
    "",
    Kind::Secret,
    "Redis shared by every duet process (`redis://[user:password@]host:port[/db]`): per-user limits, budgets, provider pauses and conversation locks hold across processes; empty = per process.",
)
.reload(ReloadClass::Restart);
pub const REDIS_KEY_PREFIX: KeySpec = KeySpec::new(
    S,
    "REDIS_KEY_PREFIX",
    "duet:",
    Kind::Text,
    "Prefix of every Redis key duet writes; processes of one bot share it, other bots on the same Redis use their own.",
)
.reload(ReloadClass::Restart);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Fairness and cost limits per user and for the whole bot.",
    keys: &[
        RATE_LIMIT,
        RATE_LIMIT_PER,
        MAX_QUEUED_PER_CONVERSATION,
        MAX_CONCURRENT_TURNS,
        USER_DAILY_TOKENS,
        REDIS_URL,
        REDIS_KEY_PREFIX,
    ],
};

/// `[Limits]`
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    pub rate_limit: u32,
    pub rate_limit_per: Duration,
    pub max_queued_per_conversation: usize,
    pub max_concurrent_turns: usize,
    pub user_daily_tokens: u64,
    /// `None`: limits are per process.
    pub redis_url: Option<Secret>,
    pub redis_key_prefix: String,
}

impl LimitsConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            rate_limit: u32::try_from(r.uint(&RATE_LIMIT)).unwrap_or(u32::MAX),
            rate_limit_per: Duration::from_secs(r.uint(&RATE_LIMIT_PER)),
            max_queued_per_conversation: to_usize(r.uint(&MAX_QUEUED_PER_CONVERSATION)),
            max_concurrent_turns: to_usize(r.uint(&MAX_CONCURRENT_TURNS)),
            user_daily_tokens: r.uint(&USER_DAILY_TOKENS),
            redis_url: r.secret(&REDIS_URL),
            redis_key_prefix: r.text(&REDIS_KEY_PREFIX),
        }
    }
}
