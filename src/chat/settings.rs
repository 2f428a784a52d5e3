//! Per-server, per-channel and per-user settings: the keys, the scopes they
//! are stored under, checking a new value, and resolving what applies to one
//! message.
//!
//! Precedence: the user's own choice > the channel's > the server's > the INI.
//! The INI stays the master switch: a stored model no longer in
//! `CHAT_MODELS` is skipped, web search cannot be switched on where the INI
//! runs without a web provider, and the allowlists and blocks are checked by
//! the frontend before any of this applies.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;

/// Longest system prompt a server or channel may set, in characters.
pub const MAX_PROMPT_CHARS: usize = 4_000;

/// What may be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingKey {
    Prompt,
    Model,
    Web,
    ReplyAll,
    Streaming,
}

impl SettingKey {
    pub const ALL: [SettingKey; 5] = [
        SettingKey::Prompt,
        SettingKey::Model,
        SettingKey::Web,
        SettingKey::ReplyAll,
        SettingKey::Streaming,
    ];

    /// The name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            SettingKey::Prompt => "prompt",
            SettingKey::Model => "model",
            SettingKey::Web => "web",
            SettingKey::ReplyAll => "replyall",
            SettingKey::Streaming => "streaming",
        }
    }

    pub fn parse(name: &str) -> Option<SettingKey> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Where a setting is stored: a whole server, one of its channels, or one
/// user (everywhere). The stored row uses `''` for the unused parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Server { guild: String },
    Channel { guild: String, channel: String },
    User { user: String },
}

impl Scope {
    /// `(guild_id, channel_id, user_id)` as stored.
    pub fn parts(&self) -> (&str, &str, &str) {
        match self {
            Scope::Server { guild } => (guild, "", ""),
            Scope::Channel { guild, channel } => (guild, channel, ""),
            Scope::User { user } => ("", "", user),
        }
    }

    pub fn source(&self) -> Source {
        match self {
            Scope::Server { .. } => Source::Server,
            Scope::Channel { .. } => Source::Channel,
            Scope::User { .. } => Source::User,
        }
    }
}

/// Where an effective value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Ini,
    Server,
    Channel,
    User,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ini => "INI",
            Source::Server => "server",
            Source::Channel => "channel",
            Source::User => "user",
        }
    }
}

/// The stored values that may apply to one message, one map per scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layers {
    pub server: BTreeMap<SettingKey, String>,
    pub channel: BTreeMap<SettingKey, String>,
    pub user: BTreeMap<SettingKey, String>,
}

/// One effective value and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// What applies to one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective {
    /// The system prompt template (`{date}` and `{time}` not yet filled).
    pub prompt: Sourced<String>,
    pub model: Sourced<String>,
    /// Off: every message goes to the chat model.
    pub web: Sourced<bool>,
    pub replyall: Sourced<bool>,
    pub streaming: Sourced<bool>,
}

impl Effective {
    /// The INI's values alone (`channel` decides `REPLY_ALL_CHANNEL_IDS`).
    pub fn from_ini(config: &Config, channel: Option<u64>) -> Effective {
        Effective::resolve(&Layers::default(), config, channel)
    }

