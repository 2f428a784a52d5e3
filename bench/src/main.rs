//! `duet-bench`: duet's load harness. It starts the testkit's mock LLM
//! server in-process (on a thread of its own), drives duet's real pipeline
//! with simulated users and reports overhead, throughput, connections,
//! memory, a 429 storm, routing cost, startup and memory append latency
//! (SQLite and PostgreSQL) as a table and as JSON.
//!
//! `cargo build --release -p duet && cargo run --release -p duet-bench --
//! [--json PATH] [--quick] [--latency-ms 50] [--share-429 0.3] [--http1]
//! [--discord] [--upstream URL] [--only guilds|scale]` (the startup, guilds
//! and scale sections run the `duet` binary built next to this one).

mod append_latency;
mod args;
mod child;
mod connections;
mod discord;
mod duet_run;
mod guilds;
mod images;
mod load;
mod load_sections;
mod mock_host;
mod pipeline;
mod report;
mod routing;
mod scale;
mod scale_procs;
mod storm;
mod sys;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

use args::{Args, Phase};
use mock_host::MockHost;
use pipeline::Target;

fn main() -> ExitCode {
    let started = Instant::now();
    let args = Args::parse();
    let result = match args.phase {
        Some(Phase::Startup) => child::startup_phase(started),
        Some(Phase::Memory) => memory_child(&args),
        None => run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("duet-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn memory_child(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let figures = runtime.block_on(child::memory_phase(args))?;
    child::announce(&figures)
}

fn run(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(sections(args))?;
    let report = report::with_targets(report);
    println!("{}", report::table(&report));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("JSON written to {}", path.display());
    }
    Ok(())
}

/// Every section in turn; each builds its own pipeline (and mock).
async fn sections(args: &Args) -> anyhow::Result<Value> {
    let started = Instant::now();
    // As `duet run` does: metric updates are part of a message's cost.
    let _metrics = duet::ops::install_metrics();
    let host = if args.uses_mock() || args.discord {
        Some(MockHost::start()?)
    } else {
        None
    };
    let host = host.as_ref();
    let step = |name: &str| {
        eprintln!(
            "duet-bench: {name} ({:.1}s)",
            started.elapsed().as_secs_f64()
        )
    };
    let mut report = json!({
        "overhead": null, "throughput": null, "connections": null, "memory": null,
        "storm": null, "routing": null, "startup": null, "images": null, "guilds": null,
        "append_latency": null, "scale": null,
    });
    if args.runs("routing") {
        step("routing");
        report["routing"] = routing::routing(args.quick)?;
    }
    if args.runs("overhead") {
        step("overhead");
        report["overhead"] = load_sections::overhead(args, host).await?;
    }
    if args.runs("throughput") {
        step("throughput");
        report["throughput"] = load_sections::throughput(args, host).await?;
    }
    if args.runs("connections") {
        step("connections");
        report["connections"] = connections::connections(args, host).await?;
    }
    if args.runs("storm") {
        step("429 storm");
        report["storm"] = storm::storm(args, host).await?;
    }
    if args.runs("images") {
        step("images");
        report["images"] = images::images(args, host).await?;
    }
    if args.runs("append_latency") {
        step("append latency");
        report["append_latency"] = append_latency::append_latency(args.quick).await?;
    }
    if args.runs("memory") {
        step("memory");
        let args = args.clone();
        report["memory"] = tokio::task::spawn_blocking(move || child::memory(&args)).await??;
    }
    if args.only.iter().any(|s| s == "guilds") {
        step("guilds");
        match host {
            Some(host) => {
                let target = Target::new(args, Some(host), Duration::ZERO).await;
                report["guilds"] = guilds::guilds(args.quick, host, &target.env).await?;
            }
            None => report["guilds"] = json!({"skipped": "needs the in-process mock"}),
        }
    }
    if args.only.iter().any(|s| s == "scale") {
        step("scale");
        report["scale"] = match host {
            Some(host) => scale::scale(args, host).await?,
            None => json!({"skipped": "needs the in-process mock"}),
        };
    }
    if args.runs("startup") {
        step("startup");
        let target = Target::new(args, host, Duration::ZERO).await;
        let env = target.env.clone();
        report["startup"] = tokio::task::spawn_blocking(move || child::startup(&env)).await??;
        report["startup"]["duet_run"] = match host {
            Some(host) => duet_run::measure(host, &target.env).await?,
            None => json!({"skipped": "needs the in-process mock"}),
        };
    }
    report["harness"] = harness(args, started.elapsed());
    Ok(report)
}

fn harness(args: &Args, elapsed: Duration) -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "upstream": args.upstream.as_ref().map(url::Url::as_str).unwrap_or("in-process mock (TLS, ALPN)"),
        "http": if args.http1 { "HTTP/1.1" } else { "HTTP/2 (ALPN)" },
        "frontend": if args.discord { "discord (fake gateway + REST)" } else { "pipeline" },
        "latency_ms": args.latency_ms,
        "quick": args.quick,
        "representative": !args.quick,
        "machine": sys::Machine::describe(),
        "duration_secs": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
    })
}
