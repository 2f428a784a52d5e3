//! The harness's command line.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// duet-bench — drives duet's real pipeline (router, memory, pooled clients,
/// rendering) against an in-process mock LLM server and reports overhead,
/// throughput, connections, memory, a 429 storm, routing cost and startup.
#[derive(Debug, Clone, Parser)]
#[command(name = "duet-bench", version, about)]
pub struct Args {
    /// Also write every figure as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// A tiny workload (a few messages per section), for smoke tests; its
    /// figures are not representative.
    #[arg(long)]
    pub quick: bool,
    /// The mock's answer latency, in milliseconds.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub latency_ms: u64,
    /// Share of completion requests the 429 storm answers with 429 (0..1).
    #[arg(long = "share-429", default_value_t = 0.3, value_name = "SHARE")]
    pub share_429: f64,
    /// The Retry-After (retry-after-ms header) of the storm's 429s.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub retry_after_ms: u64,
    /// Talk HTTP/1.1 to the mock in the load sections instead of HTTP/2
    /// (the connections section measures both either way).
    #[arg(long)]
    pub http1: bool,
    /// Turns per user in the SQLite flatness pair (10,000 and 100,000
    /// users); 20 is the full workload but takes minutes of disk writes.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub flat_turns: usize,
    /// Send the load sections' messages through duet's real Discord
    /// frontend: a fake Discord (gateway + REST, on the mock's thread)
    /// delivers each as a mention and the reply's arrival ends it.
    #[arg(long)]
    pub discord: bool,
    /// Messages in each of the overhead section's two runs (spread and all
    /// at once), instead of 2,000 (12 with --quick), from 10 users (fewer
    /// if fewer messages) at concurrency 5: a small count whose per-message
    /// cost can be taken apart under valgrind (see BENCHMARKS.md).
    #[arg(long, value_name = "N")]
    pub messages: Option<std::num::NonZeroUsize>,
    /// Drive this OpenAI-compatible base URL (e.g. https://host/v1) instead
    /// of the mock; OPENAI_API_KEY, GPT_MODEL and TLS_CA_FILE come from the
    /// environment. Mock-only figures are skipped.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<url::Url>,
    /// Run only these sections (comma-separated: routing, overhead,
    /// throughput, connections, storm, images, append_latency, memory,
    /// startup, and guilds and scale, which run only when named here); the
    /// others are null.
    #[arg(long, value_delimiter = ',', value_name = "SECTIONS")]
    pub only: Vec<String>,
    /// Internal: the measurement a child process runs.
    #[arg(long, hide = true, value_enum)]
    pub phase: Option<Phase>,
    /// Internal: memory phase backend.
    #[arg(long, hide = true, default_value = "memory")]
    pub backend: String,
    /// Internal: memory phase users.
    #[arg(long, hide = true, default_value_t = 0)]
    pub users: usize,
    /// Internal: memory phase turns per user.
    #[arg(long, hide = true, default_value_t = 0)]
    pub turns: usize,
    /// Internal: memory phase database file.
    #[arg(long, hide = true)]
    pub db: Option<PathBuf>,
}

/// Measurements that need a fresh process (resident memory never shrinks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    Memory,
    Startup,
}

impl Args {
    /// Whether `section` runs (every section when `--only` is not given).
    pub fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }

    /// `--upstream` or the in-process mock.
    pub fn uses_mock(&self) -> bool {
        self.upstream.is_none()
    }
}
