//! Upstream LLM providers: OpenAI (or any compatible server) and Perplexity,
//! each behind one long-lived pooled client.
//!
//! - [`Providers`] / [`ProviderClient`] (`registry.rs`): what the rest of the bot calls.
//! - `pool.rs`, `send.rs`, `classify.rs`, `pause.rs`, `retry.rs`, `connector.rs`,
//!   `stats.rs`: the pooled client — semaphore, rate limiter, 429 pause,
//!   retries, connection counting, metrics.
//! - `openai.rs`, `perplexity.rs` + `perplexity_stream.rs`, `sonar.rs`,
//!   `citations.rs`, `sse.rs`, `wire.rs`: the wire formats.

mod citations;
mod classify;
mod connector;
mod error;
mod openai;
mod pause;
mod perplexity;
mod perplexity_stream;
mod pool;
mod registry;
mod retry;
mod send;
mod sonar;
mod sse;
mod stats;
mod types;
mod wire;

pub use error::{ErrorKind, ProviderError, ProviderSetupError};
pub use perplexity::{Target as PerplexityTarget, resolve_target as resolve_perplexity_target};
pub use registry::{ProviderClient, Providers};
pub use retry::parse_go_duration;
pub use send::MAX_BODY_BYTES;
pub use stats::{LastError, PoolStats};
pub use types::*;
