//! The Agent API's stream: `data:` events without `[DONE]`, ended by exactly
//! one terminal event (`response.completed|incomplete|failed|cancelled`).
//! Text deltas are sent on as they arrive, with citation markers rewritten
//! to match the source list (see `source_numbering.rs`); the terminal event's full
//! response fills in anything the deltas missed.

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::agent_response::{AgentResponse, Answer, check_status, run_failed, search_results};
use super::decode::decode;
use super::format::{Flow, StreamDecoder};
use super::source_numbering::{MarkerRewriter, SourceMap};
use super::sse::SseEvent;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, ProviderKind, Source, Usage};

const PROVIDER: ProviderKind = ProviderKind::Perplexity;

/// The state of one Agent API stream.
#[derive(Debug)]
pub struct AgentStream {
    redactor: Redactor,
    model: String,
    sources: SourceMap,
    rewriter: MarkerRewriter,
    /// Text already sent as deltas (markers rewritten).
    text: String,
    /// The response of the terminal event.
    last: Option<AgentResponse>,
    /// Search queries announced and not yet taken.
    queries: Vec<String>,
}

impl AgentStream {
    pub fn new(redactor: Redactor, model: String) -> Self {
        Self {
            redactor,
            model,
            sources: SourceMap::default(),
            rewriter: MarkerRewriter::default(),
            text: String::new(),
            last: None,
            queries: Vec::new(),
        }
    }

    fn emit(&mut self, fragment: String, deltas: &UnboundedSender<String>) {
        if !fragment.is_empty() {
            self.text.push_str(&fragment);
            let _ = deltas.send(fragment);
        }
    }

    fn terminal(&mut self, event: &Value) -> Result<Flow, ProviderError> {
        let response: AgentResponse =
            serde_json::from_value(event["response"].clone()).unwrap_or_default();
        self.last = Some(response);
        Ok(Flow::Done)
    }
}

fn final_results(response: &AgentResponse) -> Vec<(u64, Source)> {
    response
        .output
        .iter()
        .flatten()
        .filter(|item| item["type"] == "search_results")
        .flat_map(|item| search_results(&item["results"]))
        .collect()
}

impl StreamDecoder for AgentStream {
    fn on_event(
        &mut self,
        event: &SseEvent,
        deltas: &UnboundedSender<String>,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(Flow::Continue);
        }
        let value: Value = decode(PROVIDER, &self.redactor, data.as_bytes(), "stream event")?;
        match value["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" => {
                let fragment = value["delta"].as_str().unwrap_or_default();
                let ready = self.rewriter.push(fragment, &self.sources);
                self.emit(ready, deltas);
            }
            "response.reasoning.search_queries" => {
                let queries = value["queries"].as_array().into_iter().flatten();
                self.queries.extend(
                    queries
                        .filter_map(Value::as_str)
                        .map(str::trim)
                        .filter(|q| !q.is_empty())
                        .map(str::to_string),
                );
            }
            "response.reasoning.search_results" => {
                self.sources.add_results(search_results(&value["results"]));
            }
            "response.output_item.added" | "response.output_item.done"
                if value["item"]["type"] == "search_results" =>
            {
                self.sources
                    .add_results(search_results(&value["item"]["results"]));
            }
            "response.completed" | "response.incomplete" => return self.terminal(&value),
            "response.failed" | "response.cancelled" | "error" => {
                let status = value["response"]["status"].as_str().unwrap_or("failed");
                let error = value
                    .get("error")
                    .or_else(|| value["response"].get("error"));
                return Err(run_failed(status, error, &self.redactor));
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn take_search_queries(&mut self) -> Vec<String> {
        std::mem::take(&mut self.queries)
    }

    /// The answer once the stream ended; `ended` says whether a terminal event came.
    fn finish(
        mut self: Box<Self>,
        ended: bool,
        deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        let Some(mut last) = self.last.take().filter(|_| ended) else {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: format!(
                    "the stream ended before its terminal event after {} characters (truncated)",
                    self.text.chars().count()
                ),
            });
        };
        let held = self.rewriter.flush(&self.sources);
        self.emit(held, deltas);
        let final_answer = Answer::from_response(&last);
        for (id, source) in final_results(&last) {
            self.sources.add_results(vec![(id, source)]);
        }
        // The terminal event's full text wins only where it extends what was streamed.
        let final_text = self.sources.rewrite(&final_answer.text);
        if let Some(missing) = final_text.strip_prefix(self.text.as_str()) {
            self.emit(missing.to_string(), deltas);
        }
        if self.sources.is_empty() {
            self.sources = final_answer.sources;
        }
        check_status(&last, &self.text, &self.redactor)?;
        if self.text.is_empty() {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the stream carried no output_text".into(),
            });
        }
        Ok(Completion {
            text: self.text,
            sources: self.sources.sources(),
            model: last.model.take().unwrap_or(self.model),
            usage: last.usage.map(Usage::from),
            provider: PROVIDER,
            tool_query: None,
        })
    }
}
