//! Section "scale" (`--only scale`; not part of a default run): messages per
//! second and CPU per message through the fake Discord for a two-shard bot
//! served (a) by one `duet run` running both shards and (b) by two, one
//! shard each, sharing PostgreSQL and Redis (DUET_TEST_DATABASE_URL and
//! DUET_TEST_REDIS_URL: a schema and a key prefix of its own per run). (a)
//! runs with SQLite too, for comparison. The mock LLM and the fake Discord
//! run on the mock's thread of this harness, so their CPU is not the bot's.
//!
//! Every run gets the same load: users spread over servers on both shards,
//! each user's messages one at a time (a worker owns its users), a fixed
//! number of messages, every reply awaited. CPU per message = the duet
//! processes' utime + stime (`/proc/<pid>/stat`) over the measured
//! messages; the PostgreSQL and Redis servers' CPU is reported beside it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::args::Args;
use crate::child::Scratch;
use crate::duet_run::duet_binary;
use crate::mock_host::MockHost;
use crate::pipeline::Target;
use crate::scale_procs::{Process, Stores};
use crate::sys::{Spread, load_average, ms, named_cpu, process_cpu};
use duet_testkit::fake_discord::FakeDiscord;
use duet_testkit::fake_discord::UserMessage;
use duet_testkit::fake_discord::fixtures::FakeUser;
use duet_testkit::fake_discord::realistic::general_channel;
use duet_testkit::fake_discord::shards::guild_on_shard;
use duet_testkit::postgres::TestSchema;
use duet_testkit::test_redis::TestRedis;

/// How long one message may wait for its reply before it counts as unanswered.
const REPLY_WAIT: Duration = Duration::from_secs(60);
/// The store servers whose CPU is reported next to the bot's.
const STORE_SERVERS: &[&str] = &["postgres", "redis-server"];
/// Pool caps far above the concurrency: the pool is not the limit.
const UNCAPPED: &str = "2000";

/// The message load of every run.
#[derive(Debug, Clone, Copy)]
struct Load {
    servers_per_shard: u64,
    users: u64,
    concurrency: u64,
    messages: u64,
}

const FULL: Load = Load {
    servers_per_shard: 16,
    users: 400,
    concurrency: 100,
    messages: 5_000,
};
const QUICK: Load = Load {
    servers_per_shard: 2,
    users: 12,
    concurrency: 6,
    messages: 24,
};

pub async fn scale(args: &Args, host: &MockHost) -> anyhow::Result<Value> {
    let Some(exe) = duet_binary() else {
        return Ok(json!({
            "skipped": "the duet binary is not built next to duet-bench (cargo build --release -p duet)"
        }));
    };
    let load = if args.quick { QUICK } else { FULL };
    let shared_skip = missing_stores();
    let mut report = json!({
        "servers": load.servers_per_shard * 2,
        "users": load.users,
        "concurrency": load.concurrency,
        "messages": load.messages,
        "mock_latency_ms": args.latency_ms,
        "shards": 2,
    });
    report["one_process_sqlite"] = run(args, host, &exe, load, Layout::One, None).await?;
    for (name, layout) in [
        ("one_process_postgres", Layout::One),
        ("two_processes_postgres", Layout::Two),
    ] {
        report[name] = match &shared_skip {
            Some(why) => json!({"skipped": why}),
            None => {
                let label = format!("scale_{}", name.replace("_postgres", ""));
                let (Some(schema), Some(redis)) = (
                    TestSchema::create(&label).await,
                    TestRedis::from_env(&label),
                ) else {
                    anyhow::bail!("the test PostgreSQL or Redis went away");
                };
                let stores = Stores::Shared {
                    database_url: schema.url.clone(),
                    redis_url: redis.url.clone(),
                    redis_prefix: redis.prefix.clone(),
                };
                let figures = run(args, host, &exe, load, layout, Some(stores)).await?;
                drop((schema, redis));
                figures
            }
        };
    }
    let rate = |name: &str| report[name]["messages_per_sec"].as_f64();
    if let (Some(one), Some(two)) = (rate("one_process_postgres"), rate("two_processes_postgres")) {
        report["two_over_one_postgres"] = json!((two / one * 100.0).round() / 100.0);
    }
    Ok(report)
}

