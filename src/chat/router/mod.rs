//! Routing: decides which provider answers a message, and says why.
//!
//! [`route`] is a pure function of the message, the conversation's history and
//! a [`RouterConfig`]: no I/O and no clock (the current year comes in the
//! config). It is called once per message, so every pattern is compiled once
//! (`LazyLock`) and the message is lowercased once.
//!
//! # Order of decisions
//! 1. **Availability and policy.** With one provider usable, it answers
//!    everything (`only_provider`). `[Routing] MODE = openai | perplexity`
//!    forces a provider (`forced`), even over an explicit prefix: it is the
//!    operator's policy, not a guess. A forced or explicitly requested
//!    provider that is not configured is reported as `unavailable` and the
//!    usable one answers.
//! 2. **Explicit prefix.** `search:` / `web:` → Perplexity, `chat:` → OpenAI
//!    (case-insensitive, after any leading Discord markup such as the bot's
//!    mention). The prefix and that markup are removed from [`Route::question`].
//! 3. **Discord markup is stripped** (user, role and channel mentions, custom
//!    emoji, timestamps, slash-command and guild links), so ids and emoji
//!    names never trigger a rule. An empty message → OpenAI (`default_conversation`).
//! 4. **Strong web signals** → Perplexity: a URL (with a scheme, or a bare
//!    domain with a real TLD that is not a file name, see `links`), explicit
//!    search intent ("look up", "search the web", "find me sources"), or a
//!    `[Routing] SEARCH_KEYWORDS` word.
//! 5. **Conversation intent** → OpenAI: creative writing, coding help (any
//!    backtick), small talk about the bot, or a `[Routing] CHAT_KEYWORDS` word.
//!    This beats the weaker signals below ("write a poem about the weather").
//! 6. **Weak web signals** → Perplexity: time sensitivity ("today", "latest",
//!    "right now", a year from the current one up to ten years ahead), live
//!    topics (weather, scores, prices, news, exchange rates, elections, outages)
//!    and stock tickers (`$NVDA`). Every category that matched is reported,
//!    each with its first match.
//! 7. **Follow-ups** ("tell me more", "why?", "what else", short messages
//!    starting with "and", "also", "what about", "how about") stay with the
//!    provider that answered the last substantive turn within
//!    `LOOKBACK_MESSAGES_FOR_CONSISTENCY` messages: a turn is two messages and
//!    counts when both fit, so 6 covers the last 3 turns and 0 or 1 turns the
//!    rule off. Turns whose question was only an acknowledgement ("thanks",
//!    "ok") are skipped, so "weather in Paris today?" → "thanks!" → "and in
//!    London?" still goes to Perplexity with a window of 4 or more.
//! 8. **Named entity** → Perplexity: a question (ends with `?`, starts with a
//!    question word, or "tell me about") of fewer than
//!    `ENTITY_DETECTION_MIN_WORDS` words that names a capitalised entity, see
//!    `entity`. 0 disables the rule.
//! 9. Otherwise → OpenAI (`default_conversation`).

mod entity;
pub mod eval;
mod follow_up;
mod links;
mod markup;
mod web;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::Serialize;

use crate::chat::Turn;
use crate::config::{Config, Mode, RoutingMode};
use crate::providers::ProviderKind;

use web::Signals;

/// `LOOKBACK_MESSAGES_FOR_CONSISTENCY` when the configuration does not say.
pub const DEFAULT_LOOKBACK_MESSAGES: usize = 6;
/// `ENTITY_DETECTION_MIN_WORDS` when the configuration does not say.
pub const DEFAULT_ENTITY_MIN_WORDS: usize = 10;

/// Everything [`route`] needs to know besides the message and its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    available: Mode,
    mode: RoutingMode,
    search_keywords: Vec<String>,
    chat_keywords: Vec<String>,
    lookback_messages: usize,
    entity_min_words: usize,
    current_year: i32,
}

impl RouterConfig {
    /// Smart routing between the `available` providers with default settings.
    pub fn new(available: Mode, current_year: i32) -> Self {
        Self {
            available,
            mode: RoutingMode::Smart,
            search_keywords: Vec::new(),
            chat_keywords: Vec::new(),
            lookback_messages: DEFAULT_LOOKBACK_MESSAGES,
            entity_min_words: DEFAULT_ENTITY_MIN_WORDS,
            current_year,
        }
    }

    /// From the loaded configuration. When no provider is configured at all
    /// both count as available, so the smart decision can still be shown.
    pub fn from_config(config: &Config, current_year: i32) -> Self {
        Self::new(config.mode().unwrap_or(Mode::Hybrid), current_year)
            .with_mode(config.routing.mode)
            .with_search_keywords(config.routing.search_keywords.iter())
            .with_chat_keywords(config.routing.chat_keywords.iter())
            .with_lookback_messages(config.orchestrator.lookback_messages)
            .with_entity_min_words(config.orchestrator.entity_min_words)
    }

    #[must_use]
    pub fn with_mode(mut self, mode: RoutingMode) -> Self {
        self.mode = mode;
        self
    }

