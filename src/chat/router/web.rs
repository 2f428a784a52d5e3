//! The keyword rules: signals that a message needs the web, and signals that
//! it is conversation (creative writing, coding help, small talk).
//!
//! Every pattern runs on the message lowercased once, except tickers, which
//! need the original case (`$NVDA` is a ticker, `$path` in a shell question is
//! not). Configured keywords match whole words.

use std::sync::LazyLock;

use regex::Regex;

use super::{Reason, RouterConfig, links};

/// "look up", "search the web", "find me sources", "google it".
static SEARCH_INTENT: LazyLock<Regex> = LazyLock::new(|| {
    words(&[
        r"look\s+(?:it\s+|this\s+|that\s+|them\s+)?up",
        r"search\s+(?:the\s+)?(?:web|internet|online|net)",
        r"web\s+search",
        r"^search\s+for",
        r"can\s+you\s+search",
        r"find\s+(?:me\s+)?(?:some\s+)?sources",
        r"with\s+sources",
        r"cite\s+(?:your\s+)?sources",
        r"(?:with|give\s+me|include)\s+citations",
        r"browse\s+(?:the\s+)?(?:web|internet|online)",
        r"fact[\s-]?check",
        r"google\s+(?:it|this|that|for)",
        r"^google",
        r"check\s+online",
        r"check\s+(?:the\s+)?(?:web|internet|net|news)",
        r"search\s+for",
        r"(?:you|u|pls|please|just)\s+google",
        r"find\s+(?:me\s+)?(?:some\s+|the\s+|a\s+|an\s+)?(?:reviews?|deals?|prices?|cheap|flights?|hotels?|tickets?)",
        r"(?:reviews?|reviewers|critics)\s+(?:of|for|on)",
        r"what(?:'s|s|\s+is)\s+new\s+(?:in|with)",
        r"what\s+(?:are|r|is)\s+(?:people|ppl|folks|reviewers|reviews|critics|everyone|reddit|twitter)\s+saying",
        r"(?:when|where)(?:'s|s|\s+is|\s+are|\s+will)\s+(?:the\s+)?next",
        r"when\s+(?:does|do|will|is|are)\s+[a-z0-9 .'-]{1,40}?\s+(?:come\s+out|coming\s+out|release|released|launch|start|air|premiere)",
        r"^(?:has|have)\s+[^?]{1,60}?\s+been\s+(?:announced|released|launched|confirmed|revealed)",
        r"^(?:has|have|is|are|did|does)\s+[^?]{1,60}?\s+(?:yet|already)",
        r"^(?:has|have|did)\s+[^?]{1,40}?\s+(?:announced?|released?|launched?|dropped|revealed)",
        r"where\s+(?:can|to|do)\s+(?:i\s+)?buy",
        r"(?:playing|showing|on)\s+(?:now|tonight|right\s+now)",
        r"(?:in|at)\s+(?:the\s+)?(?:theaters|theatres|cinemas?)",
        r"what(?:'s|s|\s+is)\s+on\s+[a-z0-9+]+\s+(?:tonight|today|this\s+week|now)",
    ])
});

/// First person, plans and feelings: "I feel a bit down today", "what should
/// I cook tonight". A time word in such a message is about the writer's day,
/// not about the news, so on its own it does not call for the web.
static PERSONAL: LazyLock<Regex> = LazyLock::new(|| {
    words(&[
        r"i",
        r"i'm",
        r"im",
        r"i've",
        r"ive",
        r"i'd",
        r"i'll",
        r"my",
        r"we",
        r"let'?s",
        r"should\s+(?:i|we)",
        r"help\s+me",
        r"(?:can|could)\s+we",
        r"feel(?:ing)?",
        r"bored",
        r"lonely",
        r"sad",
        r"tired",
        r"stressed",
        r"anxious",
        r"awful",
        r"terrible",
        r"rough",
        r"lol",
        r"make\s+me",
        r"plan",
        r"routine",
    ])
});

