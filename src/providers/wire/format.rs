//! What a wire format is: the one trait each API shape implements (OpenAI
//! chat completions, Perplexity's Agent API, legacy Sonar), so the registry
//! and the transport never match on which one they hold. Adding a format is
//! one new file with a [`WireFormat`] and its [`StreamDecoder`].

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use super::sse::SseEvent;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{Completion, CompletionRequest};

/// Builds one API's requests and reads its responses. Pure: no I/O.
pub trait WireFormat: std::fmt::Debug + Send + Sync {
    /// The configured model (or preset) name.
    fn model(&self) -> &str;

    /// Where completions are POSTed.
    fn endpoint(&self) -> &url::Url;

    /// A cheap GET that opens the connection the completions will use.
    fn warm_up_url(&self) -> url::Url;

    /// The JSON body asking for `request`, streamed or not.
    fn body(&self, request: &CompletionRequest, stream: bool) -> Bytes;

    /// A whole (non-streamed) response body.
    fn parse(&self, body: &[u8], redactor: &Redactor) -> Result<Completion, ProviderError>;

    /// The state for reading one streamed response.
    fn stream_decoder(&self, redactor: &Redactor) -> Box<dyn StreamDecoder>;

    /// Whether this format sends the `search_web` function tool when a
    /// request asks for it (`CompletionRequest::web_tool`).
    fn offers_web_tool(&self) -> bool {
        false
    }
}

/// Reads one streamed response, event by event.
pub trait StreamDecoder: Send {
    /// Handles one event, sending text fragments on `deltas` as they arrive.
    fn on_event(
        &mut self,
        event: &SseEvent,
        deltas: &UnboundedSender<String>,
    ) -> Result<Flow, ProviderError>;

    /// The web search queries announced since the last call (the Agent
    /// API reports them before the text); none for formats without them.
    fn take_search_queries(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The answer once the body ended; `ended` says whether the terminal
    /// event came. Text that only the end revealed is sent on `deltas` too,
    /// so the deltas always add up to the answer's text.
    fn finish(
        self: Box<Self>,
        ended: bool,
        deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError>;
}

/// What a stream decoder says after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The terminal event: the answer is complete.
    Done,
}

/// The JSON of a chat-completions `data:` line (OpenAI and Sonar), or the
/// flow for a blank line (`Continue`) or the `[DONE]` sentinel (`Done`).
pub fn chat_completion_data(event: &SseEvent) -> Result<&str, Flow> {
    match event.data.trim() {
        "" => Err(Flow::Continue),
        "[DONE]" => Err(Flow::Done),
        data => Ok(data),
    }
}

/// `base` + `relative`, whether or not `base` ends with a slash
/// (`https://api.openai.com/v1` and `…/v1/` both give `…/v1/chat/completions`).
pub fn endpoint(base: &url::Url, relative: &str) -> url::Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        relative.trim_start_matches('/')
    );
    url.set_path(&path);
    url
}

/// The system messages joined as the `instructions` of a Responses-shaped
/// request (OpenAI's Responses API and Perplexity's Agent API); `None` when
/// there are none.
pub fn instructions(request: &CompletionRequest) -> Option<String> {
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == crate::providers::types::Role::System)
        .map(|m| m.content.as_str())
        .collect();
    (!system.is_empty()).then(|| system.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_with_or_without_a_trailing_slash() {
        for base in ["https://api.openai.com/v1", "https://api.openai.com/v1/"] {
            let base = url::Url::parse(base).unwrap();
            assert_eq!(
                endpoint(&base, "chat/completions").as_str(),
                "https://api.openai.com/v1/chat/completions"
            );
        }
        let root = url::Url::parse("https://api.perplexity.ai").unwrap();
        assert_eq!(
            endpoint(&root, "/v1/agent").as_str(),
            "https://api.perplexity.ai/v1/agent"
        );
        let local = url::Url::parse("http://127.0.0.1:8080/proxy/v1/").unwrap();
        assert_eq!(
            endpoint(&local, "models").as_str(),
            "http://127.0.0.1:8080/proxy/v1/models"
        );
    }

    #[test]
    fn chat_completion_lines_tell_data_from_blank_and_done() {
        let event = |data: &str| SseEvent {
            event: None,
            data: data.into(),
        };
        assert_eq!(chat_completion_data(&event(" ")), Err(Flow::Continue));
        assert_eq!(chat_completion_data(&event("[DONE]")), Err(Flow::Done));
        assert_eq!(chat_completion_data(&event("{}")), Ok("{}"));
    }
}
