//! `[Default]`: the providers (OpenAI or a compatible server, Perplexity),
//! token budgets and the system prompt. A change of a provider key rebuilds
//! the provider clients on reload; the prompt keys apply live.

use super::attachments::{VISION, VISION_MODELS};
use super::parse::to_usize;
use super::pool::{self, PoolConfig};
use super::reader::Reader;
use super::settings::{CHAT_MODELS, USER_MODEL_CHOICE};
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass, names};
use crate::secret::Secret;

const S: &str = "Default";
const PROVIDER: ReloadClass = ReloadClass::RebuildProviders;

/// `OPENAI_TOKEN_LIMIT_FIELD`: which request field carries OUTPUT_TOKENS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimitField {
    MaxCompletionTokens,
    MaxTokens,
}

impl TokenLimitField {
    const CHOICES: [(&'static str, Self); 2] = [
        ("max_completion_tokens", Self::MaxCompletionTokens),
        ("max_tokens", Self::MaxTokens),
    ];
    const NAMES: [&'static str; 2] = names(&Self::CHOICES);
}

/// `PERPLEXITY_API`: which Perplexity endpoint shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerplexityApi {
    /// `POST /v1/agent` (Responses shape); the supported API.
    Agent,
    /// Legacy Sonar chat completions, for proxies and old deployments.
    Sonar,
}

impl PerplexityApi {
    const CHOICES: [(&'static str, Self); 2] = [("agent", Self::Agent), ("sonar", Self::Sonar)];
    const NAMES: [&'static str; 2] = names(&Self::CHOICES);
}

/// `OPENAI_API`: which OpenAI endpoint shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAiApi {
    /// Responses on OpenAI's own API, chat completions everywhere else.
    Auto,
    /// `POST /responses`.
    Responses,
    /// `POST /chat/completions`, which every compatible server speaks.
    Chat,
}

impl OpenAiApi {
    const CHOICES: [(&'static str, Self); 3] = [
        ("auto", Self::Auto),
        ("responses", Self::Responses),
        ("chat", Self::Chat),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

pub const OPENAI_API_KEY: KeySpec = KeySpec::new(
    S,
    "OPENAI_API_KEY",
    "",
    Kind::Secret,
    "OpenAI (or compatible server) API key; not needed for a local server.",
)
.reload(PROVIDER);
pub const OPENAI_API_URL: KeySpec = KeySpec::new(
    S,
    "OPENAI_API_URL",
    "https://api.openai.com/v1/",
    Kind::Url,
    "Base URL of the OpenAI-compatible API.",
)
.reload(PROVIDER);
pub const GPT_MODEL: KeySpec = KeySpec::new(
    S,
    "GPT_MODEL",
    "gpt-5-mini",
    Kind::Text,
    "Model for conversation.",
)
.reload(PROVIDER);
pub const OPENAI_TOKEN_LIMIT_FIELD: KeySpec = KeySpec::new(
    S,
    "OPENAI_TOKEN_LIMIT_FIELD",
    "max_completion_tokens",
    Kind::Choice(&TokenLimitField::NAMES),
    "Request field that carries OUTPUT_TOKENS; max_tokens for servers that only know that one (Ollama, vLLM, LM Studio).",
)
.reload(PROVIDER);
pub const OPENAI_REASONING_EFFORT: KeySpec = KeySpec::new(
    S,
    "OPENAI_REASONING_EFFORT",
    "",
    Kind::OptChoice(&["none", "minimal", "low", "medium", "high", "xhigh", "max"]),
    "Sent as reasoning_effort when set; checked against GPT_MODEL's family (gpt-5: minimal-high; gpt-5.1: none-high; gpt-5.2 and later: none-xhigh; pro: high).",
)
.reload(PROVIDER);
// --- OPENAI_VERBOSITY (issue 12) ---
pub const OPENAI_VERBOSITY: KeySpec = KeySpec::new(
    S,
    "OPENAI_VERBOSITY",
    "",
    Kind::OptChoice(&["low", "medium", "high"]),
    "How long GPT-5 answers are (verbosity, or text.verbosity on the Responses API); the model's default when empty.",
)
.reload(PROVIDER);
// --- end OPENAI_VERBOSITY ---
pub const OPENAI_API: KeySpec = KeySpec::new(
    S,
    "OPENAI_API",
    "auto",
    Kind::Choice(&OpenAiApi::NAMES),
    "responses (POST /responses), chat (POST /chat/completions) or auto: responses on api.openai.com, chat for every other server.",
)
.reload(PROVIDER);
pub const PERPLEXITY_API_KEY: KeySpec = KeySpec::new(
    S,
    "PERPLEXITY_API_KEY",
    "",
    Kind::Secret,
    "Perplexity API key; without it web questions go to OpenAI.",
)
.reload(PROVIDER);
pub const PERPLEXITY_API_URL: KeySpec = KeySpec::new(
    S,
    "PERPLEXITY_API_URL",
    "https://api.perplexity.ai",
    Kind::Url,
    "Base URL of the Perplexity API.",
)
.reload(PROVIDER);
pub const PERPLEXITY_MODEL: KeySpec = KeySpec::new(
    S,
    "PERPLEXITY_MODEL",
    "perplexity/sonar",
    Kind::Text,
    "Agent API model; legacy names sonar, sonar-pro, sonar-reasoning-pro are mapped.",
)
.reload(PROVIDER);
pub const PERPLEXITY_PRESET: KeySpec = KeySpec::new(
    S,
    "PERPLEXITY_PRESET",
    "",
    Kind::OptChoice(&[
        "fast",
        "low",
        "medium",
        "high",
        "xhigh",
        "fast-search",
        "pro-search",
        "deep-research",
        "advanced-deep-research",
    ]),
    "Agent API preset; replaces PERPLEXITY_MODEL when set (the four older names are mapped).",
)
.reload(PROVIDER);
pub const PERPLEXITY_API: KeySpec = KeySpec::new(
    S,
    "PERPLEXITY_API",
    "agent",
    Kind::Choice(&PerplexityApi::NAMES),
    "agent (POST /v1/agent) or sonar (legacy chat completions, for proxies and old deployments).",
)
.reload(PROVIDER);
pub const INPUT_TOKENS: KeySpec = KeySpec::new(
    S,
    "INPUT_TOKENS",
    "120000",
    Kind::Uint {
        min: 256,
        max: 10_000_000,
    },
    "Most prompt tokens sent to a provider; older history is trimmed to fit.",
);
pub const OUTPUT_TOKENS: KeySpec = KeySpec::new(
    S,
    "OUTPUT_TOKENS",
    "8000",
    Kind::Uint {
        min: 16,
        max: 10_000_000,
    },
    "Most tokens a reply may use.",
)
.reload(PROVIDER);
pub const CONTEXT_WINDOW: KeySpec = KeySpec::new(
    S,
    "CONTEXT_WINDOW",
    "128000",
    Kind::Uint {
        min: 512,
        max: 10_000_000,
    },
    "The model's context window; the prompt is kept under CONTEXT_WINDOW - OUTPUT_TOKENS too.",
);
pub const SYSTEM_MESSAGE: KeySpec = KeySpec::new(
    S,
    "SYSTEM_MESSAGE",
    "You are duet, a friendly and concise assistant in a Discord server. Today is {date}.",
    Kind::Text,
    "System prompt for both providers; {date} and {time} are filled in.",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Providers: OpenAI (or any OpenAI-compatible server) for conversation, Perplexity for web answers.",
    keys: &[
        OPENAI_API_KEY,
        OPENAI_API_URL,
        GPT_MODEL,
        CHAT_MODELS,
        USER_MODEL_CHOICE,
        OPENAI_TOKEN_LIMIT_FIELD,
        OPENAI_REASONING_EFFORT,
        OPENAI_VERBOSITY,
        OPENAI_API,
        PERPLEXITY_API_KEY,
        PERPLEXITY_API_URL,
        PERPLEXITY_MODEL,
        PERPLEXITY_PRESET,
        PERPLEXITY_API,
        INPUT_TOKENS,
        OUTPUT_TOKENS,
        CONTEXT_WINDOW,
        SYSTEM_MESSAGE,
        VISION,
        VISION_MODELS,
    ],
};

/// OpenAI (or compatible) settings from `[Default]` and `[ConnectionPool]`.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub api_key: Option<Secret>,
    pub base_url: url::Url,
    pub model: String,
    pub token_limit_field: TokenLimitField,
    pub reasoning_effort: Option<String>,
    /// `OPENAI_VERBOSITY`: `low`, `medium` or `high`; `None` leaves the model's default.
    pub verbosity: Option<String>,
    pub api: OpenAiApi,
    pub pool: PoolConfig,
}

impl OpenAiConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            api_key: r.secret(&OPENAI_API_KEY),
            base_url: r.url(&OPENAI_API_URL),
            model: r.text(&GPT_MODEL).trim().to_string(),
            token_limit_field: r.choice(&OPENAI_TOKEN_LIMIT_FIELD, &TokenLimitField::CHOICES),
            reasoning_effort: r.opt_choice(&OPENAI_REASONING_EFFORT),
            verbosity: r.opt_choice(&OPENAI_VERBOSITY),
            api: r.choice(&OPENAI_API, &OpenAiApi::CHOICES),
            pool: PoolConfig::read(r, &pool::OPENAI),
        }
    }

    /// Usable with a key, or without one when the server is local.
    pub fn is_usable(&self) -> bool {
        self.api_key.is_some() || is_local_url(&self.base_url)
    }

    /// Whether requests go to the Responses API (`OPENAI_API`, with `auto`
    /// resolved against the base URL's host).
    pub fn uses_responses(&self) -> bool {
        match self.api {
            OpenAiApi::Responses => true,
            OpenAiApi::Chat => false,
            OpenAiApi::Auto => self.is_openai_host(),
        }
    }

    /// True when `OPENAI_API_URL` is OpenAI's own API.
    pub fn is_openai_host(&self) -> bool {
        self.base_url.host_str() == Some("api.openai.com")
    }
}

/// Perplexity settings from `[Default]` and `[ConnectionPool]`.
#[derive(Debug, Clone)]
pub struct PerplexityConfig {
    pub api_key: Option<Secret>,
    pub base_url: url::Url,
    pub model: String,
    pub preset: Option<String>,
    pub api: PerplexityApi,
    pub pool: PoolConfig,
}

impl PerplexityConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            api_key: r.secret(&PERPLEXITY_API_KEY),
            base_url: r.url(&PERPLEXITY_API_URL),
            model: r.text(&PERPLEXITY_MODEL).trim().to_string(),
            preset: r.opt_choice(&PERPLEXITY_PRESET),
            api: r.choice(&PERPLEXITY_API, &PerplexityApi::CHOICES),
            pool: PoolConfig::read(r, &pool::PERPLEXITY),
        }
    }

    /// Usable with a key, or without one when the server is local.
    pub fn is_usable(&self) -> bool {
        self.api_key.is_some() || is_local_url(&self.base_url)
    }
}

