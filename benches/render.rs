//! Benchmarks for the rendering hot path: every streamed edit re-renders and
//! re-splits the whole answer so far, so both must stay cheap.
//!
//! Run with `cargo bench --bench render`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use duet::discord::render::{DISCORD_MESSAGE_LIMIT, render_answer, split_for_discord};
use duet::providers::Source;

/// A long mixed answer: prose with citations, CJK, emoji and a big code block.
fn answer(paragraphs: usize) -> String {
    let prose = "The scheduler wakes each task once[1], and 東京の天気は晴れです。 🦀 \
                 See [the guide](<https://example.com/guide>) for details[2]. ";
    let code = "    let value = table[index]; // look up the entry\n".repeat(60);
    (0..paragraphs)
        .map(|i| match i % 4 {
            3 => format!("```rust\n{code}```"),
            _ => prose.repeat(6),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn sources(n: usize) -> Vec<Source> {
    (0..n)
        .map(|i| Source {
            title: format!("Source number {i}"),
            url: format!("https://site{}.example/articles/{i}", i % 5),
        })
        .collect()
}

fn bench_split(c: &mut Criterion) {
    let mut group = c.benchmark_group("split_for_discord");
    for paragraphs in [4, 16, 64] {
        let text = answer(paragraphs);
        group.throughput(Throughput::Elements(text.chars().count() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(text.chars().count()),
            &text,
            |b, text| {
                b.iter(|| split_for_discord(black_box(text), DISCORD_MESSAGE_LIMIT));
            },
        );
    }
    group.finish();
}

fn bench_render(c: &mut Criterion) {
    let text = answer(16);
    let sources = sources(20);
    c.bench_function("render_answer/20_sources", |b| {
        b.iter(|| render_answer(black_box(&text), black_box(&sources)));
    });
}

criterion_group!(benches, bench_split, bench_render);
criterion_main!(benches);
