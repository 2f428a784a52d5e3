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
//! 4. **Strong web signals** → web: a URL (with a scheme, or a bare
//!    domain with a real TLD that is not a file name, see `links`), explicit
//!    search intent ("look up …", "check the web for …", "find me reviews of
//!    …", "search for …"), release and event questions ("what's new in …",
//!    "what are people saying about …", "has the new … been announced / out
//!    yet", "when is the next …", "what's playing / showing now"), or a
//!    `[Routing] SEARCH_KEYWORDS` word.
//! 5. **Conversation intent** → chat: creative writing, coding help (any
//!    backtick), small talk about the bot, explanations and comparisons
//!    ("explain …", "difference between"), or a `[Routing] CHAT_KEYWORDS`
//!    word. This beats the weaker signals below ("write a poem about the weather").
//! 6. **A time word in a personal message** → undecided, guess chat
//!    (`personal`): "I feel a bit down today", "what should I cook tonight".
//! 7. **Weak web signals** → web: time sensitivity ("today", "latest",
//!    "right now", a year from the current one up to ten years ahead), live
//!    topics (weather, scores, prices, news, exchange rates, elections, outages,
//!    leaks, stock) and stock tickers (`$NVDA`). Every category that matched
//!    is reported, each with its first match.
//! 8. **Follow-ups** ("tell me more", "why?", "what else", short messages
//!    starting with "and", "also", "what about", "how about") stay with the
//!    provider that answered the last substantive turn within
//!    `LOOKBACK_MESSAGES_FOR_CONSISTENCY` messages: a turn is two messages and
//!    counts when both fit, so 6 covers the last 3 turns and 0 or 1 turns the
//!    rule off. Turns whose question was only an acknowledgement ("thanks",
//!    "ok") are skipped, so "weather in Paris today?" → "thanks!" → "and in
//!    London?" still goes to Perplexity with a window of 4 or more.
//! 9. **Named entity** → undecided, guess web: a question (ends with `?`,
//!    starts with a question word, or "tell me about") of fewer than
//!    `ENTITY_DETECTION_MIN_WORDS` words that names a capitalised entity, see
//!    `entity`. 0 disables the rule.
//! 10. Any other question → undecided, guess chat (`open_question`); a
//!     statement → chat (`default_conversation`).
//!
//! # Outcomes
//! [`Outcome::Web`] and [`Outcome::Chat`] are decided. [`Outcome::Undecided`]
//! means no strong signal either way: the pipeline offers the chat model the
//! `search_web` tool (`[Routing] WEB_TOOL`), and [`Route::provider`] holds the
//! heuristic's guess, used when the tool cannot be offered and by
//! `duet route --eval` to score the heuristic alone (see [`eval`]).

mod decision;
mod entity;
pub mod eval;
mod follow_up;
mod links;
mod markup;
mod web;

#[cfg(test)]
mod tests;

use crate::chat::Turn;
use crate::config::{Config, Mode, RoutingMode};
use crate::providers::ProviderKind;

pub use decision::{Outcome, Reason, Route};
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

    /// The same rules as if both providers were usable (what `duet route`
    /// shows a one-provider setup would do with the other one).
    #[must_use]
    pub fn with_both_available(mut self) -> Self {
        self.available = Mode::Hybrid;
        self
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
fn smart(
    question: &str,
    history: &[Turn],
    config: &RouterConfig,
) -> (Outcome, ProviderKind, Vec<Reason>) {
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
