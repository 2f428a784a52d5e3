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
/// Gauge: 1 while the provider answers (its last call succeeded, or none was
/// made yet), 0 after a call failed for a reason other than a bad request.
pub const PROVIDER_UP: &str = "duet_provider_up";

/// Counter: messages that reached the pipeline.
pub const MESSAGES_RECEIVED: &str = "duet_messages_received_total";
/// Counter: messages answered, by the `provider` that answered.
pub const MESSAGES_ANSWERED: &str = "duet_messages_answered_total";
/// Counter: messages refused or failed, by `reason` (rate_limited, busy, queue_full, budget, provider_error, ...).
pub const MESSAGES_REJECTED: &str = "duet_messages_rejected_total";
/// Counter: routing decisions, by `provider` (who answers, the fallback guess
/// when undecided) and `outcome` (web, chat, undecided).
pub const ROUTE_DECISIONS: &str = "duet_route_decisions_total";
/// Counter: undecided messages offered the `search_web` tool, by `result`:
/// called, not_called, unsupported (the server refuses tools), web_failed.
pub const WEB_TOOL_CALLS: &str = "duet_route_web_tool_total";
/// Counter: answers taken from the other provider after a failure, by the `from` provider.
pub const FALLBACKS: &str = "duet_fallbacks_total";
/// Counter: OpenAI answers that could not browse, re-asked of Perplexity.
pub const REROUTES: &str = "duet_cannot_browse_reroutes_total";
/// Histogram: seconds from a message reaching the pipeline to its outcome.
pub const TURN_DURATION_SECONDS: &str = "duet_turn_duration_seconds";
/// Gauge: conversations held in the memory cache.
pub const MEMORY_CACHE_CONVERSATIONS: &str = "duet_memory_cache_conversations";
/// Gauge: conversations stored.
pub const CONVERSATIONS_STORED: &str = "duet_conversations_stored";
/// Counter: Discord messages, edits or interaction responses that failed, by `operation`.
pub const DISCORD_SEND_FAILURES: &str = "duet_discord_send_failures_total";
/// Counter: memory writes (a turn, a token count) that failed, by `operation` and `kind`.
pub const MEMORY_WRITE_FAILURES: &str = "duet_memory_write_failures_total";
/// Gauge: 1 for the provider answering web questions now (`provider`:
/// perplexity or openai_web_search), 0 for one that did before a reload.
pub const WEB_PROVIDER: &str = "duet_web_provider";
/// Counter: attachments handled, by `outcome`: `image` or `text` (used), or
/// why one was left out (`too_large`, `unsupported`, `corrupt`, `animated`,
/// `download_failed`, `timeout`, `not_allowed`, `too_many_images`,
/// `not_text`, `too_long`).
pub const ATTACHMENTS: &str = "duet_attachments_total";
/// Gauge: bytes of images held in RAM for follow-ups (`IMAGE_CACHE_BYTES` at most).
pub const IMAGE_CACHE_BYTES: &str = "duet_image_cache_bytes";
/// Gauge: 1 while the Redis of `[Limits] REDIS_URL` answers, 0 while limits
/// fell back to per process (absent without REDIS_URL).
pub const REDIS_UP: &str = "duet_redis_up";

/// Histograms, for exporters that need bucket settings.
pub const HISTOGRAMS: &[&str] = &[
    PROVIDER_REQUEST_DURATION_SECONDS,
    POOL_PERMIT_WAIT_SECONDS,
    TURN_DURATION_SECONDS,
];

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
    PROVIDER_UP,
    MESSAGES_RECEIVED,
    MESSAGES_ANSWERED,
    MESSAGES_REJECTED,
    ROUTE_DECISIONS,
    WEB_TOOL_CALLS,
    FALLBACKS,
    REROUTES,
    TURN_DURATION_SECONDS,
    MEMORY_CACHE_CONVERSATIONS,
    CONVERSATIONS_STORED,
    DISCORD_SEND_FAILURES,
    MEMORY_WRITE_FAILURES,
    WEB_PROVIDER,
    ATTACHMENTS,
    IMAGE_CACHE_BYTES,
    REDIS_UP,
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
