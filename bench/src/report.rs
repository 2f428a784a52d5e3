//! The report: duet's performance targets checked against the figures, a
//! human table, and the JSON document.

use serde_json::{Value, json};

/// One performance target and whether the run met it.
struct Check {
    name: &'static str,
    target: &'static str,
    measured: Value,
    met: Option<bool>,
}

fn num(report: &Value, pointer: &str) -> Option<f64> {
    report.pointer(pointer).and_then(Value::as_f64)
}

fn check(
    report: &Value,
    name: &'static str,
    target: &'static str,
    pointer: &str,
    ok: impl Fn(f64) -> bool,
) -> Check {
    let value = num(report, pointer);
    Check {
        name,
        target,
        measured: value.map_or(Value::Null, |v| json!(v)),
        met: value.map(ok),
    }
}

fn checks(r: &Value) -> Vec<Check> {
    vec![
        check(
            r,
            "overhead p50 (ms)",
            "< 1",
            "/overhead/overhead_ms/p50",
            |v| v < 1.0,
        ),
        check(
            r,
            "overhead p99 (ms)",
            "< 5",
            "/overhead/overhead_ms/p99",
            |v| v < 5.0,
        ),
        check(
            r,
            "bot CPU per message (µs)",
            "< 200",
            "/overhead/cpu_us_per_message",
            |v| v < 200.0,
        ),
        check(
            r,
            "HTTP/2 cold burst: OpenAI connections",
            "1",
            "/connections/http2/cold_burst/openai_connections_total",
            |v| v <= 1.0,
        ),
        check(
            r,
            "HTTP/2 steady reuse",
            ">= 0.99",
            "/connections/http2/steady/reuse_ratio",
            |v| v >= 0.99,
        ),
        check(
            r,
            "memory backend RSS growth / raw text",
            "< 1.15",
            "/memory/memory/growth_over_raw",
            |v| v < 1.15,
        ),
        check(
            r,
            "SQLite RSS, 10x users / 1x",
            "<= 1.2",
            "/memory/sqlite_10x_over_1x",
            |v| v <= 1.2,
        ),
        check(
            r,
            "idle RSS of duet run (MiB)",
            "< 15",
            "/startup/duet_run/idle_rss_mib",
            |v| v < 15.0,
        ),
        check(
            r,
            "routing (ns per decision)",
            "< 5000",
            "/routing/ns_per_decision",
            |v| v < 5000.0,
        ),
        check(
            r,
            "429 storm: user-visible failures",
            "0",
            "/storm/user_visible_failures",
            |v| v == 0.0,
        ),
        check(
            r,
            "429 storm: requests sent early",
            "0",
            "/storm/early_requests",
            |v| v == 0.0,
        ),
    ]
}

/// Adds `targets` to the report.
pub fn with_targets(mut report: Value) -> Value {
    let targets: Vec<Value> = checks(&report)
        .into_iter()
        .map(|c| json!({"name": c.name, "target": c.target, "measured": c.measured, "met": c.met}))
        .collect();
    report["targets"] = Value::Array(targets);
    report
}

/// What a `--quick` run says of its figures, above the table and the targets.
pub const QUICK_NOTICE: &str =
    "quick run: a tiny workload, so these figures are not representative (run without --quick)";

