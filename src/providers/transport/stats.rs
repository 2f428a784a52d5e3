//! What a provider's pool is really doing: counters updated on the request
//! path, a [`PoolStats`] snapshot for the health endpoint, and the same
//! numbers pushed to the `metrics` facade (names in [`crate::metric_names`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::metric_names as m;
use crate::providers::error::ErrorKind;
use crate::providers::types::ProviderKind;

/// How far back `rate_limited_recent` looks.
pub const RECENT_429_WINDOW: Duration = Duration::from_secs(300);
/// Bound on remembered 429 instants, so a storm cannot grow memory.
const RECENT_429_CAP: usize = 10_000;

/// A snapshot of one provider's pool, e.g.
/// `{"total":50,"in_use":3,"available":47,"waiting":0,"connections_created":2,
/// "requests":1234,"reuse_ratio":0.998,"http_version":"HTTP/2", …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStats {
    pub provider: ProviderKind,
    /// Permits (most requests in flight at once).
    pub total: usize,
    pub in_use: usize,
    pub available: usize,
    /// Requests waiting for a permit right now.
    pub waiting: u64,
    /// New TCP (+TLS) connections dialled since start.
    pub connections_created: u64,
    /// HTTP requests sent since start (every attempt and the warm-up).
    pub requests: u64,
    /// Share of requests that reused an open connection (0 before any request).
    pub reuse_ratio: f64,
    /// The HTTP version of the last response, e.g. "HTTP/2".
    pub http_version: Option<String>,
    pub retries: u64,
    /// Requests that waited for the requests-per-minute limiter.
    pub limiter_waits: u64,
    /// Requests that gave up waiting for a permit.
    pub pool_exhausted: u64,
    /// 429 responses in the last five minutes.
    pub rate_limited_recent: u64,
    /// Seconds until a 429 pause ends, when the provider is paused.
    pub paused_for_secs: Option<f64>,
    pub last_error: Option<LastError>,
    /// Whole calls that failed in a row since the last success (0 when the
    /// last call succeeded or none was made).
    pub consecutive_failures: u64,
}

/// The most recent failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastError {
    pub kind: ErrorKind,
    /// Unix seconds.
    pub at: u64,
}

/// Live counters of one provider, shared by every clone of its client.
#[derive(Debug)]
pub struct PoolCounters {
    provider: ProviderKind,
    /// Shared with the connector layer, which counts dials.
    pub(super) connections_created: Arc<AtomicU64>,
    requests: AtomicU64,
    retries: AtomicU64,
    limiter_waits: AtomicU64,
    pool_exhausted: AtomicU64,
    waiting: AtomicU64,
    /// Reuse this pool already added to the process-wide counter. A reload
    /// builds new pools whose counts start at zero; adding each pool's growth
    /// keeps the counter counting across reloads instead of stalling.
    reused_reported: AtomicU64,
    http_version: Mutex<Option<&'static str>>,
    last_error: Mutex<Option<LastError>>,
    consecutive_failures: AtomicU64,
    recent_429: Mutex<VecDeque<Instant>>,
}

impl PoolCounters {
    pub fn new(provider: ProviderKind) -> Self {
        Self {
            provider,
            connections_created: Arc::new(AtomicU64::new(0)),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            limiter_waits: AtomicU64::new(0),
            pool_exhausted: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            reused_reported: AtomicU64::new(0),
            http_version: Mutex::new(None),
            last_error: Mutex::new(None),
            consecutive_failures: AtomicU64::new(0),
            recent_429: Mutex::new(VecDeque::new()),
        }
    }

