//! Section 6: the cost of one routing decision, over varied messages
//! (chat, web, markup, links, code, tickers, follow-ups) with a history.

use std::hint::black_box;
use std::time::Instant;

use duet::chat::Turn;
use duet::chat::router::{RouterConfig, route};
use duet::config::Config;
use duet::providers::ProviderKind;
use serde_json::{Value, json};

const OPENERS: &[&str] = &[
    "what's the weather in",
    "write a poem about",
    "explain how",
    "latest news about",
    "tell me more about",
    "who is",
    "how do I fix",
    "summarize https://example.com/articles/",
    "<@123456789012345678> can you check",
    "search: reviews of",
    "chat: a story about",
    "and what about",
    "why does `Vec<String>` not work with",
    "how is $NVDA doing compared to",
    "thanks! now tell me about",
];

const SUBJECTS: &[&str] = &[
    "Paris",
    "the sea at night",
    "borrow checking in Rust",
    "Sam Altman",
    "my python script",
    "the election results",
    "東京の天気",
    "quantum computing 🦀",
    "exchange rates today",
    "the 2027 world cup",
    "a recipe for bread",
    "node.js modules",
];

/// Routes `count` generated messages and reports ns per decision.
pub fn routing(quick: bool) -> anyhow::Result<Value> {
    let count = if quick { 2_000 } else { 100_000 };
    let config = Config::from_env(
        &[
            ("OPENAI_API_KEY", "sk-bench"),
            ("PERPLEXITY_API_KEY", "pplx-bench"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    )
    .map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let router = RouterConfig::from_config(&config, 2026);
    let history = history();
    let mut rng = fastrand::Rng::with_seed(7);
    let messages: Vec<String> = (0..count)
        .map(|i| {
            let opener = OPENERS[rng.usize(..OPENERS.len())];
            let subject = SUBJECTS[rng.usize(..SUBJECTS.len())];
            let tail = if i % 3 == 0 { "?" } else { " please" };
            format!("{opener} {subject}{tail} {}", rng.u32(..100_000))
        })
        .collect();
    let started = Instant::now();
    let mut web = 0usize;
    for text in &messages {
        let decision = route(black_box(text), &history, &router);
        web += usize::from(decision.provider == ProviderKind::Perplexity);
    }
    let elapsed = started.elapsed();
    Ok(json!({
        "decisions": count,
        "ns_per_decision": (elapsed.as_nanos() as f64 / count as f64).round(),
        "to_openai": count - web,
        "to_perplexity": web,
        "history_turns": history.len(),
    }))
}

fn history() -> Vec<Turn> {
    (0..10)
        .map(|i| Turn {
            user_id: "bench".into(),
            question: if i % 3 == 0 {
                "thanks".into()
            } else {
                format!("question number {i} about something")
            },
            answer: "an answer of a few words".into(),
            provider: if i % 2 == 0 {
                ProviderKind::OpenAi
            } else {
                ProviderKind::Perplexity
            },
            model: "model".into(),
            at: i,
        })
        .collect()
}
