//! Section 5: a 429 storm. The mock answers a share of completion requests
//! with 429 and `retry-after-ms`; the bot must keep every user answered and
//! never send a message's next attempt before the wait it was told.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::args::Args;
use crate::load::Workload;
use crate::mock_host::MockHost;
use crate::pipeline::{Pipeline, Target};
use duet_testkit::mock_llm::{MockLlm, Recorded, RetryAfter, Route, last_user_message};

/// Runs the storm; `None` (all fields null) against an external upstream.
pub async fn storm(args: &Args, host: Option<&MockHost>) -> anyhow::Result<Value> {
    let latency = Duration::from_millis(args.latency_ms);
    let target = Target::new(args, host, latency).await;
    let Some(mock) = target.mock.as_ref() else {
        return Ok(json!({"skipped": "needs the in-process mock"}));
    };
    let retry_after = Duration::from_millis(args.retry_after_ms);
    mock.set_429_share(args.share_429, RetryAfter::Millis(args.retry_after_ms));
    let pipeline = Pipeline::start(args, host, &target.env_with(args.http1, &[])).await?;
    let (messages, concurrency) = if args.quick { (10, 5) } else { (400, 50) };
    let workload = Workload {
        messages,
        users: concurrency * 2,
        concurrency,
        web_share: 0.2,
        user_offset: 3_000_000,
        time_limit: Duration::from_secs(60),
        ramp: Duration::ZERO,
    };
    let run = workload.run(&pipeline, host).await;
    let audit = Audit::of(mock, retry_after);
    let (requests, retries) = pipeline
        .providers
        .stats()
        .iter()
        .fold((0, 0), |(r, t), s| (r + s.requests, t + s.retries));
    Ok(json!({
        "share_429": args.share_429,
        "retry_after_ms": args.retry_after_ms,
        "messages": messages,
        "concurrency": concurrency,
        "completed": run.samples.len(),
        "user_visible_failures": run.failures(),
        "notices": run.notices(),
        "upstream_requests": audit.requests,
        "upstream_429s": audit.rate_limited,
        "requests_per_message": (audit.requests as f64 / messages.max(1) as f64 * 100.0).round() / 100.0,
        "client_requests": requests,
        "client_retries": retries,
        "retries_checked": audit.checked,
        "early_requests": audit.early,
        "min_margin_ms": audit.min_margin_ms,
        "e2e_ms": run.latency(),
        "pools": pipeline.providers.stats(),
        "wall_secs": (run.wall.as_secs_f64() * 1000.0).round() / 1000.0,
    }))
}

/// What the mock's log says about retries.
struct Audit {
    requests: usize,
    rate_limited: usize,
    /// Attempts that followed a 429 of the same message on the same route.
    checked: usize,
    /// Of those, sent before the 429's Retry-After was over.
    early: usize,
    /// The smallest (arrival − (429 answered + Retry-After)), in ms.
    min_margin_ms: Option<f64>,
}

impl Audit {
    /// The mock stamps a 429 when it answers; the client receives it after
    /// that, so a retry arriving before stamp + Retry-After was certainly
    /// sent early.
    fn of(mock: &MockLlm, retry_after: Duration) -> Audit {
        let mut by_message: HashMap<(String, Route), Vec<Recorded>> = HashMap::new();
        let mut audit = Audit {
            requests: 0,
            rate_limited: 0,
            checked: 0,
            early: 0,
            min_margin_ms: None,
        };
        for request in mock
            .requests()
            .into_iter()
            .filter(|r| r.route != Route::Models)
        {
            audit.requests += 1;
            audit.rate_limited += usize::from(request.status == Some(429));
            by_message
                .entry((last_user_message(&request.body), request.route))
                .or_default()
                .push(request);
        }
        for attempts in by_message.values_mut() {
            attempts.sort_by_key(|r| r.arrived);
            for pair in attempts.windows(2) {
                let (first, next) = (&pair[0], &pair[1]);
                let (Some(429), Some(answered)) = (first.status, first.answered) else {
                    continue;
                };
                audit.note(next.arrived, answered + retry_after);
            }
        }
        audit
    }

    fn note(&mut self, arrived: Instant, allowed_from: Instant) {
        self.checked += 1;
        let margin_ms = if arrived >= allowed_from {
            arrived.duration_since(allowed_from).as_secs_f64() * 1000.0
        } else {
            self.early += 1;
            -(allowed_from.duration_since(arrived).as_secs_f64() * 1000.0)
        };
        let margin_ms = (margin_ms * 1000.0).round() / 1000.0;
        self.min_margin_ms = Some(self.min_margin_ms.map_or(margin_ms, |m| m.min(margin_ms)));
    }
}
