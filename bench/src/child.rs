//! Sections 4 and 7, measured in fresh child processes (this binary run
//! again with a hidden `--phase`), because resident memory does not shrink
//! after frees: each figure must come from a process that did only that.
//!
//! A child prints `ready` when its work is done (startup: when the bot
//! could serve), then one JSON line with its figures.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::args::Args;
use crate::sys::rss_bytes;

/// What a child reported.
pub struct ChildReport {
    /// From spawning the child to its `ready` line.
    pub until_ready: Duration,
    pub figures: Value,
}

/// Runs this binary with `args` and `env` (and nothing else in its
/// environment), giving up after `limit`. The child's stderr (the bot's
/// log, which tees to stderr) is shown only when it fails.
pub fn run_child(
    args: &[String],
    env: &HashMap<String, String>,
    limit: Duration,
) -> anyhow::Result<ChildReport> {
    let exe = std::env::current_exe().context("where this binary is")?;
    let spawned_at = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start the child process")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut stderr = child.stderr.take().context("child stderr")?;
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let deadline = spawned_at + limit;
    let mut until_ready = None;
    let mut figures = None;
    while figures.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((at, line)) = received.recv_timeout(left) else {
            let _ = child.kill();
            let _ = child.wait();
            let log = log.join().unwrap_or_default();
            bail!("the child {args:?} gave no answer within {limit:?}; its stderr:\n{log}");
        };
        if line == "ready" {
            until_ready = Some(at.duration_since(spawned_at));
        } else if line.starts_with('{') {
            figures = Some(serde_json::from_str::<Value>(&line).context("child JSON")?);
        }
    }
    let status = child.wait().context("wait for the child")?;
    if !status.success() {
        let log = log.join().unwrap_or_default();
        bail!("the child {args:?} failed: {status}; its stderr:\n{log}");
    }
    Ok(ChildReport {
        until_ready: until_ready.unwrap_or_default(),
        figures: figures.unwrap_or(Value::Null),
    })
}

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("duet-bench-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Tells the parent the phase is done, then prints its figures.
pub fn announce(figures: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    writeln!(out, "{figures}")?;
    out.flush()?;
    Ok(())
}

/// One store to fill: its name in the report, backend, users, turns each.
pub struct Fill {
    pub name: &'static str,
    pub backend: &'static str,
    pub users: usize,
    pub turns: usize,
}

/// The memory section's stores. The 10,000 users × 20 turns for
/// both backends; the SQLite flatness pair (1× and 10× the users) stores
/// `flat_turns` turns per user, because 100,000 × 20 turns means 2 million
/// commits (about 3 minutes of disk writes here) on its own.
pub fn fills(args: &Args) -> Vec<Fill> {
    let (users, turns) = if args.quick { (50, 4) } else { (10_000, 20) };
    let flat = args.flat_turns.min(turns.max(1));
    let fill = |name, backend, users, turns| Fill {
        name,
        backend,
        users,
        turns,
    };
    vec![
        fill("memory", "memory", users, turns),
        fill("sqlite", "sqlite", users, turns),
        fill("sqlite_flat_1x", "sqlite", users, flat),
        fill("sqlite_flat_10x", "sqlite", users * 10, flat),
    ]
}

/// Section 4, parent side: one child per store.
pub fn memory(args: &Args) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    for fill in fills(args) {
        let scratch = Scratch::new(&format!("memory-{}", fill.name))?;
        let db = scratch.0.join("duet.db");
        let child_args: Vec<String> = [
            "--phase",
            "memory",
            "--backend",
            fill.backend,
            "--users",
            &fill.users.to_string(),
            "--turns",
            &fill.turns.to_string(),
            "--db",
            &db.display().to_string(),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        let report = run_child(&child_args, &HashMap::new(), Duration::from_secs(240))?;
        out.insert(fill.name.into(), report.figures);
    }
    let rss = |name: &str| out.get(name).and_then(|v| v["rss_after_bytes"].as_f64());
    let flat = match (rss("sqlite_flat_1x"), rss("sqlite_flat_10x")) {
        (Some(small), Some(big)) if small > 0.0 => json!((big / small * 1000.0).round() / 1000.0),
        _ => Value::Null,
    };
    out.insert("sqlite_10x_over_1x".into(), flat);
    Ok(Value::Object(out))
}

/// Section 4, child side: fills one store and reports resident memory.
pub async fn memory_phase(args: &Args) -> anyhow::Result<Value> {
    use duet::chat::memory::Memory;
    use duet::chat::{ConversationKey, Turn};
    use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
    use duet::providers::ProviderKind;
    use futures::StreamExt;

    let backend = match args.backend.as_str() {
        "sqlite" => MemoryBackend::Sqlite,
        _ => MemoryBackend::Memory,
    };
    let db = args.db.clone().unwrap_or_default();
    let config = MemoryConfig {
        backend,
        database_path: db.clone(),
        database_url: None,
        database_max_connections: 10,
        scope: MemoryScope::UserChannel,
        ttl: None,
        // The defaults: 1,000 conversations cached, 50 messages kept.
        cache_conversations: 1_000,
    };
    let memory = Memory::open(&config, 50)?;
    let rss_before = rss_bytes();
    let mut rng = fastrand::Rng::with_seed(11);
    let raw = std::cell::Cell::new(0u64);
    let started = Instant::now();
    // One user's turns after another, each as a turn does it: load the
    // history, then store the new turn. The end state is what is measured:
    // every turn stored, the cache holding the most recent conversations.
    let turns = (0..args.users)
        .flat_map(|user| (0..args.turns).map(move |t| (user, t)))
        .map(|(user, t)| {
            let user_id = (100_000_000_000_000_000u64 + user as u64).to_string();
            let key =
                ConversationKey::new(MemoryScope::UserChannel, &user_id, "123456789012345678");
            let (question, answer) = (words(&mut rng, 200), words(&mut rng, 800));
            raw.set(raw.get() + (question.len() + answer.len()) as u64);
            let turn = Turn {
                user_id,
                question,
                answer,
                provider: ProviderKind::OpenAi,
                model: "gpt-4o-mini".into(),
                at: t as i64,
            };
            (key, turn)
        });
    // Jobs start in order and the store runs them in arrival order.
    let mut appends = futures::stream::iter(turns)
        .map(|(key, turn)| {
            let memory = memory.clone();
            async move {
                memory.load(&key).await?;
                memory.append(&key, turn).await
            }
        })
        .buffered(64);
    while let Some(result) = appends.next().await {
        result?;
    }
    drop(appends);
    let raw = raw.get();
    memory.flush().await?;
    let rss_after = rss_bytes();
    let growth = rss_after.saturating_sub(rss_before);
    Ok(json!({
        "backend": args.backend,
        "users": args.users,
        "turns_per_user": args.turns,
        "raw_text_bytes": raw,
        "rss_before_bytes": rss_before,
        "rss_after_bytes": rss_after,
        "rss_growth_bytes": growth,
        "growth_over_raw": (growth as f64 / raw.max(1) as f64 * 1000.0).round() / 1000.0,
        "rss_over_raw": (rss_after as f64 / raw.max(1) as f64 * 1000.0).round() / 1000.0,
        "cached_conversations": memory.cached_conversations(),
        "database_bytes": file_size(&db),
        "fill_secs": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    }))
}

fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// ASCII text of exactly `len` characters, made of varied words.
fn words(rng: &mut fastrand::Rng, len: usize) -> String {
    const WORDS: &[&str] = &[
        "the",
        "answer",
        "is",
        "rust",
        "memory",
        "because",
        "a",
        "thread",
        "pool",
        "of",
        "connections",
        "keeps",
        "latency",
        "low",
        "and",
        "users",
        "happy",
        "when",
        "it",
        "works",
    ];
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        s.push_str(WORDS[rng.usize(..WORDS.len())]);
        s.push(' ');
    }
    s.truncate(len);
    s
}

