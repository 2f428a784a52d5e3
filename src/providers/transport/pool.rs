//! One long-lived pooled HTTP client per provider, tuned from
//! `[ConnectionPool]`, and the admission path every request takes:
//!
//! 1. wait out a 429 pause of the provider ([`PauseGate`]), including one
//!    another process saw (through Redis, when `REDIS_URL` is set);
//! 2. wait for the requests-per-minute limiter (governor in process, or the
//!    shared one in Redis; while Redis is away, governor);
//! 3. take a permit of the provider's semaphore within `POOL_TIMEOUT`.
//!
//! reqwest has no per-host connection cap, so the semaphore is what bounds
//! requests in flight (and so connections, or HTTP/2 streams). Permits are
//! taken after the limiter so a request held by the limiter does not occupy
//! a slot, and the pause is checked again once a permit is held, so
//! requests queued for a slot when a 429 arrives do not go out regardless.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};
use reqwest::header::HeaderValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::{info, warn};

use super::classify::{Origin, describe, key_prefix};
use super::connector::CountDials;
use super::pause::PauseGate;
use super::stats::{PoolCounters, PoolStats, version_name};
use crate::config::{Http2Mode, PoolConfig};
use crate::coord::Coordinator;
use crate::providers::error::{ErrorKind, ProviderError, ProviderSetupError, Redactor};
use crate::providers::types::ProviderKind;
use crate::secret::Secret;

/// Spread of the limiter's wake-ups, so queued requests do not leave together.
const LIMITER_JITTER: Duration = Duration::from_millis(50);

/// A provider's HTTP client with its semaphore, limiter, 429 pause and counters.
#[derive(Debug)]
pub struct PooledClient {
    pub(super) provider: ProviderKind,
    pub(super) http: reqwest::Client,
    pub(super) config: PoolConfig,
    pub(super) auth: Option<HeaderValue>,
    pub(super) redactor: Redactor,
    permits: Arc<Semaphore>,
    limiter: DefaultDirectRateLimiter,
    pub(super) pause: PauseGate,
    pub(super) counters: Arc<PoolCounters>,
    /// Shares the limiter and the 429 pause with other processes.
    pub(super) coordinator: Option<Coordinator>,
}

/// A held slot; gives it back (and updates the gauge) when dropped.
#[derive(Debug)]
pub struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    permits: Arc<Semaphore>,
    total: usize,
    counters: Arc<PoolCounters>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        drop(self.permit.take());
        let in_use = self.total.saturating_sub(self.permits.available_permits());
        self.counters.permit_released(in_use);
    }
}

