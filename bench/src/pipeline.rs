//! Builds duet's real pipeline for a section: configuration (from an
//! environment map, as `duet run` reads it), pooled clients warmed up,
//! memory and the [`ChatService`], pointed at the mock or at `--upstream`;
//! with `--discord`, the real Discord frontend in front of it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use duet::app::{App, Role};
use duet::chat::{ChatService, Conversations, Incoming, Outcome};
use duet::config::Config;
use duet::providers::{PoolStats, ProviderKind, Providers};

use crate::args::Args;
use crate::discord::DiscordFront;
use crate::mock_host::MockHost;
use duet_testkit::mock_llm::{Fault, MockLlm, Route};

/// Where a section's requests go: a fresh mock (its counters start at zero)
/// or the external upstream.
pub struct Target {
    pub mock: Option<MockLlm>,
    pub env: HashMap<String, String>,
}

impl Target {
    /// A fresh mock answering after `latency`, or the `--upstream` server.
    pub async fn new(args: &Args, host: Option<&MockHost>, latency: Duration) -> Target {
        let Some(host) = host.filter(|_| args.uses_mock()) else {
            let upstream = args.upstream.as_ref().map(url::Url::as_str).unwrap_or("");
            return Target {
                mock: None,
                env: upstream_env(upstream, &utf8_env()),
            };
        };
        let mock = host.launch(true).await;
        for route in [Route::OpenAiChat, Route::Agent, Route::Sonar] {
            mock.set_fault(route, Some(Fault::Latency(latency)));
        }
        let mut env = mock.config_env();
        // The mock's helper turns warm-up off for tests; the bot's default is on.
        env.insert("OPENAI_WARMUP".into(), "true".into());
        env.insert("PERPLEXITY_WARMUP".into(), "true".into());
        Target {
            mock: Some(mock),
            env,
        }
    }

    /// The section's environment with `overrides` on top of the load defaults.
    pub fn env_with(&self, http1: bool, overrides: &[(&str, String)]) -> HashMap<String, String> {
        let mut env = self.env.clone();
        for (key, value) in load_defaults(http1) {
            env.insert(key.to_string(), value);
        }
        for (key, value) in overrides {
            env.insert((*key).to_string(), value.clone());
        }
        env
    }
}

/// Where a simulated user's message enters duet.
#[derive(Clone)]
pub enum Door {
    /// Straight into [`ChatService`], as a frontend hands it over.
    Pipeline(ChatService),
    /// As a Discord message through the real frontend.
    Discord(Arc<DiscordFront>),
}

impl Door {
    /// One message: its outcome and how long the user waited for it.
    pub async fn send(&self, message: Incoming) -> (Outcome, Duration) {
        match self {
            Door::Discord(front) => front.send(message).await,
            Door::Pipeline(service) => {
                let started = std::time::Instant::now();
                let outcome = service.handle(message, None).await;
                (outcome, started.elapsed())
            }
        }
    }
}

/// OpenAI-compatible upstream only: Perplexity stays unconfigured.
pub fn upstream_env(url: &str, process: &HashMap<String, String>) -> HashMap<String, String> {
    let mut env = HashMap::from([
        ("OPENAI_API_URL".to_string(), url.to_string()),
        ("MODE".to_string(), "openai".to_string()),
    ]);
    env.insert(
        "OPENAI_API_KEY".into(),
        process
            .get("OPENAI_API_KEY")
            .cloned()
            .unwrap_or_else(|| "sk-duet-bench".into()),
    );
    for key in ["GPT_MODEL", "TLS_CA_FILE", "OPENAI_TOKEN_LIMIT_FIELD"] {
        if let Some(value) = process.get(key) {
            env.insert(key.into(), value.clone());
        }
    }
    env
}

/// Per-user limits off (one simulated user must not throttle the run),
/// requests-per-minute limiters out of the way, RAM memory.
fn load_defaults(http1: bool) -> Vec<(&'static str, String)> {
    let http2 = if http1 { "never" } else { "auto" };
    vec![
        ("RATE_LIMIT", "100000".into()),
        ("RATE_LIMIT_PER", "1".into()),
        ("MAX_CONCURRENT_TURNS", "100000".into()),
        ("OPENAI_RPM", "1000000".into()),
        ("PERPLEXITY_RPM", "1000000".into()),
        ("MEMORY_BACKEND", "memory".into()),
        ("OPENAI_HTTP2", http2.into()),
        ("PERPLEXITY_HTTP2", http2.into()),
    ]
}

/// A running pipeline.
pub struct Pipeline {
    pub service: ChatService,
    pub providers: Arc<Providers>,
    /// The Discord frontend messages go through (`--discord`).
    front: Option<Arc<DiscordFront>>,
    /// Holds the live configuration channel open while the section runs.
    _app: App,
}

impl Pipeline {
    /// Loads the configuration from `env`, builds and warms the providers,
    /// opens memory and the service, as `duet run` does at start; with
    /// `--discord`, connects the frontend to a fake Discord on `host`.
    pub async fn start(
        args: &Args,
        host: Option<&MockHost>,
        env: &HashMap<String, String>,
    ) -> anyhow::Result<Pipeline> {
        let mut env = env.clone();
        let fake = match host.filter(|_| args.discord) {
            Some(host) => Some(DiscordFront::fake(host, &mut env).await),
            None => None,
        };
        let config = Config::from_env(&env).map_err(|errors| anyhow::anyhow!("{errors}"))?;
        let app = App::build(Arc::new(config), Role::Bot)
            .await
            .context("start-up")?;
        let service = app.service.clone();
        let providers = service.providers();
        let front = match fake {
            Some(fake) => Some(Arc::new(DiscordFront::start(fake, &app).await?)),
            None => None,
        };
        Ok(Pipeline {
            service,
            providers,
            front,
            _app: app,
        })
    }

    /// How simulated users reach this pipeline.
    pub fn door(&self) -> Door {
        match &self.front {
            Some(front) => Door::Discord(front.clone()),
            None => Door::Pipeline(self.service.clone()),
        }
    }

    /// One provider's pool counters (zeros when it is not configured).
    pub fn stats(&self, kind: ProviderKind) -> Option<PoolStats> {
        self.providers.get(kind).map(|client| client.stats())
    }

    /// Requests and new connections summed over both providers.
    pub fn totals(&self) -> (u64, u64) {
        self.providers.stats().iter().fold((0, 0), |(r, c), s| {
            (r + s.requests, c + s.connections_created)
        })
    }
}

/// The process environment, skipping variables that are not UTF-8 (the
/// harness only reads a few known names from it).
fn utf8_env() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}