/// True for loopback, private-network and single-label hosts (`ollama`).
pub fn is_local_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name == "localhost" || name.ends_with(".localhost") || !name.contains('.')
        }
        None => false,
    }
}

/// Token budgets and the system prompt, from `[Default]`.
#[derive(Debug, Clone)]
pub struct PromptConfig {
    pub input_tokens: usize,
    pub output_tokens: usize,
    pub context_window: usize,
    pub system_message: String,
}

impl PromptConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        let prompt = Self {
            input_tokens: to_usize(r.uint(&INPUT_TOKENS)),
            output_tokens: to_usize(r.uint(&OUTPUT_TOKENS)),
            context_window: to_usize(r.uint(&CONTEXT_WINDOW)),
            system_message: r.text(&SYSTEM_MESSAGE),
        };
        if prompt.output_tokens >= prompt.context_window {
            // Blame whichever of the two the operator set, so the error has a line.
            let explicit = r
                .values
                .get(&(S, OUTPUT_TOKENS.key))
                .is_some_and(|v| v.source != super::issue::ValueSource::Default);
            let (key, message) = if explicit {
                (
                    &OUTPUT_TOKENS,
                    format!(
                        "must be smaller than CONTEXT_WINDOW ({}) so the prompt has room",
                        prompt.context_window
                    ),
                )
            } else {
                (
                    &CONTEXT_WINDOW,
                    format!(
                        "must be larger than OUTPUT_TOKENS ({}) so the prompt has room",
                        prompt.output_tokens
                    ),
                )
            };
            r.error(key, message);
        }
        prompt
    }

    /// Most tokens the prompt (system + history + question) may use.
    pub fn prompt_budget(&self) -> usize {
        self.input_tokens
            .min(self.context_window.saturating_sub(self.output_tokens))
    }
}
