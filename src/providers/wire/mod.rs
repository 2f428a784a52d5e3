//! The wire formats: how a [`CompletionRequest`](crate::providers::CompletionRequest)
//! becomes an API's JSON body and how its answer, whole or streamed, becomes
//! a [`Completion`](crate::providers::Completion). Each format is one
//! [`WireFormat`] (with its [`StreamDecoder`]):
//!
//! - `openai_chat.rs`: OpenAI chat completions (and compatible servers);
//! - `openai_responses.rs` (+ `openai_responses_stream.rs`, `url_citations.rs`):
//!   OpenAI's Responses API, also with the built-in `web_search` tool;
//! - `agent.rs` (+ `agent_response.rs`, `agent_stream.rs`): Perplexity's Agent API;
//! - `sonar.rs`: Perplexity's legacy Sonar chat completions.
//!
//! The registry gets a format from [`openai_format`] or [`perplexity_format`]
//! and never names one. What they share: `format.rs` (the traits, endpoint URLs), `decode.rs`
//! (JSON with a redacted excerpt on failure), `sse.rs` and `event_stream.rs`
//! (server-sent events over the transport's stream) and `source_numbering.rs`
//! (citation markers renumbered to match the source list).

mod agent;
mod agent_response;
mod agent_stream;
mod decode;
mod event_stream;
mod format;
mod openai_chat;
mod openai_responses;
mod openai_responses_body;
mod openai_responses_stream;
mod openai_tool;
mod sonar;
mod source_numbering;
mod sse;
mod url_citations;

pub use agent::{Target, resolve_target};
pub use event_stream::read_events;
pub use format::WireFormat;

use crate::config::{OpenAiConfig, PerplexityApi, PerplexityConfig};

/// The wire format OpenAI's settings ask for (`OPENAI_API`, `auto` resolved
/// by the base URL's host).
pub fn openai_format(config: &OpenAiConfig, output_tokens: usize) -> Box<dyn WireFormat> {
    if config.uses_responses() {
        Box::new(openai_responses::OpenAiResponses::new(
            config,
            output_tokens,
            false,
        ))
    } else {
        Box::new(openai_chat::OpenAiChat::new(config, output_tokens))
    }
}

/// OpenAI's Responses API with the built-in `web_search` tool: web answers
/// with numbered sources, for when Perplexity is not used.
pub fn openai_web_format(config: &OpenAiConfig, output_tokens: usize) -> Box<dyn WireFormat> {
    Box::new(openai_responses::OpenAiResponses::new(
        config,
        output_tokens,
        true,
    ))
}

/// The wire format `PERPLEXITY_API` names.
pub fn perplexity_format(config: &PerplexityConfig, output_tokens: usize) -> Box<dyn WireFormat> {
    match config.api {
        PerplexityApi::Agent => Box::new(agent::PerplexityAgent::new(config, output_tokens)),
        PerplexityApi::Sonar => Box::new(sonar::LegacySonar::new(config, output_tokens)),
    }
}
