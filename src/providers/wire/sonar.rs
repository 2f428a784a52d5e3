//! Legacy Perplexity Sonar chat completions (`PERPLEXITY_API = sonar`), for
//! proxies and old deployments: `POST {PERPLEXITY_API_URL}/chat/completions`.
//! Marker `[n]` refers to `citations[n - 1]` (URLs); titles come from
//! `search_results`. Perplexity answers this endpoint with 403
//! `chat_completions_not_available` since the Agent API replaced it, which
//! the send path turns into [`ProviderError::EndpointRetired`].

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tracing::warn;

use super::decode::{decode, malformed};
use super::format::{Flow, StreamDecoder, WireFormat, chat_completion_data, endpoint};
use super::sse::SseEvent;
use crate::config::PerplexityConfig;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, CompletionRequest, ProviderKind, Source, Usage};

const PROVIDER: ProviderKind = ProviderKind::Perplexity;

/// Builds Sonar requests and reads Sonar responses.
#[derive(Debug, Clone)]
pub struct LegacySonar {
    url: url::Url,
    models_url: url::Url,
    model: String,
    output_tokens: usize,
}

impl LegacySonar {
    pub fn new(config: &PerplexityConfig, output_tokens: usize) -> Self {
        // The Agent API slug of the default model is not a Sonar model name.
        let model = config
            .model
            .strip_prefix("perplexity/")
            .unwrap_or(&config.model)
            .to_string();
        if config.preset.is_some() {
            warn!(provider = %PROVIDER, "PERPLEXITY_PRESET is ignored with PERPLEXITY_API = sonar");
        }
        Self {
            url: endpoint(&config.base_url, "chat/completions"),
            models_url: endpoint(&config.base_url, "v1/models"),
            model,
            output_tokens,
        }
    }
}

impl WireFormat for LegacySonar {
    fn model(&self) -> &str {
        &self.model
    }

    fn endpoint(&self) -> &url::Url {
        &self.url
    }

    fn warm_up_url(&self) -> url::Url {
        self.models_url.clone()
    }

    fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": self.output_tokens,
            "stream": stream,
        });
        Bytes::from(body.to_string())
    }

    fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError> {
        let response: SonarBody = decode(PROVIDER, redactor, body, "sonar completion")?;
        let text = response
            .choices
            .first()
            .and_then(|c| c.message.as_ref())
            .and_then(|m| m.content.clone())
            .unwrap_or_default();
        if text.is_empty() {
            return Err(malformed(
                PROVIDER,
                redactor,
                body,
                "sonar completion",
                &"no message content",
            ));
        }
        Ok(Completion {
            text,
            sources: sources(&response.citations, &response.search_results),
            model: response.model.unwrap_or_else(|| self.model.clone()),
            usage: response.usage.map(Usage::from),
            provider: PROVIDER,
            tool_query: None,
        })
    }

    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder> {
        Box::new(SonarStream {
            redactor: redactor.clone(),
            model: self.model.clone(),
            text: String::new(),
            citations: Vec::new(),
            search_results: Vec::new(),
            usage: None,
            finished: false,
        })
    }
}

/// `citations[n - 1]` is marker `[n]`; without citations, the search results in order.
fn sources(citations: &[String], results: &[SearchResult]) -> Vec<Source> {
    if citations.is_empty() {
        return results
            .iter()
            .map(|r| Source {
                title: r
                    .title
                    .clone()
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| r.url.clone()),
                url: r.url.clone(),
            })
            .collect();
    }
    citations
        .iter()
        .map(|url| {
            let title = results
                .iter()
                .find(|r| &r.url == url)
                .and_then(|r| r.title.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| url.clone());
            Source {
                title,
                url: url.clone(),
            }
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct SonarChoice {
    #[serde(default)]
    message: Option<SonarMessage>,
    #[serde(default)]
    delta: Option<SonarMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SonarMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct SearchResult {
    url: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct SonarUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl From<SonarUsage> for Usage {
    fn from(usage: SonarUsage) -> Self {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
        }
    }
}

/// A Sonar body: a whole response, or one chunk of a stream.
#[derive(Debug, Deserialize)]
struct SonarBody {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<SonarChoice>,
    #[serde(default)]
    citations: Vec<String>,
    #[serde(default)]
    search_results: Vec<SearchResult>,
    #[serde(default)]
    usage: Option<SonarUsage>,
    #[serde(default)]
    error: Option<Value>,
}

/// The state of one Sonar stream. It ends at `[DONE]` or a
/// `chat.completion.done` chunk; at EOF it is complete only if a
/// `finish_reason` was seen (whether Perplexity sends `[DONE]` is unconfirmed).
#[derive(Debug)]
pub struct SonarStream {
    redactor: Redactor,
    model: String,
    text: String,
    citations: Vec<String>,
    search_results: Vec<SearchResult>,
    usage: Option<Usage>,
    finished: bool,
}

impl StreamDecoder for SonarStream {
    fn on_event(
        &mut self,
        event: &SseEvent,
        deltas: &UnboundedSender<String>,
    ) -> Result<Flow, ProviderError> {
        let data = match chat_completion_data(event) {
            Ok(data) => data,
            Err(flow) => return Ok(flow),
        };
        let chunk: SonarBody = decode(PROVIDER, &self.redactor, data.as_bytes(), "sonar chunk")?;
        if let Some(error) = chunk.error {
            let message = error["message"]
                .as_str()
                .map_or_else(|| error.to_string(), str::to_string);
            return Err(ProviderError::RunFailed {
                provider: PROVIDER,
                status: "error".into(),
                message: self.redactor.clean(&message),
            });
        }
        self.absorb(&chunk, deltas);
        let done = chunk.object.as_deref() == Some("chat.completion.done");
        Ok(if done { Flow::Done } else { Flow::Continue })
    }

    fn finish(
        self: Box<Self>,
        ended: bool,
        _deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        if !(ended || self.finished) {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: format!(
                    "the stream ended without a finish_reason or [DONE] after {} characters (truncated)",
                    self.text.chars().count()
                ),
            });
        }
        if self.text.is_empty() {
            return Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the stream carried no text".into(),
            });
        }
        Ok(Completion {
            sources: sources(&self.citations, &self.search_results),
            text: self.text,
            model: self.model,
            usage: self.usage,
            provider: PROVIDER,
            tool_query: None,
        })
    }
}

