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
//! (numbered as in [`super::citations`]), else from `output_text` annotations.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tracing::warn;

use super::citations::SourceMap;
use super::error::{ProviderError, Redactor};
use super::perplexity_stream::AgentStream;
use super::wire::{decode, endpoint, malformed};
use super::{Completion, CompletionRequest, ProviderKind, Role, Source, Usage};
use crate::config::PerplexityConfig;

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
pub struct AgentApi {
    url: url::Url,
    models_url: url::Url,
    target: Target,
    output_tokens: usize,
}

impl AgentApi {
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

    pub fn model(&self) -> &str {
        self.target.name()
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// `GET /v1/models` needs no key and opens the connection.
    pub fn warm_up_url(&self) -> url::Url {
        self.models_url.clone()
    }

    pub fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes {
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
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        if !system.is_empty() {
            body.insert("instructions".into(), json!(system.join("\n\n")));
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

    pub fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError> {
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
        })
    }

    pub fn stream_parser(&self, redactor: &Redactor) -> AgentStream {
        AgentStream::new(redactor.clone(), self.model().to_string())
    }
}

/// Fails unless the run completed (or stopped at the token cap with some text).
pub(super) fn check_status(
    response: &AgentResponse,
    text: &str,
    redactor: &Redactor,
) -> Result<(), ProviderError> {
    let status = response.status.as_deref().unwrap_or("completed");
    match status {
        "completed" => Ok(()),
        "incomplete" if !text.is_empty() => {
            warn!(provider = %PROVIDER, "the answer stopped early (status incomplete, probably OUTPUT_TOKENS)");
            Ok(())
        }
        _ => Err(run_failed(status, response.error.as_ref(), redactor)),
    }
}

pub(super) fn run_failed(
    status: &str,
    error: Option<&Value>,
    redactor: &Redactor,
) -> ProviderError {
    let message = error
        .and_then(|e| {
            e["message"]
                .as_str()
                .map(str::to_string)
                .or_else(|| Some(e.to_string()))
        })
        .unwrap_or_else(|| "no error detail".into());
    ProviderError::RunFailed {
        provider: PROVIDER,
        status: status.to_string(),
        message: redactor.clean(&message),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AgentResponse {
    #[serde(default)]
    pub(super) model: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    // Items are read one by one so an unknown item type cannot fail the whole answer.
    #[serde(default)]
    pub(super) output: Option<Vec<Value>>,
    #[serde(default)]
    pub(super) usage: Option<AgentUsage>,
    #[serde(default)]
    pub(super) error: Option<Value>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) struct AgentUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl From<AgentUsage> for Usage {
    fn from(usage: AgentUsage) -> Self {
        Usage {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
        }
    }
}

#[derive(Debug, Deserialize)]
struct SearchResult {
    id: Option<u64>,
    url: String,
    #[serde(default)]
    title: Option<String>,
}

/// `(id, source)` pairs of a `results` array; entries without an id or url are dropped.
pub(super) fn search_results(results: &Value) -> Vec<(u64, Source)> {
    let Some(list) = results.as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|r| serde_json::from_value::<SearchResult>(r.clone()).ok())
        .filter_map(|r| {
            let title = r
                .title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| r.url.clone());
            Some((r.id?, Source { title, url: r.url }))
        })
        .collect()
}

/// The text and sources of a complete response.
pub(super) struct Answer {
    pub(super) text: String,
    pub(super) sources: SourceMap,
}

impl Answer {
    pub(super) fn from_response(response: &AgentResponse) -> Self {
        let mut sources = SourceMap::default();
        let mut annotations = Vec::new();
        let mut text = String::new();
        for item in response.output.iter().flatten() {
            match item["type"].as_str() {
                Some("search_results") => sources.add_results(search_results(&item["results"])),
                Some("message") => {
                    for part in item["content"].as_array().into_iter().flatten() {
                        if part["type"] == "output_text" {
                            text.push_str(part["text"].as_str().unwrap_or_default());
                            annotations.extend(annotation_sources(&part["annotations"]));
                        }
                    }
                }
                _ => {}
            }
        }
        // Annotations are often empty and carry no ids; used only without search results.
        if sources.is_empty() {
            annotations
                .into_iter()
                .for_each(|s| sources.add_unnumbered(s));
        }
        Self { text, sources }
    }
}

fn annotation_sources(annotations: &Value) -> Vec<Source> {
    annotations
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let url = a["url"].as_str()?.to_string();
            let title = a["title"]
                .as_str()
                .filter(|t| !t.is_empty())
                .unwrap_or(&url)
                .to_string();
            Some(Source { title, url })
        })
        .collect()
}

#[cfg(test)]
#[path = "perplexity_tests.rs"]
mod tests;
