//! The transport every wire format shares: one long-lived pooled HTTP client
//! per provider and the one path each request takes through it.
//!
//! - `pool.rs`: the client, tuned from `[ConnectionPool]`, and admission
//!   (429 pause, requests-per-minute limiter, semaphore of in-flight requests);
//! - `send.rs`: the request, the retry loop and the whole-request deadline;
//! - `classify.rs`: which error a failed attempt is and whether to retry it;
//! - `backoff.rs` and `retry_after.rs`: how long to wait before a retry;
//! - `pause.rs`: the provider-wide 429 pause;
//! - `body.rs`: the capped body read;
//! - `connector.rs` and `stats.rs`: connection counting and the pool's figures.
//!
//! Nothing here knows a wire format: a request is a URL and a JSON body.

mod backoff;
mod body;
mod classify;
mod connector;
mod pause;
mod pool;
mod retry_after;
mod send;
mod stats;

pub use body::MAX_BODY_BYTES;
pub use pool::{PooledClient, load_roots};
pub use retry_after::parse_go_duration;
pub use send::{Call, OpenStream};
pub use stats::{LastError, PoolStats};
