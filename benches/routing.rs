//! How long one routing decision takes (target: well under 5 µs).
//!
//! `cargo bench --bench routing`; `cargo bench --bench routing -- --quick`
//! for a short run. Criterion runs without plots (default features off).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use duet::chat::Turn;
use duet::chat::router::{RouterConfig, route};
use duet::config::Mode;
use duet::providers::ProviderKind;

/// A mix of what a bot sees: both directions, markup, links, code, follow-ups.
const MESSAGES: &[&str] = &[
    "hello, what's the latest news?",
    "What is recursion?",
    "How do I import node.js modules?",
    "<@123456789012345678> what's the weather in Paris today? <:sun:987654321098765432>",
    "summarize https://example.com/articles/2026/some-long-path?with=query",
    "write a poem about the sea and the stars and the long night",
    "Who is Sam Altman?",
    "how is $NVDA doing compared to $AMD this week",
    "why does `let x: Vec<String> = Vec::new();` not compile in my code",
    "tell me more",
    "I like Star Wars",
    "explain borrow checking in Rust with an example and a comparison to C++ ownership rules",
];

fn history() -> Vec<Turn> {
    (0..10)
        .map(|i| Turn {
            user_id: "bench".into(),
            question: if i % 3 == 0 {
                "thanks".into()
            } else {
                format!("question {i}")
            },
            answer: "answer".into(),
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

fn routing(c: &mut Criterion) {
    let config = RouterConfig::new(Mode::Hybrid, 2026)
        .with_search_keywords(["patch notes", "cve"])
        .with_chat_keywords(["lore"]);
    let history = history();
    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(MESSAGES.len() as u64));
    group.bench_function("mixed_messages", |b| {
        b.iter(|| {
            for text in MESSAGES {
                black_box(route(black_box(text), &history, &config));
            }
        });
    });
    group.finish();
    for (name, text) in [
        ("news", MESSAGES[0]),
        ("markup", MESSAGES[3]),
        ("long_chat", MESSAGES[11]),
    ] {
        c.bench_function(&format!("route/{name}"), |b| {
            b.iter(|| route(black_box(text), &history, &config));
        });
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