impl SonarStream {
    fn absorb(&mut self, chunk: &SonarBody, deltas: &UnboundedSender<String>) {
        if let Some(model) = &chunk.model {
            self.model = model.clone();
        }
        if !chunk.citations.is_empty() {
            self.citations = chunk.citations.clone();
        }
        if !chunk.search_results.is_empty() {
            self.search_results = chunk.search_results.clone();
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        for choice in &chunk.choices {
            self.finished |= choice.finish_reason.is_some();
            let fragment = choice
                .delta
                .as_ref()
                .and_then(|d| d.content.as_deref())
                .unwrap_or("");
            self.emit(fragment.to_string(), deltas);
            // A final chunk may carry the whole message; send what the deltas missed.
            let full = choice
                .message
                .as_ref()
                .and_then(|m| m.content.as_deref())
                .unwrap_or("");
            if let Some(missing) = full.strip_prefix(self.text.as_str()) {
                self.emit(missing.to_string(), deltas);
            }
        }
    }

    fn emit(&mut self, fragment: String, deltas: &UnboundedSender<String>) {
        if !fragment.is_empty() {
            self.text.push_str(&fragment);
            let _ = deltas.send(fragment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn api() -> LegacySonar {
        let env: HashMap<String, String> =
            [("PERPLEXITY_API".to_string(), "sonar".to_string())].into();
        let config = crate::config::Config::from_env(&env).unwrap();
        LegacySonar::new(&config.perplexity, 500)
    }

    #[test]
    fn the_default_agent_slug_becomes_the_sonar_model() {
        assert_eq!(api().model(), "sonar");
        assert!(api().endpoint().as_str().ends_with("/chat/completions"));
    }

    #[test]
    fn citations_number_the_sources_and_search_results_name_them() {
        let body = r#"{"model":"sonar","choices":[{"message":{"role":"assistant","content":"Pop is 8B [1][2]."},"finish_reason":"stop"}],
            "citations":["https://a.example/pop","https://b.example/x"],
            "search_results":[{"title":"B page","url":"https://b.example/x"},{"title":"A page","url":"https://a.example/pop"}]}"#;
        let completion = api().parse(body.as_bytes(), &Redactor::default()).unwrap();
        assert_eq!(completion.sources[0].title, "A page");
        assert_eq!(completion.sources[1].url, "https://b.example/x");
    }

    #[test]
    fn a_stream_may_end_with_a_done_object_instead_of_done() {
        let api = api();
        let mut parser = api.stream_decoder(&Redactor::default());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let chunks = [
            r#"{"object":"chat.completion.chunk","choices":[{"delta":{"content":"Hi "}}],"citations":["https://a.example"]}"#,
            r#"{"object":"chat.completion.done","choices":[{"delta":{"content":"[1]"},"finish_reason":"stop","message":{"content":"Hi [1]"}}]}"#,
        ];
        let mut ended = false;
        for data in chunks {
            let event = SseEvent {
                event: None,
                data: data.into(),
            };
            ended = parser.on_event(&event, &tx).unwrap() == Flow::Done;
        }
        let completion = parser.finish(ended, &tx).unwrap();
        assert_eq!(completion.text, "Hi [1]");
        assert_eq!(completion.sources[0].url, "https://a.example");
    }

    #[test]
    fn a_stream_cut_before_any_finish_reason_is_truncated() {
        let api = api();
        let mut parser = api.stream_decoder(&Redactor::default());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let event = SseEvent {
            event: None,
            data: r#"{"choices":[{"delta":{"content":"Hi"}}]}"#.into(),
        };
        parser.on_event(&event, &tx).unwrap();
        assert_eq!(
            parser.finish(false, &tx).unwrap_err().kind(),
            crate::providers::error::ErrorKind::Malformed
        );
    }
}
