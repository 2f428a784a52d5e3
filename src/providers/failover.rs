//! Failover: [`Providers::answer`] asks the provider the router picked and,
//! when it fails, the other one; when OpenAI's answer admits it cannot
//! browse, it re-asks Perplexity once and keeps OpenAI's answer if that
//! fails. The caller learns which provider answered and what happened on
//! the way ([`FailoverNote`]), or gets every provider's error.
//!
//! Streaming progress goes out as [`Progress`] events: text deltas, the web
//! searches a provider announces before its text, and a
//! [`Progress::Restart`] whenever another provider starts over, so whoever
//! shows partial text drops what it showed so far.

use tokio::sync::mpsc::{self, UnboundedSender};
use tracing::{info, warn};

use super::cannot_browse::says_it_cannot_browse;
use super::error::{ErrorKind, ProviderError};
use super::registry::{ProviderClient, Providers};
use super::types::{Completion, CompletionRequest, ProviderKind};
use crate::config::WebTool;
use crate::metric_names as names;

/// What streaming progress reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// More text of the answer being written.
    Delta(String),
    /// `provider` starts the answer over: discard the text received so far.
    Restart { provider: ProviderKind },
    /// The provider runs these web searches (before any text).
    Searching { queries: Vec<String> },
}

/// Whom to ask, and how far failover may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerPlan {
    /// The provider the router (or the user) picked.
    pub provider: ProviderKind,
    /// Ask the other provider when this one fails (or is not configured).
    pub fall_back: bool,
    /// Re-ask Perplexity when OpenAI says it cannot browse
    /// (`[Routing] REROUTE_CANNOT_BROWSE`).
    pub reroute_cannot_browse: bool,
    /// The router was undecided: offer the chat model the `search_web`
    /// tool as `[Routing] WEB_TOOL` says (see `web_tool`); `Off` asks
    /// `provider` as usual.
    pub web_tool: WebTool,
}

impl AnswerPlan {
    /// The routed provider, with fallback; the re-ask as configured.
    pub fn routed(provider: ProviderKind, reroute_cannot_browse: bool) -> Self {
        Self {
            provider,
            fall_back: true,
            reroute_cannot_browse,
            web_tool: WebTool::Off,
        }
    }

    /// For an undecided message: offer the tool as `web_tool` says;
    /// `provider` is the heuristic's guess, asked when the tool cannot be.
    #[must_use]
    pub fn with_web_tool(mut self, web_tool: WebTool) -> Self {
        self.web_tool = web_tool;
        self
    }

    /// Only `provider`: no fallback, no re-ask.
    pub fn only(provider: ProviderKind) -> Self {
        Self {
            provider,
            fall_back: false,
            reroute_cannot_browse: false,
            web_tool: WebTool::Off,
        }
    }
}

/// What happened on the way to the answer, when it was not the plain one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverNote {
    /// `from` failed (`reason`), so `to` answered instead.
    FellBack {
        from: ProviderKind,
        to: ProviderKind,
        reason: ErrorKind,
    },
    /// `from` said it cannot browse, so `to` answered the question again.
    Rerouted {
        from: ProviderKind,
        to: ProviderKind,
    },
    /// The chat model called `search_web`, but the web provider failed
    /// (`reason`), so the chat model answered without the tool.
    WebToolFailed { reason: ErrorKind },
    /// `from` said it cannot browse, but re-asking `to` failed (`reason`),
    /// so `from`'s answer stands.
    RerouteFailed {
        from: ProviderKind,
        to: ProviderKind,
        reason: ErrorKind,
    },
}

/// An answer and how it was reached.
#[derive(Debug)]
pub struct Answered {
    pub completion: Completion,
    pub note: Option<FailoverNote>,
}

/// Why no provider answered.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// Neither the planned provider nor (when allowed) a fallback is configured.
    #[error("{provider} is not configured")]
    NotConfigured { provider: ProviderKind },
    /// The one provider that could be asked failed.
    #[error("{0}")]
    Failed(ProviderError),
    #[error("both providers failed: {first}; then {second}")]
    BothFailed {
        first: ProviderError,
        second: ProviderError,
    },
}

impl AnswerError {
    /// Every provider's error, in the order they were asked.
    pub fn errors(&self) -> Vec<&ProviderError> {
        match self {
            AnswerError::NotConfigured { .. } => Vec::new(),
            AnswerError::Failed(error) => vec![error],
            AnswerError::BothFailed { first, second } => vec![first, second],
        }
    }
}

impl Providers {
    /// Asks as `plan` says (see the module doc). With `progress`, answers are
    /// streamed and their text reported there as it arrives.
    pub async fn answer(
        &self,
        plan: AnswerPlan,
        request: &CompletionRequest,
        progress: Option<UnboundedSender<Progress>>,
    ) -> Result<Answered, AnswerError> {
        let progress = progress.as_ref();
        if let Some(answered) = self.answer_with_tool(plan, request, progress).await {
            return answered;
        }
        let fallback = plan.provider.other();
        let (first, may_fall_back) = match (self.get(plan.provider), self.get(fallback)) {
            (Some(client), _) => (client, plan.fall_back),
            (None, Some(client)) if plan.fall_back => {
                warn!(provider = %plan.provider, instead = %fallback, "routed to a provider that is not configured");
                (client, false)
            }
            (None, _) => {
                return Err(AnswerError::NotConfigured {
                    provider: plan.provider,
                });
            }
        };
        // The client's kind, not the error's or answer's provider: the web
        // slot may be OpenAI's web_search, whose answers and errors say openai.
        let from = first.kind();
        match ask(first, request, progress).await {
            Ok(completion) => Ok(self
                .check_browsing(plan, from, completion, request, progress)
                .await),
            Err(error) if may_fall_back => self.fall_back(from, error, request, progress).await,
            Err(error) => Err(AnswerError::Failed(error)),
        }
    }

