//! What the router decides: the [`Outcome`], the [`Route`] and the
//! [`Reason`]s, and how `duet route` shows them.

use std::fmt;

use serde::Serialize;

use crate::providers::ProviderKind;

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

    pub(super) fn decided(provider: ProviderKind) -> Self {
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
    /// The message has images, which only the chat model can see.
    Images,
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
            Reason::Images => "images",
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
            Reason::DefaultConversation | Reason::OpenQuestion | Reason::Images => {
                f.write_str(rule)
            }
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
