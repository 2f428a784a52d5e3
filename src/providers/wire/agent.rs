//! Perplexity Agent API: `POST {PERPLEXITY_API_URL}/v1/agent` (Responses
//! shape), JSON or SSE.
//!
//! The API answers 400 to any field it does not know, so the body holds only
//! documented fields: `model` or `preset`, `instructions`, `input`, `tools`,
//! `max_output_tokens`, `stream`. A plain `model` request does not search the
//! web, so it carries the `web_search` tool (presets include it). Runs can
//! fail with HTTP 200 (`status: failed|cancelled`), so the status is checked.
//! Streams have no `[DONE]`: one terminal event ends them, and a body that
//! ends before it is an error. Sources come from `search_results` items
//! (numbered as in `source_numbering.rs`), else from `output_text` annotations.

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tracing::warn;

use super::agent_response::{AgentResponse, Answer, check_status};
use super::agent_stream::AgentStream;
use super::decode::{decode, malformed};
use super::format::{StreamDecoder, WireFormat, endpoint, instructions};
use crate::config::PerplexityConfig;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, CompletionRequest, ProviderKind, Role, Usage};

const PROVIDER: ProviderKind = ProviderKind::Perplexity;

/// What the request names: a model (plus the web_search tool) or a preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Model(String),
    Preset(String),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Model(name) | Target::Preset(name) => name,
        }
    }
}

/// Picks the target from PERPLEXITY_PRESET / PERPLEXITY_MODEL, mapping the
/// retired Sonar names as Perplexity's migration guide does. Returns a note
/// to log when a name was mapped.
pub fn resolve_target(model: &str, preset: Option<&str>) -> (Target, Option<String>) {
    if let Some(preset) = preset.map(str::trim).filter(|p| !p.is_empty()) {
        let mapped = match preset {
            "fast-search" => "fast",
            "pro-search" => "low",
            "deep-research" => "medium",
            "advanced-deep-research" => "high",
            other => other,
        };
        let note = (mapped != preset).then(|| {
            format!("PERPLEXITY_PRESET {preset:?} is an old name; using preset {mapped:?}")
        });
        return (Target::Preset(mapped.to_string()), note);
    }
    let mapped = match model {
        "sonar" => Target::Model("perplexity/sonar".into()),
        "sonar-pro" | "sonar-reasoning" | "sonar-reasoning-pro" => Target::Preset("low".into()),
        "sonar-deep-research" => Target::Preset("medium".into()),
        other => return (Target::Model(other.to_string()), None),
    };
    let note = format!(
        "PERPLEXITY_MODEL {model:?} is a retired Sonar name; the Agent API gets {} {:?}",
        if matches!(mapped, Target::Preset(_)) {
            "preset"
        } else {
            "model"
        },
        mapped.name()
    );
    (mapped, Some(note))
}

/// Builds Agent API requests and reads its responses.
#[derive(Debug, Clone)]
pub struct PerplexityAgent {
    url: url::Url,
    models_url: url::Url,
    target: Target,
    output_tokens: usize,
}

impl PerplexityAgent {
    pub fn new(config: &PerplexityConfig, output_tokens: usize) -> Self {
        let (target, note) = resolve_target(&config.model, config.preset.as_deref());
        if let Some(note) = note {
            warn!(provider = %PROVIDER, "{note}");
        }
        Self {
            url: endpoint(&config.base_url, "v1/agent"),
            models_url: endpoint(&config.base_url, "v1/models"),
            target,
            output_tokens,
        }
    }
}

impl WireFormat for PerplexityAgent {
    fn model(&self) -> &str {
        self.target.name()
    }

    fn endpoint(&self) -> &url::Url {
        &self.url
    }

    /// `GET /v1/models` needs no key and opens the connection.
    fn warm_up_url(&self) -> url::Url {
        self.models_url.clone()
    }

    fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes {
        let mut body = Map::new();
        match &self.target {
            Target::Model(model) => {
                body.insert("model".into(), json!(model));
                body.insert("tools".into(), json!([{"type": "web_search"}]));
            }
            Target::Preset(preset) => {
                body.insert("preset".into(), json!(preset));
            }
        }
        if let Some(instructions) = instructions(request) {
            body.insert("instructions".into(), json!(instructions));
        }
        let input: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"type": "message", "role": m.role.as_str(), "content": m.content}))
            .collect();
        body.insert("input".into(), Value::Array(input));
        body.insert("max_output_tokens".into(), json!(self.output_tokens));
        body.insert("stream".into(), json!(stream));
        Bytes::from(Value::Object(body).to_string())
    }

    fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError> {
        let response: AgentResponse = decode(PROVIDER, redactor, body, "agent response")?;
        let answer = Answer::from_response(&response);
        check_status(&response, &answer.text, redactor)?;
        if answer.text.is_empty() {
            return Err(malformed(
                PROVIDER,
                redactor,
                body,
                "agent response",
                &"no output_text",
            ));
        }
        Ok(Completion {
            text: answer.sources.rewrite(&answer.text),
            sources: answer.sources.sources(),
            model: response.model.unwrap_or_else(|| self.model().to_string()),
            usage: response.usage.map(Usage::from),
            provider: PROVIDER,
            tool_query: None,
        })
    }

    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder> {
        Box::new(AgentStream::new(redactor.clone(), self.model().to_string()))
    }
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;