/// Section 7, parent side: a child starts the bot against `env` (the
/// mock's or the upstream's) and reports when it is ready and its RSS.
pub fn startup(env: &HashMap<String, String>) -> anyhow::Result<Value> {
    let scratch = Scratch::new("startup")?;
    let mut env = env.clone();
    env.insert(
        "DATABASE_PATH".into(),
        scratch.0.join("duet.db").display().to_string(),
    );
    // The bot logs at INFO by default; keep its lines out of the report.
    env.insert(
        "LOG_FILE".into(),
        scratch.0.join("duet.log").display().to_string(),
    );
    let report = run_child(
        &["--phase".into(), "startup".into()],
        &env,
        Duration::from_secs(60),
    )?;
    let mut figures = report.figures;
    figures["ready_ms"] = json!(crate::sys::ms(report.until_ready));
    Ok(figures)
}

/// Section 7, child side: what `duet run` does before it can serve
/// (configuration from the environment, logging, metrics, providers built
/// and warmed, memory opened, the pipeline built), then idle RSS.
pub fn startup_phase(started: Instant) -> anyhow::Result<()> {
    use std::sync::Arc;

    use duet::app::{App, Role};
    use duet::config::Config;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let env = duet::config::env_from_os(std::env::vars_os())
            .map_err(|errors| anyhow::anyhow!("{errors}"))?;
        let config = Config::from_env(&env).map_err(|errors| anyhow::anyhow!("{errors}"))?;
        let _log = duet::logging::init(&config, None)?;
        let _metrics = duet::ops::install_metrics();
        let app = App::build(Arc::new(config), Role::Bot).await?;
        let providers = app.service.providers();
        let in_process = started.elapsed();
        let rss = rss_bytes();
        let connections: u64 = providers
            .stats()
            .iter()
            .map(|s| s.connections_created)
            .sum();
        announce(&json!({
            "in_process_ms": crate::sys::ms(in_process),
            "idle_rss_bytes": rss,
            "idle_rss_mib": (rss as f64 / 1_048_576.0 * 100.0).round() / 100.0,
            "warm_connections": connections,
            "providers": providers.available().len(),
        }))
    })
}
