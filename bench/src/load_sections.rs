//! Sections 1 and 2: overhead per message at concurrency 100, and
//! throughput against concurrency with and without the pool cap.

use std::time::Duration;

use duet::providers::ProviderKind;
use serde_json::{Value, json};

use crate::args::Args;
use crate::load::{LoadRun, Workload};
use crate::mock_host::MockHost;
use crate::pipeline::{Pipeline, Target};
use crate::sys::ms;

/// The pool cap used when the cap must not be the limit.
const UNCAPPED: usize = 2_000;
/// OPENAI_MAX_CONNECTIONS's default.
const DEFAULT_CAP: usize = 50;

/// Section 1. The pool caps are raised above the concurrency so what is
/// measured is the bot's own cost, not waiting for a pool slot.
///
/// The users' first messages are spread over one mock latency, as real
/// users' are, so answers arrive evenly. The same load with every user
/// starting at once is reported too (`synchronized`): with a fixed mock
/// latency all answers then keep arriving in the same instant, and the
/// figure is the time the machine takes to work off each wave.
pub async fn overhead(args: &Args, host: Option<&MockHost>) -> anyhow::Result<Value> {
    let latency = Duration::from_millis(args.latency_ms);
    let target = Target::new(args, host, latency).await;
    let caps = UNCAPPED.to_string();
    let env = target.env_with(
        args.http1,
        &[
            ("OPENAI_MAX_CONNECTIONS", caps.clone()),
            ("PERPLEXITY_MAX_CONNECTIONS", caps),
        ],
    );
    let pipeline = Pipeline::start(args, host, &env).await?;
    let (messages, users, concurrency) = if let Some(messages) = args.messages.map(|n| n.get()) {
        let users = messages.clamp(1, 10);
        (messages, users, users.div_ceil(2))
    } else if args.quick {
        (12, 6, 4)
    } else {
        (2_000, 200, 100)
    };
    let mut workload = Workload {
        messages,
        users,
        concurrency,
        web_share: 0.2,
        user_offset: 0,
        time_limit: Duration::from_secs(60),
        ramp: latency,
    };
    let run = workload.run(&pipeline, host).await;
    let mock = target.mock.as_ref();
    let mut figures = json!({
        "messages": messages,
        "users": users,
        "concurrency": concurrency,
        "arrivals": "first messages spread over one mock latency",
        "completed": run.samples.len(),
        "failures": run.failures(),
        "notices": run.notices(),
        "answered_by_openai": run.answered(ProviderKind::OpenAi),
        "answered_by_perplexity": run.answered(ProviderKind::Perplexity),
        "max_connections": UNCAPPED,
        "e2e_ms": run.latency(),
        "mock_latency_ms": mock.map(|m| run.mock_latency(m)),
        "overhead_ms": mock.map(|m| run.overhead(m)),
        "cpu_us_per_message": us(run.bot_cpu_per_message()),
        "process_cpu_ms": ms(run.process_cpu),
        "mock_cpu_ms": mock.map(|_| ms(run.mock_cpu)),
        "wall_secs": secs(run.wall),
        "messages_per_sec": round(run.per_second()),
    });
    workload.ramp = Duration::ZERO;
    workload.user_offset = users;
    let waves = workload.run(&pipeline, host).await;
    figures["synchronized"] = json!({
        "completed": waves.samples.len(),
        "failures": waves.failures(),
        "e2e_ms": waves.latency(),
        "overhead_ms": mock.map(|m| waves.overhead(m)),
        "cpu_us_per_message": us(waves.bot_cpu_per_message()),
    });
    Ok(figures)
}

