//! JSON decoding shared by the wire formats: a bad body becomes
//! [`ProviderError::Malformed`] with a short, redacted excerpt in the log.

use serde::de::DeserializeOwned;
use tracing::warn;

use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::ProviderKind;

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