/// "today", "latest", "right now", "this week", "current president".
static TIME_SENSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    words(&[
        r"today'?s?",
        r"tonight'?s?",
        r"tomorrow'?s?",
        r"yesterday'?s?",
        r"this\s+(?:morning|afternoon|evening|week|weekend|month|year|season)",
        r"(?:next|last)\s+(?:week|weekend|night|month)",
        r"right\s+now",
        r"currently",
        r"at\s+the\s+moment",
        r"as\s+of\s+(?:now|today)",
        r"latest",
        r"newest",
        r"most\s+recent",
        r"recent(?:ly)?",
        r"up[\s-]to[\s-]date",
        r"these\s+days",
        r"nowadays",
        r"still\s+alive",
        r"current\s+(?:president|prime\s+minister|ceo|leader|king|queen|pope|champions?|record|version|release|price|rates?|status|state|situation|events|government|chancellor|mayor|governor|ranking|standings)",
    ])
});

/// Weather, scores, prices, news, exchange rates, elections, outages.
static LIVE_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    words(&[
        r"weather",
        r"forecast",
        r"scores?",
        r"scoreboard",
        r"standings",
        r"fixtures",
        r"who\s+won",
        r"who\s+is\s+winning",
        r"prices?",
        r"stocks?",
        r"share\s+price",
        r"market\s+cap",
        r"exchange\s+rates?",
        r"(?:usd|eur|gbp|jpy|cny|chf|cad|aud|inr|btc|eth)\s*(?:to|/|in)\s*(?:usd|eur|gbp|jpy|cny|chf|cad|aud|inr|btc|eth)",
        r"bitcoin",
        r"ethereum",
        r"crypto(?:currency)?",
        r"news",
        r"headlines",
        r"elections?",
        r"polls",
        r"traffic",
        r"box\s+office",
        r"release\s+date",
        r"outage",
        r"(?:is|are)\s+(?:the\s+)?[a-z0-9.-]+\s+(?:servers?\s+)?down",
        r"servers?\s+(?:are\s+|is\s+)?down",
        r"down\s+for\s+(?:anyone|everyone|me)",
        r"how\s+much\s+(?:does|do|would|will)\s+[^?]{1,40}?\s+cost",
        r"how\s+much\s+(?:is|are)\s+(?:a|an|the)",
        r"interest\s+rates?",
        r"rankings?",
        r"league\s+table",
        r"open\s+(?:now|today|tonight|right\s+now)",
        r"new\s+(?:update|patch|version|release|season|album|trailer)",
        r"leaks?",
        r"rumou?rs?",
        r"sold\s+out",
        r"in\s+stock",
        r"flight\s+status",
    ])
});

/// Creative writing, coding help and small talk: conversation, not search.
static CHAT_INTENT: LazyLock<Regex> = LazyLock::new(|| {
    words(&[
        r"write\s+(?:me\s+)?(?:a|an|some)\s+(?:poem|story|song|haiku|limerick|essay|letter|email|speech|joke|function|program|script|class|test|query|regex)",
        r"poem",
        r"haiku",
        r"limerick",
        r"short\s+story",
        r"tell\s+me\s+a\s+(?:joke|story)",
        r"rewrite",
        r"rephrase",
        r"paraphrase",
        r"proofread",
        r"translate",
        r"how\s+do\s+(?:you|i)\s+say",
        r"brainstorm",
        r"role-?play",
        r"pretend",
        r"my\s+code",
        r"this\s+code",
        r"code\s+review",
        r"refactor",
        r"debug",
        r"compiler?\s+error",
        r"stack\s+trace",
        r"traceback",
        r"segfault",
        r"how\s+are\s+you",
        r"who\s+are\s+you",
        r"what(?:'s|\s+is)\s+your\s+name",
        r"difference\s+between",
        r"^(?:explain|define)",
    ])
});

/// `$NVDA`, `$BRK.B`: one to five capitals after a dollar sign.
static TICKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$([A-Z]{1,5}(?:\.[A-Z])?)(?-u:\b)").expect("ticker pattern compiles")
});

/// Shell and environment variables that look like tickers.
const NOT_TICKERS: &[&str] = &[
    "PATH", "HOME", "USER", "SHELL", "PWD", "TERM", "LANG", "TMP", "UID", "PS", "IFS", "EDITOR",
];

/// Compiles `alternatives` as one pattern of whole words (ASCII boundaries).
fn words(alternatives: &[&str]) -> Regex {
    let pattern = format!(r"(?-u:\b)(?:{})(?-u:\b)", alternatives.join("|"));
    Regex::new(&pattern).expect("keyword pattern compiles")
}

/// What in a message calls for the web, in the order shown to users.
#[derive(Debug, Default)]
pub(super) struct Signals {
    /// URL, search intent, configured search keyword: beat conversation intent.
    strong: Vec<Reason>,
    /// Live topics, tickers: conversation intent beats them.
    weak: Vec<Reason>,
    /// A time phrase or a near year: the weakest signal (see [`Signals::time_only`]).
    time: Option<Reason>,
}