    pub(super) async fn fall_back(
        &self,
        from: ProviderKind,
        first: ProviderError,
        request: &CompletionRequest,
        progress: Option<&UnboundedSender<Progress>>,
    ) -> Result<Answered, AnswerError> {
        let to = from.other();
        let Some(client) = self.get(to) else {
            return Err(AnswerError::Failed(first));
        };
        warn!(error = %first, fallback = %to, "provider failed; falling back");
        metrics::counter!(names::FALLBACKS, "from" => from.as_str()).increment(1);
        restart(progress, to);
        match ask(client, request, progress).await {
            Ok(completion) => Ok(Answered {
                completion,
                note: Some(FailoverNote::FellBack {
                    from,
                    to,
                    reason: first.kind(),
                }),
            }),
            Err(second) => Err(AnswerError::BothFailed { first, second }),
        }
    }

    /// Re-asks Perplexity once when OpenAI's answer admits it cannot browse.
    pub(super) async fn check_browsing(
        &self,
        plan: AnswerPlan,
        answered_by: ProviderKind,
        completion: Completion,
        request: &CompletionRequest,
        progress: Option<&UnboundedSender<Progress>>,
    ) -> Answered {
        let (from, to) = (ProviderKind::OpenAi, ProviderKind::Perplexity);
        let web = self.get(to).filter(|_| {
            plan.reroute_cannot_browse
                && answered_by == from
                && says_it_cannot_browse(&completion.text)
        });
        let Some(web) = web else {
            return Answered {
                completion,
                note: None,
            };
        };
        info!("openai cannot browse; re-asking perplexity");
        metrics::counter!(names::REROUTES).increment(1);
        restart(progress, to);
        match ask(web, request, progress).await {
            Ok(answer) => Answered {
                completion: answer,
                note: Some(FailoverNote::Rerouted { from, to }),
            },
            Err(error) => {
                warn!(%error, "re-asking perplexity failed; keeping openai's answer");
                // Put the kept answer back where the re-ask's partial text was.
                restart(progress, from);
                if let Some(progress) = progress {
                    let _ = progress.send(Progress::Delta(completion.text.clone()));
                }
                Answered {
                    completion,
                    note: Some(FailoverNote::RerouteFailed {
                        from,
                        to,
                        reason: error.kind(),
                    }),
                }
            }
        }
    }
}

/// One provider, streamed when there is somewhere to report progress.
pub(super) async fn ask(
    client: &ProviderClient,
    request: &CompletionRequest,
    progress: Option<&UnboundedSender<Progress>>,
) -> Result<Completion, ProviderError> {
    let Some(progress) = progress else {
        return client.complete(request).await;
    };
    let (deltas, mut received) = mpsc::unbounded_channel::<String>();
    let (searching, mut searches) = mpsc::unbounded_channel::<Vec<String>>();
    let forward = async {
        loop {
            // The receiver may have gone (the user left); the answer is still completed.
            let event = tokio::select! {
                biased;
                Some(queries) = searches.recv() => Progress::Searching { queries },
                Some(delta) = received.recv() => Progress::Delta(delta),
                else => break,
            };
            let _ = progress.send(event);
        }
    };
    let streamed = client.stream_reporting(request, deltas, Some(searching));
    let (result, ()) = tokio::join!(streamed, forward);
    result
}

pub(super) fn restart(progress: Option<&UnboundedSender<Progress>>, provider: ProviderKind) {
    if let Some(progress) = progress {
        let _ = progress.send(Progress::Restart { provider });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overloaded(provider: ProviderKind) -> ProviderError {
        ProviderError::Overloaded {
            provider,
            status: 503,
            message: "busy".into(),
        }
    }

    fn request() -> CompletionRequest {
        CompletionRequest {
            messages: Vec::new(),
            user_hash: None,
            web_tool: false,
            chat_model: None,
        }
    }

    #[test]
    fn both_errors_are_listed_in_the_order_asked() {
        let error = AnswerError::BothFailed {
            first: overloaded(ProviderKind::Perplexity),
            second: overloaded(ProviderKind::OpenAi),
        };
        let providers: Vec<_> = error.errors().iter().map(|e| e.provider()).collect();
        assert_eq!(providers, [ProviderKind::Perplexity, ProviderKind::OpenAi]);
        assert!(
            error
                .to_string()
                .starts_with("both providers failed: perplexity")
        );
    }

    #[test]
    fn an_only_plan_neither_falls_back_nor_re_asks() {
        let plan = AnswerPlan::only(ProviderKind::OpenAi);
        assert!(!plan.fall_back && !plan.reroute_cannot_browse);
        assert!(AnswerPlan::routed(ProviderKind::OpenAi, true).fall_back);
    }

    #[tokio::test]
    async fn without_any_provider_the_answer_says_which_is_missing() {
        let error = Providers::default()
            .answer(
                AnswerPlan::routed(ProviderKind::Perplexity, true),
                &request(),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            AnswerError::NotConfigured {
                provider: ProviderKind::Perplexity
            }
        ));
        assert!(error.errors().is_empty());
    }
}
