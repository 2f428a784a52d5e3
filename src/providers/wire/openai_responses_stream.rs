//! The Responses API's stream: `event:`/`data:` frames without `[DONE]`,
//! ended by one terminal event (`response.completed` or
//! `response.incomplete`); `response.failed` and `error` are failures.
//! Text deltas are sent on as they arrive; a `url_citation` annotation adds
//! its `[n]` marker where the text has got to (the annotation follows the
//! text it cites), and the terminal response fills in text the deltas missed.

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::decode::decode;
use super::format::{Flow, StreamDecoder};
use super::openai_responses_body::{PROVIDER, ResponseBody, run_failed};
use super::sse::SseEvent;
use super::url_citations::Citations;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, Usage};

/// The state of one Responses stream.
#[derive(Debug)]
pub struct ResponsesStream {
    redactor: Redactor,
    model: String,
    citations: Citations,
    /// Text already sent as deltas (markers included).
    text: String,
    /// The response of the terminal event.
    last: Option<ResponseBody>,
}

impl ResponsesStream {
    pub fn new(redactor: Redactor, model: String) -> Self {
        Self {
            redactor,
            model,
            citations: Citations::default(),
            text: String::new(),
            last: None,
        }
    }

    fn emit(&mut self, fragment: &str, deltas: &UnboundedSender<String>) {
        if !fragment.is_empty() {
            self.text.push_str(fragment);
            let _ = deltas.send(fragment.to_string());
        }
    }

    fn cite(&mut self, annotation: &Value, deltas: &UnboundedSender<String>) {
        if let Some(number) = self.citations.number(annotation) {
            let marker = format!("[{number}]");
            if !self.text.ends_with(&marker) {
                self.emit(&marker, deltas);
            }
        }
    }
}

impl StreamDecoder for ResponsesStream {
    fn on_event(
        &mut self,
        event: &SseEvent,
        deltas: &UnboundedSender<String>,
    ) -> Result<Flow, ProviderError> {
        let data = event.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Flow::Continue);
        }
        let value: Value = decode(PROVIDER, &self.redactor, data.as_bytes(), "stream event")?;
        let kind = value["type"]
            .as_str()
            .or(event.event.as_deref())
            .unwrap_or_default();
        match kind {
            "response.output_text.delta" | "response.refusal.delta" => {
                self.emit(value["delta"].as_str().unwrap_or_default(), deltas);
            }
            "response.output_text.annotation.added" => self.cite(&value["annotation"], deltas),
            "response.completed" | "response.incomplete" => {
                let response =
                    serde_json::from_value(value["response"].clone()).unwrap_or_default();
                self.last = Some(response);
                return Ok(Flow::Done);
            }
            "response.failed" | "response.cancelled" => {
                let status = value["response"]["status"].as_str().unwrap_or("failed");
                let error = value["response"].get("error");
                return Err(run_failed(status, error, &self.redactor));
            }
            "error" => {
                let error = value.get("error").unwrap_or(&value);
                return Err(run_failed("error", Some(error), &self.redactor));
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    fn finish(
        mut self: Box<Self>,
        ended: bool,
        deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        let Some(last) = self.last.take().filter(|_| ended) else {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: format!(
                    "the stream ended before its terminal event after {} characters (truncated)",
                    self.text.chars().count()
                ),
            });
        };
        if self.text.is_empty() {
            // No deltas (a proxy that only forwards the end): the final text, cited.
            let mut citations = Citations::default();
            let text = last.text(&mut citations);
            self.emit(&text, deltas);
            self.citations = citations;
        }
        last.check(&self.text, &self.redactor)?;
        if self.text.is_empty() {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the stream carried no output_text".into(),
            });
        }
        Ok(Completion {
            text: self.text,
            sources: self.citations.sources(),
            model: last.model.unwrap_or(self.model),
            usage: last.usage.map(Usage::from),
            provider: PROVIDER,
            tool_query: None,
        })
    }
}
