//! OpenAI Responses API: `POST {OPENAI_API_URL}/responses`, JSON or SSE.
//!
//! The body holds only fields of the official `CreateResponse` schema:
//! `model`, `instructions` (the system message), `input` (the history as
//! message items: user turns with `input_text` parts, assistant turns with
//! `output_text` parts, since `input_text` in an assistant turn is a 400),
//! `max_output_tokens` (at least 16), `reasoning.effort`, `safety_identifier`,
//! `tools` (the built-in `web_search` for web answers), `stream` and always
//! `store: false`: duet keeps its own memory, nothing is kept at OpenAI.
//! Runs can fail with HTTP 200 (`status: failed`), so the status is checked.
//! Streams end with one terminal event; a body that ends before it is an
//! error. `url_citation` annotations become numbered sources (`url_citations.rs`).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tracing::warn;

use super::decode::{decode, malformed};
use super::format::{StreamDecoder, WireFormat, endpoint};
use super::openai_responses_stream::ResponsesStream;
use super::url_citations::Citations;
use crate::config::OpenAiConfig;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, CompletionRequest, ProviderKind, Role, Usage};

pub(super) const PROVIDER: ProviderKind = ProviderKind::OpenAi;

/// The schema's minimum for `max_output_tokens`.
const MIN_OUTPUT_TOKENS: usize = 16;

/// Builds Responses API requests and reads its responses.
#[derive(Debug, Clone)]
pub struct OpenAiResponses {
    url: url::Url,
    models_url: url::Url,
    model: String,
    reasoning_effort: Option<String>,
    output_tokens: usize,
    web_search: bool,
}

impl OpenAiResponses {
    /// `web_search`: every request carries the built-in `web_search` tool.
    pub fn new(config: &OpenAiConfig, output_tokens: usize, web_search: bool) -> Self {
        Self {
            url: endpoint(&config.base_url, "responses"),
            models_url: endpoint(&config.base_url, "models"),
            model: config.model.clone(),
            reasoning_effort: config.reasoning_effort.clone(),
            output_tokens: output_tokens.max(MIN_OUTPUT_TOKENS),
            web_search,
        }
    }
}

/// One history message as an input item.
fn input_item(role: Role, text: &str) -> Value {
    let part = if role == Role::Assistant {
        "output_text"
    } else {
        "input_text"
    };
    json!({"type": "message", "role": role.as_str(), "content": [{"type": part, "text": text}]})
}

impl WireFormat for OpenAiResponses {
    fn model(&self) -> &str {
        &self.model
    }

    fn endpoint(&self) -> &url::Url {
        &self.url
    }

    /// `GET /models`: cheap, and opens the connection the calls will use.
    fn warm_up_url(&self) -> url::Url {
        self.models_url.clone()
    }

    fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
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
            .map(|m| input_item(m.role, &m.content))
            .collect();
        body.insert("input".into(), Value::Array(input));
        body.insert("max_output_tokens".into(), json!(self.output_tokens));
        if let Some(effort) = &self.reasoning_effort {
            body.insert("reasoning".into(), json!({"effort": effort}));
        }
        if self.web_search {
            body.insert("tools".into(), json!([{"type": "web_search"}]));
        }
        if let Some(user) = &request.user_hash {
            body.insert("safety_identifier".into(), json!(user));
        }
        body.insert("store".into(), json!(false));
        body.insert("stream".into(), json!(stream));
        Bytes::from(Value::Object(body).to_string())
    }

    fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError> {
        let response: ResponseBody = decode(PROVIDER, redactor, body, "response")?;
        let mut citations = Citations::default();
        let text = response.text(&mut citations);
        response.check(&text, redactor)?;
        if text.is_empty() {
            return Err(malformed(
                PROVIDER,
                redactor,
                body,
                "response",
                &"no output_text",
            ));
        }
        Ok(Completion {
            text,
            sources: citations.sources(),
            model: response.model.unwrap_or_else(|| self.model.clone()),
            usage: response.usage.map(Usage::from),
            provider: PROVIDER,
        })
    }

    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder> {
        Box::new(ResponsesStream::new(redactor.clone(), self.model.clone()))
    }
}

/// A `Response` object, whole or in a stream's terminal event.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseBody {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    status: Option<String>,
    // Items are read one by one so an unknown item type cannot fail the answer.
    #[serde(default)]
    output: Option<Vec<Value>>,
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    incomplete_details: Option<Value>,
}

impl ResponseBody {
    /// The text of every `output_text` (or `refusal`) part of every
    /// `message` item, with citation markers from their annotations.
    pub fn text(&self, citations: &mut Citations) -> String {
        let mut text = String::new();
        for item in self.output.iter().flatten() {
            if item["type"] != "message" {
                continue;
            }
            for part in item["content"].as_array().into_iter().flatten() {
                match part["type"].as_str() {
                    Some("output_text") => {
                        let raw = part["text"].as_str().unwrap_or_default();
                        text.push_str(&citations.mark(raw, &part["annotations"]));
                    }
                    Some("refusal") => text.push_str(part["refusal"].as_str().unwrap_or_default()),
                    _ => {}
                }
            }
        }
        text
    }

    /// Fails unless the run completed (or stopped early with some text).
    pub fn check(&self, text: &str, redactor: &Redactor) -> Result<(), ProviderError> {
        match self.status.as_deref().unwrap_or("completed") {
            "completed" => Ok(()),
            "incomplete" if !text.is_empty() => {
                let reason = self.incomplete_details.as_ref().map(|d| d["reason"].clone());
                warn!(provider = %PROVIDER, reason = ?reason, "the answer stopped early (status incomplete)");
                Ok(())
            }
            "incomplete" => Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the model returned no text (status incomplete; the OUTPUT_TOKENS budget may have gone to reasoning)".into(),
            }),
            status => Err(run_failed(status, self.error.as_ref(), redactor)),
        }
    }
}

/// A failed run or an `error` event, with the provider's message redacted.
pub(super) fn run_failed(
    status: &str,
    error: Option<&Value>,
    redactor: &Redactor,
) -> ProviderError {
    let message = error
        .filter(|e| !e.is_null())
        .map(|e| {
            e["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string())
        })
        .unwrap_or_else(|| "no error detail".into());
    ProviderError::RunFailed {
        provider: PROVIDER,
        status: status.to_string(),
        message: redactor.clean(&message),
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) struct ResponseUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl From<ResponseUsage> for Usage {
    fn from(usage: ResponseUsage) -> Self {
        Usage {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
        }
    }
}

#[cfg(test)]
#[path = "openai_responses_tests.rs"]
mod tests;
