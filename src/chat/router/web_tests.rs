//! Unit tests of the keyword rules, one group per rule.

use super::*;
use crate::config::Mode;

fn config() -> RouterConfig {
    RouterConfig::new(Mode::Hybrid, 2026)
}

fn scan(text: &str) -> Vec<Reason> {
    Signals::scan(text, &text.to_lowercase(), &config()).into_reasons()
}

#[test]
fn time_phrases_are_time_sensitive() {
    for (text, phrase) in [
        ("what happened today", "today"),
        ("who plays tonight", "tonight"),
        ("the latest rust release", "latest"),
        ("what is happening right now", "right now"),
        ("who is currently leading", "currently"),
        ("events this week", "this week"),
        (
            "who is the current president of france",
            "current president",
        ),
        ("is he still alive", "still alive"),
    ] {
        assert_eq!(
            time_sensitive(&text.to_lowercase(), 2026),
            Some(phrase),
            "{text}"
        );
    }
}

#[test]
fn years_count_from_the_current_one_for_ten_years() {
    assert_eq!(time_sensitive("the 2026 olympics", 2026), Some("2026"));
    assert_eq!(time_sensitive("plans for 2036", 2026), Some("2036"));
    assert_eq!(time_sensitive("what happened in 2025", 2026), None);
    assert_eq!(time_sensitive("the 2048 puzzle game", 2026), None);
    assert_eq!(time_sensitive("port 20261 or 2026px", 2026), None);
    assert_eq!(time_sensitive("in 2027", i32::MAX), None, "no overflow");
}

#[test]
fn words_inside_other_words_do_not_count() {
    assert_eq!(time_sensitive("a todayish mood", 2026), None);
    assert!(scan("newsletter design tips").is_empty());
    assert!(scan("the currentness of a stockade").is_empty());
}

#[test]
fn live_topics_are_found() {
    for (text, topic) in [
        ("what's the weather in oslo", "weather"),
        ("lakers score", "score"),
        ("nvidia stock", "stock"),
        ("any news about the launch", "news"),
        ("usd to eur", "usd to eur"),
        ("the exchange rate for yen", "exchange rate"),
        ("who won the election", "who won"),
        ("is github down", "is github down"),
    ] {
        assert_eq!(scan(text), [Reason::LiveTopic(topic.into())], "{text}");
    }
}

#[test]
fn tickers_need_capitals_and_are_not_shell_variables() {
    assert_eq!(scan("thoughts on $NVDA?"), [Reason::Ticker("$NVDA".into())]);
    assert_eq!(scan("$BRK.B vs $AAPL"), [Reason::Ticker("$BRK.B".into())]);
    assert!(scan("echo $PATH and $HOME").is_empty());
    assert!(scan("it costs $5").is_empty());
    assert!(scan("my $variable in php").is_empty());
}

#[test]
fn explicit_search_intent_is_strong() {
    for (text, intent) in [
        ("look up the population of peru", "look up"),
        ("can you look it up", "look it up"),
        ("search the web for rust jobs", "search the web"),
        ("google it", "google it"),
        ("find me sources on sleep and memory", "find me sources"),
        ("fact-check this claim", "fact-check"),
    ] {
        let signals = Signals::scan(text, text, &config());
        assert!(signals.has_strong(), "{text}");
        assert_eq!(
            signals.into_reasons(),
            [Reason::SearchIntent(intent.into())]
        );
    }
}

#[test]
fn several_signals_are_reported_in_a_fixed_order() {
    assert_eq!(
        scan("Look up today's weather on weather.com for $SPY"),
        [
            Reason::Url("weather.com".into()),
            Reason::SearchIntent("look up".into()),
            Reason::TimeSensitive("today's".into()),
            Reason::LiveTopic("weather".into()),
            Reason::Ticker("$SPY".into()),
        ]
    );
}

#[test]
fn configured_search_keywords_match_whole_words() {
    let config = config().with_search_keywords(["Patch Notes", "cve"]);
    let reasons = |text: &str| Signals::scan(text, text, &config).into_reasons();
    assert_eq!(
        reasons("read the patch notes"),
        [Reason::SearchKeyword("patch notes".into())]
    );
    assert_eq!(
        reasons("cve-2021-44228"),
        [Reason::SearchKeyword("cve".into())]
    );
    assert!(reasons("recvevent loop").is_empty());
}

#[test]
fn conversation_intents_are_found() {
    for (text, intent) in [
        ("write a poem about rain", "write a poem"),
        ("write me a haiku", "write me a haiku"),
        ("translate this to german", "translate"),
        ("refactor this function", "refactor"),
        ("why does my code panic", "my code"),
        ("how are you today", "how are you"),
    ] {
        assert_eq!(
            chat_intent(text, &[]),
            Some(Reason::ChatIntent(intent.into())),
            "{text}"
        );
    }
    assert_eq!(
        chat_intent("what does `?` do", &[]),
        Some(Reason::ChatIntent("code".into()))
    );
    assert_eq!(chat_intent("what is the capital of peru", &[]), None);
}

#[test]
fn configured_chat_keywords_match_whole_words() {
    let words = ["d&d".to_string(), "campaign".to_string()];
    assert_eq!(
        chat_intent("plan my d&d session", &words),
        Some(Reason::ChatKeyword("d&d".into()))
    );
    assert_eq!(chat_intent("campaigns", &words), None);
}