impl PooledClient {
    /// Builds the client; no connection is opened yet.
    pub fn new(
        provider: ProviderKind,
        config: &PoolConfig,
        api_key: Option<&Secret>,
        extra_roots: &[reqwest::Certificate],
    ) -> Result<Self, ProviderSetupError> {
        let counters = Arc::new(PoolCounters::new(provider));
        let http = build_http(provider, config, extra_roots, &counters)?;
        let auth = api_key.map(|key| bearer(provider, key)).transpose()?;
        let rpm = NonZeroU32::new(config.requests_per_minute).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            provider,
            http,
            config: config.clone(),
            auth,
            redactor: Redactor::new(api_key.cloned()),
            permits: Arc::new(Semaphore::new(config.max_connections)),
            limiter: RateLimiter::direct(Quota::per_minute(rpm)),
            pause: PauseGate::default(),
            counters,
            coordinator: None,
        })
    }

    /// Shares this provider's requests per minute and 429 pause through `coordinator`.
    pub fn coordinated(mut self, coordinator: Option<Coordinator>) -> Self {
        self.coordinator = coordinator;
        self
    }

    /// Removes this provider's key from text that came from the network.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The provider and its redactor, for building errors.
    pub(super) fn origin(&self) -> Origin<'_> {
        Origin {
            provider: self.provider,
            redactor: &self.redactor,
        }
    }

    /// Counts a failure found after the send path handed over (a bad body,
    /// a cut stream); the send path counts its own.
    pub fn record_failure(&self, kind: ErrorKind) {
        self.counters.failed(kind);
    }

    pub fn record_success(&self) {
        self.counters.succeeded();
    }

    pub fn stats(&self) -> PoolStats {
        self.counters.snapshot(
            self.config.max_connections,
            self.permits.available_permits(),
            self.pause.remaining(),
        )
    }

    /// Steps 1–3 of the module doc; the permit is held until the response is read.
    pub(super) async fn admit(&self, deadline: Instant) -> Result<Permit, ProviderError> {
        loop {
            self.adopt_shared_pause().await;
            match self.pause.wait(deadline).await {
                Ok(true) => self.counters.paused_wait(),
                Ok(false) => {}
                Err(left) => {
                    return Err(ProviderError::RateLimited {
                        provider: self.provider,
                        retry_after: Some(left),
                    });
                }
            }
            self.wait_for_limiter().await;
            let permit = self.acquire_permit().await?;
            if self.pause.paused_until().is_none() {
                return Ok(permit);
            }
            // A 429 paused the provider while this request queued for a slot.
        }
    }

    /// A pause another process published becomes this process's pause too.
    async fn adopt_shared_pause(&self) {
        let Some(coordinator) = &self.coordinator else {
            return;
        };
        if let Ok(Some(left)) = coordinator.provider_pause(self.provider.as_str()).await {
            self.pause.pause_for(left);
        }
    }

    /// The shared limiter while Redis answers, governor otherwise.
    async fn wait_for_limiter(&self) {
        if let Some(coordinator) = &self.coordinator {
            let rpm = self.config.requests_per_minute.max(1);
            let mut waited = false;
            loop {
                match coordinator.take_provider(self.provider.as_str(), rpm).await {
                    Ok(take) if take.allowed => return,
                    Ok(take) => {
                        if !waited {
                            self.counters.limiter_waited();
                            waited = true;
                        }
                        let jitter = fastrand::u64(0..=LIMITER_JITTER.as_millis() as u64);
                        tokio::time::sleep(take.wait + Duration::from_millis(jitter)).await;
                    }
                    Err(_) => break,
                }
            }
        }
        if self.limiter.check().is_err() {
            self.counters.limiter_waited();
            self.limiter
                .until_ready_with_jitter(Jitter::up_to(LIMITER_JITTER))
                .await;
        }
    }

    async fn acquire_permit(&self) -> Result<Permit, ProviderError> {
        let started = Instant::now();
        let acquired = {
            let _waiting = self.counters.start_waiting();
            tokio::time::timeout(
                self.config.pool_timeout,
                self.permits.clone().acquire_owned(),
            )
            .await
        };
        let total = self.config.max_connections;
        match acquired {
            Ok(Ok(permit)) => {
                let in_use = total.saturating_sub(self.permits.available_permits());
                self.counters.permit_acquired(started.elapsed(), in_use);
                Ok(Permit {
                    permit: Some(permit),
                    permits: self.permits.clone(),
                    total,
                    counters: self.counters.clone(),
                })
            }
            // The semaphore is never closed; a timeout and a closed semaphore both mean "no slot".
            Ok(Err(_)) | Err(_) => Err(self.exhausted(started.elapsed())),
        }
    }

    fn exhausted(&self, waited: Duration) -> ProviderError {
        self.counters.pool_exhausted();
        let stats = self.stats();
        warn!(
            provider = %self.provider,
            total = stats.total,
            in_use = stats.in_use,
            waiting = stats.waiting,
            waited_ms = waited.as_millis() as u64,
            "connection pool exhausted; raise {}_MAX_CONNECTIONS or {}_POOL_TIMEOUT",
            key_prefix(self.provider),
            key_prefix(self.provider),
        );
        ProviderError::PoolExhausted {
            provider: self.provider,
            max_connections: stats.total,
            waiting: stats.waiting,
            waited,
        }
    }

    /// Logs the negotiated HTTP version the first time and whenever it changes.
    pub(super) fn note_version(&self, version: reqwest::Version) {
        let name = version_name(version);
        if self.counters.saw_version(name) {
            info!(provider = %self.provider, version = name, "negotiated HTTP version");
        }
    }

    /// One request without retries that opens a connection ahead of the
    /// first burst, so the burst shares it (HTTP/2) instead of dialling one
    /// connection per request. Any HTTP answer counts; failures are logged.
    pub async fn warm_up(&self, url: reqwest::Url) {
        let deadline = Instant::now() + self.config.request_timeout;
        let shown = self.redactor.clean(url.as_str());
        let result = tokio::time::timeout_at(deadline, self.warm_up_once(url)).await;
        match result {
            Ok(Ok(404)) => {
                let hint = crate::providers::error::missing_v1_hint(self.provider, &shown);
                warn!(provider = %self.provider, status = 404, url = %shown, "warm-up request answered 404{hint}");
            }
            Ok(Ok(status)) => {
                info!(provider = %self.provider, status, "warm-up request answered");
            }
            Ok(Err(error)) => warn!(provider = %self.provider, %error, "warm-up failed"),
            Err(_) => warn!(provider = %self.provider, "warm-up timed out"),
        }
    }

    async fn warm_up_once(&self, url: reqwest::Url) -> Result<u16, String> {
        let _permit = self.acquire_permit().await.map_err(|e| e.to_string())?;
        let mut request = self.http.get(url);
        if let Some(auth) = &self.auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.clone());
        }
        let started = Instant::now();
        let sent = request.send().await;
        let outcome = if sent.is_ok() { "ok" } else { "connect" };
        self.counters.request_done(outcome, started.elapsed());
        let response = sent.map_err(|e| self.redactor.clean(&describe(&e)))?;
        self.note_version(response.version());
        let status = response.status().as_u16();
        // Drain so the connection goes back to the pool.
        let _ = response.bytes().await;
        Ok(status)
    }
}

