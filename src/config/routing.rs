//! `[Routing]`: which provider answers a message.

use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass, names};

const S: &str = "Routing";

/// `[Routing] MODE`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingMode {
    Smart,
    OpenAi,
    Perplexity,
}

impl RoutingMode {
    const CHOICES: [(&'static str, Self); 3] = [
        ("smart", Self::Smart),
        ("openai", Self::OpenAi),
        ("perplexity", Self::Perplexity),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

/// `[Routing] WEB_PROVIDER`: who answers web questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebProviderChoice {
    Auto,
    Perplexity,
    OpenAi,
}

impl WebProviderChoice {
    const CHOICES: [(&'static str, Self); 3] = [
        ("auto", Self::Auto),
        ("perplexity", Self::Perplexity),
        ("openai", Self::OpenAi),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

/// Who answers web questions, once `WEB_PROVIDER` is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebBackend {
    /// Perplexity's API (Agent or legacy Sonar).
    Perplexity,
    /// OpenAI's Responses API with the built-in `web_search` tool.
    OpenAiWebSearch,
}

impl WebBackend {
    /// The name `/health` and `duet route` show.
    pub fn as_str(self) -> &'static str {
        match self {
            WebBackend::Perplexity => "perplexity",
            WebBackend::OpenAiWebSearch => "openai_web_search",
        }
    }
}

/// `[Routing] WEB_TOOL`: whether undecided messages offer the chat model
/// the `search_web` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebTool {
    /// Offer it until the chat server refuses tools, then remember that.
    #[default]
    Auto,
    /// Offer it on every undecided message, even after a refusal.
    On,
    /// Never offer it: undecided messages take the heuristic's guess.
    Off,
}

impl WebTool {
    const CHOICES: [(&'static str, Self); 3] =
        [("auto", Self::Auto), ("on", Self::On), ("off", Self::Off)];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

pub const MODE: KeySpec = KeySpec::new(
    S,
    "MODE",
    "smart",
    Kind::Choice(&RoutingMode::NAMES),
    "smart (route each message), openai or perplexity (always that provider).",
);
pub const SEARCH_KEYWORDS: KeySpec = KeySpec::new(
    S,
    "SEARCH_KEYWORDS",
    "",
    Kind::List,
    "Extra words that send a message to web search, comma-separated.",
);
pub const CHAT_KEYWORDS: KeySpec = KeySpec::new(
    S,
    "CHAT_KEYWORDS",
    "",
    Kind::List,
    "Extra words that keep a message in conversation, comma-separated.",
);
pub const REROUTE_CANNOT_BROWSE: KeySpec = KeySpec::new(
    S,
    "REROUTE_CANNOT_BROWSE",
    "true",
    Kind::Bool,
    "Re-ask Perplexity when OpenAI says it cannot browse or lacks current data.",
);

pub const WEB_PROVIDER: KeySpec = KeySpec::new(
    S,
    "WEB_PROVIDER",
    "auto",
    Kind::Choice(&WebProviderChoice::NAMES),
    "Who answers web questions: perplexity, openai (Responses API with web_search) or auto: Perplexity when usable, else OpenAI when it speaks the Responses API on api.openai.com.",
)
.reload(ReloadClass::RebuildProviders);
pub const WEB_TOOL: KeySpec = KeySpec::new(
    S,
    "WEB_TOOL",
    "auto",
    Kind::Choice(&WebTool::NAMES),
    "Undecided messages go to the chat model with a search_web tool; if it calls it, the web provider answers. auto: until the server refuses tools (a 400 naming tools), remembered for the process; on: always offer; off: never (the heuristic's guess answers).",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Which provider answers a message.",
    keys: &[
        MODE,
        SEARCH_KEYWORDS,
        CHAT_KEYWORDS,
        REROUTE_CANNOT_BROWSE,
        WEB_PROVIDER,
        WEB_TOOL,
    ],
};

/// `[Routing]`
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingConfig {
    pub mode: RoutingMode,
    pub search_keywords: Vec<String>,
    pub chat_keywords: Vec<String>,
    pub reroute_cannot_browse: bool,
    pub web_provider: WebProviderChoice,
    pub web_tool: WebTool,
}

impl RoutingConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let lowercase = |words: Vec<String>| words.into_iter().map(|k| k.to_lowercase()).collect();
        Self {
            mode: r.choice(&MODE, &RoutingMode::CHOICES),
            search_keywords: lowercase(r.list(&SEARCH_KEYWORDS)),
            chat_keywords: lowercase(r.list(&CHAT_KEYWORDS)),
            reroute_cannot_browse: r.boolean(&REROUTE_CANNOT_BROWSE),
            web_provider: r.choice(&WEB_PROVIDER, &WebProviderChoice::CHOICES),
            web_tool: r.choice(&WEB_TOOL, &WebTool::CHOICES),
        }
    }
}
