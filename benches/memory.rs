//! Memory and prompt benchmarks: `cargo bench --bench memory`.
//!
//! Besides timings it prints the resident memory the `memory` backend needs
//! for 10,000 users × 20 turns, against the raw bytes of their text (target:
//! under 1.15×). Questions are 30–200 bytes and answers 150–1,200 bytes, mostly
//! ASCII with some multibyte characters.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use duet::chat::memory::Memory;
use duet::chat::prompt::{build_prompt, count_tokens};
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::ProviderKind;
use tokio::runtime::Runtime;

const FOOTPRINT_USERS: usize = 10_000;
const TURNS_PER_USER: usize = 20;
const MAX_HISTORY: usize = 50;

fn config(backend: MemoryBackend, path: PathBuf) -> MemoryConfig {
    MemoryConfig {
        backend,
        database_path: path,
        database_url: None,
        database_max_connections: 10,
        scope: MemoryScope::UserChannel,
        ttl: Some(Duration::from_secs(7 * 86_400)),
        cache_conversations: 1_000,
    }
}

fn text(rng: &mut fastrand::Rng, len: usize) -> String {
    const WORDS: [&str; 8] = [
        "the ", "answer ", "is ", "Rust ", "café ", "42 ", "東京 ", "🦀 ",
    ];
    let mut s = String::with_capacity(len + 8);
    while s.len() < len {
        s.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
    s
}

fn turn(rng: &mut fastrand::Rng, user_id: &str, at: i64) -> Turn {
    let (q_len, a_len) = (rng.usize(30..=200), rng.usize(150..=1_200));
    Turn {
        user_id: user_id.to_owned(),
        question: text(rng, q_len),
        answer: text(rng, a_len),
        provider: ProviderKind::OpenAi,
        model: "gpt-4o-mini".into(),
        at,
    }
}

fn key(user_id: &str) -> ConversationKey {
    ConversationKey::new(MemoryScope::UserChannel, user_id, "123456789012345678")
}

/// Resident set size in bytes, from /proc (Linux).
fn rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Fills the RAM backend and prints RSS growth against raw text bytes.
fn report_footprint(rt: &Runtime) -> Memory {
    let memory = Memory::open(&config(MemoryBackend::Memory, PathBuf::new()), MAX_HISTORY).unwrap();
    let mut rng = fastrand::Rng::with_seed(4);
    let before = rss_bytes();
    let mut raw = 0usize;
    rt.block_on(async {
        for user in 0..FOOTPRINT_USERS {
            let user_id = (100_000_000_000_000_000u64 + user as u64).to_string();
            for i in 0..TURNS_PER_USER {
                let t = turn(&mut rng, &user_id, i as i64);
                raw += t.question.len() + t.answer.len();
                memory.append(&key(&user_id), t).await.unwrap();
            }
        }
    });
    if let (Some(before), Some(after)) = (before, rss_bytes()) {
        let grown = after.saturating_sub(before);
        println!(
            "memory backend, {FOOTPRINT_USERS} users x {TURNS_PER_USER} turns: raw text {} MiB, \
             RSS grew {} MiB, ratio {:.3} (target < 1.15)",
            raw >> 20,
            grown >> 20,
            grown as f64 / raw as f64
        );
    }
    memory
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let ram = report_footprint(&rt);
    let mut rng = fastrand::Rng::with_seed(7);

    let sample = text(&mut rng, 1_000);
    c.bench_function("count_tokens 1 KB", |b| {
        b.iter(|| count_tokens(black_box(&sample)))
    });

    let history: Vec<Turn> = (0..25).map(|i| turn(&mut rng, "u", i)).collect();
    c.bench_function("build_prompt 25 turns, all fit", |b| {
        b.iter(|| build_prompt("system", black_box(&history), "question?", 120_000))
    });
    c.bench_function("build_prompt 25 turns, 2k budget", |b| {
        b.iter(|| build_prompt("system", black_box(&history), "question?", 2_000))
    });

    let hot = key("100000000000000042");
    c.bench_function("memory backend load (20 turns)", |b| {
        b.iter(|| rt.block_on(ram.load(black_box(&hot))).unwrap())
    });

    let appended = key("100000000000000043");
    c.bench_function("memory backend append (trim at 25 turns)", |b| {
        b.iter_batched(
            || turn(&mut rng, "100000000000000043", 0),
            |t| rt.block_on(ram.append(&appended, t)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let dir = tempfile::tempdir().unwrap();
    let sqlite = Memory::open(
        &config(MemoryBackend::Sqlite, dir.path().join("bench.db")),
        MAX_HISTORY,
    )
    .unwrap();
    let conversation = key("sqlite-user");
    c.bench_function("sqlite append (commit + trim)", |b| {
        b.iter_batched(
            || turn(&mut rng, "sqlite-user", 0),
            |t| rt.block_on(sqlite.append(&conversation, t)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    rt.block_on(sqlite.load(&conversation)).unwrap();
    c.bench_function("sqlite load, hot (from cache)", |b| {
        b.iter(|| rt.block_on(sqlite.load(black_box(&conversation))).unwrap())
    });
    rt.block_on(sqlite.flush()).unwrap();
}

criterion_group!(memory, benches);
criterion_main!(memory);
