//! The load harness keeps working: `duet-bench --quick --json PATH` runs
//! every section on a tiny workload and writes every documented field.
//! Figures are not judged here (no speed or memory thresholds in tests);
//! BENCHMARKS.md holds the figures of a real run.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Fields that must hold a value even on the tiny workload.
const FILLED: &[&str] = &[
    "/harness/version",
    "/harness/machine/cpus",
    "/harness/machine/cpu_model",
    "/harness/machine/memory_mib",
    "/harness/latency_ms",
    "/harness/duration_secs",
    "/overhead/messages",
    "/images/cpu/cpu_us_per_message_plain",
    "/images/cpu/cpu_us_per_message_with_image",
    "/images/memory/rss_mib_after_first_tenth",
    "/images/memory/rss_mib_after_all",
    "/overhead/users",
    "/overhead/concurrency",
    "/overhead/completed",
    "/overhead/failures",
    "/overhead/answered_by_openai",
    "/overhead/answered_by_perplexity",
    "/overhead/e2e_ms/p50",
    "/overhead/e2e_ms/p99",
    "/overhead/e2e_ms/max",
    "/overhead/mock_latency_ms/p50",
    "/overhead/overhead_ms/p50",
    "/overhead/overhead_ms/p99",
    "/overhead/overhead_ms/max",
    "/overhead/cpu_us_per_message",
    "/overhead/process_cpu_ms",
    "/overhead/mock_cpu_ms",
    "/overhead/messages_per_sec",
    "/throughput/latency_ms",
    "/throughput/default_cap",
    "/throughput/pool_cap_ceiling_per_sec",
    "/throughput/points/0/concurrency",
    "/throughput/points/0/max_connections",
    "/throughput/points/0/messages_per_sec",
    "/throughput/points/0/ideal_per_sec",
    "/throughput/points/0/e2e_ms/p50",
    "/throughput/points/0/overhead_ms/p50",
    "/throughput/points/0/cpu_us_per_message",
    "/throughput/points/0/limit",
    "/connections/http2/negotiated",
    "/connections/http2/warmup/accepted",
    "/connections/http2/warmup/dialled",
    "/connections/http2/cold_burst/accepted",
    "/connections/http2/cold_burst/dialled",
    "/connections/http2/cold_burst/openai_connections_total",
    "/connections/http2/steady/requests",
    "/connections/http2/steady/accepted",
    "/connections/http2/steady/reuse_ratio",
    "/connections/http1/negotiated",
    "/connections/http1/cold_burst/accepted",
    "/connections/http1/steady/reuse_ratio",
    "/append_latency/appends",
    "/append_latency/sqlite/append_ms/p50",
    "/append_latency/sqlite/append_ms/p99",
    "/append_latency/sqlite/load_ms/p50",
    "/memory/memory/raw_text_bytes",
    "/memory/memory/rss_after_bytes",
    "/memory/memory/rss_growth_bytes",
    "/memory/memory/growth_over_raw",
    "/memory/sqlite/raw_text_bytes",
    "/memory/sqlite/rss_after_bytes",
    "/memory/sqlite/database_bytes",
    "/memory/sqlite/cached_conversations",
    "/memory/sqlite_flat_1x/rss_after_bytes",
    "/memory/sqlite_flat_10x/users",
    "/memory/sqlite_flat_10x/rss_after_bytes",
    "/memory/sqlite_10x_over_1x",
    "/storm/share_429",
    "/storm/retry_after_ms",
    "/storm/messages",
    "/storm/completed",
    "/storm/user_visible_failures",
    "/storm/upstream_requests",
    "/storm/upstream_429s",
    "/storm/retries_checked",
    "/storm/early_requests",
    "/routing/decisions",
    "/routing/ns_per_decision",
    "/startup/ready_ms",
    "/startup/in_process_ms",
    "/startup/idle_rss_bytes",
    "/startup/idle_rss_mib",
    "/startup/warm_connections",
    "/startup/duet_run/ready_ms",
    "/startup/duet_run/idle_rss_mib",
    "/startup/duet_run/rss_anon_mib",
];

/// Fields present (possibly null: the tiny workload has no such point, or
/// no retry happened to be checked).
const PRESENT: &[&str] = &[
    "/throughput/at_100_default_cap",
    "/throughput/at_1000_default_cap",
    "/throughput/at_100_uncapped",
    "/throughput/at_1000_uncapped",
    "/throughput/pool_cap_limits_from_concurrency",
    "/storm/min_margin_ms",
    // Figures with DUET_TEST_DATABASE_URL, a note saying why not without.
    "/append_latency/postgres",
    "/targets",
];

/// What a `--quick` run says of its own figures.
const NOT_REPRESENTATIVE: &str = "not representative";