/// Section 2: throughput against concurrency at the default cap, then at
/// concurrency 100 and 1,000 with the cap out of the way.
pub async fn throughput(args: &Args, host: Option<&MockHost>) -> anyhow::Result<Value> {
    let latency = Duration::from_millis(args.latency_ms);
    let capped: &[usize] = if args.quick {
        &[2, 6]
    } else {
        &[10, 25, 50, 100, 200, 1_000]
    };
    let uncapped: &[usize] = if args.quick { &[6] } else { &[100, 1_000] };
    let mut points = Vec::new();
    let mut offset = 1_000_000;
    for (cap, sweep) in [(DEFAULT_CAP, capped), (UNCAPPED, uncapped)] {
        let target = Target::new(args, host, latency).await;
        let env = target.env_with(
            args.http1,
            &[
                ("OPENAI_MAX_CONNECTIONS", cap.to_string()),
                ("PERPLEXITY_MAX_CONNECTIONS", cap.to_string()),
            ],
        );
        let pipeline = Pipeline::start(args, host, &env).await?;
        for &concurrency in sweep {
            let messages = if args.quick {
                concurrency * 2
            } else {
                (concurrency * 20).clamp(500, 5_000)
            };
            let workload = Workload {
                messages,
                users: concurrency * 2,
                concurrency,
                web_share: 0.0,
                user_offset: offset,
                time_limit: Duration::from_secs(20),
                ramp: Duration::ZERO,
            };
            offset += concurrency * 2;
            let run = workload.run(&pipeline, host).await;
            points.push(point(&run, concurrency, cap, latency, target.mock.as_ref()));
        }
    }
    let knee = knee(&points);
    let rate_at = |concurrency: usize, cap: usize| {
        points
            .iter()
            .find(|p| p["concurrency"] == concurrency && p["max_connections"] == cap)
            .map(|p| p["messages_per_sec"].clone())
            .unwrap_or(Value::Null)
    };
    Ok(json!({
        "latency_ms": args.latency_ms,
        "default_cap": DEFAULT_CAP,
        "at_100_default_cap": rate_at(100, DEFAULT_CAP),
        "at_1000_default_cap": rate_at(1_000, DEFAULT_CAP),
        "at_100_uncapped": rate_at(100, UNCAPPED),
        "at_1000_uncapped": rate_at(1_000, UNCAPPED),
        "pool_cap_ceiling_per_sec": round(DEFAULT_CAP as f64 / latency.as_secs_f64().max(1e-3)),
        "pool_cap_limits_from_concurrency": knee,
        "points": points,
    }))
}

fn point(
    run: &LoadRun,
    concurrency: usize,
    cap: usize,
    latency: Duration,
    mock: Option<&duet_testkit::mock_llm::MockLlm>,
) -> Value {
    // With every slot busy all the time, the pool alone allows cap / latency.
    let pool_bound = cap as f64 / latency.as_secs_f64().max(1e-3);
    let concurrency_bound = concurrency as f64 / latency.as_secs_f64().max(1e-3);
    let rate = run.per_second();
    let limit = if pool_bound < concurrency_bound && rate >= 0.8 * pool_bound {
        "pool cap"
    } else if rate >= 0.8 * concurrency_bound {
        "concurrency (users waiting on the mock)"
    } else {
        "the bot and the mock sharing the CPU"
    };
    json!({
        "concurrency": concurrency,
        "max_connections": cap,
        "messages": run.samples.len(),
        "failures": run.failures(),
        "wall_secs": secs(run.wall),
        "messages_per_sec": round(rate),
        "ideal_per_sec": round(pool_bound.min(concurrency_bound)),
        "e2e_ms": run.latency(),
        "overhead_ms": mock.map(|m| run.overhead(m)),
        "cpu_us_per_message": us(run.bot_cpu_per_message()),
        "limit": limit,
    })
}

/// The smallest concurrency of the capped sweep whose throughput the pool
/// cap bounds (adding users no longer adds messages per second).
fn knee(points: &[Value]) -> Value {
    points
        .iter()
        .filter(|p| p["max_connections"] == DEFAULT_CAP)
        .find(|p| p["limit"] == "pool cap")
        .map_or(Value::Null, |p| p["concurrency"].clone())
}

fn us(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e7).round() / 10.0
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

pub fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
