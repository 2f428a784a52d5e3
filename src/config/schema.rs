//! Every configuration key duet knows: its section, default and meaning.
//! This table is the single source for defaults, for unknown-key warnings and
//! for `check-config`; a test checks that `config.ini.example` and the README
//! document every key listed here.

/// One known key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub section: &'static str,
    pub key: &'static str,
    pub default: &'static str,
    pub secret: bool,
    /// Extra environment variable names accepted besides the key itself.
    pub env_aliases: &'static [&'static str],
    pub doc: &'static str,
}

const fn key(
    section: &'static str,
    key: &'static str,
    default: &'static str,
    doc: &'static str,
) -> KeySpec {
    KeySpec {
        section,
        key,
        default,
        secret: false,
        env_aliases: &[],
        doc,
    }
}

const fn secret(section: &'static str, key: &'static str, doc: &'static str) -> KeySpec {
    KeySpec {
        section,
        key,
        default: "",
        secret: true,
        env_aliases: &[],
        doc,
    }
}

/// Section names in the order `check-config` prints them.
pub const SECTIONS: &[&str] = &[
    "Discord",
    "Default",
    "Limits",
    "ConnectionPool",
    "Orchestrator",
    "Memory",
    "Routing",
    "Logging",
    "Health",
];

pub const KEYS: &[KeySpec] = &[
    // [Discord]
    secret(
        "Discord",
        "DISCORD_TOKEN",
        "Bot token from the Discord developer portal (required for `run`).",
    ),
    key(
        "Discord",
        "ALLOWED_CHANNELS",
        "",
        "Channel names where mentions are answered, comma-separated; empty = every channel.",
    ),
    key(
        "Discord",
        "ALLOWED_CHANNEL_IDS",
        "",
        "Channel ids where mentions are answered; wins over ALLOWED_CHANNELS when non-empty.",
    ),
    key(
        "Discord",
        "REPLY_ALL_CHANNEL_IDS",
        "",
        "Channel ids where every message is answered, mention or not.",
    ),
    key("Discord", "ALLOW_DMS", "true", "Answer direct messages."),
    key(
        "Discord",
        "ALLOWED_USER_IDS",
        "",
        "Only these users may talk to the bot; empty = everyone.",
    ),
    key(
        "Discord",
        "BLOCKED_USER_IDS",
        "",
        "These users are ignored.",
    ),
    key(
        "Discord",
        "ALLOWED_ROLE_IDS",
        "",
        "In servers, only members with one of these roles may talk to the bot; empty = everyone.",
    ),
    key(
        "Discord",
        "ADMIN_USER_IDS",
        "",
        "Users who bypass the allowlists and rate limits.",
    ),
    key(
        "Discord",
        "BOT_PRESENCE",
        "online",
        "online, idle, dnd or invisible.",
    ),
    key(
        "Discord",
        "ACTIVITY_TYPE",
        "listening",
        "playing, streaming, listening, watching or competing.",
    ),
    key(
        "Discord",
        "ACTIVITY_STATUS",
        "",
        "Activity text shown under the bot's name; empty = none.",
    ),
    key(
        "Discord",
        "STREAM_REPLIES",
        "true",
        "Show the reply while it is generated, editing the message as tokens arrive.",
    ),
    key(
        "Discord",
        "STREAM_EDIT_INTERVAL_MS",
        "1200",
        "Minimum milliseconds between two edits of a streamed message.",
    ),
    key(
        "Discord",
        "COMMAND_GUILD_IDS",
        "",
        "Register slash commands in these guilds (instant) instead of globally.",
    ),
    KeySpec {
        env_aliases: &["DISCORD_API_BASE_URL"],
        ..key(
            "Discord",
            "API_BASE_URL",
            "",
            "Send Discord REST calls here instead of https://discord.com (a REST proxy, or tests).",
        )
    },
    // [Default]
    secret(
        "Default",
        "OPENAI_API_KEY",
        "OpenAI (or compatible server) API key; not needed for a local server.",
    ),
    key(
        "Default",
        "OPENAI_API_URL",
        "https://api.openai.com/v1/",
        "Base URL of the OpenAI-compatible API.",
    ),
    key(
        "Default",
        "GPT_MODEL",
        "gpt-5-mini",
        "Model for conversation.",
    ),
    key(
        "Default",
        "OPENAI_TOKEN_LIMIT_FIELD",
        "max_completion_tokens",
        "max_completion_tokens, or max_tokens for servers that only know that one (Ollama, vLLM, LM Studio).",
    ),
    key(
        "Default",
        "OPENAI_REASONING_EFFORT",
        "",
        "Sent as reasoning_effort when set (none, minimal, low, medium, high, xhigh).",
    ),
    secret(
        "Default",
        "PERPLEXITY_API_KEY",
        "Perplexity API key; without it web questions go to OpenAI.",
    ),
    key(
        "Default",
        "PERPLEXITY_API_URL",
        "https://api.perplexity.ai",
        "Base URL of the Perplexity API.",
    ),
    key(
        "Default",
        "PERPLEXITY_MODEL",
        "perplexity/sonar",
        "Agent API model; legacy names sonar, sonar-pro, sonar-reasoning-pro are mapped.",
    ),
    key(
        "Default",
        "PERPLEXITY_PRESET",
        "",
        "Agent API preset (fast, low, medium, high, xhigh); replaces PERPLEXITY_MODEL when set.",
    ),
    key(
        "Default",
        "PERPLEXITY_API",
        "agent",
        "agent (POST /v1/agent) or sonar (legacy chat completions, for proxies and old deployments).",
    ),
    key(
        "Default",
        "INPUT_TOKENS",
        "120000",
        "Most prompt tokens sent to a provider; older history is trimmed to fit.",
    ),
    key(
        "Default",
        "OUTPUT_TOKENS",
        "8000",
        "Most tokens a reply may use.",
    ),
    key(
        "Default",
        "CONTEXT_WINDOW",
        "128000",
        "The model's context window; the prompt is kept under CONTEXT_WINDOW - OUTPUT_TOKENS too.",
    ),
    key(
        "Default",
        "SYSTEM_MESSAGE",
        "You are duet, a friendly and concise assistant in a Discord server. Today is {date}.",
        "System prompt for both providers; {date} and {time} are filled in.",
    ),
    // [Limits]
    key(
        "Limits",
        "RATE_LIMIT",
        "10",
        "Messages a user may send per RATE_LIMIT_PER seconds.",
    ),
    key(
        "Limits",
        "RATE_LIMIT_PER",
        "60",
        "Window of RATE_LIMIT, in seconds.",
    ),
    key(
        "Limits",
        "MAX_QUEUED_PER_CONVERSATION",
        "3",
        "Messages waiting in one conversation before the user is asked to wait.",
    ),
    key(
        "Limits",
        "MAX_CONCURRENT_TURNS",
        "200",
        "Turns in progress across all users before the bot answers \"busy\".",
    ),
    key(
        "Limits",
        "USER_DAILY_TOKENS",
        "0",
        "Tokens a user may spend per day (UTC); 0 = unlimited.",
    ),
    // [ConnectionPool]
    key(
        "ConnectionPool",
        "OPENAI_MAX_CONNECTIONS",
        "50",
        "Most requests in flight to OpenAI at once.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_MAX_KEEPALIVE",
        "10",
        "Idle connections kept open to OpenAI.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_KEEPALIVE_EXPIRY",
        "90",
        "Seconds an idle OpenAI connection is kept.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_TCP_KEEPALIVE",
        "60",
        "TCP keep-alive interval for OpenAI connections, in seconds.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_POOL_TIMEOUT",
        "5",
        "Seconds a request waits for a free OpenAI slot before failing.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_CONNECT_TIMEOUT",
        "10",
        "Seconds to open a connection to OpenAI.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_READ_TIMEOUT",
        "120",
        "Seconds to wait for data from OpenAI.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_REQUEST_TIMEOUT",
        "180",
        "Deadline in seconds for one OpenAI call, retries included.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_HTTP2",
        "auto",
        "auto (ALPN over TLS), always (prior knowledge, also h2c) or never.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_WARMUP",
        "true",
        "Open the OpenAI connection at start (GET /models) so bursts share it.",
    ),
    key(
        "ConnectionPool",
        "OPENAI_MAX_RETRIES",
        "3",
        "Retries of a failed OpenAI request (429, 5xx, connect errors).",
    ),
    key(
        "ConnectionPool",
        "OPENAI_RPM",
        "500",
        "Requests per minute sent to OpenAI.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_MAX_CONNECTIONS",
        "30",
        "Most requests in flight to Perplexity at once.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_MAX_KEEPALIVE",
        "5",
        "Idle connections kept open to Perplexity.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_KEEPALIVE_EXPIRY",
        "90",
        "Seconds an idle Perplexity connection is kept.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_TCP_KEEPALIVE",
        "60",
        "TCP keep-alive interval for Perplexity connections, in seconds.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_POOL_TIMEOUT",
        "5",
        "Seconds a request waits for a free Perplexity slot before failing.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_CONNECT_TIMEOUT",
        "10",
        "Seconds to open a connection to Perplexity.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_READ_TIMEOUT",
        "120",
        "Seconds to wait for data from Perplexity.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_REQUEST_TIMEOUT",
        "180",
        "Deadline in seconds for one Perplexity call, retries included.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_HTTP2",
        "auto",
        "auto (ALPN over TLS), always (prior knowledge, also h2c) or never.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_WARMUP",
        "true",
        "Open the Perplexity connection at start (GET /v1/models) so bursts share it.",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_MAX_RETRIES",
        "3",
        "Retries of a failed Perplexity request (429, 5xx, connect errors).",
    ),
    key(
        "ConnectionPool",
        "PERPLEXITY_RPM",
        "50",
        "Requests per minute sent to Perplexity.",
    ),
    key(
        "ConnectionPool",
        "TLS_CA_FILE",
        "",
        "Extra PEM root certificates to trust (corporate proxy, private CA).",
    ),
    // [Orchestrator]
    key(
        "Orchestrator",
        "LOOKBACK_MESSAGES_FOR_CONSISTENCY",
        "6",
        "Follow-ups stay with the provider that answered within this many recent messages.",
    ),
    key(
        "Orchestrator",
        "MAX_HISTORY_PER_USER",
        "50",
        "Messages kept per conversation (oldest question/answer pairs dropped first).",
    ),
    key(
        "Orchestrator",
        "USER_LOCK_CLEANUP_INTERVAL",
        "3600",
        "Seconds between sweeps that drop idle per-conversation queues and rate-limit state.",
    ),
    key(
        "Orchestrator",
        "ENTITY_DETECTION_MIN_WORDS",
        "10",
        "Questions about a named entity with fewer words than this go to web search.",
    ),
    key(
        "Orchestrator",
        "SHUTDOWN_GRACE_SECS",
        "20",
        "Seconds in-flight turns may finish after SIGTERM before they are cut off.",
    ),
    // [Memory]
    key(
        "Memory",
        "MEMORY_BACKEND",
        "sqlite",
        "sqlite (durable) or memory (lost on restart; tests and throwaway runs).",
    ),
    key(
        "Memory",
        "DATABASE_PATH",
        "data/duet.db",
        "SQLite file; its directory is created.",
    ),
    key(
        "Memory",
        "MEMORY_SCOPE",
        "user_channel",
        "user_channel, user (one history everywhere) or channel (shared by a channel).",
    ),
    key(
        "Memory",
        "MEMORY_TTL",
        "7d",
        "Conversations idle this long are deleted (e.g. 7d, 12h, 0 = keep forever).",
    ),
    key(
        "Memory",
        "MEMORY_CACHE_CONVERSATIONS",
        "1000",
        "Conversations kept in RAM in front of SQLite.",
    ),
    // [Routing]
    key(
        "Routing",
        "MODE",
        "smart",
        "smart (route each message), openai or perplexity (always that provider).",
    ),
    key(
        "Routing",
        "SEARCH_KEYWORDS",
        "",
        "Extra words that send a message to web search, comma-separated.",
    ),
    key(
        "Routing",
        "CHAT_KEYWORDS",
        "",
        "Extra words that keep a message in conversation, comma-separated.",
    ),
    key(
        "Routing",
        "REROUTE_CANNOT_BROWSE",
        "true",
        "Re-ask Perplexity when OpenAI says it cannot browse or lacks current data.",
    ),
    // [Logging]
    key(
        "Logging",
        "LOG_FILE",
        "",
        "Append logs to this file as well as stderr; reopened on SIGHUP.",
    ),
    key(
        "Logging",
        "LOG_LEVEL",
        "INFO",
        "TRACE, DEBUG, INFO, WARN or ERROR; RUST_LOG wins when set.",
    ),
    key("Logging", "LOG_FORMAT", "pretty", "pretty or json."),
    key(
        "Logging",
        "LOG_MESSAGE_CONTENT",
        "false",
        "Log message text (off by default for privacy).",
    ),
    // [Health]
    key(
        "Health",
        "HEALTH_ENABLED",
        "true",
        "Serve /health, /health/live, /health/ready and /metrics.",
    ),
    key(
        "Health",
        "HEALTH_HOST",
        "127.0.0.1",
        "Address of the health server.",
    ),
    key(
        "Health",
        "HEALTH_PORT",
        "8080",
        "Port of the health server.",
    ),
];