    /// Extra words that send a message to web search (added to the built-in rules).
    #[must_use]
    pub fn with_search_keywords<S: AsRef<str>>(
        mut self,
        words: impl IntoIterator<Item = S>,
    ) -> Self {
        self.search_keywords = clean_keywords(words);
        self
    }

    /// Extra words that keep a message in conversation (added to the built-in rules).
    #[must_use]
    pub fn with_chat_keywords<S: AsRef<str>>(mut self, words: impl IntoIterator<Item = S>) -> Self {
        self.chat_keywords = clean_keywords(words);
        self
    }

    /// How many recent messages (two per turn) a follow-up looks back over.
    #[must_use]
    pub fn with_lookback_messages(mut self, messages: usize) -> Self {
        self.lookback_messages = messages;
        self
    }

    /// Entity questions must be shorter than this many words; 0 disables the rule.
    #[must_use]
    pub fn with_entity_min_words(mut self, words: usize) -> Self {
        self.entity_min_words = words;
        self
    }

    pub fn available(&self) -> Mode {
        self.available
    }

    pub fn mode(&self) -> RoutingMode {
        self.mode
    }
}

fn clean_keywords<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Vec<String> {
    words
        .into_iter()
        .map(|w| w.as_ref().trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// How sure the router is: web and chat are decided, `undecided` means no
/// strong signal either way (the chat model may then ask for the web).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Web,
    Chat,
    Undecided,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Web => "web",
            Outcome::Chat => "chat",
            Outcome::Undecided => "undecided",
        }
    }

    fn decided(provider: ProviderKind) -> Self {
        match provider {
            ProviderKind::Perplexity => Outcome::Web,
            ProviderKind::OpenAi => Outcome::Chat,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// Web, chat, or undecided.
    pub outcome: Outcome,
    /// Who answers; when undecided, the heuristic's fallback guess (the
    /// provider that answers when the chat model cannot be offered the tool).
    pub provider: ProviderKind,
    /// Why, most decisive first; never empty.
    pub reasons: Vec<Reason>,
    /// The text to send: the message minus an explicit `search:`/`web:`/`chat:`
    /// prefix (and any markup before it), trimmed.
    pub question: String,
}

/// One reason for a decision. Shown as `time_sensitive("today")` and
/// serialized as `{"rule": "time_sensitive", "detail": "today"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", content = "detail", rename_all = "snake_case")]
pub enum Reason {
    /// The message began with this prefix, e.g. `search:`.
    Explicit(String),
    /// `[Routing] MODE` names this provider.
    Forced(ProviderKind),
    /// This is the only usable provider.
    OnlyProvider(ProviderKind),
    /// This provider was asked for (by MODE or a prefix) but is not configured.
    Unavailable(ProviderKind),
    /// The message links to this host.
    Url(String),
    SearchIntent(String),
    /// A `[Routing] SEARCH_KEYWORDS` word.
    SearchKeyword(String),
    TimeSensitive(String),
    LiveTopic(String),
    Ticker(String),
    /// A short question about this named entity.
    Entity(String),
    /// A follow-up to a turn this provider answered.
    FollowUp {
        provider: ProviderKind,
    },
    /// Creative writing, coding help or small talk.
    ChatIntent(String),
    /// The message is about the writer (feelings, day, plans), so a time
    /// word in it does not call for the web.
    Personal(String),
    /// A question with no signal either way.
    OpenQuestion,
    /// A `[Routing] CHAT_KEYWORDS` word.
    ChatKeyword(String),
    /// Nothing called for the web: conversation.
    #[serde(rename = "default_conversation")]
    DefaultConversation,
}

impl Reason {
    /// The rule's name, as in `duet route` output and the JSON `rule` field.
    pub fn rule(&self) -> &'static str {
        match self {
            Reason::Explicit(_) => "explicit",
            Reason::Forced(_) => "forced",
            Reason::OnlyProvider(_) => "only_provider",
            Reason::Unavailable(_) => "unavailable",
            Reason::Url(_) => "url",
            Reason::SearchIntent(_) => "search_intent",
            Reason::SearchKeyword(_) => "search_keyword",
            Reason::TimeSensitive(_) => "time_sensitive",
            Reason::LiveTopic(_) => "live_topic",
            Reason::Ticker(_) => "ticker",
            Reason::Entity(_) => "entity",
            Reason::FollowUp { .. } => "follow_up",
            Reason::ChatIntent(_) => "chat_intent",
            Reason::ChatKeyword(_) => "chat_keyword",
            Reason::Personal(_) => "personal",
            Reason::OpenQuestion => "open_question",
            Reason::DefaultConversation => "default_conversation",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = self.rule();
        match self {
            Reason::Explicit(s)
            | Reason::Url(s)
            | Reason::SearchIntent(s)
            | Reason::SearchKeyword(s)
            | Reason::TimeSensitive(s)
            | Reason::LiveTopic(s)
            | Reason::Ticker(s)
            | Reason::Entity(s)
            | Reason::ChatIntent(s)
            | Reason::ChatKeyword(s)
            | Reason::Personal(s) => write!(f, "{rule}({s:?})"),
            Reason::Forced(p)
            | Reason::OnlyProvider(p)
            | Reason::Unavailable(p)
            | Reason::FollowUp { provider: p } => write!(f, "{rule}({p})"),
            Reason::DefaultConversation | Reason::OpenQuestion => f.write_str(rule),
        }
    }
}

impl fmt::Display for Route {
    /// `perplexity  reasons: time_sensitive("today"), live_topic("weather")`,
    /// or `undecided (fallback openai)  reasons: open_question`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome {
            Outcome::Undecided => write!(f, "undecided (fallback {})  reasons: ", self.provider)?,
            _ => write!(f, "{}  reasons: ", self.provider)?,
        }
        for (i, reason) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{reason}")?;
        }
        Ok(())
    }
}