fn build_http(
    provider: ProviderKind,
    config: &PoolConfig,
    extra_roots: &[reqwest::Certificate],
    counters: &PoolCounters,
) -> Result<reqwest::Client, ProviderSetupError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(concat!("duet/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(config.max_keepalive)
        .pool_idle_timeout(config.keepalive_expiry)
        .tcp_keepalive(Some(config.tcp_keepalive).filter(|d| !d.is_zero()))
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .connector_layer(CountDials::new(
            counters.connections_created.clone(),
            provider,
        ));
    builder = match config.http2 {
        Http2Mode::Auto => builder,
        Http2Mode::Always => builder.http2_prior_knowledge(),
        Http2Mode::Never => builder.http1_only(),
    };
    for root in extra_roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder.build().map_err(|e| ProviderSetupError::Client {
        provider,
        message: describe(&e),
    })
}

fn bearer(provider: ProviderKind, key: &Secret) -> Result<HeaderValue, ProviderSetupError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
        .map_err(|_| ProviderSetupError::InvalidKey { provider })?;
    // Keeps the value out of hyper's and h2's debug output.
    value.set_sensitive(true);
    Ok(value)
}

/// Reads `TLS_CA_FILE`: every PEM certificate in it becomes an extra root.
pub fn load_roots(
    path: Option<&std::path::Path>,
) -> Result<Vec<reqwest::Certificate>, ProviderSetupError> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(path).map_err(|source| ProviderSetupError::CaFileUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| ProviderSetupError::CaFileInvalid {
        path: path.to_path_buf(),
        message,
    };
    let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(e.to_string()))?;
    if roots.is_empty() {
        return Err(invalid("no BEGIN CERTIFICATE block found".into()));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn pool_config(env: &[(&str, &str)]) -> PoolConfig {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::config::Config::from_env(&env).unwrap().openai.pool
    }

    #[tokio::test]
    async fn a_full_pool_fails_after_pool_timeout_with_its_state() {
        let config = pool_config(&[
            ("OPENAI_MAX_CONNECTIONS", "2"),
            ("OPENAI_POOL_TIMEOUT", "10ms"),
        ]);
        let pool = PooledClient::new(ProviderKind::OpenAi, &config, None, &[]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let first = pool.admit(deadline).await.unwrap();
        let _second = pool.admit(deadline).await.unwrap();
        assert_eq!(pool.stats().in_use, 2);
        let error = pool.admit(deadline).await.unwrap_err();
        assert!(matches!(
            error,
            ProviderError::PoolExhausted {
                max_connections: 2,
                ..
            }
        ));
        assert_eq!(pool.stats().pool_exhausted, 1);
        drop(first);
        assert_eq!(pool.stats().in_use, 1);
        assert!(pool.admit(deadline).await.is_ok());
    }

    #[tokio::test]
    async fn a_pause_longer_than_the_deadline_is_reported_as_rate_limited() {
        let pool =
            PooledClient::new(ProviderKind::Perplexity, &pool_config(&[]), None, &[]).unwrap();
        pool.pause.pause_for(Duration::from_secs(120));
        let error = pool
            .admit(Instant::now() + Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            ProviderError::RateLimited {
                retry_after: Some(_),
                ..
            }
        ));
        assert!(pool.stats().paused_for_secs.is_some());
    }

    #[test]
    fn the_key_header_is_marked_sensitive() {
        let header = bearer(ProviderKind::OpenAi, &Secret::new("sk-abc")).unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("sk-abc"));
        assert!(bearer(ProviderKind::OpenAi, &Secret::new("bad\nkey")).is_err());
    }

    #[test]
    fn a_ca_file_without_certificates_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.pem");
        std::fs::write(&path, "nothing here").unwrap();
        assert!(matches!(
            load_roots(Some(&path)),
            Err(ProviderSetupError::CaFileInvalid { .. })
        ));
        assert!(load_roots(None).unwrap().is_empty());
    }
}
