//! Why a provider call failed: one [`ProviderError`] enum with the detail an
//! operator needs in the log (provider, status, the provider's message), and
//! a Copy [`ErrorKind`] that user-facing texts and metrics are built from.
//!
//! Messages taken from response bodies pass through [`Redactor`], because
//! providers echo the API key back ("Incorrect API key provided: sk-…").

use std::fmt;
use std::time::Duration;

use super::types::ProviderKind;
use crate::secret::Secret;

/// Longest excerpt of a response body kept in an error or a log line.
pub const EXCERPT_CHARS: usize = 200;

/// A failed provider call.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{provider}: the API key was rejected (HTTP {status}): {message}")]
    Unauthorized {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider}: quota or credit exhausted (HTTP 429): {message}")]
    QuotaExhausted {
        provider: ProviderKind,
        message: String,
    },
    #[error("{provider}: rate limited{}", wait_hint(*.retry_after))]
    RateLimited {
        provider: ProviderKind,
        retry_after: Option<Duration>,
    },
    #[error("{provider}: timed out {during}")]
    Timeout {
        provider: ProviderKind,
        during: String,
    },
    #[error("{provider}: overloaded or failing (HTTP {status}): {message}")]
    Overloaded {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider}: request rejected (HTTP {status}): {message}")]
    BadRequest {
        provider: ProviderKind,
        status: u16,
        message: String,
    },
    #[error("{provider}: unreadable response: {detail}")]
    Malformed {
        provider: ProviderKind,
        detail: String,
    },
    #[error("{provider}: connection failed: {message}")]
    Connect {
        provider: ProviderKind,
        message: String,
    },
    #[error(
        "{provider}: all {max_connections} connection slots stayed busy for {}ms (POOL_TIMEOUT); {waiting} requests were waiting",
        waited.as_millis()
    )]
    PoolExhausted {
        provider: ProviderKind,
        max_connections: usize,
        waiting: u64,
        waited: Duration,
    },
    #[error(
        "{provider}: the legacy Sonar chat completions endpoint is retired ({message}); set PERPLEXITY_API=agent"
    )]
    EndpointRetired {
        provider: ProviderKind,
        message: String,
    },
    /// The server has no such endpoint or model (HTTP 404): the base URL or
    /// the model name is wrong, which only the operator can fix.
    #[error("{provider}: not found (HTTP 404) at {url}: {message}{}", missing_v1_hint(*provider, url))]
    NotFound {
        provider: ProviderKind,
        url: String,
        message: String,
    },
    /// The server refused `stream: true` (OpenAI: "Your organization must be
    /// verified to stream this model"); the same request without streaming works.
    #[error("{provider}: streaming was refused (HTTP 400): {message}")]
    StreamRefused {
        provider: ProviderKind,
        message: String,
    },
    /// The provider accepted the request but its run failed (Agent API
    /// `status: failed|cancelled` with HTTP 200, or an error event inside a
    /// stream). Its kind is [`ErrorKind::Overloaded`]: a provider-side failure
    /// worth trying again.
    #[error("{provider}: the run ended with status {status}: {message}")]
    RunFailed {
        provider: ProviderKind,
        status: String,
        message: String,
    },
}

/// Why the provider clients could not be built (before any network use).
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error("cannot read TLS_CA_FILE {path}: {source}")]
    CaFileUnreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("TLS_CA_FILE {path} holds no usable PEM certificate: {message}")]
    CaFileInvalid {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("cannot build the {provider} HTTP client: {message}")]
    Client {
        provider: ProviderKind,
        message: String,
    },
    #[error(
        "{provider}: the API key cannot be sent in an HTTP header (it contains control characters)"
    )]
    InvalidKey { provider: ProviderKind },
}

