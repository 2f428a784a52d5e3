//! The typed sections of [`super::Config`], each read from its keys.

use std::path::PathBuf;
use std::time::Duration;

use super::reader::Reader;
use crate::secret::Secret;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Online,
    Idle,
    DoNotDisturb,
    Invisible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Playing,
    Streaming,
    Listening,
    Watching,
    Competing,
}

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
}

impl DiscordConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Discord";
        Self {
            token: r.secret(S, "DISCORD_TOKEN"),
            allowed_channels: r.list(S, "ALLOWED_CHANNELS"),
            allowed_channel_ids: r.ids(S, "ALLOWED_CHANNEL_IDS"),
            reply_all_channel_ids: r.ids(S, "REPLY_ALL_CHANNEL_IDS"),
            allow_dms: r.boolean(S, "ALLOW_DMS"),
            allowed_user_ids: r.ids(S, "ALLOWED_USER_IDS"),
            blocked_user_ids: r.ids(S, "BLOCKED_USER_IDS"),
            allowed_role_ids: r.ids(S, "ALLOWED_ROLE_IDS"),
            admin_user_ids: r.ids(S, "ADMIN_USER_IDS"),
            presence: r.choice(
                S,
                "BOT_PRESENCE",
                &[
                    ("online", Presence::Online),
                    ("idle", Presence::Idle),
                    ("dnd", Presence::DoNotDisturb),
                    ("invisible", Presence::Invisible),
                ],
            ),
            activity_type: r.choice(
                S,
                "ACTIVITY_TYPE",
                &[
                    ("playing", ActivityKind::Playing),
                    ("streaming", ActivityKind::Streaming),
                    ("listening", ActivityKind::Listening),
                    ("watching", ActivityKind::Watching),
                    ("competing", ActivityKind::Competing),
                ],
            ),
            activity_status: r.opt_string(S, "ACTIVITY_STATUS"),
            stream_replies: r.boolean(S, "STREAM_REPLIES"),
            stream_edit_interval: Duration::from_millis(r.uint(
                S,
                "STREAM_EDIT_INTERVAL_MS",
                200..=60_000,
            )),
            command_guild_ids: r.ids(S, "COMMAND_GUILD_IDS"),
            api_base_url: r.opt_url(S, "API_BASE_URL"),
        }
    }
}

/// `[ConnectionPool] <PREFIX>_HTTP2`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http2Mode {
    /// Negotiate with ALPN over TLS; HTTP/1.1 over plain HTTP.
    Auto,
    /// HTTP/2 with prior knowledge (also h2c).
    Always,
    /// HTTP/1.1 only.
    Never,
}

/// One provider's `[ConnectionPool]` keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub max_connections: usize,
    pub max_keepalive: usize,
    pub keepalive_expiry: Duration,
    pub tcp_keepalive: Duration,
    pub pool_timeout: Duration,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub request_timeout: Duration,
    pub http2: Http2Mode,
    pub warmup: bool,
    pub max_retries: u32,
    pub requests_per_minute: u32,
}

impl PoolConfig {
    /// Reads the keys `<prefix>_MAX_CONNECTIONS` and friends.
    fn read(r: &mut Reader, prefix: &str) -> Self {
        const S: &str = "ConnectionPool";
        // Keys are `&'static str` in the schema; look the prefixed name up there.
        let k = |name: &str| -> &'static str {
            let full = format!("{prefix}_{name}");
            super::schema::find(S, &full)
                .expect("pool key in schema")
                .key
        };
        Self {
            max_connections: r.uint(S, k("MAX_CONNECTIONS"), 1..=10_000) as usize,
            max_keepalive: r.uint(S, k("MAX_KEEPALIVE"), 0..=10_000) as usize,
            keepalive_expiry: r.duration(S, k("KEEPALIVE_EXPIRY"), DAY),
            tcp_keepalive: r.duration(S, k("TCP_KEEPALIVE"), DAY),
            pool_timeout: r.duration(S, k("POOL_TIMEOUT"), HOUR),
            connect_timeout: r.duration(S, k("CONNECT_TIMEOUT"), HOUR),
            read_timeout: r.duration(S, k("READ_TIMEOUT"), HOUR),
            request_timeout: r.duration(S, k("REQUEST_TIMEOUT"), HOUR),
            http2: r.choice(
                S,
                k("HTTP2"),
                &[
                    ("auto", Http2Mode::Auto),
                    ("always", Http2Mode::Always),
                    ("never", Http2Mode::Never),
                ],
            ),
            warmup: r.boolean(S, k("WARMUP")),
            max_retries: r.uint(S, k("MAX_RETRIES"), 0..=10) as u32,
            requests_per_minute: r.uint(S, k("RPM"), 1..=1_000_000) as u32,
        }
    }
}

