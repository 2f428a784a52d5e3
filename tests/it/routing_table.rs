//! The routing table: labelled messages with the provider that must answer
//! them, under the default configuration with both providers usable and the
//! current year 2026. Every failure is listed with its reasons.

use duet::chat::Turn;
use duet::chat::router::{Outcome, RouterConfig, route};
use duet::config::Mode;
use duet::providers::ProviderKind::{self, OpenAi as O, Perplexity as P};

struct Case {
    label: &'static str,
    text: &'static str,
    history: &'static [(&'static str, ProviderKind)],
    expected: ProviderKind,
}

const fn case(label: &'static str, text: &'static str, expected: ProviderKind) -> Case {
    Case {
        label,
        text,
        history: &[],
        expected,
    }
}

const fn after(
    history: &'static [(&'static str, ProviderKind)],
    label: &'static str,
    text: &'static str,
    expected: ProviderKind,
) -> Case {
    Case {
        label,
        text,
        history,
        expected,
    }
}

const TABLE: &[Case] = &[
    // The known traps.
    case(
        "trap: node.js is a file name",
        "How do I import node.js modules?",
        O,
    ),
    case(
        "trap: config.py is a file name",
        "what does config.py do in django",
        O,
    ),
    case("trap: main.rs is a file name", "fix the bug in main.rs", O),
    case(
        "trap: html and json files",
        "edit index.html and package.json",
        O,
    ),
    case("trap: timeless concept", "What is recursion?", O),
    case("trap: a statement about an entity", "I like Star Wars", O),
    case(
        "trap: greeting before latest news",
        "hello, what's the latest news?",
        P,
    ),
    case(
        "trap: email address is not a link",
        "email me at me@example.com",
        O,
    ),
    case(
        "trap: sentence glued to a word",
        "i got home.it was late",
        O,
    ),
    case(
        "trap: shell variable is no ticker",
        "echo $PATH shows nothing",
        O,
    ),
    case("trap: 2048 is a game, not a year", "play 2048 with me", O),
    // Links.
    case(
        "url with scheme",
        "summarize https://example.com/article",
        P,
    ),
    case("bare domain", "what does example.com sell", P),
    case(
        "bare domain with path",
        "read en.wikipedia.org/wiki/Rust_(programming_language)",
        P,
    ),
    case("io domain", "is crates.io down?", P),
    case("file-like tld with a path", "open docs.rs/tokio", P),
    case("uppercase scheme", "HTTP://EXAMPLE.ORG", P),
    case(
        "suppressed-embed link",
        "<https://blog.rust-lang.org/> thoughts?",
        P,
    ),
    case("www and second-level tld", "check www.bbc.co.uk", P),
    case(
        "link beats writing intent",
        "write a poem about example.com",
        P,
    ),
    // Explicit search intent.
    case("look up", "look up the population of Peru", P),
    case("search the web", "search the web for rust conferences", P),
    case("google as a verb", "google the best pizza in Naples", P),
    case(
        "sources wanted",
        "find me sources on intermittent fasting",
        P,
    ),
    case("fact-check", "can you fact-check this: bats are blind", P),
    // Time sensitivity.
    case("today", "what happened today in tech", P),
    case("tonight", "what's on tonight", P),
    case("currently", "who is currently the richest person", P),
    case("this week", "events in Berlin this week", P),
    case("current year", "best phones of 2026", P),
    case("future year", "what will AI look like in 2030", P),
    case("past year is history", "what happened in 1969", O),
    case("right now", "is it raining right now in London?", P),
    case(
        "current office holder",
        "who is the current prime minister of Japan",
        P,
    ),
    case("latest version", "what's the latest version of Python?", P),
    // Live data.
    case("weather", "weather in Tokyo", P),
    case("score", "what's the score of the Lakers game", P),
    case("crypto price", "bitcoin price", P),
    case("ticker in a question", "how is $NVDA doing", P),
    case("ticker alone", "$TSLA", P),
    case("currency pair", "USD to EUR", P),
    case("who won", "who won the Champions League final", P),
    case("election", "election results in Brazil", P),
    case("news", "any news on the Mars mission?", P),
    case("outage", "is Discord down?", P),
    case("stock", "should I worry about Apple stock", P),
    // Conversation.
    case("greeting", "hi", O),
    case("small talk beats today", "how are you today?", O),
    case("lowercase concept", "what is recursion", O),
    case("explain a concept", "explain borrow checking", O),
    case(
        "explain how something works",
        "explain how a hash map works",
        O,
    ),
    case(
        "poem about a live topic",
        "write a poem about the weather",
        O,
    ),
    case("story", "write a short story about a dragon", O),
    case("joke", "tell me a joke", O),
    case("translation", "translate 'good morning' to Spanish", O),
    case("refactoring", "refactor this function to be iterative", O),
    case("inline code", "why does `let x = 5;` not compile?", O),
    case(
        "fenced code",
        "```rust\nfn main() {}\n```\nwhy does this fail",
        O,
    ),
    case(
        "comparison of concepts",
        "what's the difference between a process and a thread",
        O,
    ),
    case("recipe", "give me a recipe for pancakes", O),
    case("philosophy", "what is the meaning of life?", O),
    case(
        "coding question with type names",
        "How do I sort a Vec in Rust?",
        O,
    ),
    case("programming language is no entity", "What is Rust?", O),
    case("statement with a place", "I love Paris in the spring", O),
    case(
        "request for help",
        "Can you help me plan a birthday party?",
        O,
    ),
    case("timeless summary", "summarize the plot of Hamlet", O),
    case("acronym is a concept", "what is an API?", O),
    case("thanks", "thanks!", O),
    case("latest element in code", "get the latest element of `v`", O),
    // Named entities in short questions.
    case("person", "Who is Sam Altman?", P),
    case("company model", "What is Anthropic's newest model?", P),
    case("athlete", "Did Messi retire?", P),
    case("headquarters", "Where is Nvidia headquartered?", P),
    case("tell me about", "tell me about OpenAI", P),
    case(
        "long question exceeds ENTITY_DETECTION_MIN_WORDS",
        "Who founded Tesla and when did it go public, and who runs it?",
        O,
    ),
    // Explicit prefixes.
    case("search prefix", "search: rust", P),
    case("web prefix on a concept", "web: how do closures work", P),
    case("chat prefix on news", "chat: latest news", O),
    case("prefix after a mention", "<@123> search: weather", P),
    case("prefix without space", "Search:Rust 2024 edition", P),
    // Markup and empty messages.
    case("mention only", "<@123>", O),
    case("custom emoji named weather", "<:weather:123456>", O),
    case("role and channel ids like years", "<@&2026> <#2027>", O),
    case(
        "mention before a weather question",
        "<@1> what's the weather today?",
        P,
    ),
    case(
        "timestamp is no time word",
        "<t:1767225600:R> is when we meet",
        O,
    ),
    case("empty", "", O),
    case("whitespace", "   \n ", O),
    // Follow-ups.
    after(
        &[("who won the match today?", P)],
        "why after a web answer",
        "why?",
        P,
    ),
    after(
        &[("write a poem", O)],
        "tell me more after a poem",
        "tell me more",
        O,
    ),
    after(
        &[("weather in London today?", P)],
        "and what about after weather",
        "and what about Paris?",
        P,
    ),
    after(
        &[("translate hello to German", O)],
        "also after a translation",
        "also in French",
        O,
    ),
    after(
        &[("weather in Paris today?", P), ("thanks!", O)],
        "acknowledgement skipped",
        "and in London?",
        P,
    ),
    after(
        &[("latest AI news", P), ("write a haiku", O)],
        "last substantive turn wins",
        "what else?",
        O,
    ),
    after(
        &[("write a poem", O)],
        "web signal beats a follow-up",
        "what about tomorrow?",
        P,
    ),
    after(
        &[("latest news", P), ("ok", O), ("thanks", O), ("cool", O)],
        "anchor beyond the lookback window",
        "why?",
        O,
    ),
    case("follow-up without history", "tell me more", O),
];