/// The hint for a 404 from a base URL without `/v1`, where most
/// OpenAI-compatible servers serve their API ("" when the path has it).
pub fn missing_v1_hint(provider: ProviderKind, url: &str) -> String {
    // Perplexity's paths carry their own version (`/v1/agent`, legacy `/chat/completions`).
    if provider != ProviderKind::OpenAi {
        return String::new();
    }
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    if path.split('/').any(|segment| segment == "v1") {
        return String::new();
    }
    let base = url.trim_end_matches('/');
    let base = base
        .rsplit_once("/chat/completions")
        .or_else(|| base.rsplit_once("/models"))
        .or_else(|| base.rsplit_once("/responses"))
        .map_or(base, |(base, _)| base);
    format!(
        ". OPENAI_API_URL {base} answered 404 — most OpenAI-compatible servers serve their API under {base}/v1"
    )
}

fn wait_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {}ms)", wait.as_millis()),
        None => String::new(),
    }
}

/// What kind of failure, for metrics, logs and the user-facing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unauthorized,
    QuotaExhausted,
    RateLimited,
    Timeout,
    Overloaded,
    BadRequest,
    Malformed,
    Connect,
    PoolExhausted,
    EndpointRetired,
    /// A wrong base URL or model (HTTP 404), or a request option the server
    /// refuses: the operator's to fix, not the user's.
    Misconfigured,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Unauthorized,
        ErrorKind::QuotaExhausted,
        ErrorKind::RateLimited,
        ErrorKind::Timeout,
        ErrorKind::Overloaded,
        ErrorKind::BadRequest,
        ErrorKind::Malformed,
        ErrorKind::Connect,
        ErrorKind::PoolExhausted,
        ErrorKind::EndpointRetired,
        ErrorKind::Misconfigured,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::QuotaExhausted => "quota_exhausted",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Connect => "connect",
            ErrorKind::PoolExhausted => "pool_exhausted",
            ErrorKind::EndpointRetired => "endpoint_retired",
            ErrorKind::Misconfigured => "misconfigured",
        }
    }

    /// True for failures only the bot's operator can fix (a key, credit, a
    /// base URL or model, a retired endpoint), not the user by rephrasing.
    pub fn needs_admin(self) -> bool {
        matches!(
            self,
            ErrorKind::Unauthorized
                | ErrorKind::QuotaExhausted
                | ErrorKind::EndpointRetired
                | ErrorKind::Misconfigured
        )
    }

    /// True when asking again later (or the other provider now) may work;
    /// false when only an operator can fix it (key, quota, config).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Timeout
                | ErrorKind::Overloaded
                | ErrorKind::Malformed
                | ErrorKind::Connect
                | ErrorKind::PoolExhausted
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ProviderError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::Unauthorized { .. } => ErrorKind::Unauthorized,
            ProviderError::QuotaExhausted { .. } => ErrorKind::QuotaExhausted,
            ProviderError::RateLimited { .. } => ErrorKind::RateLimited,
            ProviderError::Timeout { .. } => ErrorKind::Timeout,
            ProviderError::Overloaded { .. } => ErrorKind::Overloaded,
            ProviderError::BadRequest { .. } => ErrorKind::BadRequest,
            ProviderError::Malformed { .. } => ErrorKind::Malformed,
            ProviderError::Connect { .. } => ErrorKind::Connect,
            ProviderError::PoolExhausted { .. } => ErrorKind::PoolExhausted,
            ProviderError::EndpointRetired { .. } => ErrorKind::EndpointRetired,
            ProviderError::RunFailed { .. } => ErrorKind::Overloaded,
            ProviderError::NotFound { .. } | ProviderError::StreamRefused { .. } => {
                ErrorKind::Misconfigured
            }
        }
    }

    pub fn provider(&self) -> ProviderKind {
        match self {
            ProviderError::Unauthorized { provider, .. }
            | ProviderError::QuotaExhausted { provider, .. }
            | ProviderError::RateLimited { provider, .. }
            | ProviderError::Timeout { provider, .. }
            | ProviderError::Overloaded { provider, .. }
            | ProviderError::BadRequest { provider, .. }
            | ProviderError::Malformed { provider, .. }
            | ProviderError::Connect { provider, .. }
            | ProviderError::PoolExhausted { provider, .. }
            | ProviderError::EndpointRetired { provider, .. }
            | ProviderError::RunFailed { provider, .. }
            | ProviderError::NotFound { provider, .. }
            | ProviderError::StreamRefused { provider, .. } => *provider,
        }
    }

    /// The wait the provider asked for, when it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Removes the API key from text that came from the network or from an