/// The human-readable table.
pub fn table(r: &Value) -> String {
    let quick = r["harness"]["quick"] == true;
    let mut out = String::new();
    if quick {
        out.push_str(&format!("  {QUICK_NOTICE}\n\n"));
    }
    let mut row = |label: &str, value: String| {
        out.push_str(&format!("  {label:<52} {value}\n"));
    };
    let f = |pointer: &str| match r.pointer(pointer) {
        Some(Value::Null) | None => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let spread = |pointer: &str| {
        format!(
            "p50 {}  p99 {}  max {}",
            f(&format!("{pointer}/p50")),
            f(&format!("{pointer}/p99")),
            f(&format!("{pointer}/max"))
        )
    };
    row("   messages enter through", f("/harness/frontend"));
    row(
        "1. overhead: messages / users / concurrency",
        format!(
            "{} / {} / {}",
            f("/overhead/messages"),
            f("/overhead/users"),
            f("/overhead/concurrency")
        ),
    );
    row("   end-to-end latency (ms)", spread("/overhead/e2e_ms"));
    row(
        "   mock latency per message (ms)",
        spread("/overhead/mock_latency_ms"),
    );
    row(
        "   overhead = end-to-end - mock (ms)",
        spread("/overhead/overhead_ms"),
    );
    row(
        "   bot CPU per message (µs)",
        f("/overhead/cpu_us_per_message"),
    );
    row("   failures", f("/overhead/failures"));
    row(
        "   all users at once: overhead (ms)",
        spread("/overhead/synchronized/overhead_ms"),
    );
    row(
        "   all users at once: bot CPU per message (µs)",
        f("/overhead/synchronized/cpu_us_per_message"),
    );
    row(
        "2. throughput (msg/s), default cap 50: c=100 / c=1000",
        format!(
            "{} / {}",
            f("/throughput/at_100_default_cap"),
            f("/throughput/at_1000_default_cap")
        ),
    );
    row(
        "   cap raised to 2000: c=100 / c=1000",
        format!(
            "{} / {}",
            f("/throughput/at_100_uncapped"),
            f("/throughput/at_1000_uncapped")
        ),
    );
    row(
        "   pool cap ceiling (cap / latency) msg/s",
        f("/throughput/pool_cap_ceiling_per_sec"),
    );
    row(
        "   pool cap is the limit from concurrency",
        f("/throughput/pool_cap_limits_from_concurrency"),
    );
    if let Some(points) = r.pointer("/throughput/points").and_then(Value::as_array) {
        for p in points {
            row(
                &format!("     c={} cap={}", p["concurrency"], p["max_connections"]),
                format!(
                    "{} msg/s (ideal {}), p50 {} ms, {}",
                    p["messages_per_sec"],
                    p["ideal_per_sec"],
                    p["e2e_ms"]["p50"],
                    p["limit"].as_str().unwrap_or("")
                ),
            );
        }
    }
    for (name, label) in [("http2", "HTTP/2"), ("http1", "HTTP/1.1")] {
        let p = |k: &str| f(&format!("/connections/{name}/{k}"));
        row(
            &format!("3. connections {label}: warm-up accepted / dialled"),
            format!("{} / {}", p("warmup/accepted"), p("warmup/dialled")),
        );
        row(
            &format!(
                "   cold burst of {}: new accepted / dialled",
                p("cold_burst/messages")
            ),
            format!(
                "{} / {} (OpenAI total {})",
                p("cold_burst/accepted"),
                p("cold_burst/dialled"),
                p("cold_burst/openai_connections_total")
            ),
        );
        row(
            &format!(
                "   steady {} requests: new accepted / reuse",
                p("steady/requests")
            ),
            format!("{} / {}", p("steady/accepted"), p("steady/reuse_ratio")),
        );
    }
    for (name, label) in [
        ("memory", "memory backend"),
        ("sqlite", "SQLite"),
        ("sqlite_flat_1x", "SQLite"),
        ("sqlite_flat_10x", "SQLite"),
    ] {
        let p = |k: &str| f(&format!("/memory/{name}/{k}"));
        row(
            &format!(
                "4. {label}: {} users x {} turns",
                p("users"),
                p("turns_per_user")
            ),
            format!(
                "raw {} B, RSS {} B (grew {} B, {}x raw)",
                p("raw_text_bytes"),
                p("rss_after_bytes"),
                p("rss_growth_bytes"),
                p("growth_over_raw")
            ),
        );
    }
    row(
        "   SQLite RSS 10x users / 1x",
        f("/memory/sqlite_10x_over_1x"),
    );
    row(
        "5. 429 storm: messages / share / retry-after ms",
        format!(
            "{} / {} / {}",
            f("/storm/messages"),
            f("/storm/share_429"),
            f("/storm/retry_after_ms")
        ),
    );
    row(
        "   upstream requests / 429s",
        format!(
            "{} / {}",
            f("/storm/upstream_requests"),
            f("/storm/upstream_429s")
        ),
    );
    row(
        "   user-visible failures / early requests",
        format!(
            "{} / {} (of {} retries checked)",
            f("/storm/user_visible_failures"),
            f("/storm/early_requests"),
            f("/storm/retries_checked")
        ),
    );
    row(
        "6. routing: decisions / ns per decision",
        format!(
            "{} / {}",
            f("/routing/decisions"),
            f("/routing/ns_per_decision")
        ),
    );
    row(
        "7. startup, pipeline only: ready (ms) / RSS (MiB)",
        format!(
            "{} / {}",
            f("/startup/ready_ms"),
            f("/startup/idle_rss_mib")
        ),
    );
    row(
        "   duet run: ready (ms) / idle RSS (MiB)",
        format!(
            "{} / {} (anonymous {}, file-backed {})",
            f("/startup/duet_run/ready_ms"),
            f("/startup/duet_run/idle_rss_mib"),
            f("/startup/duet_run/rss_anon_mib"),
            f("/startup/duet_run/rss_file_mib")
        ),
    );
    row(
        "8. images: bot CPU per message, plain / 1 MiB image (µs)",
        format!(
            "{} / {}",
            f("/images/cpu/cpu_us_per_message_plain"),
            f("/images/cpu/cpu_us_per_message_with_image")
        ),
    );
    row(
        "   RSS after 1/10 / all users, one image each (MiB)",
        format!(
            "{} / {} ({} users, cache {} MiB)",
            f("/images/memory/rss_mib_after_first_tenth"),
            f("/images/memory/rss_mib_after_all"),
            f("/images/memory/users"),
            f("/images/memory/image_cache_held_mib")
        ),
    );
    row(
        "9. guilds: RSS per server (KiB) / servers / RSS (MiB)",
        format!(
            "{} / {} / {} (without them {})",
            f("/guilds/per_server_kib"),
            f("/guilds/servers"),
            f("/guilds/loaded/rss_mib"),
            f("/guilds/baseline/rss_mib")
        ),
    );
    for (label, backend) in [
        ("10. append latency, SQLite (ms)", "sqlite"),
        ("    append latency, PostgreSQL (ms)", "postgres"),
    ] {
        let skipped = format!("/append_latency/{backend}/skipped");
        match r.pointer(&skipped).and_then(Value::as_str) {
            Some(why) => row(label, format!("skipped: {why}")),
            None => row(
                label,
                spread(&format!("/append_latency/{backend}/append_ms")),
            ),
        }
    }
    crate::scale::rows(r, &mut row);
    if quick {
        out.push_str(&format!("\n  {QUICK_NOTICE}\n"));
    }
    out.push_str("\n  targets:\n");
    for c in checks(r) {
        let verdict = match c.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        out.push_str(&format!(
            "  {:<44} {:>12}  target {:<8} {verdict}\n",
            c.name,
            c.measured.to_string(),
            c.target
        ));
    }
    out
}
