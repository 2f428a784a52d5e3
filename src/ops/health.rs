//! The health server on HEALTH_HOST:HEALTH_PORT: `/health` (full JSON
//! report, 200 or 503), `/health/live`, `/health/ready` and `/metrics`
//! (Prometheus text). Requests to it are not counted in the metrics.
//!
//! `/health` says `degraded` with every reason (gateway down, a provider
//! failing, memory writes failing, PostgreSQL or the Redis of `REDIS_URL`
//! unreachable). `/health/ready` is narrower on purpose: ready means
//! connected to Discord with a provider configured. A provider outage is not
//! the bot's fault and a restart cannot fix it, so it makes
//! `/health` degraded but never the bot unready or dead: Kubernetes must not
//! restart or unroute a bot because OpenAI is down (the bot still answers
//! users with a notice).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use tokio::net::TcpListener;

use crate::chat::ChatService;
use crate::discord::{DiscordStatus, DiscordStatusSnapshot};
use crate::metric_names as names;
use crate::providers::{ErrorKind, PoolStats};

pub const HEALTH_PATH: &str = "/health";
pub const LIVE_PATH: &str = "/health/live";
pub const READY_PATH: &str = "/health/ready";
pub const METRICS_PATH: &str = "/metrics";

/// Shared state behind the health routes.
#[derive(Clone)]
pub struct HealthState {
    pub started: Instant,
    pub service: ChatService,
    /// `None` when no Discord frontend runs (terminal use, tests).
    pub discord: Option<Arc<DiscordStatus>>,
    pub metrics: Option<PrometheusHandle>,
}

impl HealthState {
    async fn discord(&self) -> Option<DiscordStatusSnapshot> {
        Some(self.discord.as_ref()?.snapshot().await)
    }

    async fn gateway_connected(&self) -> bool {
        self.discord().await.is_none_or(|d| d.is_ready())
    }

    fn provider_usable(&self) -> bool {
        !self.service.providers().available().is_empty()
    }

    /// Every reason the bot is not fully working, in words; empty when healthy.
    async fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.gateway_connected().await {
            problems.push("discord: the gateway is not connected".to_string());
        }
        if !self.provider_usable() {
            problems.push("no provider is configured".to_string());
        }
        for stats in self.service.providers().stats() {
            if let Some(problem) = provider_problem(&stats) {
                problems.push(problem);
            }
        }
        if let Some(problem) = self
            .service
            .providers()
            .coordinator()
            .and_then(|c| c.problem())
        {
            problems.push(problem);
        }
        if let Err(error) = self.service.memory().check().await {
            problems.push(format!(
                "memory: the database is unavailable ({}: {error}); turns fail until it is back",
                error.kind()
            ));
        }
        for (operation, kind) in self.service.memory().write_failures() {
            problems.push(match operation {
                "append" => {
                    format!("memory: storing turns fails ({kind}); answers are not remembered")
                }
                _ => format!("memory: recording token usage fails ({kind}); budgets undercount"),
            });
        }
        problems
    }
}

/// A provider whose last calls failed (a bad request is about one message,
/// not the provider, so it does not count).
fn provider_problem(stats: &PoolStats) -> Option<String> {
    let last = stats.last_error?;
    if stats.consecutive_failures == 0 || last.kind == ErrorKind::BadRequest {
        return None;
    }
    Some(format!(
        "{}: unavailable, the last {} call(s) failed ({})",
        stats.provider,
        stats.consecutive_failures,
        last.kind.as_str()
    ))
}

/// Installs the global Prometheus recorder with latency buckets in seconds.
pub fn install_metrics() -> Option<PrometheusHandle> {
    let buckets = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
    ];
    let mut builder = PrometheusBuilder::new();
    for name in names::HISTOGRAMS {
        builder = builder
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(name.to_string()),
                &buckets,
            )
            .expect("non-empty buckets");
    }
    match builder.install_recorder() {
        Ok(handle) => Some(handle),
        Err(error) => {
            tracing::warn!(%error, "metrics recorder not installed");
            None
        }
    }
}

