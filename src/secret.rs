//! Secrets (tokens, API keys) in a type that never prints its content, and
//! [`Redactor`], the one mechanism that removes secrets from text: provider
//! errors use it, and so does the log writer (every line, whatever library
//! wrote it).

use std::fmt;
use std::sync::Arc;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A secret string. `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] gives the value, and only HTTP header builders call it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for an `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Removes secrets from text: each secret in any ASCII letter case, raw or
/// percent-encoded (as a URL or form encoder would write it), and the user
/// and password of every `scheme://user:pass@host` URL. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    /// ASCII-lowercased forms of every secret, longest first.
    needles: Arc<[String]>,
}

impl Redactor {
    /// Redacts `secrets`; empty ones are ignored (they would match everywhere).
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut needles: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.expose().is_empty())
            .flat_map(|s| variants(s.expose()))
            .collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self {
            needles: needles.into(),
        }
    }

    /// This redactor and `other` together.
    pub fn merged(&self, other: &Redactor) -> Redactor {
        let mut needles: Vec<String> = self
            .needles
            .iter()
            .chain(other.needles.iter())
            .cloned()
            .collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Self {
            needles: needles.into(),
        }
    }

    /// `text` with every secret and URL credential replaced by `[redacted]`.
    pub fn clean(&self, text: &str) -> String {
        redact_url_credentials(&self.redact_secrets(text))
    }

    fn redact_secrets(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_string();
        }
        // ASCII lowercasing keeps every byte offset, so a match in the
        // lowered copy is the same range of the original.
        let lowered = text.to_ascii_lowercase();
        let mut ranges: Vec<(usize, usize)> = self
            .needles
            .iter()
            .flat_map(|needle| {
                lowered
                    .match_indices(needle.as_str())
                    .map(|(at, found)| (at, at + found.len()))
            })
            .collect();
        if ranges.is_empty() {
            return text.to_string();
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (start, end) in ranges {
            if end <= done {
                continue;
            }
            if start >= done {
                out.push_str(&text[done..start]);
                out.push_str(REDACTED);
            }
            done = end;
        }
        out.push_str(&text[done..]);
        out
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

/// The raw secret, its percent-encoded forms and its escaped form inside a
/// JSON string or a `{:?}` (JSON log lines escape quotes and backslashes), ASCII-lowercased.
fn variants(secret: &str) -> Vec<String> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    let escaped = secret.replace('\\', "\\\\").replace('"', "\\\"");
    [
        secret.to_string(),
        escaped,
        percent_encode(secret, unreserved),
        percent_encode(secret, |b| b.is_ascii_alphanumeric()),
        percent_encode(secret, |_| false),
    ]
    .into_iter()
    .map(|v| v.to_ascii_lowercase())
    .collect()
}

fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Replaces the user-info part of every `scheme://user-info@host` in `text`.
fn redact_url_credentials(text: &str) -> String {
    if !text.contains("://") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let authority_start = at + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let authority_len = after
            .find(|c: char| c.is_whitespace() || "/?#\"'<>\\,;[]{}()`".contains(c))
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(user_end) if user_end > 0 => {
                out.push_str(REDACTED);
                out.push_str(&authority[user_end..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("sk-live-1234");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(secret.expose(), "sk-live-1234");
    }

    fn redactor(secrets: &[&str]) -> Redactor {
        Redactor::new(secrets.iter().map(|s| Secret::new(*s)))
    }

    #[test]
    fn a_secret_is_redacted_in_any_letter_case() {
        let r = redactor(&["sk-Live-AbC123"]);
        assert_eq!(
            r.clean("key sk-live-abc123 and SK-LIVE-ABC123 and sk-Live-AbC123."),
            "key [redacted] and [redacted] and [redacted]."
        );
    }

    #[test]
    fn a_secret_is_redacted_in_its_percent_encoded_forms() {
        let r = redactor(&["MTIz.Nj/k+x=="]);
        assert_eq!(
            r.clean("token=MTIz.Nj%2Fk%2Bx%3D%3D&x=1"),
            "token=[redacted]&x=1"
        );
        assert_eq!(r.clean("t=mtiz%2enj%2fk%2bx%3d%3d"), "t=[redacted]");
        assert_eq!(r.clean("raw MTIz.Nj/k+x== end"), "raw [redacted] end");
        assert_eq!(
            redactor(&["ab.1"]).clean("every byte %61%62%2e%31!"),
            "every byte [redacted]!"
        );
    }

    #[test]
    fn every_configured_secret_is_redacted_and_overlaps_collapse() {
        let r = redactor(&["alpha-secret", "beta-secret", "", "secret-beta"]);
        assert_eq!(
            r.clean("alpha-secret beta-secret-beta x"),
            "[redacted] [redacted] x"
        );
        assert_eq!(r.clean(""), "");
        let merged = redactor(&["one-key"]).merged(&redactor(&["two-key"]));
        assert_eq!(merged.clean("one-key two-key"), "[redacted] [redacted]");
    }

    #[test]
    fn a_secret_escaped_inside_a_json_string_is_redacted() {
        let r = redactor(&[r#"pa"ss\word"#]);
        let json = serde_json::json!({ "error": r#"bad pa"ss\word"# }).to_string();
        assert_eq!(r.clean(&json), r#"{"error":"bad [redacted]"}"#);
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        let r = Redactor::default();
        assert_eq!(
            r.clean("proxy http://user:pa55@proxy.local:3128/x and https://host/a@b"),
            "proxy http://[redacted]@proxy.local:3128/x and https://host/a@b"
        );
        assert_eq!(
            r.clean(r#"{"url":"redis://:hunter2@cache:6379"}"#),
            r#"{"url":"redis://[redacted]@cache:6379"}"#
        );
        assert_eq!(r.clean("postgres://db/x"), "postgres://db/x");
        assert_eq!(r.clean("odd ://@host"), "odd ://@host");
    }

    #[test]
    fn multibyte_text_around_a_secret_survives() {
        let r = redactor(&["ключ-KEY"]);
        assert_eq!(r.clean("é ключ-key ü"), "é [redacted] ü");
    }
}
