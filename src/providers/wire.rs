//! What the three wire formats (OpenAI chat completions, Perplexity Agent,
//! legacy Sonar) share: endpoint URLs joined onto a configured base, and
//! JSON decoding that turns a bad body into [`ProviderError::Malformed`]
//! with a short, redacted excerpt in the log.

use serde::de::DeserializeOwned;
use tracing::warn;

use super::ProviderKind;
use super::error::{ProviderError, Redactor};

/// `base` + `relative`, whether or not `base` ends with a slash
/// (`https://api.openai.com/v1` and `…/v1/` both give `…/v1/chat/completions`).
pub fn endpoint(base: &url::Url, relative: &str) -> url::Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        relative.trim_start_matches('/')
    );
    url.set_path(&path);
    url
}

/// Decodes a JSON body, or says why not (and logs the start of the body).
pub fn decode<T: DeserializeOwned>(
    provider: ProviderKind,
    redactor: &Redactor,
    body: &[u8],
    what: &str,
) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|error| malformed(provider, redactor, body, what, &error))
}

/// A [`ProviderError::Malformed`] for `body`, logged with a capped excerpt.
pub fn malformed(
    provider: ProviderKind,
    redactor: &Redactor,
    body: &[u8],
    what: &str,
    error: &dyn std::fmt::Display,
) -> ProviderError {
    let excerpt = redactor.excerpt(body);
    warn!(%provider, %error, body = %excerpt, "unreadable {what}");
    ProviderError::Malformed {
        provider,
        detail: format!("{what}: {error} (body starts: {excerpt})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_with_or_without_a_trailing_slash() {
        for base in ["https://api.openai.com/v1", "https://api.openai.com/v1/"] {
            let base = url::Url::parse(base).unwrap();
            assert_eq!(
                endpoint(&base, "chat/completions").as_str(),
                "https://api.openai.com/v1/chat/completions"
            );
        }
        let root = url::Url::parse("https://api.perplexity.ai").unwrap();
        assert_eq!(
            endpoint(&root, "/v1/agent").as_str(),
            "https://api.perplexity.ai/v1/agent"
        );
        let local = url::Url::parse("http://127.0.0.1:8080/proxy/v1/").unwrap();
        assert_eq!(
            endpoint(&local, "models").as_str(),
            "http://127.0.0.1:8080/proxy/v1/models"
        );
    }

    #[test]
    fn bad_json_is_malformed_with_an_excerpt() {
        let error = decode::<serde_json::Value>(
            ProviderKind::OpenAi,
            &Redactor::default(),
            b"{not json",
            "chat completion",
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("chat completion"), "{text}");
        assert!(text.contains("{not json"), "{text}");
    }
}
