//! OpenAI Chat Completions (and OpenAI-compatible servers: Ollama, vLLM,
//! LM Studio, OpenRouter): `POST {OPENAI_API_URL}/chat/completions`, JSON or
//! SSE. The token cap goes in `max_completion_tokens` or, for servers that
//! only know it, `max_tokens`. A stream must end with `data: [DONE]`; a body
//! that ends without it was cut off and is an error, not a short answer.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::decode::{decode, malformed};
use super::format::{Flow, StreamDecoder, WireFormat, chat_completion_data, endpoint};
use super::openai_tool::{self, StreamedCalls, ToolCall};
use super::sse::SseEvent;
use crate::config::{OpenAiConfig, TokenLimitField};
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{
    ChatMessage, Completion, CompletionRequest, ProviderKind, Role, Usage,
};

const PROVIDER: ProviderKind = ProviderKind::OpenAi;

/// Builds OpenAI requests and reads OpenAI responses.
#[derive(Debug, Clone)]
pub struct OpenAiChat {
    chat_url: url::Url,
    models_url: url::Url,
    model: String,
    token_field: TokenLimitField,
    reasoning_effort: Option<String>,
    verbosity: Option<String>,
    output_tokens: usize,
}

impl OpenAiChat {
    pub fn new(config: &OpenAiConfig, output_tokens: usize) -> Self {
        Self {
            chat_url: endpoint(&config.base_url, "chat/completions"),
            models_url: endpoint(&config.base_url, "models"),
            model: config.model.clone(),
            token_field: config.token_limit_field,
            reasoning_effort: config.reasoning_effort.clone(),
            verbosity: config.verbosity.clone(),
            output_tokens,
        }
    }
}

impl WireFormat for OpenAiChat {
    fn model(&self) -> &str {
        &self.model
    }

    fn offers_web_tool(&self) -> bool {
        true
    }

    fn endpoint(&self) -> &url::Url {
        &self.chat_url
    }

    /// `GET /models`: cheap, and opens the connection the chat calls will use.
    fn warm_up_url(&self) -> url::Url {
        self.models_url.clone()
    }

    fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes {
        let messages: Vec<Value> = request.messages.iter().map(chat_message).collect();
        let mut body = Map::new();
        let model = request.chat_model.as_deref().unwrap_or(&self.model);
        body.insert("model".into(), json!(model));
        body.insert("messages".into(), Value::Array(messages));
        let limit_field = match self.token_field {
            TokenLimitField::MaxCompletionTokens => "max_completion_tokens",
            TokenLimitField::MaxTokens => "max_tokens",
        };
        body.insert(limit_field.into(), json!(self.output_tokens));
        if let Some(effort) = &self.reasoning_effort {
            body.insert("reasoning_effort".into(), json!(effort));
        }
        if let Some(verbosity) = &self.verbosity {
            body.insert("verbosity".into(), json!(verbosity));
        }
        // No temperature or top_p: GPT-5 reasoning models reject them (API_NOTES 2.2).
        if let Some(user) = &request.user_hash {
            body.insert("safety_identifier".into(), json!(user));
        }
        if request.web_tool {
            body.insert("tools".into(), openai_tool::tools());
        }
        if stream {
            body.insert("stream".into(), json!(true));
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Bytes::from(Value::Object(body).to_string())
    }

    fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError> {
        let response: ChatResponse = decode(PROVIDER, redactor, body, "chat completion")?;
        if let Some(error) = response.error {
            return Err(in_body_error(&error, redactor));
        }
        let Some(choice) = response.choices.into_iter().next() else {
            return Err(malformed(
                PROVIDER,
                redactor,
                body,
                "chat completion",
                &"no choices",
            ));
        };
        let message = choice.message.unwrap_or_default();
        let tool_query = openai_tool::query_of(&message.tool_calls);
        let text = message.content.or(message.refusal).unwrap_or_default();
        if text.is_empty() && tool_query.is_none() {
            return Err(empty_answer(choice.finish_reason.as_deref()));
        }
        Ok(Completion {
            text,
            sources: Vec::new(),
            model: response.model.unwrap_or_else(|| self.model.clone()),
            usage: response.usage.map(Usage::from),
            provider: PROVIDER,
            tool_query,
        })
    }

    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder> {
        Box::new(OpenAiChatStream {
            redactor: redactor.clone(),
            text: String::new(),
            model: self.model.clone(),
            usage: None,
            finish_reason: None,
            tool_calls: StreamedCalls::default(),
        })
    }
}

/// A reasoning model can spend the whole budget thinking and say nothing.
/// A message as chat completions takes it: a string, or for a user message
/// with images, a text part followed by one `image_url` part per image.
fn chat_message(message: &ChatMessage) -> Value {
    if message.images.is_empty() || message.role != Role::User {
        return json!({"role": message.role.as_str(), "content": message.content});
    }
    let mut parts = vec![json!({"type": "text", "text": message.content})];
    parts.extend(message.images.iter().map(|image| {
        json!({"type": "image_url", "image_url": {"url": image.data_url(), "detail": "auto"}})
    }));
    json!({"role": message.role.as_str(), "content": parts})
}

fn empty_answer(finish_reason: Option<&str>) -> ProviderError {
    let hint = if finish_reason == Some("length") {
        " (the OUTPUT_TOKENS budget ran out, often spent on reasoning)"
    } else {
        ""
    };
    ProviderError::Malformed {
        provider: PROVIDER,
        detail: format!(
            "the model returned no text (finish_reason {}){hint}",
            finish_reason.unwrap_or("none")
        ),
    }
}

fn in_body_error(error: &Value, redactor: &Redactor) -> ProviderError {
    let message = error["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| error.to_string());
    ProviderError::RunFailed {
        provider: PROVIDER,
        status: "error".into(),
        message: redactor.clean(&message),
    }
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl From<ChatUsage> for Usage {
    fn from(usage: ChatUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
}

/// The state of one OpenAI stream.
#[derive(Debug)]
pub struct OpenAiChatStream {
    redactor: Redactor,
    text: String,
    model: String,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    tool_calls: StreamedCalls,
}

impl StreamDecoder for OpenAiChatStream {
    fn on_event(
        &mut self,
        event: &SseEvent,
        deltas: &UnboundedSender<String>,
    ) -> Result<Flow, ProviderError> {
        let data = match chat_completion_data(event) {
            Ok(data) => data,
            Err(flow) => return Ok(flow),
        };
        let chunk: Chunk = decode(PROVIDER, &self.redactor, data.as_bytes(), "stream chunk")?;
        if let Some(error) = chunk.error {
            return Err(in_body_error(&error, &self.redactor));
        }
        if event.event.as_deref() == Some("error") {
            let error = serde_json::from_str(data).unwrap_or(Value::Null);
            return Err(in_body_error(&error, &self.redactor));
        }
        if let Some(model) = chunk.model {
            self.model = model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        for choice in chunk.choices {
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(calls) = delta.tool_calls {
                self.tool_calls.add(calls);
            }
            let delta = delta.content.or(delta.refusal);
            if let Some(fragment) = delta.filter(|f| !f.is_empty()) {
                self.text.push_str(&fragment);
                // The receiver may have gone (the user left); the answer is still completed.
                let _ = deltas.send(fragment);
            }
        }
        Ok(Flow::Continue)
    }

    /// The answer, once the stream ended; `ended` says whether `[DONE]` came.
    fn finish(
        self: Box<Self>,
        ended: bool,
        _deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        if !ended {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: format!(
                    "the stream ended without [DONE] after {} characters (truncated)",
                    self.text.chars().count()
                ),
            });
        }
        let tool_query = self.tool_calls.query();
        if self.text.is_empty() && tool_query.is_none() {
            return Err(empty_answer(self.finish_reason.as_deref()));
        }
        Ok(Completion {
            text: self.text,
            sources: Vec::new(),
            model: self.model,
            usage: self.usage,
            provider: PROVIDER,
            tool_query,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{ChatMessage, Role};
    use std::collections::HashMap;

    fn api(env: &[(&str, &str)]) -> OpenAiChat {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = crate::config::Config::from_env(&env).unwrap();
        OpenAiChat::new(&config.openai, config.prompt.output_tokens)
    }

    fn request() -> CompletionRequest {
        CompletionRequest {
            messages: vec![
                ChatMessage::new(Role::System, "be brief"),
                ChatMessage::new(Role::User, "hi"),
            ],
            user_hash: None,
            web_tool: false,
            chat_model: None,
        }
    }

    fn with_image() -> CompletionRequest {
        let mut request = request();
        request.messages[1].images = vec![crate::providers::ImageInput {
            media_type: "image/png",
            bytes: bytes::Bytes::from_static(b"\x89PNG"),
        }];
        request
    }

    #[test]
    fn a_user_message_with_images_becomes_text_and_image_url_parts() {
        let api = api(&[]);
        let body: Value = serde_json::from_slice(&api.body(&with_image(), false)).unwrap();
        assert_eq!(body["messages"][0]["content"], "be brief");
        assert_eq!(
            body["messages"][1]["content"],
            json!([
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw==", "detail": "auto"}},
            ])
        );
    }

    fn body_json(api: &OpenAiChat, stream: bool) -> Value {
        serde_json::from_slice(&api.body(&request(), stream)).unwrap()
    }

    #[test]
    fn the_token_cap_goes_in_the_configured_field() {
        let default = body_json(&api(&[("OUTPUT_TOKENS", "500")]), false);
        assert_eq!(default["max_completion_tokens"], 500);
        assert!(default.get("max_tokens").is_none());
        assert!(default.get("stream").is_none());
        let ollama = body_json(&api(&[("OPENAI_TOKEN_LIMIT_FIELD", "max_tokens")]), false);
        assert!(ollama.get("max_completion_tokens").is_none());
        assert!(ollama["max_tokens"].is_u64());
    }

    #[test]
    fn streaming_asks_for_usage_and_effort_is_sent_when_set() {
        let body = body_json(&api(&[("OPENAI_REASONING_EFFORT", "low")]), true);
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["reasoning_effort"], "low");
        assert_eq!(body["messages"][0]["role"], "system");
    }

    #[test]
    fn verbosity_is_sent_when_set_and_sampling_parameters_never_are() {
        let body = body_json(
            &api(&[
                ("GPT_MODEL", "gpt-5.2"),
                ("OPENAI_REASONING_EFFORT", "xhigh"),
                ("OPENAI_VERBOSITY", "low"),
            ]),
            true,
        );
        assert_eq!(body["verbosity"], "low");
        assert_eq!(body["reasoning_effort"], "xhigh");
        for field in ["temperature", "top_p", "presence_penalty", "logprobs"] {
            assert!(body.get(field).is_none(), "{field} in {body}");
        }
        assert!(body_json(&api(&[]), false).get("verbosity").is_none());
    }

    #[test]
    fn a_completion_is_read_with_its_usage() {
        let body = br#"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;
        let completion = api(&[]).parse(body, &Redactor::default()).unwrap();
        assert_eq!(completion.text, "Hello!");
        assert_eq!(completion.model, "gpt-4o");
        assert_eq!(completion.usage.unwrap().total(), 11);
    }

    #[test]
    fn an_empty_answer_at_the_length_limit_explains_itself() {
        let body = br#"{"choices":[{"message":{"content":""},"finish_reason":"length"}]}"#;
        let error = api(&[]).parse(body, &Redactor::default()).unwrap_err();
        assert!(error.to_string().contains("OUTPUT_TOKENS"), "{error}");
    }

    #[test]
    fn no_choices_is_malformed() {
        let error = api(&[])
            .parse(br#"{"choices":[]}"#, &Redactor::default())
            .unwrap_err();
        assert_eq!(error.kind(), crate::providers::error::ErrorKind::Malformed);
    }

    fn feed(parser: &mut dyn StreamDecoder, lines: &[&str]) -> Result<bool, ProviderError> {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        for line in lines {
            let event = SseEvent {
                event: None,
                data: line.to_string(),
            };
            if parser.on_event(&event, &tx)? == Flow::Done {
                return Ok(true);
            }
        }
        Ok(false)
    }

    #[test]
    fn a_stream_tolerates_empty_choices_and_blank_data() {
        let api = api(&[]);
        let mut parser = api.stream_decoder(&Redactor::default());
        let done = feed(
            parser.as_mut(),
            &[
                r#"{"model":"m","choices":[{"delta":{"role":"assistant","content":""}}]}"#,
                "",
                r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
                r#"{"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        let completion = parser
            .finish(done, &tokio::sync::mpsc::unbounded_channel().0)
            .unwrap();
        assert_eq!(completion.text, "Hello");
        assert_eq!(completion.model, "m");
        assert_eq!(completion.usage.unwrap().output_tokens, 2);
    }

    #[test]
    fn a_stream_without_done_is_truncated() {
        let api = api(&[]);
        let mut parser = api.stream_decoder(&Redactor::default());
        let done = feed(
            parser.as_mut(),
            &[r#"{"choices":[{"delta":{"content":"Hel"}}]}"#],
        )
        .unwrap();
        let error = parser
            .finish(done, &tokio::sync::mpsc::unbounded_channel().0)
            .unwrap_err();
        assert!(error.to_string().contains("without [DONE]"), "{error}");
    }

    #[test]
    fn an_error_object_in_the_stream_is_fatal() {
        let api = api(&[]);
        let mut parser = api.stream_decoder(&Redactor::default());
        let error = feed(
            parser.as_mut(),
            &[r#"{"error":{"message":"upstream exploded"}}"#],
        )
        .unwrap_err();
        assert!(error.to_string().contains("upstream exploded"));
    }

    #[test]
    fn the_tool_is_offered_only_when_the_request_asks_for_it() {
        let api = api(&[]);
        assert!(body_json(&api, false).get("tools").is_none());
        let offered = CompletionRequest {
            web_tool: true,
            ..request()
        };
        let body: Value = serde_json::from_slice(&api.body(&offered, true)).unwrap();
        assert_eq!(body["tools"][0]["function"]["name"], "search_web");
    }

    #[test]
    fn a_tool_call_without_text_is_an_answer_with_a_query() {
        let body = br#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"search_web","arguments":"{\"query\":\"f1 calendar\"}"}}]},"finish_reason":"tool_calls"}]}"#;
        let completion = api(&[]).parse(body, &Redactor::default()).unwrap();
        assert_eq!(completion.tool_query.as_deref(), Some("f1 calendar"));
        assert_eq!(completion.text, "");
        let other = br#"{"choices":[{"message":{"content":null,"tool_calls":[{"function":{"name":"other","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#;
        assert!(
            api(&[]).parse(other, &Redactor::default()).is_err(),
            "no text, no search: empty"
        );
    }

    #[test]
    fn a_streamed_tool_call_is_assembled_from_its_fragments() {
        let api = api(&[]);
        let mut parser = api.stream_decoder(&Redactor::default());
        let done = feed(
            parser.as_mut(),
            &[
                r#"{"choices":[{"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"search_web","arguments":""}}]}}]}"#,
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"query\":"}}]}}]}"#,
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"next f1 race\"}"}}]},"finish_reason":"tool_calls"}]}"#,
                "[DONE]",
            ],
        )
        .unwrap();
        let completion = parser
            .finish(done, &tokio::sync::mpsc::unbounded_channel().0)
            .unwrap();
        assert_eq!(completion.tool_query.as_deref(), Some("next f1 race"));
    }
}
