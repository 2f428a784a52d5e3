//! The boundary between frontends (Discord, terminal) and the pipeline:
//! what a frontend sends in, what it gets back, and the [`Conversations`]
//! trait the pipeline implements (so frontends can be tested with a fake).

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::watch;

use super::attachments::input::Attachments;
use super::settings::{Layers, Scope, SettingKey, SettingsError};
use super::types::Partial;
use crate::providers::{ProviderKind, Source};

/// One message from a user, already stripped of the bot's own mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Stable user id (Discord snowflake, or a terminal user name).
    pub user_id: String,
    /// Display name, for logs and prompts.
    pub user_name: String,
    /// Where the conversation happens (channel, thread or DM channel id).
    pub channel_id: String,
    /// The server it happens in (`None` in DMs and terminals): decides which
    /// server and channel settings apply.
    pub guild_id: Option<String>,
    /// The stored settings the frontend already read for this message
    /// (Discord needs them before the turn, for reply-all and streaming), so
    /// the pipeline does not read them again; `None`: the pipeline reads them.
    pub settings: Option<Layers>,
    pub text: String,
    /// Set by `/search` (Perplexity) or `/chat` (OpenAI); beats routing.
    pub forced: Option<ProviderKind>,
    /// Admins bypass rate limits and budgets.
    pub privileged: bool,
    /// Images, text files and the quoted message that came with the text.
    pub attachments: Attachments,
}

/// What the pipeline answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A reply to show; each frontend renders it (Discord links citations).
    Answer(Answer),
    /// A short notice for the user: rate limited, busy, provider down, confirmation.
    Notice(String),
    /// Say nothing (e.g. a repeat message inside an already-announced rate-limit window).
    Silent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The provider's text as written, `[n]` markers included; frontends
    /// render it (and strip reasoning traces).
    pub text: String,
    /// The sources `[n]` markers point to: `[n]` is `sources[n - 1]`.
    pub sources: Vec<Source>,
    /// How the answer came to be, shown after it (a fallback answered).
    pub note: Option<String>,
    pub provider: ProviderKind,
    pub model: String,
    /// Why this provider answered, e.g. `time_sensitive("today")`.
    pub reasons: Vec<String>,
}

/// `/status`: what the bot runs with and what the caller has left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// hybrid, openai_only or perplexity_only.
    pub mode: String,
    /// Who answers web questions (`perplexity`, `openai_web_search`), if anyone.
    pub web_provider: Option<String>,
    pub providers: Vec<ProviderStatus>,
    /// Messages the caller may still send now without being rate limited.
    pub rate_limit_remaining: u32,
    pub rate_limit: u32,
    pub rate_limit_window_secs: u64,
    /// Tokens left today when a daily budget is set.
    pub tokens_left_today: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderStatus {
    pub provider: ProviderKind,
    pub model: String,
    /// The provider's pool statistics (PoolStats as JSON).
    pub pool: serde_json::Value,
}

/// The conversation pipeline as frontends see it.
#[async_trait]
pub trait Conversations: Send + Sync + 'static {
    /// Answers one message. When `progress` is given, the partial answer's
    /// raw text is published on it as tokens arrive (the whole text so far,
    /// not deltas); the frontend renders it as it renders [`Answer::text`].
    async fn handle(&self, message: Incoming, progress: Option<watch::Sender<Partial>>) -> Outcome;
    /// Empties the conversation of `user_id` in `channel_id`; returns a confirmation notice.
    async fn reset(&self, user_id: &str, channel_id: &str) -> Outcome;
    /// Deletes everything stored about `user_id`; returns a confirmation notice.
    async fn forget(&self, user_id: &str) -> Outcome;
    /// Everything stored about `user_id`, as a notice holding a fenced JSON block.
    async fn export(&self, user_id: &str) -> Outcome;
    async fn status(&self, user_id: &str) -> StatusReport;
    /// The stored settings that may apply to `user_id` in `channel_id` of
    /// `guild_id`; the frontend resolves them over its configuration. A
    /// pipeline without settings storage has none.
    async fn settings_layers(
        &self,
        _guild_id: Option<&str>,
        _channel_id: &str,
        _user_id: &str,
    ) -> Result<Layers, SettingsError> {
        Ok(Layers::default())
    }
    /// Sets (`Some`) or removes (`None`) one setting of `scope`; returns the
    /// value it replaced. The caller checked the value.
    async fn change_setting(
        &self,
        _scope: &Scope,
        _key: SettingKey,
        _value: Option<&str>,
    ) -> Result<Option<String>, SettingsError> {
        Err(SettingsError::Unavailable)
    }
    /// Drops every setting of `scope`; returns how many went.
    async fn clear_settings(&self, _scope: &Scope) -> Result<usize, SettingsError> {
        Err(SettingsError::Unavailable)
    }
    /// The bot left `guild_id`: its settings and its channels' go.
    async fn remove_guild_settings(&self, _guild_id: &str) -> Result<usize, SettingsError> {
        Ok(0)
    }
}