/// The spec of `section`/`key`, compared case-insensitively.
pub fn find(section: &str, key: &str) -> Option<&'static KeySpec> {
    KEYS.iter()
        .find(|k| k.section.eq_ignore_ascii_case(section) && k.key.eq_ignore_ascii_case(key))
}

/// The canonical spelling of a section name.
pub fn canonical_section(section: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .copied()
        .find(|s| s.eq_ignore_ascii_case(section))
}

/// The closest known key to a misspelt one, for "did you mean" warnings.
pub fn suggest(key: &str) -> Option<&'static KeySpec> {
    let wanted = key.to_ascii_uppercase();
    KEYS.iter()
        .map(|spec| (edit_distance(&wanted, spec.key), spec))
        .filter(|(distance, spec)| *distance <= 3.max(spec.key.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, spec)| spec)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_in_a_known_section() {
        for (i, spec) in KEYS.iter().enumerate() {
            assert!(SECTIONS.contains(&spec.section), "{}", spec.key);
            assert!(
                KEYS[i + 1..].iter().all(|other| other.key != spec.key),
                "{} is listed twice",
                spec.key
            );
        }
    }

    #[test]
    fn suggests_the_nearest_key_for_a_typo() {
        assert_eq!(
            suggest("OPENAI_MAX_CONECTIONS").unwrap().key,
            "OPENAI_MAX_CONNECTIONS"
        );
        assert_eq!(suggest("rate_limt").unwrap().key, "RATE_LIMIT");
        assert!(suggest("COMPLETELY_UNRELATED_NAME").is_none());
    }
}
