//! The Agent API's response, whole or as a stream's terminal event: its
//! run status, its `search_results` and `message` items, and its usage.
//! Shared by the JSON parse (`agent.rs`) and the stream (`agent_stream.rs`).

use serde::Deserialize;
use serde_json::Value;
use tracing::warn;

use super::source_numbering::SourceMap;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{ProviderKind, Source, Usage};

const PROVIDER: ProviderKind = ProviderKind::Perplexity;

/// Fails unless the run completed (or stopped at the token cap with some text).
pub fn check_status(
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

pub fn run_failed(status: &str, error: Option<&Value>, redactor: &Redactor) -> ProviderError {
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
pub struct AgentResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    // Items are read one by one so an unknown item type cannot fail the whole answer.
    #[serde(default)]
    pub output: Option<Vec<Value>>,
    #[serde(default)]
    pub usage: Option<AgentUsage>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct AgentUsage {
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
pub fn search_results(results: &Value) -> Vec<(u64, Source)> {
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
pub struct Answer {
    pub text: String,
    pub sources: SourceMap,
}

impl Answer {
    pub fn from_response(response: &AgentResponse) -> Self {
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