impl Signals {
    /// `text` is the message without markup; `lower` is `text` lowercased.
    pub(super) fn scan(text: &str, lower: &str, config: &RouterConfig) -> Self {
        let mut signals = Signals::default();
        if let Some(host) = links::first_link(lower) {
            signals.strong.push(Reason::Url(host.to_string()));
        }
        if let Some(found) = SEARCH_INTENT.find(lower) {
            signals
                .strong
                .push(Reason::SearchIntent(found.as_str().to_string()));
        }
        if let Some(word) = first_keyword(lower, &config.search_keywords) {
            signals.strong.push(Reason::SearchKeyword(word.to_string()));
        }
        if let Some(found) = time_sensitive(lower, config.current_year) {
            signals.time = Some(Reason::TimeSensitive(found.to_string()));
        }
        if let Some(found) = LIVE_TOPIC.find(lower) {
            signals
                .weak
                .push(Reason::LiveTopic(found.as_str().to_string()));
        }
        if let Some(ticker) = first_ticker(text) {
            signals.weak.push(Reason::Ticker(format!("${ticker}")));
        }
        signals
    }

    pub(super) fn has_strong(&self) -> bool {
        !self.strong.is_empty()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.strong.is_empty() && self.weak.is_empty() && self.time.is_none()
    }

    /// Only a time word matched: the web is likely but not certain.
    pub(super) fn time_only(&self) -> bool {
        self.strong.is_empty() && self.weak.is_empty() && self.time.is_some()
    }

    /// Strong reasons first, then the time phrase, then the other weak ones.
    pub(super) fn into_reasons(mut self) -> Vec<Reason> {
        self.strong.extend(self.time);
        self.strong.append(&mut self.weak);
        self.strong
    }
}

/// Conversation intent, built in or from `[Routing] CHAT_KEYWORDS`.
pub(super) fn chat_intent(lower: &str, chat_keywords: &[String]) -> Option<Reason> {
    if lower.contains('`') {
        return Some(Reason::ChatIntent("code".to_string()));
    }
    if let Some(found) = CHAT_INTENT.find(lower) {
        return Some(Reason::ChatIntent(found.as_str().to_string()));
    }
    first_keyword(lower, chat_keywords).map(|word| Reason::ChatKeyword(word.to_string()))
}

/// The message is about the writer: their feelings, day or plans.
pub(super) fn personal(lower: &str) -> Option<&str> {
    PERSONAL.find(lower).map(|found| found.as_str())
}

/// A time phrase, or a year from `current_year` up to ten years ahead.
fn time_sensitive(lower: &str, current_year: i32) -> Option<&str> {
    if let Some(found) = TIME_SENSITIVE.find(lower) {
        return Some(found.as_str());
    }
    static YEAR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?-u:\b)[12]\d{3}(?-u:\b)").expect("year pattern compiles"));
    YEAR.find_iter(lower).map(|m| m.as_str()).find(|year| {
        year.parse::<i32>()
            .is_ok_and(|year| (current_year..=current_year.saturating_add(10)).contains(&year))
    })
}

fn first_ticker(text: &str) -> Option<&str> {
    if !text.contains('$') {
        return None;
    }
    TICKER
        .captures_iter(text)
        .filter_map(|caps| caps.get(1))
        .map(|m| m.as_str())
        .find(|symbol| !NOT_TICKERS.contains(symbol))
}

/// The first of `keywords` (lowercase) found in `lower` as whole words.
fn first_keyword<'k>(lower: &str, keywords: &'k [String]) -> Option<&'k str> {
    keywords
        .iter()
        .map(String::as_str)
        .find(|keyword| contains_words(lower, keyword))
}

/// `needle` occurs in `haystack` not glued to letters or digits on either side.
fn contains_words(haystack: &str, needle: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let starts_word = is_word(needle.chars().next());
    let ends_word = is_word(needle.chars().next_back());
    haystack.match_indices(needle).any(|(at, _)| {
        let glued_before = starts_word && is_word(haystack[..at].chars().next_back());
        let glued_after = ends_word && is_word(haystack[at + needle.len()..].chars().next());
        !glued_before && !glued_after
    })
}

#[cfg(test)]
#[path = "web_tests.rs"]
mod tests;
