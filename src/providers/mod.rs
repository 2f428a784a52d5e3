//! Upstream LLM providers: OpenAI (or any compatible server) and Perplexity,
//! each behind one long-lived pooled client.
//!
//! - [`Providers`] / [`ProviderClient`] (`registry.rs`): what the rest of the bot calls;
//! - `failover.rs`: [`Providers::answer`], the routed provider, then the
//!   other one when it fails, and the cannot-browse re-ask (`cannot_browse.rs`);
//! - `transport/`: the pooled client (admission, send and retry loop, 429
//!   pause, connection counting, stats), which knows no wire format;
//! - `wire/`: one [`wire::WireFormat`] per API shape;
//! - `types.rs` and `error.rs`: what goes in and out, and why a call failed.

mod cannot_browse;
mod error;
mod failover;
mod registry;
mod transport;
mod types;
mod web_tool;
mod wire;

pub use cannot_browse::says_it_cannot_browse;
pub use error::{ErrorKind, ProviderError, ProviderSetupError};
pub use failover::{AnswerError, AnswerPlan, Answered, FailoverNote, Progress};
pub use registry::{ProviderClient, Providers};
pub use transport::{LastError, MAX_BODY_BYTES, PoolStats, parse_go_duration};
pub use types::*;
pub use wire::{Target as PerplexityTarget, resolve_target as resolve_perplexity_target};
