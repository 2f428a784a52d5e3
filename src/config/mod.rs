//! Configuration: one INI file (compatible with the older Python bot's keys),
//! overridden per key by environment variables of the same name, turned into
//! a typed [`Config`] that remembers where every value came from.
//!
//! Each key is declared once, as a spec in the file of its section
//! (`discord.rs`, `providers.rs`, `pool.rs`, …) with its default, range and
//! reload class; `schema.rs` gathers them; `source.rs` layers defaults, file
//! and environment on the `config` crate; `reader.rs` checks and converts.

mod attachments;
mod diff;
mod discord;
pub mod docs;
mod env;
mod file;
mod health;
mod ini;
mod issue;
mod limits;
mod logging;
mod memory;
mod openai_models;
mod orchestrator;
mod parse;
mod pool;
mod providers;
mod reader;
mod redact;
mod report;
mod routing;
pub mod schema;
mod settings;
mod shards;
mod source;
mod spec;
mod suggest;
mod typed;
mod warnings;

pub use attachments::{AttachmentsConfig, Vision};
pub use diff::ReloadDiff;
pub use discord::{ActivityKind, DiscordConfig, Presence};
pub use env::env_from_os;
pub use file::MAX_CONFIG_BYTES;
pub use health::HealthConfig;
pub use ini::{IniEntry, IniFile};
pub use issue::{ConfigErrors, ConfigIssue, Severity, ValueSource};
pub use limits::LimitsConfig;
pub use logging::{LogFormat, LoggingConfig};
pub use memory::{MemoryBackend, MemoryConfig, MemoryScope};
pub use orchestrator::OrchestratorConfig;
pub use parse::{parse_bool, parse_duration};
pub use pool::{Http2Mode, PoolConfig};
pub use providers::{
    OpenAiApi, OpenAiConfig, PerplexityApi, PerplexityConfig, PromptConfig, TokenLimitField,
    is_local_url,
};
pub use reader::{Resolved, ResolvedValues};
pub use redact::redact_url_credentials;
pub use report::render_effective;
pub use routing::{RoutingConfig, RoutingMode, WebBackend, WebProviderChoice, WebTool};
pub use settings::{SettingsConfig, chat_models};
pub use shards::{
    ORDINAL_VAR, ShardCount, ShardError, ShardIds, ShardPlan, ShardSettings, ordinal_from_env,
};
pub use spec::{KeySpec, Kind, ReloadClass};
pub use typed::{Config, DEFAULT_CONFIG_FILE, Mode, Purpose};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bad_days;
#[cfg(test)]
mod tests_fuzz;
