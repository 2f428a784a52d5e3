//! Finding a link in a message: a URL with a scheme, or a bare domain.
//!
//! A bare `name.tld` counts only when its TLD is a real, commonly used one.
//! TLDs that are also common file extensions (`.rs`, `.py`, `.md`, `.sh`,
//! `.zip`…) or English words that end up glued to a previous sentence
//! (`home.it was late`) count only with a path (`docs.rs/regex`, `youtu.be/x`)
//! or a `www.` prefix, so `main.rs`, `config.py` and `README.md` are file names.
//! Extensions that are no TLD at all (`node.js`, `index.html`,
//! `package.json`) never match.

use std::sync::LazyLock;

use regex::Regex;

static WITH_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:https?|ftp)://([^\s/?#<>]+)").expect("scheme URL pattern compiles")
});

static BARE_DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24})(?-u:\b)(/)?")
        .expect("bare domain pattern compiles")
});

/// Real TLDs a bare domain may end with.
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "ai", "dev", "app", "co",
    "tv", "xyz", "tech", "online", "site", "store", "shop", "blog", "news", "cloud", "page",
    "wiki", "art", "live", "fm", "gg", "ly", "ws", "la", "im", "gl", "social", "games", "uk", "de",
    "fr", "es", "nl", "ch", "se", "dk", "fi", "ru", "ua", "cn", "jp", "kr", "au", "nz", "ca", "br",
    "mx", "ar", "za", "ie", "pt", "cz", "gr", "tr", "il", "sg", "hk", "tw", "eu", "ke", "ng", "eg",
    "ro", "hu", "sk", "bg", "hr", "si", "lt", "lv", "ee", "kz", "vn", "th", "id", "ph", "pk", "bd",
    "ir", "sa", "ae", "qa", "cl", "pe", "ve", "uy", "nu", "at",
    // Real TLDs that are also file extensions or words: need a path or `www.`.
    "rs", "py", "md", "sh", "pl", "cc", "so", "ml", "zip", "mov", "ps", "tf", "sc", "gd", "it",
    "is", "be", "me", "to", "in", "us", "no", "my", "am", "as", "do",
];

/// The members of [`TLDS`] that are not enough on their own.
const NEEDS_PATH: &[&str] = &[
    "rs", "py", "md", "sh", "pl", "cc", "so", "ml", "zip", "mov", "ps", "tf", "sc", "gd", "it",
    "is", "be", "me", "to", "in", "us", "no", "my", "am", "as", "do", "at",
];

/// The host of the first link in `lower` (a lowercased message), if any.
pub(super) fn first_link(lower: &str) -> Option<&str> {
    if let Some(caps) = WITH_SCHEME.captures(lower) {
        return caps.get(1).map(|host| bare_host(host.as_str()));
    }
    if !lower.contains('.') {
        return None;
    }
    BARE_DOMAIN.captures_iter(lower).find_map(|caps| {
        let whole = caps.get(0)?;
        let tld = caps.get(1)?.as_str();
        let has_path = caps.get(2).is_some();
        let host = whole.as_str().trim_end_matches('/');
        let after_at = lower[..whole.start()].ends_with('@');
        let accepted = TLDS.contains(&tld)
            && !after_at
            && (has_path || host.starts_with("www.") || !NEEDS_PATH.contains(&tld));
        accepted.then_some(host)
    })
}

/// `user:pass@host:port` → `host`.
fn bare_host(authority: &str) -> &str {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_a_scheme_give_their_host() {
        assert_eq!(
            first_link("read https://example.com/a?b=c"),
            Some("example.com")
        );
        assert_eq!(
            first_link("see http://user:pw@host.test:8080/x"),
            Some("host.test")
        );
        assert_eq!(first_link("ftp://[::1]:21/file"), Some("[::1]"));
        assert_eq!(first_link("<https://docs.rs/regex>"), Some("docs.rs"));
    }

    #[test]
    fn bare_domains_with_a_real_tld_are_links() {
        assert_eq!(
            first_link("what is on example.com today"),
            Some("example.com")
        );
        assert_eq!(
            first_link("summarize en.wikipedia.org/wiki/rust"),
            Some("en.wikipedia.org")
        );
        assert_eq!(first_link("is crates.io down?"), Some("crates.io"));
        assert_eq!(first_link("check bbc.co.uk."), Some("bbc.co.uk"));
    }

    #[test]
    fn file_names_are_not_links() {
        for name in [
            "node.js",
            "config.py",
            "main.rs",
            "index.html",
            "package.json",
            "readme.md",
            "setup.sh",
            "script.pl",
            "main.cc",
            "lib.so",
            "data.zip",
            "clip.mov",
            "notes.txt",
            "cargo.toml",
            "app.tsx",
            "styles.css",
        ] {
            assert_eq!(
                first_link(&format!("how do i edit {name}?")),
                None,
                "{name}"
            );
        }
    }

    #[test]
    fn ambiguous_tlds_count_with_a_path_or_www() {
        assert_eq!(first_link("docs.rs/regex/latest"), Some("docs.rs"));
        assert_eq!(first_link("youtu.be/dqw4w9wgxcq"), Some("youtu.be"));
        assert_eq!(first_link("www.gov.pl"), Some("www.gov.pl"));
        assert_eq!(first_link("i got home.it was late"), None);
        assert_eq!(first_link("look at docs.rs"), None);
    }

    #[test]
    fn numbers_abbreviations_and_emails_are_not_links() {
        for text in [
            "version 1.2.3",
            "pi is 3.14",
            "e.g. this",
            "i.e. that",
            "gpt-4.5 is out",
            "mail me@example.com",
            "u.s. politics",
            "ok.so what",
        ] {
            assert_eq!(first_link(text), None, "{text}");
        }
    }
}