fn history(turns: &[(&str, ProviderKind)]) -> Vec<Turn> {
    turns
        .iter()
        .enumerate()
        .map(|(i, &(question, provider))| Turn {
            user_id: "table".into(),
            question: question.into(),
            answer: format!("answer {i}"),
            provider,
            model: "model".into(),
            at: i64::try_from(i).expect("small index"),
        })
        .collect()
}

#[test]
fn every_labelled_message_goes_to_its_expected_provider() {
    let config = RouterConfig::new(Mode::Hybrid, 2026);
    let failures: Vec<String> = TABLE
        .iter()
        .filter_map(|case| {
            let got = route(case.text, &history(case.history), &config);
            (got.provider != case.expected).then(|| {
                format!(
                    "[{}] {:?}: expected {}, got {}",
                    case.label, case.text, case.expected, got
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} messages misrouted:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_large_and_covers_both_directions() {
    let web = TABLE.iter().filter(|c| c.expected == P).count();
    let chat = TABLE.iter().filter(|c| c.expected == O).count();
    assert!(TABLE.len() >= 80, "only {} cases", TABLE.len());
    assert!(web >= 30 && chat >= 30, "{web} web, {chat} conversation");
}

/// The families of issue 13, with the outcome each must get: `web` and
/// `chat` are decided (no tool round trip), `undecided` goes to the chat
/// model with the `search_web` tool.
const FAMILIES: &[(&str, &str, Outcome)] = &[
    (
        "search verb with an object",
        "check the web for reviews of the framework 13",
        Outcome::Web,
    ),
    (
        "find me reviews",
        "find me reviews of the new kindle",
        Outcome::Web,
    ),
    (
        "find me a cheap thing",
        "find me a cheap flight to lisbon",
        Outcome::Web,
    ),
    (
        "look up an object",
        "look up the opening hours of the british museum",
        Outcome::Web,
    ),
    (
        "search for, mid-sentence",
        "can u pls search for vegan bakeries in leeds",
        Outcome::Web,
    ),
    (
        "what's new in a version",
        "what's new in python 3.14?",
        Outcome::Web,
    ),
    (
        "whats new without apostrophe",
        "whats new in ios 19",
        Outcome::Web,
    ),
    (
        "people saying about",
        "what are people saying about the new zelda",
        Outcome::Web,
    ),
    (
        "ppl saying about",
        "what r ppl saying about the switch 2",
        Outcome::Web,
    ),
    (
        "announced yet",
        "has the new pixel been announced yet?",
        Outcome::Web,
    ),
    (
        "been released",
        "has the oneplus 14 been released",
        Outcome::Web,
    ),
    (
        "out yet",
        "is the new season of arcane out yet",
        Outcome::Web,
    ),
    ("next event", "when is the next apple event", Outcome::Web),
    ("when's the next", "when's the next f1 race", Outcome::Web),
    (
        "season comes out",
        "when does the new season of the bear come out",
        Outcome::Web,
    ),
    ("playing now", "what movies are playing now", Outcome::Web),
    (
        "showing now",
        "what's showing now at the imax",
        Outcome::Web,
    ),
    ("in theaters", "which movies are in theaters", Outcome::Web),
    ("on tv tonight", "what's on tv tonight", Outcome::Web),
    (
        "feelings today",
        "I feel a bit down today, can we just talk?",
        Outcome::Undecided,
    ),
    (
        "cooking plans tonight",
        "what should I cook tonight",
        Outcome::Undecided,
    ),
    (
        "a plan for the week",
        "make me a workout plan for this week",
        Outcome::Undecided,
    ),
    ("a rough day", "today was awful lol", Outcome::Undecided),
    ("open question", "why is the sky blue", Outcome::Undecided),
    ("entity question", "Who is Sam Altman?", Outcome::Undecided),
    ("a statement", "I like Star Wars", Outcome::Chat),
    (
        "a difference between concepts",
        "what's the difference between weather and climate",
        Outcome::Chat,
    ),
    (
        "time word with a live topic stays web",
        "I wonder what the weather is today",
        Outcome::Web,
    ),
    (
        "time word alone, not personal",
        "any good deals on headphones today?",
        Outcome::Web,
    ),
];

#[test]
fn each_family_of_issue_13_gets_its_outcome() {
    let config = RouterConfig::new(Mode::Hybrid, 2026);
    let failures: Vec<String> = FAMILIES
        .iter()
        .filter_map(|&(label, text, expected)| {
            let got = route(text, &[], &config);
            (got.outcome != expected)
                .then(|| format!("[{label}] {text:?}: expected {expected}, got {got}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn undecided_decisions_fall_back_to_the_heuristic_guess() {
    let config = RouterConfig::new(Mode::Hybrid, 2026);
    assert_eq!(route("I feel a bit down today", &[], &config).provider, O);
    assert_eq!(route("Who is Sam Altman?", &[], &config).provider, P);
    assert_eq!(route("why is the sky blue", &[], &config).provider, O);
}