/// `OPENAI_TOKEN_LIMIT_FIELD`: which request field carries OUTPUT_TOKENS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLimitField {
    MaxCompletionTokens,
    MaxTokens,
}

/// OpenAI (or compatible) settings from `[Default]` and `[ConnectionPool]`.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub api_key: Option<Secret>,
    pub base_url: url::Url,
    pub model: String,
    pub token_limit_field: TokenLimitField,
    pub reasoning_effort: Option<String>,
    pub pool: PoolConfig,
}

impl OpenAiConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Default";
        Self {
            api_key: r.secret(S, "OPENAI_API_KEY"),
            base_url: r.url(S, "OPENAI_API_URL"),
            model: r.string(S, "GPT_MODEL").trim().to_string(),
            token_limit_field: r.choice(
                S,
                "OPENAI_TOKEN_LIMIT_FIELD",
                &[
                    (
                        "max_completion_tokens",
                        TokenLimitField::MaxCompletionTokens,
                    ),
                    ("max_tokens", TokenLimitField::MaxTokens),
                ],
            ),
            reasoning_effort: r.opt_string(S, "OPENAI_REASONING_EFFORT"),
            pool: PoolConfig::read(r, "OPENAI"),
        }
    }

    /// Usable with a key, or without one when the server is local.
    pub fn is_usable(&self) -> bool {
        self.api_key.is_some() || is_local_url(&self.base_url)
    }
}

/// `PERPLEXITY_API`: which Perplexity endpoint shape to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerplexityApi {
    /// `POST /v1/agent` (Responses shape); the supported API.
    Agent,
    /// Legacy Sonar chat completions, for proxies and old deployments.
    Sonar,
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
        const S: &str = "Default";
        Self {
            api_key: r.secret(S, "PERPLEXITY_API_KEY"),
            base_url: r.url(S, "PERPLEXITY_API_URL"),
            model: r.string(S, "PERPLEXITY_MODEL").trim().to_string(),
            preset: r.opt_string(S, "PERPLEXITY_PRESET"),
            api: r.choice(
                S,
                "PERPLEXITY_API",
                &[
                    ("agent", PerplexityApi::Agent),
                    ("sonar", PerplexityApi::Sonar),
                ],
            ),
            pool: PoolConfig::read(r, "PERPLEXITY"),
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
        const S: &str = "Default";
        Self {
            input_tokens: r.uint(S, "INPUT_TOKENS", 256..=10_000_000) as usize,
            output_tokens: r.uint(S, "OUTPUT_TOKENS", 16..=10_000_000) as usize,
            context_window: r.uint(S, "CONTEXT_WINDOW", 512..=10_000_000) as usize,
            system_message: r.string(S, "SYSTEM_MESSAGE"),
        }
    }

    /// Most tokens the prompt (system + history + question) may use.
    pub fn prompt_budget(&self) -> usize {
        self.input_tokens
            .min(self.context_window.saturating_sub(self.output_tokens))
    }
}

/// `[Limits]`
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    pub rate_limit: u32,
    pub rate_limit_per: Duration,
    pub max_queued_per_conversation: usize,
    pub max_concurrent_turns: usize,
    pub user_daily_tokens: u64,
}

impl LimitsConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Limits";
        Self {
            rate_limit: r.uint(S, "RATE_LIMIT", 1..=100_000) as u32,
            rate_limit_per: Duration::from_secs(r.uint(S, "RATE_LIMIT_PER", 1..=86_400)),
            max_queued_per_conversation: r.uint(S, "MAX_QUEUED_PER_CONVERSATION", 1..=1000)
                as usize,
            max_concurrent_turns: r.uint(S, "MAX_CONCURRENT_TURNS", 1..=100_000) as usize,
            user_daily_tokens: r.uint(S, "USER_DAILY_TOKENS", 0..=u64::from(u32::MAX) * 1000),
        }
    }
}

/// `[Orchestrator]`
#[derive(Debug, Clone, PartialEq)]
pub struct OrchestratorConfig {
    pub lookback_messages: usize,
    pub max_history: usize,
    pub cleanup_interval: Duration,
    pub entity_min_words: usize,
    pub shutdown_grace: Duration,
}