pub struct HealthServer;

impl HealthServer {
    pub fn router(state: HealthState) -> Router {
        Router::new()
            .route(HEALTH_PATH, get(health))
            .route(LIVE_PATH, get(|| async { (StatusCode::OK, "ok") }))
            .route(READY_PATH, get(ready))
            .route(METRICS_PATH, get(metrics_text))
            .with_state(state)
    }

    /// Binds HEALTH_HOST:HEALTH_PORT and serves until `shutdown` resolves.
    pub async fn serve(
        listener: TcpListener,
        state: HealthState,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, Self::router(state))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn health(State(state): State<HealthState>) -> Response {
    let config = state.service.config();
    let providers = state.service.providers();
    let pools: serde_json::Map<String, serde_json::Value> = providers
        .available()
        .into_iter()
        .filter_map(|kind| providers.get(kind))
        .map(|client| {
            let pool = serde_json::to_value(client.stats()).unwrap_or_default();
            (
                client.label().to_string(),
                json!({ "model": client.model(), "pool": pool }),
            )
        })
        .collect();
    let discord = state.discord().await;
    let problems = state.problems().await;
    let healthy = problems.is_empty();
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "problems": problems,
        "mode": config.effective_mode(),
        "uptime_secs": state.started.elapsed().as_secs(),
        "turns_in_flight": state.service.shutdown().in_flight(),
        "discord": discord,
        "providers": pools,
        "web_provider": providers.web_label(),
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Connected and configured; provider outages do not count (module doc).
async fn ready(State(state): State<HealthState>) -> Response {
    if state.gateway_connected().await && state.provider_usable() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics_text(State(state): State<HealthState>) -> Response {
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not enabled").into_response();
    };
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::providers::{LastError, ProviderKind};

    fn config(env: &[(&str, &str)]) -> Config {
        Config::from_pairs(env)
    }

    #[test]
    fn the_mode_is_the_configured_providers_narrowed_by_routing_mode() {
        let both = [("OPENAI_API_KEY", "sk-a"), ("PERPLEXITY_API_KEY", "pplx-b")];
        assert_eq!(config(&both).effective_mode(), "hybrid");
        let forced = [both[0], both[1], ("MODE", "openai")];
        assert_eq!(config(&forced).effective_mode(), "openai_only");
        let forced = [both[0], both[1], ("MODE", "perplexity")];
        assert_eq!(config(&forced).effective_mode(), "perplexity_only");
        // MODE names a provider that is not configured: the other one answers.
        let only = [("PERPLEXITY_API_KEY", "pplx-b"), ("MODE", "openai")];
        assert_eq!(config(&only).effective_mode(), "perplexity_only");
    }

    fn stats(kind: ErrorKind, consecutive_failures: u64) -> PoolStats {
        PoolStats {
            provider: ProviderKind::OpenAi,
            total: 1,
            in_use: 0,
            available: 1,
            waiting: 0,
            connections_created: 0,
            requests: 0,
            reuse_ratio: 0.0,
            http_version: None,
            retries: 0,
            limiter_waits: 0,
            pool_exhausted: 0,
            rate_limited_recent: 0,
            paused_for_secs: None,
            last_error: Some(LastError { kind, at: 0 }),
            consecutive_failures,
        }
    }

    #[test]
    fn a_provider_is_a_problem_while_its_last_calls_failed_for_a_reason_of_its_own() {
        assert_eq!(
            provider_problem(&stats(ErrorKind::Connect, 3)).as_deref(),
            Some("openai: unavailable, the last 3 call(s) failed (connect)")
        );
        assert_eq!(
            provider_problem(&stats(ErrorKind::Connect, 0)),
            None,
            "recovered"
        );
        assert_eq!(provider_problem(&stats(ErrorKind::BadRequest, 1)), None);
    }
}
