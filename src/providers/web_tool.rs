//! The `search_web` tool step of [`Providers::answer`], for messages the
//! router was undecided about (`[Routing] WEB_TOOL`).
//!
//! The chat model is asked with the tool offered. If it answers, that answer
//! stands (still subject to the cannot-browse re-ask). If it calls the tool,
//! Perplexity is asked the conversation with the last question replaced by
//! the model's query, and its answer (with sources) is the answer; in a
//! stream a [`Progress::Restart`] drops any chat text shown so far.
//!
//! If Perplexity then fails, the chat model is asked again *without* the tool
//! and its answer carries [`FailoverNote::WebToolFailed`] (the first call
//! produced no answer to keep, only a tool call).
//!
//! A chat server that refuses tools (HTTP 400 naming them) costs no answer:
//! the heuristic's guess is asked instead, and with `WEB_TOOL = auto` the
//! refusal is remembered until these providers are rebuilt (a reload that
//! changes them), so later messages skip the tool.

use std::sync::atomic::Ordering;

use tokio::sync::mpsc::UnboundedSender;
use tracing::{info, warn};

use super::error::ProviderError;
use super::failover::{AnswerError, AnswerPlan, Answered, FailoverNote, Progress, ask, restart};
use super::registry::Providers;
use super::types::{CompletionRequest, ProviderKind, Role};
use crate::config::WebTool;
use crate::metric_names as names;

/// How one offer of the tool ended, as the `result` label of
/// [`names::WEB_TOOL_CALLS`].
fn count(result: &'static str) {
    metrics::counter!(names::WEB_TOOL_CALLS, "result" => result).increment(1);
}

impl Providers {
    /// `None` when the tool is not offered (off, remembered refusal, or a
    /// provider missing): the caller then asks `plan.provider` as usual.
    pub(super) async fn answer_with_tool(
        &self,
        plan: AnswerPlan,
        request: &CompletionRequest,
        progress: Option<&UnboundedSender<Progress>>,
    ) -> Option<Result<Answered, AnswerError>> {
        match plan.web_tool {
            WebTool::Off => return None,
            WebTool::Auto if self.tools_refused.load(Ordering::Relaxed) => {
                count("unsupported");
                return None;
            }
            WebTool::Auto | WebTool::On => {}
        }
        let chat = self.get(ProviderKind::OpenAi)?;
        let web = self.get(ProviderKind::Perplexity)?;
        if !chat.offers_web_tool() {
            // The Responses API has no search_web function here: its own
            // web_search is the web provider's tool.
            count("unsupported");
            return None;
        }
        let plain = CompletionRequest {
            web_tool: false,
            ..request.clone()
        };
        let offered = CompletionRequest {
            web_tool: true,
            ..request.clone()
        };
        let first = match ask(chat, &offered, progress).await {
            Ok(completion) => completion,
            Err(error) if refuses_tools(&error) => {
                self.tools_refused.store(true, Ordering::Relaxed);
                warn!(%error, "the chat server refuses tools; undecided messages take the heuristic's guess");
                count("unsupported");
                return None;
            }
            Err(error) => {
                return Some(
                    self.fall_back(ProviderKind::OpenAi, error, &plain, progress)
                        .await,
                );
            }
        };
        let Some(query) = first.tool_query.clone() else {
            count("not_called");
            return Some(Ok(self
                .check_browsing(plan, ProviderKind::OpenAi, first, &plain, progress)
                .await));
        };
        info!("the chat model called search_web; asking perplexity");
        count("called");
        restart(progress, ProviderKind::Perplexity);
        let searched = ask(web, &with_query(&plain, &query), progress).await;
        Some(match searched {
            Ok(completion) => Ok(Answered {
                completion,
                note: None,
            }),
            Err(error) => {
                warn!(%error, "web search for the tool call failed; asking the chat model without the tool");
                count("web_failed");
                restart(progress, ProviderKind::OpenAi);
                match ask(chat, &plain, progress).await {
                    Ok(completion) => Ok(Answered {
                        completion,
                        note: Some(FailoverNote::WebToolFailed {
                            reason: error.kind(),
                        }),
                    }),
                    Err(second) => Err(AnswerError::BothFailed {
                        first: error,
                        second,
                    }),
                }
            }
        })
    }
}

/// A 400 whose message names tools: the server does not do function calling.
fn refuses_tools(error: &ProviderError) -> bool {
    matches!(error, ProviderError::BadRequest { status: 400, message, .. }
        if message.to_lowercase().contains("tool"))
}

/// The conversation with its last user message replaced by `query`.
fn with_query(request: &CompletionRequest, query: &str) -> CompletionRequest {
    let mut request = request.clone();
    if let Some(last) = request
        .messages
        .iter_mut()
        .rev()
        .find(|m| m.role == Role::User)
    {
        last.content = query.to_string();
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::ChatMessage;

    #[test]
    fn only_a_400_naming_tools_counts_as_a_refusal() {
        let bad = |status, message: &str| ProviderError::BadRequest {
            provider: ProviderKind::OpenAi,
            status,
            message: message.into(),
        };
        assert!(refuses_tools(&bad(
            400,
            "Unrecognized request argument supplied: tools"
        )));
        assert!(refuses_tools(&bad(
            400,
            "this model does not support Tool use"
        )));
        assert!(!refuses_tools(&bad(400, "max_tokens is too large")));
        assert!(!refuses_tools(&bad(422, "tools")));
    }

    #[test]
    fn the_web_request_keeps_the_conversation_and_asks_the_query() {
        let request = CompletionRequest {
            messages: vec![
                ChatMessage::new(Role::System, "be brief"),
                ChatMessage::new(Role::User, "earlier"),
                ChatMessage::new(Role::Assistant, "answer"),
                ChatMessage::new(Role::User, "so is it out?"),
            ],
            user_hash: None,
            web_tool: true,
            chat_model: None,
        };
        let web = with_query(&request, "is the steam deck 2 out");
        let contents: Vec<_> = web.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            contents,
            ["be brief", "earlier", "answer", "is the steam deck 2 out"]
        );
    }
}