/// error chain before it is stored in an error or logged; the matching
/// (any letter case, percent-encoded forms, URL credentials) is
/// [`crate::secret::Redactor`]'s.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: crate::secret::Redactor,
}

impl Redactor {
    pub fn new(secret: Option<Secret>) -> Self {
        Self {
            inner: crate::secret::Redactor::new(secret),
        }
    }

    pub fn clean(&self, text: &str) -> String {
        self.inner.clean(text)
    }

    /// At most [`EXCERPT_CHARS`] characters of `body`, lossily decoded, redacted,
    /// on one line.
    pub fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        // Redact before cutting so a key split by the cut cannot survive.
        let clean = self.clean(&text);
        let mut out: String = clean
            .chars()
            .take(EXCERPT_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if clean.chars().count() > EXCERPT_CHARS {
            out.push('…');
        }
        out
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_provider_and_the_detail() {
        let error = ProviderError::Overloaded {
            provider: ProviderKind::OpenAi,
            status: 503,
            message: "server_is_overloaded".into(),
        };
        assert_eq!(
            error.to_string(),
            "openai: overloaded or failing (HTTP 503): server_is_overloaded"
        );
        assert_eq!(error.kind(), ErrorKind::Overloaded);
        let limited = ProviderError::RateLimited {
            provider: ProviderKind::Perplexity,
            retry_after: Some(Duration::from_millis(1500)),
        };
        assert_eq!(
            limited.to_string(),
            "perplexity: rate limited (retry after 1500ms)"
        );
    }

    #[test]
    fn pool_exhausted_message_says_what_to_tune() {
        let error = ProviderError::PoolExhausted {
            provider: ProviderKind::OpenAi,
            max_connections: 5,
            waiting: 95,
            waited: Duration::from_millis(10),
        };
        let text = error.to_string();
        assert!(text.contains("all 5 connection slots"), "{text}");
        assert!(text.contains("POOL_TIMEOUT"), "{text}");
    }

    #[test]
    fn redactor_removes_the_key_and_caps_the_excerpt() {
        let redactor = Redactor::new(Some(Secret::new("sk-test-SECRET")));
        let body = format!(
            "Incorrect API key provided: sk-test-SECRET.{}",
            "x".repeat(500)
        );
        let excerpt = redactor.excerpt(body.as_bytes());
        assert!(!excerpt.contains("sk-test-SECRET"));
        assert!(excerpt.starts_with("Incorrect API key provided: [redacted]."));
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn excerpt_of_multibyte_text_never_splits_a_character() {
        let redactor = Redactor::new(None);
        let body = "é".repeat(300);
        let excerpt = redactor.excerpt(body.as_bytes());
        assert_eq!(excerpt.chars().filter(|c| *c == 'é').count(), EXCERPT_CHARS);
    }

    #[test]
    fn empty_key_redacts_nothing() {
        let redactor = Redactor::new(Some(Secret::new("")));
        assert_eq!(redactor.clean("abc"), "abc");
    }

    #[test]
    fn a_404_without_v1_in_the_base_url_says_where_the_api_usually_is() {
        let error = ProviderError::NotFound {
            provider: ProviderKind::OpenAi,
            url: "http://localhost:11434/chat/completions".into(),
            message: "404 page not found".into(),
        };
        assert!(
            error.to_string().ends_with(
                "OPENAI_API_URL http://localhost:11434 answered 404 — most OpenAI-compatible servers serve their API under http://localhost:11434/v1"
            ),
            "{error}"
        );
        assert_eq!(
            missing_v1_hint(ProviderKind::OpenAi, "http://localhost:11434/v1/models"),
            ""
        );
        assert_eq!(error.kind(), ErrorKind::Misconfigured);
    }

    #[test]
    fn kind_names_are_snake_case() {
        assert_eq!(ErrorKind::QuotaExhausted.as_str(), "quota_exhausted");
        assert!(!ErrorKind::Unauthorized.is_transient());
        assert!(ErrorKind::RateLimited.is_transient());
    }
}