    /// Applies `layers` over the INI; values the INI does not allow are skipped.
    pub fn resolve(layers: &Layers, config: &Config, channel: Option<u64>) -> Effective {
        let pick = |key: SettingKey, allowed: &dyn Fn(&str) -> bool| {
            [
                (&layers.user, Source::User),
                (&layers.channel, Source::Channel),
                (&layers.server, Source::Server),
            ]
            .into_iter()
            .find_map(|(map, source)| {
                map.get(&key)
                    .filter(|v| allowed(v))
                    .map(|v| (v.clone(), source))
            })
        };
        let flag = |key: SettingKey, ini: bool| match pick(key, &|v| parse_flag(v).is_some()) {
            Some((v, source)) => Sourced {
                value: parse_flag(&v).unwrap_or(ini),
                source,
            },
            None => Sourced {
                value: ini,
                source: Source::Ini,
            },
        };
        let text =
            |key: SettingKey, ini: &str, allowed: &dyn Fn(&str) -> bool| match pick(key, allowed) {
                Some((value, source)) => Sourced { value, source },
                None => Sourced {
                    value: ini.to_string(),
                    source: Source::Ini,
                },
            };
        let models = &config.settings.chat_models;
        let reply_all_ini =
            channel.is_some_and(|c| config.discord.reply_all_channel_ids.contains(&c));
        let mode = config.effective_mode();
        let web_ini = mode != "openai_only";
        let mut web = flag(SettingKey::Web, web_ini);
        // A server may switch web search off, never on where the INI has none,
        // and not off where nothing else could answer.
        web.value = (web.value && web_ini) || mode == "perplexity_only";
        Effective {
            prompt: text(SettingKey::Prompt, &config.prompt.system_message, &|v| {
                check_prompt(v).is_ok()
            }),
            model: text(SettingKey::Model, &config.openai.model, &|v| {
                models.iter().any(|m| m == v)
            }),
            web,
            replyall: flag(SettingKey::ReplyAll, reply_all_ini),
            streaming: flag(SettingKey::Streaming, config.discord.stream_replies),
        }
    }

    /// `(key, shown value, source)` for `/settings show` and `/status`.
    pub fn lines(&self) -> Vec<(&'static str, String, Source)> {
        let on = |b: bool| if b { "on" } else { "off" }.to_string();
        vec![
            (
                "prompt",
                shown_prompt(&self.prompt.value),
                self.prompt.source,
            ),
            ("model", self.model.value.clone(), self.model.source),
            ("web", on(self.web.value), self.web.source),
            ("replyall", on(self.replyall.value), self.replyall.source),
            ("streaming", on(self.streaming.value), self.streaming.source),
        ]
    }
}

/// The prompt as shown in Discord: at most 200 characters, on one line.
fn shown_prompt(prompt: &str) -> String {
    const SHOWN: usize = 200;
    let flat: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SHOWN {
        return format!("\"{flat}\"");
    }
    let cut: String = flat.chars().take(SHOWN).collect();
    format!("\"{cut}…\" ({} characters)", prompt.chars().count())
}

/// Stored booleans are `true` / `false`.
pub fn parse_flag(value: &str) -> Option<bool> {
    match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Why a new value is refused; the Display text is what the user sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("The prompt is {0} characters long; the limit is 4000 characters.")]
    PromptTooLong(usize),
    #[error("The prompt is empty; use `/settings prompt-clear` to go back to the default.")]
    PromptEmpty,
    #[error("`{given}` is not an allowed model. Allowed models: {allowed}.")]
    UnknownModel { given: String, allowed: String },
    #[error("Settings are not available here.")]
    Unavailable,
    #[error("I could not reach my storage; nothing was changed. Please try again later.")]
    Storage,
}

/// A prompt must have text and at most [`MAX_PROMPT_CHARS`] characters.
pub fn check_prompt(prompt: &str) -> Result<(), SettingsError> {
    let chars = prompt.chars().count();
    if chars > MAX_PROMPT_CHARS {
        return Err(SettingsError::PromptTooLong(chars));
    }
    if prompt.trim().is_empty() {
        return Err(SettingsError::PromptEmpty);
    }
    Ok(())
}

/// The model as listed in `models` (names compare after trimming).
pub fn check_model(given: &str, models: &[String]) -> Result<String, SettingsError> {
    let given = given.trim();
    models
        .iter()
        .find(|m| m.as_str() == given)
        .cloned()
        .ok_or_else(|| SettingsError::UnknownModel {
            given: given.chars().take(100).collect(),
            allowed: models.join(", "),
        })
}

/// Up to 25 models (Discord's limit for choices) that contain `partial`.
pub fn model_suggestions(partial: &str, models: &[String]) -> Vec<String> {
    let partial = partial.trim().to_lowercase();
    models
        .iter()
        .filter(|m| m.to_lowercase().contains(&partial))
        .take(25)
        .cloned()
        .collect()
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