/// Why the shared-store runs are skipped, if they are.
fn missing_stores() -> Option<String> {
    let unset: Vec<&str> = ["DUET_TEST_DATABASE_URL", "DUET_TEST_REDIS_URL"]
        .into_iter()
        .filter(|var| std::env::var(var).map_or(true, |v| v.trim().is_empty()))
        .collect();
    (!unset.is_empty()).then(|| format!("{} not set", unset.join(" and ")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One process runs shards 0 and 1.
    One,
    /// Two processes, shard 0 and shard 1.
    Two,
}

/// One run: a fresh mock and fake, the processes, a warm-up message per
/// server, then the measured load.
async fn run(
    args: &Args,
    host: &MockHost,
    exe: &std::path::Path,
    load: Load,
    layout: Layout,
    stores: Option<Stores>,
) -> anyhow::Result<Value> {
    let latency = Duration::from_millis(args.latency_ms);
    let target = Target::new(args, Some(host), latency).await;
    let env = target.env_with(
        false,
        &[
            ("OPENAI_MAX_CONNECTIONS", UNCAPPED.into()),
            ("PERPLEXITY_MAX_CONNECTIONS", UNCAPPED.into()),
        ],
    );
    let per_shard = load.servers_per_shard;
    let (fake, servers) = host
        .run(async move {
            let fake = FakeDiscord::start().await;
            // Two buckets: both shards may identify at once.
            fake.set_shards(2, 2);
            let mut servers = Vec::new();
            for n in 0..per_shard {
                for shard in 0..2 {
                    let id = guild_on_shard(shard, 2, n);
                    fake.add_guild(id);
                    servers.push(id);
                }
            }
            (Arc::new(fake), servers)
        })
        .await;
    let scratch = Scratch::new("duet-scale")?;
    let stores = stores.unwrap_or(Stores::Sqlite);
    let url = fake.base_url();
    // The fixture server is on shard 0, besides the added ones.
    let ranges: &[(&str, u64)] = match layout {
        Layout::One => &[("0-1", 2 * per_shard + 1)],
        Layout::Two => &[("0-0", per_shard + 1), ("1-1", per_shard)],
    };
    let mut processes = Vec::new();
    for (shard_ids, expected) in ranges {
        let dir = scratch.0.join(shard_ids);
        std::fs::create_dir_all(&dir)?;
        let mut process = Process::start(exe, &env, &url, shard_ids, &stores, &dir, *expected)?;
        // One after the other: the first runs the migrations alone.
        process.ready().await?;
        processes.push(process);
    }
    let warm_up = drive(&fake, &servers, load, servers.len() as u64, 0).await;
    let cpu = |processes: &[Process]| processes.iter().map(Process::cpu).sum::<Duration>();
    let load_average_before = load_average();
    let (bot_before, stores_before) = (cpu(&processes), named_cpu(STORE_SERVERS).0);
    let (harness_before, host_before) = (process_cpu(), host.cpu());
    let started = Instant::now();
    let mut measured = drive(&fake, &servers, load, load.messages, warm_up.sent).await;
    let wall = started.elapsed();
    let bot_cpu = cpu(&processes).saturating_sub(bot_before);
    let stores_cpu = named_cpu(STORE_SERVERS).0.saturating_sub(stores_before);
    let host_cpu = host.cpu().saturating_sub(host_before);
    let generator_cpu = process_cpu()
        .saturating_sub(harness_before)
        .saturating_sub(host_cpu);
    let rss_mib: Vec<f64> = processes
        .iter()
        .map(|p| (p.rss() as f64 / 1_048_576.0 * 10.0).round() / 10.0)
        .collect();
    let posted = replies_posted(&fake, warm_up.sent + measured.sent).await;
    let warnings: Vec<Value> = processes
        .iter()
        .map(|p| {
            let (count, first) = p.warnings();
            json!({"lines": count, "first": first})
        })
        .collect();
    let mut exits = Vec::new();
    for process in processes {
        exits.push(process.stop().await);
    }
    drop(fake);
    let answered = measured.answered();
    let per_message = |cpu: Duration| {
        let us = cpu.as_secs_f64() * 1e6 / answered.max(1) as f64;
        (us * 10.0).round() / 10.0
    };
    Ok(json!({
        "processes": ranges.len(),
        "shard_ids": ranges.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        "memory_backend": match stores { Stores::Sqlite => "sqlite", Stores::Shared { .. } => "postgres" },
        "redis": matches!(stores, Stores::Shared { .. }),
        "messages": measured.sent,
        "answered": answered,
        "unanswered": measured.sent - answered,
        "replies_posted": posted,
        "replies_expected": warm_up.sent + measured.sent,
        "warm_up_unanswered": warm_up.sent - warm_up.answered(),
        "log_warnings": warnings,
        "wall_secs": (wall.as_secs_f64() * 100.0).round() / 100.0,
        "messages_per_sec": (answered as f64 / wall.as_secs_f64().max(1e-9) * 10.0).round() / 10.0,
        "e2e_ms": Spread::of(&mut measured.elapsed),
        "bot_cpu_ms": ms(bot_cpu),
        "bot_cpu_us_per_message": per_message(bot_cpu),
        "store_servers_cpu_ms": ms(stores_cpu),
        "store_servers_cpu_us_per_message": per_message(stores_cpu),
        "mock_and_fake_cpu_ms": ms(host_cpu),
        "load_generator_cpu_ms": ms(generator_cpu),
        "rss_mib": rss_mib,
        "load_average_1m_before": load_average_before,
        "exit": exits,
    }))
}

/// Replies the bot posted. The fake hands a reply to its waiter just
/// before logging it, so the count may trail the answers for a moment: it
/// is read again (for at most a second) until it reaches `expected`.
async fn replies_posted(fake: &FakeDiscord, expected: u64) -> u64 {
    let count = || {
        fake.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.starts_with("/channels/"))
            .filter(|r| r.path.ends_with("/messages"))
            .count() as u64
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let posted = count();
        if posted >= expected || Instant::now() > deadline {
            return posted;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a load sent and how long each answered message took.
struct Sent {
    sent: u64,
    elapsed: Vec<Duration>,
}

impl Sent {
    fn answered(&self) -> u64 {
        self.elapsed.len() as u64
    }
}

/// Sends `messages` mentions (numbered from `first`) from `load.users`
/// users, each on one of `servers`, `load.concurrency` at a time; a worker
/// owns its users, so no two messages of a user are ever in flight.
async fn drive(
    fake: &Arc<FakeDiscord>,
    servers: &[u64],
    load: Load,
    messages: u64,
    first: u64,
) -> Sent {
    let users: Arc<Vec<FakeUser>> = Arc::new(
        (0..load.users)
            .map(|u| FakeUser {
                id: 700_000_000_000_000_000 + u,
                name: Box::leak(format!("user{u}").into_boxed_str()),
                bot: false,
            })
            .collect(),
    );
    let servers = Arc::new(servers.to_vec());
    let workers = load.concurrency.min(messages).max(1);
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (fake, users, servers) = (fake.clone(), users.clone(), servers.clone());
        tasks.push(tokio::spawn(async move {
            let owned: Vec<u64> = (worker..load.users).step_by(workers as usize).collect();
            let mut elapsed = Vec::new();
            for (k, i) in (worker..messages).step_by(workers as usize).enumerate() {
                let u = owned.get(k % owned.len().max(1)).copied().unwrap_or(worker);
                let server = servers[(u as usize) % servers.len()];
                let text = format!(
                    "question {}: can you explain how recursion works in simple terms",
                    first + i
                );
                let message = UserMessage {
                    guild: Some(server),
                    ..UserMessage::mention(
                        users[u as usize % users.len()].clone(),
                        general_channel(server),
                        &text,
                    )
                };
                let started = Instant::now();
                let reply = fake.send_awaiting_reply(message);
                if let Ok(Ok(_)) = tokio::time::timeout(REPLY_WAIT, reply).await {
                    elapsed.push(started.elapsed());
                }
            }
            elapsed
        }));
    }
    let mut elapsed = Vec::new();
    for task in tasks {
        elapsed.extend(task.await.unwrap_or_default());
    }
    Sent {
        sent: messages,
        elapsed,
    }
}

/// The section's rows of the human table.
pub fn rows(r: &Value, row: &mut dyn FnMut(&str, String)) {
    let f = |pointer: &str| match r.pointer(pointer) {
        Some(Value::Null) | None => "-".to_string(),
        Some(v) => v.to_string(),
    };
    row(
        "11. scale: messages / users / servers / concurrency",
        format!(
            "{} / {} / {} / {}",
            f("/scale/messages"),
            f("/scale/users"),
            f("/scale/servers"),
            f("/scale/concurrency")
        ),
    );
    for (name, label) in [
        ("one_process_sqlite", "    1 process, SQLite"),
        ("one_process_postgres", "    1 process, PostgreSQL + Redis"),
        (
            "two_processes_postgres",
            "    2 processes, PostgreSQL + Redis",
        ),
    ] {
        let p = |k: &str| f(&format!("/scale/{name}/{k}"));
        let value = match r.pointer(&format!("/scale/{name}/skipped")) {
            Some(Value::String(why)) => format!("skipped: {why}"),
            _ => format!(
                "{} msg/s, bot CPU {} µs/msg (stores {}), p50 {} ms, unanswered {}",
                p("messages_per_sec"),
                p("bot_cpu_us_per_message"),
                p("store_servers_cpu_us_per_message"),
                p("e2e_ms/p50"),
                p("unanswered")
            ),
        };
        row(label, value);
    }
}