impl OrchestratorConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Orchestrator";
        Self {
            lookback_messages: r.uint(S, "LOOKBACK_MESSAGES_FOR_CONSISTENCY", 0..=1000) as usize,
            max_history: r.uint(S, "MAX_HISTORY_PER_USER", 2..=10_000) as usize,
            cleanup_interval: Duration::from_secs(r.uint(
                S,
                "USER_LOCK_CLEANUP_INTERVAL",
                1..=604_800,
            )),
            entity_min_words: r.uint(S, "ENTITY_DETECTION_MIN_WORDS", 0..=1000) as usize,
            shutdown_grace: Duration::from_secs(r.uint(S, "SHUTDOWN_GRACE_SECS", 0..=3600)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBackend {
    Sqlite,
    Memory,
}

/// `[Memory] MEMORY_SCOPE`: what one conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryScope {
    /// One history per user everywhere (the older bot's behaviour).
    User,
    /// One per user per channel (a DM, each thread and each channel apart).
    UserChannel,
    /// One per channel, shared by everyone in it.
    Channel,
}

/// `[Memory]`
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryConfig {
    pub backend: MemoryBackend,
    pub database_path: PathBuf,
    pub scope: MemoryScope,
    /// `None` keeps conversations forever.
    pub ttl: Option<Duration>,
    pub cache_conversations: usize,
}

impl MemoryConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Memory";
        let ttl = r.duration(S, "MEMORY_TTL", DAY * 3650);
        Self {
            backend: r.choice(
                S,
                "MEMORY_BACKEND",
                &[
                    ("sqlite", MemoryBackend::Sqlite),
                    ("memory", MemoryBackend::Memory),
                ],
            ),
            database_path: PathBuf::from(r.string(S, "DATABASE_PATH").trim()),
            scope: r.choice(
                S,
                "MEMORY_SCOPE",
                &[
                    ("user_channel", MemoryScope::UserChannel),
                    ("user", MemoryScope::User),
                    ("channel", MemoryScope::Channel),
                ],
            ),
            ttl: Some(ttl).filter(|d| !d.is_zero()),
            cache_conversations: r.uint(S, "MEMORY_CACHE_CONVERSATIONS", 1..=10_000_000) as usize,
        }
    }
}

/// `[Routing] MODE`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingMode {
    Smart,
    OpenAi,
    Perplexity,
}

/// `[Routing]`
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingConfig {
    pub mode: RoutingMode,
    pub search_keywords: Vec<String>,
    pub chat_keywords: Vec<String>,
    pub reroute_cannot_browse: bool,
}

impl RoutingConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Routing";
        Self {
            mode: r.choice(
                S,
                "MODE",
                &[
                    ("smart", RoutingMode::Smart),
                    ("openai", RoutingMode::OpenAi),
                    ("perplexity", RoutingMode::Perplexity),
                ],
            ),
            search_keywords: r
                .list(S, "SEARCH_KEYWORDS")
                .into_iter()
                .map(|k| k.to_lowercase())
                .collect(),
            chat_keywords: r
                .list(S, "CHAT_KEYWORDS")
                .into_iter()
                .map(|k| k.to_lowercase())
                .collect(),
            reroute_cannot_browse: r.boolean(S, "REROUTE_CANNOT_BROWSE"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `[Logging]`
#[derive(Debug, Clone, PartialEq)]
pub struct LoggingConfig {
    pub file: Option<PathBuf>,
    /// Lowercase tracing level: trace, debug, info, warn or error.
    pub level: &'static str,
    pub format: LogFormat,
    pub message_content: bool,
}

impl LoggingConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Logging";
        Self {
            file: r.opt_string(S, "LOG_FILE").map(PathBuf::from),
            level: r.choice(
                S,
                "LOG_LEVEL",
                &[
                    ("trace", "trace"),
                    ("debug", "debug"),
                    ("info", "info"),
                    ("warn", "warn"),
                    ("warning", "warn"),
                    ("error", "error"),
                    ("critical", "error"),
                ],
            ),
            format: r.choice(
                S,
                "LOG_FORMAT",
                &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
            ),
            message_content: r.boolean(S, "LOG_MESSAGE_CONTENT"),
        }
    }
}

/// `[Health]`
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
}

impl HealthConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        const S: &str = "Health";
        let host = r.string(S, "HEALTH_HOST").trim().to_string();
        if host != "localhost" && host.parse::<std::net::IpAddr>().is_err() {
            r.error(
                S,
                "HEALTH_HOST",
                format!("{host:?} is not an IP address or localhost"),
            );
        }
        Self {
            enabled: r.boolean(S, "HEALTH_ENABLED"),
            host,
            port: r.uint(S, "HEALTH_PORT", 0..=65_535) as u16,
        }
    }
}
