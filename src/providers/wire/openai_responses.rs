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
use serde_json::{Map, Value, json};

use super::decode::{decode, malformed};
use super::format::{StreamDecoder, WireFormat, endpoint, instructions};
use super::openai_responses_body::{PROVIDER, ResponseBody};
use super::openai_responses_stream::ResponsesStream;
use super::url_citations::Citations;
use crate::config::OpenAiConfig;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{ChatMessage, Completion, CompletionRequest, Role, Usage};

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

/// One history message as an input item; a user message's images follow
/// its text as `input_image` parts (not with the web search: images are
/// only for the chat model).
fn input_item(message: &ChatMessage, with_images: bool) -> Value {
    let part = if message.role == Role::Assistant {
        "output_text"
    } else {
        "input_text"
    };
    let mut content = vec![json!({"type": part, "text": message.content})];
    if with_images && message.role == Role::User {
        content.extend(message.images.iter().map(
            |image| json!({"type": "input_image", "image_url": image.data_url(), "detail": "auto"}),
        ));
    }
    json!({"type": "message", "role": message.role.as_str(), "content": content})
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
        let model = request.chat_model.as_deref().unwrap_or(&self.model);
        body.insert("model".into(), json!(model));
        if let Some(instructions) = instructions(request) {
            body.insert("instructions".into(), json!(instructions));
        }
        let input: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| input_item(m, !self.web_search))
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
            tool_query: None,
        })
    }

    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder> {
        Box::new(ResponsesStream::new(redactor.clone(), self.model.clone()))
    }
}

#[cfg(test)]
#[path = "openai_responses_tests.rs"]
mod tests;
