//! Section 9: how long storing one turn takes, SQLite next to PostgreSQL.
//! One writer appends turns of realistic size (200 and 800 characters)
//! round-robin to 100 conversations, each append awaited before the next,
//! as one conversation's turns are; the history is loaded before each
//! append, as a turn does. SQLite's append returns once its worker thread
//! committed (WAL, `synchronous=NORMAL`); PostgreSQL's once the server
//! committed the transaction (turn, trim, last activity). PostgreSQL is
//! `DUET_TEST_DATABASE_URL` in a schema of its own, dropped afterwards;
//! without it the PostgreSQL half is skipped with a note.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use duet::chat::memory::Memory;
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::ProviderKind;
use duet::secret::Secret;
use duet_testkit::postgres::TestSchema;
use serde_json::{Value, json};

use crate::sys::Spread;

const CONVERSATIONS: usize = 100;

pub async fn append_latency(quick: bool) -> anyhow::Result<Value> {
    let appends = if quick { 40 } else { 3_000 };
    let dir = tempfile::tempdir()?;
    let sqlite = config(MemoryBackend::Sqlite, dir.path().join("duet.db"), None);
    let sqlite = measure(&sqlite, appends).await?;
    let postgres = match TestSchema::create("bench_append").await {
        Some(schema) => {
            let url = Secret::new(schema.url.clone());
            measure(
                &config(MemoryBackend::Postgres, PathBuf::new(), Some(url)),
                appends,
            )
            .await?
        }
        None => {
            json!({"skipped": "set DUET_TEST_DATABASE_URL to a PostgreSQL server to measure it"})
        }
    };
    Ok(json!({
        "appends": appends,
        "conversations": CONVERSATIONS,
        "sqlite": sqlite,
        "postgres": postgres,
    }))
}

fn config(backend: MemoryBackend, path: PathBuf, url: Option<Secret>) -> MemoryConfig {
    MemoryConfig {
        backend,
        database_path: path,
        database_url: url,
        database_max_connections: 10,
        scope: MemoryScope::UserChannel,
        ttl: None,
        cache_conversations: 1_000,
    }
}

async fn measure(config: &MemoryConfig, appends: usize) -> anyhow::Result<Value> {
    let memory = Memory::connect(config, 50).await?;
    let mut rng = fastrand::Rng::with_seed(9);
    let mut append_times = Vec::with_capacity(appends);
    let mut load_times = Vec::with_capacity(appends);
    // The first round fills the conversations (and warms connections).
    for i in 0..appends + CONVERSATIONS {
        let user = (i % CONVERSATIONS).to_string();
        let key = ConversationKey::new(MemoryScope::UserChannel, &user, "123456789012345678");
        let turn = Turn {
            user_id: user,
            question: text(&mut rng, 200),
            answer: text(&mut rng, 800),
            provider: ProviderKind::OpenAi,
            model: "gpt-4o-mini".into(),
            at: i as i64,
        };
        let started = Instant::now();
        memory.load(&key).await?;
        let loaded = started.elapsed();
        memory.append(&key, turn).await?;
        if i >= CONVERSATIONS {
            load_times.push(loaded);
            append_times.push(started.elapsed() - loaded);
        }
    }
    memory.flush().await?;
    Ok(json!({
        "append_ms": Spread::of(&mut append_times),
        "load_ms": Spread::of(&mut load_times),
        "appends_per_sec": per_sec(appends, append_times.iter().sum()),
    }))
}

fn per_sec(count: usize, total: Duration) -> f64 {
    let secs = total.as_secs_f64();
    if secs == 0.0 {
        return 0.0;
    }
    (count as f64 / secs).round()
}

fn text(rng: &mut fastrand::Rng, chars: usize) -> String {
    (0..chars)
        .map(|i| if i % 6 == 5 { ' ' } else { rng.alphabetic() })
        .collect()
}
