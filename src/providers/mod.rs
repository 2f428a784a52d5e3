//! Upstream LLM providers: OpenAI (or any compatible server) and Perplexity,
//! each behind one long-lived pooled client.

mod types;

pub use types::*;
