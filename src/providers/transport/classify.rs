//! How a failed attempt is classified: which [`ProviderError`] it is, and
//! whether (and how) to try again.
//!
//! Retried: connect errors and resets, 408, 500, 502, 503, 504 (exponential
//! backoff with full jitter, or the server's Retry-After), and 429 rate
//! limits (after the provider-wide pause). A timed-out POST is retried at
//! most once, since it may have been processed. Never retried: 400, 401,
//! 403, 404, other 4xx, and 429 `insufficient_quota`.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use tracing::warn;

use super::backoff::{backoff_cap, is_retryable_status};
use super::body::request_id;
use super::retry_after::retry_after;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::ProviderKind;

/// 429 / 403 `code` or `type` values with a meaning of their own.
const QUOTA_CODES: &[&str] = &["insufficient_quota", "credit_balance_exhausted"];
const RETIRED_CODES: &[&str] = &[
    "chat_completions_not_available",
    "agent_api_migration_required",
];

/// A failed attempt and whether (and how) another one may follow.
#[derive(Debug)]
pub struct Failure {
    pub error: ProviderError,
    pub retry: Retry,
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retry {
    No,
    /// Exponential backoff with full jitter.
    Backoff,
    /// Wait this long (the server said so) and try again.
    Wait(Duration),
    /// 429: the provider is paused; the next admission waits it out.
    AfterPause,
    /// Timed out: at most one more try.
    Timeout,
}

impl Failure {
    pub fn fatal(error: ProviderError) -> Self {
        Self {
            error,
            retry: Retry::No,
            status: None,
        }
    }
}

/// Who failed, for building errors: the provider and its key's redactor.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub provider: ProviderKind,
    pub redactor: &'a Redactor,
}

/// A failure to send or to read: connect errors and resets are retried with
/// backoff, a timeout at most once.
pub fn transport_failure(origin: Origin<'_>, error: &reqwest::Error, during: &str) -> Failure {
    let Origin { provider, redactor } = origin;
    let message = redactor.clean(&describe(error));
    let (error, retry) = if error.is_connect() {
        (ProviderError::Connect { provider, message }, Retry::Backoff)
    } else if error.is_timeout() {
        let during = format!(
            "{during} ({}_READ_TIMEOUT): {message}",
            key_prefix(provider)
        );
        (ProviderError::Timeout { provider, during }, Retry::Timeout)
    } else {
        let message = format!("{during}: {message}");
        (ProviderError::Connect { provider, message }, Retry::Backoff)
    };
    Failure {
        error,
        retry,
        status: None,
    }
}

/// An HTTP error status from `url` with its headers and (capped) body. A 429 that is
/// not about quota comes back as [`Retry::AfterPause`] with the wait in
/// [`ProviderError::retry_after`]; pausing the provider is the caller's job.
pub fn status_failure(
    origin: Origin<'_>,
    url: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Failure {
    let Origin { provider, redactor } = origin;
    let detail = ErrorBody::parse(body);
    let message = redactor.clean(
        &detail
            .message
            .clone()
            .unwrap_or_else(|| redactor.excerpt(body)),
    );
    warn!(
        %provider,
        status,
        request_id = request_id(headers),
        code = detail.code.as_deref(),
        detail = %message,
        "provider answered with an error"
    );
    let (error, retry) = match status {
        429 if detail.has_code(QUOTA_CODES) => (
            ProviderError::QuotaExhausted { provider, message },
            Retry::No,
        ),
        429 => {
            // Without a header, pause for the backoff cap of a first retry.
            let wait = retry_after(headers, SystemTime::now()).unwrap_or_else(|| backoff_cap(1));
            let retry_after = Some(wait);
            (
                ProviderError::RateLimited {
                    provider,
                    retry_after,
                },
                Retry::AfterPause,
            )
        }
        403 if detail.has_code(RETIRED_CODES) => (
            ProviderError::EndpointRetired { provider, message },
            Retry::No,
        ),
        400 if detail.refuses_streaming() => (
            ProviderError::StreamRefused { provider, message },
            Retry::No,
        ),
        404 => {
            let url = redactor.clean(url);
            let error = ProviderError::NotFound {
                provider,
                url,
                message,
            };
            (error, Retry::No)
        }
        401 | 403 => (
            ProviderError::Unauthorized {
                provider,
                status,
                message,
            },
            Retry::No,
        ),
        408 => {
            let during = format!("on the server side (HTTP 408): {message}");
            (ProviderError::Timeout { provider, during }, Retry::Timeout)
        }
        s if is_retryable_status(s) => {
            let retry = retry_after(headers, SystemTime::now()).map_or(Retry::Backoff, Retry::Wait);
            let error = ProviderError::Overloaded {
                provider,
                status,
                message,
            };
            (error, retry)
        }
        500.. => (
            ProviderError::Overloaded {
                provider,
                status,
                message,
            },
            Retry::No,
        ),
        _ => (
            ProviderError::BadRequest {
                provider,
                status,
                message,
            },
            Retry::No,
        ),
    };
    Failure {
        error,
        retry,
        status: Some(status),
    }
}

/// The `[ConnectionPool]` key prefix of a provider, for messages that say what to tune.
pub fn key_prefix(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::OpenAi => "OPENAI",
        ProviderKind::Perplexity => "PERPLEXITY",
    }
}

