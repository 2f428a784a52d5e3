//! `[Discord]`: the connection, who the bot answers, and how replies show.

use std::time::Duration;

use super::parse::to_usize;
use super::reader::Reader;
use super::settings::ALLOW_GUILD_SETTINGS;
use super::shards::{SHARD_COUNT, SHARD_IDS, SHARDS_PER_PROCESS, ShardSettings};
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass, names};
use crate::secret::Secret;

const S: &str = "Discord";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Online,
    Idle,
    DoNotDisturb,
    Invisible,
}

impl Presence {
    const CHOICES: [(&'static str, Self); 4] = [
        ("online", Self::Online),
        ("idle", Self::Idle),
        ("dnd", Self::DoNotDisturb),
        ("invisible", Self::Invisible),
    ];
    const NAMES: [&'static str; 4] = names(&Self::CHOICES);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Playing,
    Streaming,
    Listening,
    Watching,
    Competing,
}

impl ActivityKind {
    const CHOICES: [(&'static str, Self); 5] = [
        ("playing", Self::Playing),
        ("streaming", Self::Streaming),
        ("listening", Self::Listening),
        ("watching", Self::Watching),
        ("competing", Self::Competing),
    ];
    const NAMES: [&'static str; 5] = names(&Self::CHOICES);
}

pub const DISCORD_TOKEN: KeySpec = KeySpec::new(
    S,
    "DISCORD_TOKEN",
    "",
    Kind::Secret,
    "Bot token from the Discord developer portal (required for `run`).",
)
.reload(ReloadClass::Restart);
pub const ALLOWED_CHANNELS: KeySpec = KeySpec::new(
    S,
    "ALLOWED_CHANNELS",
    "",
    Kind::List,
    "Channel names where mentions are answered, comma-separated; empty = every channel.",
);
pub const ALLOWED_CHANNEL_IDS: KeySpec = KeySpec::new(
    S,
    "ALLOWED_CHANNEL_IDS",
    "",
    Kind::Ids,
    "Channel ids where mentions are answered; wins over ALLOWED_CHANNELS when non-empty.",
);
pub const REPLY_ALL_CHANNEL_IDS: KeySpec = KeySpec::new(
    S,
    "REPLY_ALL_CHANNEL_IDS",
    "",
    Kind::Ids,
    "Channel ids where every message is answered, mention or not.",
);
pub const ALLOW_DMS: KeySpec = KeySpec::new(
    S,
    "ALLOW_DMS",
    "true",
    Kind::Bool,
    "Answer direct messages.",
);
pub const ALLOWED_USER_IDS: KeySpec = KeySpec::new(
    S,
    "ALLOWED_USER_IDS",
    "",
    Kind::Ids,
    "Only these users may talk to the bot; empty = everyone.",
);
pub const BLOCKED_USER_IDS: KeySpec = KeySpec::new(
    S,
    "BLOCKED_USER_IDS",
    "",
    Kind::Ids,
    "These users are ignored.",
);
pub const ALLOWED_ROLE_IDS: KeySpec = KeySpec::new(
    S,
    "ALLOWED_ROLE_IDS",
    "",
    Kind::Ids,
    "In servers, only members with one of these roles may talk to the bot; empty = everyone.",
);
pub const ADMIN_USER_IDS: KeySpec = KeySpec::new(
    S,
    "ADMIN_USER_IDS",
    "",
    Kind::Ids,
    "Users who bypass the allowlists and rate limits.",
);
pub const BOT_PRESENCE: KeySpec = KeySpec::new(
    S,
    "BOT_PRESENCE",
    "online",
    Kind::Choice(&Presence::NAMES),
    "Status shown for the bot.",
);
pub const ACTIVITY_TYPE: KeySpec = KeySpec::new(
    S,
    "ACTIVITY_TYPE",
    "listening",
    Kind::Choice(&ActivityKind::NAMES),
    "Kind of activity shown with ACTIVITY_STATUS.",
);
pub const ACTIVITY_STATUS: KeySpec = KeySpec::new(
    S,
    "ACTIVITY_STATUS",
    "",
    Kind::Text,
    "Activity text shown under the bot's name; empty = none.",
);
pub const STREAM_REPLIES: KeySpec = KeySpec::new(
    S,
    "STREAM_REPLIES",
    "true",
    Kind::Bool,
    "Show the reply while it is generated, editing the message as tokens arrive.",
);
pub const STREAM_EDIT_INTERVAL_MS: KeySpec = KeySpec::new(
    S,
    "STREAM_EDIT_INTERVAL_MS",
    "1200",
    Kind::Uint {
        min: 200,
        max: 60_000,
    },
    "Minimum milliseconds between two edits of a streamed message.",
);
pub const COMMAND_GUILD_IDS: KeySpec = KeySpec::new(
    S,
    "COMMAND_GUILD_IDS",
    "",
    Kind::Ids,
    "Register slash commands in these guilds (instant) instead of globally.",
)
.reload(ReloadClass::Restart);
pub const API_BASE_URL: KeySpec = KeySpec {
    env_aliases: &["DISCORD_API_BASE_URL"],
    ..KeySpec::new(
        S,
        "API_BASE_URL",
        "",
        Kind::OptUrl,
        "Send Discord REST calls here instead of https://discord.com (a REST proxy, or tests).",
    )
    .reload(ReloadClass::Restart)
};

pub const ATTACH_LONG_ANSWERS_CHARS: KeySpec = KeySpec::new(
    S,
    "ATTACH_LONG_ANSWERS_CHARS",
    "0",
    Kind::Uint {
        min: 0,
        max: 10_000_000,
    },
    "Answers longer than this many characters are sent as an answer.md file with a one-line lead; 0 = never.",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Discord connection, who the bot answers, and how it shows replies.",
    keys: &[
        DISCORD_TOKEN,
        ALLOWED_CHANNELS,
        ALLOWED_CHANNEL_IDS,
        REPLY_ALL_CHANNEL_IDS,
        ALLOW_DMS,
        ALLOWED_USER_IDS,
        BLOCKED_USER_IDS,
        ALLOWED_ROLE_IDS,
        ADMIN_USER_IDS,
        ALLOW_GUILD_SETTINGS,
        BOT_PRESENCE,
        ACTIVITY_TYPE,
        ACTIVITY_STATUS,
        STREAM_REPLIES,
        STREAM_EDIT_INTERVAL_MS,
        COMMAND_GUILD_IDS,
        API_BASE_URL,
        ATTACH_LONG_ANSWERS_CHARS,
        SHARD_COUNT,
        SHARD_IDS,
        SHARDS_PER_PROCESS,
    ],
};

/// `[Discord]`
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: Option<Secret>,
    pub allowed_channels: Vec<String>,
    pub allowed_channel_ids: Vec<u64>,
    pub reply_all_channel_ids: Vec<u64>,
    pub allow_dms: bool,
    pub allowed_user_ids: Vec<u64>,
    pub blocked_user_ids: Vec<u64>,
    pub allowed_role_ids: Vec<u64>,
    pub admin_user_ids: Vec<u64>,
    pub presence: Presence,
    pub activity_type: ActivityKind,
    pub activity_status: Option<String>,
    pub stream_replies: bool,
    pub stream_edit_interval: Duration,
    pub command_guild_ids: Vec<u64>,
    pub api_base_url: Option<url::Url>,
    /// Answers longer than this (characters) go as a file; 0 = never.
    pub attach_long_answers_chars: usize,
    /// `SHARD_COUNT`, `SHARD_IDS`, `SHARDS_PER_PROCESS` and the ordinal.
    pub shards: ShardSettings,
}

impl DiscordConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            token: r.secret(&DISCORD_TOKEN),
            allowed_channels: r.list(&ALLOWED_CHANNELS),
            allowed_channel_ids: r.ids(&ALLOWED_CHANNEL_IDS),
            reply_all_channel_ids: r.ids(&REPLY_ALL_CHANNEL_IDS),
            allow_dms: r.boolean(&ALLOW_DMS),
            allowed_user_ids: r.ids(&ALLOWED_USER_IDS),
            blocked_user_ids: r.ids(&BLOCKED_USER_IDS),
            allowed_role_ids: r.ids(&ALLOWED_ROLE_IDS),
            admin_user_ids: r.ids(&ADMIN_USER_IDS),
            presence: r.choice(&BOT_PRESENCE, &Presence::CHOICES),
            activity_type: r.choice(&ACTIVITY_TYPE, &ActivityKind::CHOICES),
            activity_status: r.opt_text(&ACTIVITY_STATUS),
            stream_replies: r.boolean(&STREAM_REPLIES),
            stream_edit_interval: Duration::from_millis(r.uint(&STREAM_EDIT_INTERVAL_MS)),
            command_guild_ids: r.ids(&COMMAND_GUILD_IDS),
            api_base_url: r.opt_url(&API_BASE_URL),
            attach_long_answers_chars: to_usize(r.uint(&ATTACH_LONG_ANSWERS_CHARS)),
            shards: ShardSettings::read(r),
        }
    }
}
