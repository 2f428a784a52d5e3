//! Every metric name duet records, in one place, so dashboards and the
//! Prometheus exporter agree with the code. Provider metrics carry a
//! `provider` label (`openai`, `perplexity`); request metrics also an
//! `outcome` label (`ok` or an error kind such as `rate_limited`).

/// Counter: HTTP requests sent to a provider (every attempt), by `outcome`.
pub const PROVIDER_REQUESTS_TOTAL: &str = "duet_provider_requests_total";
/// Counter: attempts repeated after a retryable failure.
pub const PROVIDER_RETRIES_TOTAL: &str = "duet_provider_retries_total";
/// Counter: 429 responses (rate limits and exhausted quota).
pub const PROVIDER_429_TOTAL: &str = "duet_provider_429_total";
/// Histogram: seconds from sending a request to its response headers.
pub const PROVIDER_REQUEST_DURATION_SECONDS: &str = "duet_provider_request_duration_seconds";
/// Counter: whole calls (retries included) that failed, by error `kind`.
pub const PROVIDER_ERRORS_TOTAL: &str = "duet_provider_errors_total";
/// Gauge: permits of the provider's semaphore held by requests in flight.
pub const POOL_PERMITS_IN_USE: &str = "duet_pool_permits_in_use";
/// Gauge: requests waiting for a permit.
pub const POOL_PERMITS_WAITING: &str = "duet_pool_permits_waiting";
/// Histogram: seconds a request waited for a permit.
pub const POOL_PERMIT_WAIT_SECONDS: &str = "duet_pool_permit_wait_seconds";
/// Counter: requests that gave up waiting for a permit (POOL_TIMEOUT).
pub const POOL_EXHAUSTED_TOTAL: &str = "duet_pool_exhausted_total";
/// Counter: new TCP (+TLS) connections dialled.
pub const POOL_CONNECTIONS_CREATED_TOTAL: &str = "duet_pool_connections_created_total";
/// Counter: requests that went over an already open connection.
pub const POOL_CONNECTIONS_REUSED_TOTAL: &str = "duet_pool_connections_reused_total";
/// Counter: requests that had to wait for the requests-per-minute limiter.
pub const PROVIDER_LIMITER_WAITS_TOTAL: &str = "duet_provider_limiter_waits_total";
/// Counter: requests held back because a 429 paused the whole provider.
pub const PROVIDER_PAUSED_WAITS_TOTAL: &str = "duet_provider_paused_waits_total";

/// All names above, for exporters that pre-register or describe them.
pub const ALL: &[&str] = &[
    PROVIDER_REQUESTS_TOTAL,
    PROVIDER_RETRIES_TOTAL,
    PROVIDER_429_TOTAL,
    PROVIDER_REQUEST_DURATION_SECONDS,
    PROVIDER_ERRORS_TOTAL,
    POOL_PERMITS_IN_USE,
    POOL_PERMITS_WAITING,
    POOL_PERMIT_WAIT_SECONDS,
    POOL_EXHAUSTED_TOTAL,
    POOL_CONNECTIONS_CREATED_TOTAL,
    POOL_CONNECTIONS_REUSED_TOTAL,
    PROVIDER_LIMITER_WAITS_TOTAL,
    PROVIDER_PAUSED_WAITS_TOTAL,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_prometheus_safe() {
        let mut seen = std::collections::HashSet::new();
        for name in ALL {
            assert!(seen.insert(name), "{name} listed twice");
            assert!(name.starts_with("duet_"), "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }
}
