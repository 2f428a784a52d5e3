//! How a configured value may be shown: secrets never, a password inside a
//! URL never, and a value shaped like a credential never, even when it sits
//! in a key that is not secret (a key pasted into the wrong line).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::spec::KeySpec;

/// What a redacted part is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Longest value shown in an error, in characters.
const SHOWN_CHARS: usize = 200;

static SECRET_SHAPES: LazyLock<[(Regex, &'static str); 3]> = LazyLock::new(|| {
    let shape = |pattern: &str| Regex::new(pattern).expect("a constant pattern");
    [
        (shape(r"sk-[A-Za-z0-9_-]{16,}"), "an OpenAI API key"),
        (shape(r"pplx-[A-Za-z0-9_-]{16,}"), "a Perplexity API key"),
        (
            shape(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"),
            "a Discord bot token",
        ),
    ]
});

/// What kind of credential `value` contains, if it looks like one.
pub fn secret_shape(value: &str) -> Option<&'static str> {
    SECRET_SHAPES
        .iter()
        .find(|(pattern, _)| pattern.is_match(value))
        .map(|(_, what)| *what)
}

/// `http://user:pass@proxy` becomes `http://user:[redacted]@proxy`, for every
/// URL in `value`.
pub fn redact_url_credentials(value: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut rest = value;
    let mut changed = false;
    while let Some(scheme_end) = rest.find("://") {
        let host_start = scheme_end + 3;
        let authority_end = rest[host_start..]
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .map_or(rest.len(), |i| host_start + i);
        let authority = &rest[host_start..authority_end];
        let password = authority
            .rfind('@')
            .and_then(|at| authority[..at].find(':').map(|colon| (colon, at)));
        match password {
            Some((colon, at)) => {
                out.push_str(&rest[..host_start + colon + 1]);
                out.push_str(REDACTED);
                out.push_str(&rest[host_start + at..authority_end]);
                changed = true;
            }
            None => out.push_str(&rest[..authority_end]),
        }
        rest = &rest[authority_end..];
    }
    if !changed {
        return Cow::Borrowed(value);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `value` of `spec` as it may be printed: secrets and secret-shaped values
/// hidden, URL passwords redacted.
pub fn shown_value(spec: &KeySpec, value: &str) -> String {
    if spec.secret {
        return if value.trim().is_empty() {
            String::new()
        } else {
            REDACTED.to_string()
        };
    }
    if let Some(what) = secret_shape(value) {
        return format!("[redacted: looks like {what}]");
    }
    redact_url_credentials(value).into_owned()
}

/// [`shown_value`] cut to a length that fits an error message.
pub fn shown_in_error(spec: &KeySpec, value: &str) -> String {
    let value = shown_value(spec, value);
    match value.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::spec::Kind;

    const TEXT: KeySpec = KeySpec::new("Default", "GPT_MODEL", "", Kind::Text, "");

    #[test]
    fn url_passwords_are_redacted_and_users_kept() {
        assert_eq!(
            redact_url_credentials("http://user:pass@proxy:3128/x"),
            "http://user:[redacted]@proxy:3128/x"
        );
        assert_eq!(
            redact_url_credentials("a https://u:p@h b http://x:y@z"),
            "a https://u:[redacted]@h b http://x:[redacted]@z"
        );
        assert_eq!(
            redact_url_credentials("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/"
        );
        assert_eq!(redact_url_credentials("http://user@h"), "http://user@h");
        assert_eq!(redact_url_credentials(":// :/@"), ":// :/@");
    }

    #[test]
    fn credential_shapes_are_recognised_and_ordinary_values_are_not() {
        assert_eq!(
            secret_shape("sk-proj-abcdefghijklmnop1234"),
            Some("an OpenAI API key")
        );
        assert_eq!(
            secret_shape("pplx-0123456789abcdef0123"),
            Some("a Perplexity API key")
        );
        assert_eq!(
            secret_shape("MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"),
            Some("a Discord bot token")
        );
        for ordinary in [
            "gpt-5-mini",
            "perplexity/sonar",
            "https://api.perplexity.ai",
            "sk-short",
        ] {
            assert_eq!(secret_shape(ordinary), None, "{ordinary}");
        }
    }

    #[test]
    fn a_secret_shaped_value_in_a_plain_key_is_not_shown() {
        let shown = shown_value(&TEXT, "sk-proj-abcdefghijklmnop1234");
        assert_eq!(shown, "[redacted: looks like an OpenAI API key]");
        let long = "x".repeat(300);
        assert_eq!(shown_value(&TEXT, &long), long);
        assert_eq!(shown_in_error(&TEXT, &long).chars().count(), 201);
    }
}