/// An error and its sources on one line ("error sending request: connection refused").
pub fn describe(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The useful part of an error body: OpenAI `{"error":{"message","type","param","code"}}`,
/// Perplexity (integer `code`), `{"error":"text"}` or `{"detail": …}`;
/// OpenRouter wraps the upstream body as a string in `error.metadata.raw`.
#[derive(Debug, Default)]
struct ErrorBody {
    message: Option<String>,
    code: Option<String>,
    kind: Option<String>,
    param: Option<String>,
}

impl ErrorBody {
    fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
        if let Some(raw) = value["error"]["metadata"]["raw"].as_str() {
            let inner = Self::parse(raw.as_bytes());
            if inner.message.is_some() {
                return inner;
            }
        }
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let error = &value["error"];
        if let Some(message) = error.as_str() {
            return Self {
                message: Some(message.to_string()),
                ..Self::default()
            };
        }
        Self {
            message: text(&error["message"])
                .or_else(|| text(&value["message"]))
                .or_else(|| value.get("detail").map(|d| d.to_string())),
            code: text(&error["code"]),
            kind: text(&error["type"]),
            param: text(&error["param"]),
        }
    }

    /// A 400 about `stream` (OpenAI's "must be verified to stream this
    /// model", or a server that has no streaming); the message is the
    /// fallback when `param` is missing.
    fn refuses_streaming(&self) -> bool {
        self.param.as_deref() == Some("stream")
            || self
                .message
                .as_deref()
                .is_some_and(|m| m.contains("verified to stream"))
    }

    fn has_code(&self, codes: &[&str]) -> bool {
        [&self.code, &self.kind]
            .into_iter()
            .flatten()
            .any(|value| codes.contains(&value.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_both_providers_are_understood() {
        let openai = ErrorBody::parse(
            br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(
            openai.message.as_deref(),
            Some("You exceeded your current quota")
        );
        assert!(openai.has_code(QUOTA_CODES));
        let perplexity = ErrorBody::parse(
            br#"{"error":{"message":"Sonar is now the Agent API.","type":"chat_completions_not_available","code":403}}"#,
        );
        assert!(perplexity.has_code(RETIRED_CODES));
        assert_eq!(perplexity.code.as_deref(), Some("403"));
        let plain = ErrorBody::parse(br#"{"error":"upstream down"}"#);
        assert_eq!(plain.message.as_deref(), Some("upstream down"));
        let garbage = ErrorBody::parse(b"<html>bad gateway</html>");
        assert!(garbage.message.is_none());
    }

    fn classify(status: u16, headers: &[(&'static str, &str)], body: &str) -> Failure {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        let redactor = Redactor::new(Some(crate::secret::Secret::new("sk-SECRET")));
        let origin = Origin {
            provider: ProviderKind::OpenAi,
            redactor: &redactor,
        };
        status_failure(
            origin,
            "http://localhost:11434/chat/completions",
            status,
            &map,
            body.as_bytes(),
        )
    }

    #[test]
    fn a_429_waits_for_the_pause_the_header_names() {
        let failure = classify(
            429,
            &[("retry-after", "3")],
            r#"{"error":{"message":"slow down"}}"#,
        );
        assert_eq!(failure.retry, Retry::AfterPause);
        assert_eq!(failure.error.retry_after(), Some(Duration::from_secs(3)));
        let no_header = classify(429, &[], "");
        assert_eq!(no_header.error.retry_after(), Some(backoff_cap(1)));
    }

    #[test]
    fn quota_and_retired_endpoints_are_never_retried() {
        let quota = classify(
            429,
            &[],
            r#"{"error":{"code":"insufficient_quota","message":"q"}}"#,
        );
        assert_eq!(
            (quota.error.kind(), quota.retry),
            (
                crate::providers::error::ErrorKind::QuotaExhausted,
                Retry::No
            )
        );
        let retired = classify(
            403,
            &[],
            r#"{"error":{"type":"chat_completions_not_available","message":"gone"}}"#,
        );
        assert!(matches!(
            retired.error,
            ProviderError::EndpointRetired { .. }
        ));
        let forbidden = classify(403, &[], "");
        assert!(matches!(
            forbidden.error,
            ProviderError::Unauthorized { status: 403, .. }
        ));
        assert_eq!(classify(400, &[], "").retry, Retry::No);
    }

    #[test]
    fn server_errors_back_off_unless_the_server_names_a_wait() {
        assert_eq!(classify(502, &[], "").retry, Retry::Backoff);
        assert_eq!(
            classify(503, &[("retry-after-ms", "40")], "").retry,
            Retry::Wait(Duration::from_millis(40))
        );
        assert_eq!(classify(501, &[], "").retry, Retry::No);
        assert_eq!(classify(408, &[], "").retry, Retry::Timeout);
    }

    #[test]
    fn an_echoed_key_never_reaches_the_error() {
        let failure = classify(
            401,
            &[],
            r#"{"error":{"message":"Incorrect API key provided: sk-SECRET"}}"#,
        );
        assert!(
            !failure.error.to_string().contains("sk-SECRET"),
            "{}",
            failure.error
        );
    }

    const VERIFY: &str = r#"{"error": {"message": "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.", "type": "invalid_request_error", "param": "stream", "code": "unsupported_value"}}"#;

    #[test]
    fn a_400_about_the_stream_param_is_a_streaming_refusal_also_through_openrouter() {
        let direct = classify(400, &[], VERIFY);
        assert!(
            matches!(direct.error, ProviderError::StreamRefused { .. }),
            "{}",
            direct.error
        );
        let wrapped =
            serde_json::json!({"error": {"message": "Provider returned error", "code": 400,
            "metadata": {"raw": VERIFY}}})
            .to_string();
        assert!(matches!(
            classify(400, &[], &wrapped).error,
            ProviderError::StreamRefused { .. }
        ));
        let other = classify(
            400,
            &[],
            r#"{"error":{"message":"bad","param":"messages"}}"#,
        );
        assert!(matches!(other.error, ProviderError::BadRequest { .. }));
    }

    #[test]
    fn a_404_is_a_misconfiguration_naming_the_url() {
        let failure = classify(404, &[], "404 page not found");
        assert_eq!(
            failure.error.kind(),
            crate::providers::error::ErrorKind::Misconfigured
        );
        assert!(
            failure
                .error
                .to_string()
                .contains("under http://localhost:11434/v1")
        );
    }

    #[test]
    fn describe_joins_the_error_chain_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = std::io::Error::other(inner);
        assert_eq!(describe(&outer), "refused");
    }
}
