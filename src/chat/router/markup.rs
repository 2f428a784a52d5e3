//! What is taken off a message before the rules look at it: Discord markup
//! (so an id or an emoji name never triggers a rule) and an explicit
//! `search:` / `web:` / `chat:` prefix.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::providers::ProviderKind;

/// User (`<@1>`, `<@!1>`), role (`<@&1>`) and channel (`<#1>`) mentions, custom
/// emoji (`<:name:1>`, `<a:name:1>`), timestamps (`<t:1:R>`), slash-command
/// mentions (`</cmd sub:1>`) and guild navigation (`<id:customize>`).
const MARKUP: &str =
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|/[^<>:\s][^<>:]*:\d+|id:[a-z-]+)>";

static ANY_MARKUP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(MARKUP).expect("markup pattern compiles"));

static LEADING_MARKUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^(?:\s|{MARKUP})*")).expect("leading markup pattern compiles")
});

/// Replaces every piece of markup with a space (so words either side stay apart).
pub(super) fn strip_markup(text: &str) -> Cow<'_, str> {
    if !text.contains('<') {
        return Cow::Borrowed(text);
    }
    ANY_MARKUP.replace_all(text, " ")
}

/// A prefix that names the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Explicit {
    pub provider: ProviderKind,
    /// As written in the rules, lowercase: `search:`.
    pub prefix: &'static str,
}

const PREFIXES: [Explicit; 3] = [
    Explicit {
        provider: ProviderKind::Perplexity,
        prefix: "search:",
    },
    Explicit {
        provider: ProviderKind::Perplexity,
        prefix: "web:",
    },
    Explicit {
        provider: ProviderKind::OpenAi,
        prefix: "chat:",
    },
];

/// Splits an explicit prefix off `text`; the prefix may follow markup such as
/// the bot's mention. Returns the question to send, trimmed: without the
/// prefix (and that leading markup) when there is one, else all of `text`.
pub(super) fn split_explicit(text: &str) -> (Option<Explicit>, &str) {
    let rest = match LEADING_MARKUP.find(text) {
        Some(leading) => &text[leading.end()..],
        None => text,
    };
    for explicit in PREFIXES {
        let head = rest.get(..explicit.prefix.len());
        if head.is_some_and(|head| head.eq_ignore_ascii_case(explicit.prefix)) {
            return (Some(explicit), rest[explicit.prefix.len()..].trim());
        }
    }
    (None, text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_discord_markup_is_removed() {
        let text = "<@1> <@!22> <@&333> <#4444> <:party:5> <a:dance:66> <t:1700000000:R> \
                    <t:1700000000> </ask question:77> <id:customize> hi";
        assert_eq!(
            strip_markup(text).split_whitespace().collect::<Vec<_>>(),
            ["hi"]
        );
    }

    #[test]
    fn text_that_only_looks_like_markup_is_kept() {
        let text = "is 3 <5 and Vec<String> <b>bold</b> <@name>";
        assert_eq!(strip_markup(text), text);
    }

    #[test]
    fn markup_between_words_keeps_them_apart() {
        assert_eq!(strip_markup("weather<:sun:1>today"), "weather today");
    }

    #[test]
    fn prefixes_are_case_insensitive_and_removed_from_the_question() {
        let (explicit, question) = split_explicit("  SEARCH:  rust 2.0 release ");
        assert_eq!(explicit.map(|e| e.prefix), Some("search:"));
        assert_eq!(question, "rust 2.0 release");
        let (explicit, question) = split_explicit("Web:news");
        assert_eq!(explicit.map(|e| e.provider), Some(ProviderKind::Perplexity));
        assert_eq!(question, "news");
        let (explicit, question) = split_explicit("chat: what's new today?");
        assert_eq!(explicit.map(|e| e.provider), Some(ProviderKind::OpenAi));
        assert_eq!(question, "what's new today?");
    }

    #[test]
    fn a_prefix_after_the_bots_mention_still_counts() {
        let (explicit, question) = split_explicit("<@123> web: latest rust");
        assert_eq!(explicit.map(|e| e.prefix), Some("web:"));
        assert_eq!(question, "latest rust");
    }

    #[test]
    fn a_prefix_word_inside_the_message_is_not_a_prefix() {
        let (explicit, question) = split_explicit(" how do I web: scrape ");
        assert_eq!(explicit, None);
        assert_eq!(question, "how do I web: scrape");
        assert_eq!(split_explicit("searching: nothing").0, None);
        assert_eq!(split_explicit("search").0, None);
    }

    #[test]
    fn multibyte_text_near_the_prefix_does_not_panic() {
        assert_eq!(split_explicit("sé").0, None);
        assert_eq!(split_explicit("ché: x").0, None);
        assert_eq!(split_explicit("💬").1, "💬");
    }
}
