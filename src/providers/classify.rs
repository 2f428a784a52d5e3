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

use super::error::ProviderError;
use super::pool::PooledClient;
use super::retry::{backoff_cap, is_retryable_status, retry_after};
use super::send::{MAX_BODY_BYTES, read_capped, request_id};

/// 429 / 403 `code` or `type` values with a meaning of their own.
const QUOTA_CODES: &[&str] = &["insufficient_quota", "credit_balance_exhausted"];
const RETIRED_CODES: &[&str] = &[
    "chat_completions_not_available",
    "agent_api_migration_required",
];

/// A failed attempt and whether (and how) another one may follow.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) error: ProviderError,
    pub(super) retry: Retry,
    pub(super) status: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Retry {
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
    pub(super) fn fatal(error: ProviderError) -> Self {
        Self {
            error,
            retry: Retry::No,
            status: None,
        }
    }
}

impl PooledClient {
    pub(super) fn too_large(&self) -> ProviderError {
        ProviderError::Malformed {
            provider: self.provider,
            detail: format!("response body larger than {MAX_BODY_BYTES} bytes"),
        }
    }

    pub(super) fn transport_failure(&self, error: &reqwest::Error, during: &str) -> Failure {
        let message = self.redactor.clean(&describe(error));
        let (error, retry) = if error.is_connect() {
            (self.connect_error(message), Retry::Backoff)
        } else if error.is_timeout() {
            let during = format!(
                "{during} ({}_READ_TIMEOUT): {message}",
                super::pool::prefix(self.provider)
            );
            (
                ProviderError::Timeout {
                    provider: self.provider,
                    during,
                },
                Retry::Timeout,
            )
        } else {
            (
                self.connect_error(format!("{during}: {message}")),
                Retry::Backoff,
            )
        };
        Failure {
            error,
            retry,
            status: None,
        }
    }

    fn connect_error(&self, message: String) -> ProviderError {
        ProviderError::Connect {
            provider: self.provider,
            message,
        }
    }

    pub(super) async fn status_failure(&self, response: reqwest::Response) -> Failure {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // An unreadable error body still leaves the status to go on.
        let body = read_capped(response).await.unwrap_or_default();
        let detail = ErrorBody::parse(&body);
        let message = self.redactor.clean(
            &detail
                .message
                .clone()
                .unwrap_or_else(|| self.redactor.excerpt(&body)),
        );
        warn!(
            provider = %self.provider,
            status,
            request_id = request_id(&headers),
            code = detail.code.as_deref(),
            detail = %message,
            "provider answered with an error"
        );
        let provider = self.provider;
        let (error, retry) = match status {
            429 if detail.has_code(QUOTA_CODES) => {
                self.counters.rate_limited();
                (
                    ProviderError::QuotaExhausted { provider, message },
                    Retry::No,
                )
            }
            429 => self.rate_limited(&headers, status),
            401 => (
                ProviderError::Unauthorized {
                    provider,
                    status,
                    message,
                },
                Retry::No,
            ),
            403 if detail.has_code(RETIRED_CODES) => (
                ProviderError::EndpointRetired { provider, message },
                Retry::No,
            ),
            403 => (
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
                let retry =
                    retry_after(&headers, SystemTime::now()).map_or(Retry::Backoff, Retry::Wait);
                (
                    ProviderError::Overloaded {
                        provider,
                        status,
                        message,
                    },
                    retry,
                )
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

    /// A 429 pauses the whole provider until the reset the provider named.
    fn rate_limited(&self, headers: &HeaderMap, status: u16) -> (ProviderError, Retry) {
        self.counters.rate_limited();
        let told = retry_after(headers, SystemTime::now());
        // Without a header, pause for the backoff cap of a first retry.
        let wait = told.unwrap_or_else(|| backoff_cap(1));
        self.pause.pause_for(wait);
        warn!(
            provider = %self.provider,
            status,
            retry_after_ms = wait.as_millis() as u64,
            from_header = told.is_some(),
            "rate limited; pausing every request to this provider"
        );
        let error = ProviderError::RateLimited {
            provider: self.provider,
            retry_after: Some(wait),
        };
        (error, Retry::AfterPause)
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

/// The useful part of an error body: OpenAI `{"error":{"message","type","code"}}`,
/// Perplexity (integer `code`), `{"error":"text"}` or `{"detail": …}`.
#[derive(Debug, Default)]
struct ErrorBody {
    message: Option<String>,
    code: Option<String>,
    kind: Option<String>,
}

impl ErrorBody {
    fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
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
        }
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

    #[test]
    fn describe_joins_the_error_chain_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = std::io::Error::other(inner);
        assert_eq!(describe(&outer), "refused");
    }
}