/// Decides who answers `text`, given the conversation's `history` (oldest first).
pub fn route(text: &str, history: &[Turn], config: &RouterConfig) -> Route {
    let (explicit, question) = markup::split_explicit(text);
    let requested = explicit.map(|e| e.provider);
    let (outcome, provider, reasons) = match policy(requested, config) {
        Some((provider, reasons)) => (Outcome::decided(provider), provider, reasons),
        None => match explicit {
            Some(e) => (
                Outcome::decided(e.provider),
                e.provider,
                vec![Reason::Explicit(e.prefix.to_string())],
            ),
            None => smart(question, history, config),
        },
    };
    Route {
        outcome,
        provider,
        reasons,
        question: question.to_string(),
    }
}

/// Routing for a slash command that names its provider (`/search`, `/chat`):
/// the command beats the content rules, but not MODE or a missing provider.
pub fn forced(provider: ProviderKind, text: &str, config: &RouterConfig) -> Route {
    let command = match provider {
        ProviderKind::Perplexity => "/search",
        ProviderKind::OpenAi => "/chat",
    };
    let (provider, reasons) = policy(Some(provider), config)
        .unwrap_or_else(|| (provider, vec![Reason::Explicit(command.to_string())]));
    Route {
        outcome: Outcome::decided(provider),
        provider,
        reasons,
        question: text.trim().to_string(),
    }
}

type Decision = (ProviderKind, Vec<Reason>);

/// Decisions that do not depend on the message: one usable provider, or MODE.
fn policy(requested: Option<ProviderKind>, config: &RouterConfig) -> Option<Decision> {
    let only = match config.available {
        Mode::Hybrid => None,
        Mode::OpenAiOnly => Some(ProviderKind::OpenAi),
        Mode::PerplexityOnly => Some(ProviderKind::Perplexity),
    };
    let forced = match config.mode {
        RoutingMode::Smart => None,
        RoutingMode::OpenAi => Some(ProviderKind::OpenAi),
        RoutingMode::Perplexity => Some(ProviderKind::Perplexity),
    };
    match (only, forced) {
        (None, None) => None,
        (None, Some(forced)) => Some((forced, vec![Reason::Forced(forced)])),
        (Some(only), forced) => {
            let mut reasons = Vec::with_capacity(2);
            if let Some(wanted) = forced.or(requested).filter(|&p| p != only) {
                reasons.push(Reason::Unavailable(wanted));
            }
            reasons.push(Reason::OnlyProvider(only));
            Some((only, reasons))
        }
    }
}

/// The content rules, for when both providers are usable and nothing is forced.
fn smart(question: &str, history: &[Turn], config: &RouterConfig) -> (Outcome, ProviderKind, Vec<Reason>) {
    use ProviderKind::{OpenAi, Perplexity};
    let decided = |(provider, reasons): Decision| (Outcome::decided(provider), provider, reasons);
    let stripped = markup::strip_markup(question);
    let text = stripped.trim();
    if text.is_empty() {
        return decided((OpenAi, vec![Reason::DefaultConversation]));
    }
    let lower = text.to_lowercase();
    let signals = Signals::scan(text, &lower, config);
    if signals.has_strong() {
        return decided((Perplexity, signals.into_reasons()));
    }
    if let Some(chat) = web::chat_intent(&lower, &config.chat_keywords) {
        return decided((OpenAi, vec![chat]));
    }
    if signals.time_only()
        && let Some(word) = web::personal(&lower)
    {
        let mut reasons = vec![Reason::Personal(word.to_string())];
        reasons.extend(signals.into_reasons());
        return (Outcome::Undecided, OpenAi, reasons);
    }
    if !signals.is_empty() {
        return decided((Perplexity, signals.into_reasons()));
    }
    if follow_up::is_follow_up(&lower)
        && let Some(provider) = follow_up::anchor(history, config.lookback_messages)
    {
        return decided((provider, vec![Reason::FollowUp { provider }]));
    }
    if let Some(name) = entity::named_entity(text, &lower, config.entity_min_words) {
        return (Outcome::Undecided, Perplexity, vec![Reason::Entity(name)]);
    }
    if entity::is_question(&lower) {
        return (Outcome::Undecided, OpenAi, vec![Reason::OpenQuestion]);
    }
    decided((OpenAi, vec![Reason::DefaultConversation]))
}