    fn label(&self) -> &'static str {
        self.provider.as_str()
    }

    /// One HTTP request got a response (any status) or failed in transport.
    pub fn request_done(&self, outcome: &'static str, elapsed: Duration) {
        let sent = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let p = self.label();
        metrics::counter!(m::PROVIDER_REQUESTS_TOTAL, "provider" => p, "outcome" => outcome)
            .increment(1);
        metrics::histogram!(m::PROVIDER_REQUEST_DURATION_SECONDS, "provider" => p)
            .record(elapsed.as_secs_f64());
        let created = self.connections_created.load(Ordering::Relaxed);
        // Reuse is derived: every request that did not need a new dial reused one.
        let reused = sent.saturating_sub(created);
        let reported = self.reused_reported.fetch_max(reused, Ordering::Relaxed);
        if reused > reported {
            metrics::counter!(m::POOL_CONNECTIONS_REUSED_TOTAL, "provider" => p)
                .increment(reused - reported);
        }
    }

    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(m::PROVIDER_RETRIES_TOTAL, "provider" => self.label()).increment(1);
    }

    pub fn limiter_waited(&self) {
        self.limiter_waits.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(m::PROVIDER_LIMITER_WAITS_TOTAL, "provider" => self.label()).increment(1);
    }

    pub fn paused_wait(&self) {
        metrics::counter!(m::PROVIDER_PAUSED_WAITS_TOTAL, "provider" => self.label()).increment(1);
    }

    pub fn pool_exhausted(&self) {
        self.pool_exhausted.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(m::POOL_EXHAUSTED_TOTAL, "provider" => self.label()).increment(1);
    }

    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Counts a waiter until the returned guard is dropped.
    pub fn start_waiting(&self) -> WaitingGuard<'_> {
        let now = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!(m::POOL_PERMITS_WAITING, "provider" => self.label()).set(now as f64);
        WaitingGuard { counters: self }
    }

    pub fn permit_acquired(&self, waited: Duration, in_use: usize) {
        let p = self.label();
        metrics::histogram!(m::POOL_PERMIT_WAIT_SECONDS, "provider" => p)
            .record(waited.as_secs_f64());
        metrics::gauge!(m::POOL_PERMITS_IN_USE, "provider" => p).set(in_use as f64);
    }

    pub fn permit_released(&self, in_use: usize) {
        metrics::gauge!(m::POOL_PERMITS_IN_USE, "provider" => self.label()).set(in_use as f64);
    }

    pub fn rate_limited(&self) {
        metrics::counter!(m::PROVIDER_429_TOTAL, "provider" => self.label()).increment(1);
        let now = Instant::now();
        let mut recent = lock(&self.recent_429);
        prune(&mut recent, now);
        if recent.len() >= RECENT_429_CAP {
            recent.pop_front();
        }
        recent.push_back(now);
    }

    pub fn failed(&self, kind: ErrorKind) {
        metrics::counter!(m::PROVIDER_ERRORS_TOTAL, "provider" => self.label(), "kind" => kind.as_str())
            .increment(1);
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        *lock(&self.last_error) = Some(LastError { kind, at });
        self.consecutive_failures.fetch_add(1, Ordering::Relaxed);
        // A bad request is about one message, not about the provider.
        let up = if kind == ErrorKind::BadRequest {
            1.0
        } else {
            0.0
        };
        metrics::gauge!(m::PROVIDER_UP, "provider" => self.label()).set(up);
    }

    /// A whole call succeeded: the provider is answering.
    pub fn succeeded(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        metrics::gauge!(m::PROVIDER_UP, "provider" => self.label()).set(1.0);
    }

    /// Records the version of a response; true the first time it is seen or when it changed.
    pub fn saw_version(&self, version: &'static str) -> bool {
        let mut current = lock(&self.http_version);
        let changed = *current != Some(version);
        *current = Some(version);
        changed
    }

    pub fn snapshot(
        &self,
        total: usize,
        available: usize,
        paused_for: Option<Duration>,
    ) -> PoolStats {
        let requests = self.requests.load(Ordering::Relaxed);
        let created = self.connections_created.load(Ordering::Relaxed);
        let reuse_ratio = if requests == 0 {
            0.0
        } else {
            requests.saturating_sub(created) as f64 / requests as f64
        };
        let rate_limited_recent = {
            let mut recent = lock(&self.recent_429);
            prune(&mut recent, Instant::now());
            recent.len() as u64
        };
        PoolStats {
            provider: self.provider,
            total,
            in_use: total.saturating_sub(available),
            available,
            waiting: self.waiting(),
            connections_created: created,
            requests,
            reuse_ratio: (reuse_ratio * 1000.0).round() / 1000.0,
            http_version: lock(&self.http_version).map(str::to_string),
            retries: self.retries.load(Ordering::Relaxed),
            limiter_waits: self.limiter_waits.load(Ordering::Relaxed),
            pool_exhausted: self.pool_exhausted.load(Ordering::Relaxed),
            rate_limited_recent,
            paused_for_secs: paused_for.map(|d| d.as_secs_f64()),
            last_error: *lock(&self.last_error),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
        }
    }
}

