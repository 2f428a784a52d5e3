//! Section 3: connections opened, over HTTP/2 and HTTP/1.1, with the
//! default pool settings: at warm-up, for a cold burst of concurrent first
//! messages right after it, and for steady traffic afterwards.

use std::time::Duration;

use duet::providers::ProviderKind;
use serde_json::{Value, json};

use crate::args::Args;
use crate::load::Workload;
use crate::mock_host::MockHost;
use crate::pipeline::{Pipeline, Target};

/// Both protocols, each against a fresh mock and pipeline.
pub async fn connections(args: &Args, host: Option<&MockHost>) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    for (name, http1) in [("http2", false), ("http1", true)] {
        out.insert(name.into(), one_protocol(args, host, http1).await?);
    }
    Ok(Value::Object(out))
}

/// Counts seen by both ends: what the mock accepted, and what the bot's
/// connector counted as new dials.
struct Counts {
    accepted: Option<u64>,
    dialled: u64,
    requests: u64,
}

async fn one_protocol(args: &Args, host: Option<&MockHost>, http1: bool) -> anyhow::Result<Value> {
    let latency = Duration::from_millis(args.latency_ms);
    let target = Target::new(args, host, latency).await;
    let pipeline = Pipeline::start(args, host, &target.env_with(http1, &[])).await?;
    let counts = || {
        let (requests, dialled) = pipeline.totals();
        Counts {
            accepted: target.mock.as_ref().map(|m| m.connections()),
            dialled,
            requests,
        }
    };
    let warm = counts();
    let (burst_size, steady_size, steady_concurrency) = if args.quick {
        (5, 10, 5)
    } else {
        (100, 1_000, 100)
    };
    let burst = Workload {
        messages: burst_size,
        users: burst_size,
        concurrency: burst_size,
        web_share: 0.0,
        user_offset: 2_000_000 + usize::from(http1) * 100_000,
        time_limit: Duration::from_secs(30),
        ramp: Duration::ZERO,
    };
    let burst_run = burst.run(&pipeline, host).await;
    let after_burst = counts();
    let steady = Workload {
        messages: steady_size,
        users: steady_concurrency * 2,
        concurrency: steady_concurrency,
        web_share: 0.0,
        user_offset: 2_010_000 + usize::from(http1) * 100_000,
        time_limit: Duration::from_secs(30),
        ramp: Duration::ZERO,
    };
    let steady_run = steady.run(&pipeline, host).await;
    let after_steady = counts();
    let openai = pipeline.stats(ProviderKind::OpenAi);
    let steady_requests = after_steady.requests - after_burst.requests;
    let steady_new = after_steady.dialled - after_burst.dialled;
    Ok(json!({
        "negotiated": openai.as_ref().and_then(|s| s.http_version.clone()),
        "warmup": {
            "accepted": warm.accepted,
            "dialled": warm.dialled,
            "requests": warm.requests,
        },
        "cold_burst": {
            "messages": burst_size,
            "failures": burst_run.failures(),
            "accepted": diff(after_burst.accepted, warm.accepted),
            "dialled": after_burst.dialled - warm.dialled,
            "openai_connections_total": openai.as_ref().map(|s| s.connections_created),
        },
        "steady": {
            "messages": steady_size,
            "concurrency": steady_concurrency,
            "failures": steady_run.failures(),
            "requests": steady_requests,
            "accepted": diff(after_steady.accepted, after_burst.accepted),
            "dialled": steady_new,
            "reuse_ratio": reuse(steady_requests, steady_new),
        },
        "overall_reuse_ratio": openai.map(|s| s.reuse_ratio),
    }))
}

fn diff(after: Option<u64>, before: Option<u64>) -> Option<u64> {
    Some(after?.saturating_sub(before?))
}

/// Share of requests that did not need a new connection.
fn reuse(requests: u64, dialled: u64) -> f64 {
    if requests == 0 {
        return 0.0;
    }
    let ratio = requests.saturating_sub(dialled) as f64 / requests as f64;
    (ratio * 10_000.0).round() / 10_000.0
}