/// Whether `text` refers to the project's issues ("issue 7", "#7"): the
/// harness's output speaks to operators, who have no tracker open.
fn names_an_issue(text: &str) -> bool {
    let hash_number = text
        .as_bytes()
        .windows(2)
        .any(|pair| pair[0] == b'#' && pair[1].is_ascii_digit());
    hash_number || text.to_lowercase().contains("issue")
}

/// Runs `duet-bench` on the tiny workload with `args` and returns its JSON
/// and its table. The `duet` binary must sit next to the harness, as
/// `cargo test --workspace` leaves it.
fn run_quick(args: &[&str]) -> (Value, String) {
    let harness = Path::new(env!("CARGO_BIN_EXE_duet-bench"));
    let duet = harness.with_file_name(format!("duet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        duet.is_file(),
        "{} is not built: run `cargo test --workspace` (or `cargo build -p duet` first)",
        duet.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.json");
    let output = Command::new(harness)
        .args(["--quick", "--latency-ms", "5", "--retry-after-ms", "20"])
        .args(args)
        .arg("--json")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "duet-bench failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(stdout.contains("\n  targets"), "no table:\n{stdout}");
    assert!(stdout.contains(NOT_REPRESENTATIVE), "no warning:\n{stdout}");
    assert!(!names_an_issue(&stdout), "{stdout}");
    assert!(!names_an_issue(&stderr), "{stderr}");
    let report = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (report, stdout)
}

#[test]
fn the_harness_runs_a_tiny_workload_and_writes_every_field() {
    let (report, _) = run_quick(&[]);
    for pointer in FILLED {
        let value = report.pointer(pointer);
        assert!(
            value.is_some_and(|v| !v.is_null()),
            "{pointer} missing or null in:\n{report:#}"
        );
    }
    for pointer in PRESENT {
        assert!(
            report.pointer(pointer).is_some(),
            "{pointer} missing in:\n{report:#}"
        );
    }
    assert_eq!(report["harness"]["frontend"], "pipeline");
    assert_eq!(
        report["startup"]["duet_run"]["exit"], 0,
        "the real bot stops cleanly on SIGTERM"
    );
    // Every message got an answer or a counted notice; none vanished.
    assert_eq!(
        report["overhead"]["completed"],
        report["overhead"]["messages"]
    );
    assert_eq!(report["storm"]["completed"], report["storm"]["messages"]);
    // Every image message was answered, and the cache kept to its budget.
    let images = &report["images"];
    assert_eq!(
        images["cpu"]["answered_with_image"],
        images["cpu"]["messages"]
    );
    assert_eq!(images["memory"]["answered"], images["memory"]["users"]);
    let held = images["memory"]["image_cache_held_mib"].as_f64().unwrap();
    assert!(held <= images["memory"]["image_cache_budget_mib"].as_f64().unwrap());
    assert_eq!(report["connections"]["http2"]["negotiated"], "HTTP/2");
    assert_eq!(report["connections"]["http1"]["negotiated"], "HTTP/1.1");
    assert_eq!(report["targets"].as_array().unwrap().len(), 11);
}

#[test]
fn with_discord_every_message_goes_through_the_real_frontend_and_is_answered() {
    let (report, table) = run_quick(&["--discord", "--only", "overhead,storm"]);
    assert_eq!(
        report["harness"]["frontend"],
        "discord (fake gateway + REST)"
    );
    assert!(table.contains("discord (fake gateway + REST)"), "{table}");
    let overhead = &report["overhead"];
    assert_eq!(overhead["failures"], 0, "{overhead:#}");
    let answered = overhead["answered_by_openai"].as_u64().unwrap()
        + overhead["answered_by_perplexity"].as_u64().unwrap();
    assert_eq!(
        Some(answered),
        overhead["messages"].as_u64(),
        "{overhead:#}"
    );
    assert!(overhead["overhead_ms"]["p50"].is_number(), "{overhead:#}");
    // Notices of the storm would be replies too; there must be none.
    assert_eq!(report["storm"]["user_visible_failures"], 0, "{report:#}");
    assert_eq!(report["storm"]["completed"], report["storm"]["messages"]);
    assert!(report["throughput"].is_null() && report["memory"].is_null());
}

#[test]
fn messages_sets_the_overhead_sections_count_for_instruction_counting() {
    let (report, _) = run_quick(&["--messages", "8", "--only", "overhead"]);
    let overhead = &report["overhead"];
    assert_eq!(overhead["messages"], 8, "{overhead:#}");
    assert_eq!(overhead["completed"], 8, "{overhead:#}");
    assert_eq!(overhead["synchronized"]["completed"], 8, "{overhead:#}");
    assert_eq!(overhead["failures"], 0, "{overhead:#}");
    assert!(report["throughput"].is_null() && report["storm"].is_null());
}

#[test]
fn the_help_names_no_issue() {
    let output = Command::new(env!("CARGO_BIN_EXE_duet-bench"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--quick"), "{help}");
    assert!(!names_an_issue(&help), "{help}");
}