/// Decrements the waiting count when dropped (also when the wait is cancelled).
pub struct WaitingGuard<'a> {
    counters: &'a PoolCounters,
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        let now = self.counters.waiting.fetch_sub(1, Ordering::Relaxed) - 1;
        metrics::gauge!(m::POOL_PERMITS_WAITING, "provider" => self.counters.label())
            .set(now as f64);
    }
}

fn prune(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) > RECENT_429_WINDOW)
    {
        recent.pop_front();
    }
}

/// These mutexes guard plain data; a panic elsewhere cannot leave it inconsistent.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// "HTTP/1.1", "HTTP/2", … for logs and [`PoolStats::http_version`].
pub fn version_name(version: reqwest::Version) -> &'static str {
    match version {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_11 => "HTTP/1.1",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_derives_reuse_from_requests_and_dials() {
        let counters = PoolCounters::new(ProviderKind::OpenAi);
        assert_eq!(counters.snapshot(50, 50, None).reuse_ratio, 0.0);
        counters.connections_created.fetch_add(2, Ordering::Relaxed);
        for _ in 0..1000 {
            counters.request_done("ok", Duration::from_millis(1));
        }
        let stats = counters.snapshot(50, 47, None);
        assert_eq!(stats.requests, 1000);
        assert_eq!(stats.in_use, 3);
        assert_eq!(stats.reuse_ratio, 0.998);
    }

    #[test]
    fn snapshot_serialises_in_the_documented_shape() {
        let counters = PoolCounters::new(ProviderKind::Perplexity);
        assert!(counters.saw_version("HTTP/2"));
        assert!(!counters.saw_version("HTTP/2"));
        counters.rate_limited();
        counters.failed(ErrorKind::RateLimited);
        let json = serde_json::to_value(counters.snapshot(30, 30, None)).unwrap();
        assert_eq!(json["total"], 30);
        assert_eq!(json["available"], 30);
        assert_eq!(json["http_version"], "HTTP/2");
        assert_eq!(json["rate_limited_recent"], 1);
        assert_eq!(json["last_error"]["kind"], "rate_limited");
    }

    #[test]
    fn metrics_carry_the_provider_and_outcome_labels() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let counters = PoolCounters::new(ProviderKind::OpenAi);
            counters.request_done("ok", Duration::from_millis(20));
            counters.request_done("rate_limited", Duration::from_millis(5));
            counters.rate_limited();
            counters.retried();
            counters.failed(ErrorKind::Timeout);
            drop(counters.start_waiting());
        });
        let text = handle.render();
        for line in [
            r#"duet_provider_requests_total{provider="openai",outcome="ok"} 1"#,
            r#"duet_provider_requests_total{provider="openai",outcome="rate_limited"} 1"#,
            r#"duet_provider_429_total{provider="openai"} 1"#,
            r#"duet_provider_retries_total{provider="openai"} 1"#,
            r#"duet_provider_errors_total{provider="openai",kind="timeout"} 1"#,
            r#"duet_pool_connections_reused_total{provider="openai"} 2"#,
            r#"duet_pool_permits_waiting{provider="openai"} 0"#,
        ] {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
    }

    #[test]
    fn reuse_keeps_counting_when_a_reload_replaces_the_pool() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let old = PoolCounters::new(ProviderKind::OpenAi);
            old.connections_created.fetch_add(1, Ordering::Relaxed);
            for _ in 0..3 {
                old.request_done("ok", Duration::from_millis(1));
            }
            let new = PoolCounters::new(ProviderKind::OpenAi);
            new.connections_created.fetch_add(1, Ordering::Relaxed);
            for _ in 0..2 {
                new.request_done("ok", Duration::from_millis(1));
            }
        });
        let text = handle.render();
        assert!(
            text.contains(r#"duet_pool_connections_reused_total{provider="openai"} 3"#),
            "2 reused by the old pool + 1 by the new one:\n{text}"
        );
    }

    #[test]
    fn waiting_guard_counts_down_when_dropped() {
        let counters = PoolCounters::new(ProviderKind::OpenAi);
        let first = counters.start_waiting();
        let second = counters.start_waiting();
        assert_eq!(counters.waiting(), 2);
        drop(first);
        drop(second);
        assert_eq!(counters.waiting(), 0);
    }
}
