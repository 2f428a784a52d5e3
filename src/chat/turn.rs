//! One turn of a conversation, once it has been admitted: load the history,
//! route, build the prompt, ask a provider (falling back to the other one,
//! or re-asking Perplexity when OpenAI says it cannot browse), render the
//! answer, and store the turn. Nothing is stored when the turn fails.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{Span, info, warn};

use super::admission::today;
use super::fallback::says_it_cannot_browse;
use super::live::Live;
use super::memory::{Memory, MemoryError};
use super::prompt::{build_prompt, count_tokens, system_message};
use super::router::{self, Route};
use super::{Answer, ConversationKey, Incoming, Turn, messages};
use crate::answer::strip_reasoning;
use crate::metric_names as names;
use crate::providers::{ChatMessage, Completion, CompletionRequest, ProviderError, ProviderKind};

/// How often a streamed partial answer is re-rendered for the frontend.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

#[derive(Debug, thiserror::Error)]
pub(super) enum TurnError {
    #[error("memory: {0}")]
    Memory(#[from] MemoryError),
    #[error("{0}")]
    Provider(ProviderError),
    #[error("both providers failed: {first}; then {second}")]
    BothFailed {
        first: ProviderError,
        second: ProviderError,
    },
}

impl TurnError {
    pub(super) fn user_message(&self) -> &'static str {
        match self {
            TurnError::Memory(_) => messages::MEMORY_UNAVAILABLE,
            TurnError::Provider(error) => messages::provider_failed(error.kind()),
            TurnError::BothFailed { .. } => messages::BOTH_DOWN,
        }
    }
}

pub(super) struct TurnRunner<'a> {
    pub live: &'a Live,
    pub memory: &'a Memory,
    pub key: &'a ConversationKey,
}

/// A completion plus a note to append (when a fallback answered).
struct Reply {
    completion: Completion,
    note: Option<&'static str>,
}

impl TurnRunner<'_> {
    pub(super) async fn run(
        &self,
        message: &Incoming,
        progress: Option<&watch::Sender<String>>,
    ) -> Result<Answer, TurnError> {
        let history = self.memory.load(self.key).await?;
        let route = match message.forced {
            Some(provider) => router::forced(provider, &message.text, &self.live.router),
            None => router::route(&message.text, &history, &self.live.router),
        };
        let span = Span::current();
        span.record("route", route.provider.as_str());
        metrics::counter!(names::ROUTE_DECISIONS, "provider" => route.provider.as_str())
            .increment(1);

        let config = &self.live.config;
        let system = system_message(&config.prompt.system_message, chrono::Utc::now());
        let prompt = build_prompt(
            &system,
            &history,
            &route.question,
            config.prompt.prompt_budget(),
        );
        let request = CompletionRequest {
            messages: prompt,
            user_hash: Some(user_hash(&message.user_id)),
        };
        let reply = match self
            .ask_with_fallback(route.provider, &request, progress)
            .await
        {
            Ok(reply) => reply,
            Err(error) => {
                warn!(%error, "turn failed");
                return Err(error);
            }
        };
        span.record("provider", reply.completion.provider.as_str());
        self.store(message, &route, &request, &reply.completion)
            .await;
        Ok(Answer {
            text: reply.completion.text,
            sources: reply.completion.sources,
            note: reply.note.map(str::to_string),
            provider: reply.completion.provider,
            model: reply.completion.model,
            reasons: route.reasons.iter().map(ToString::to_string).collect(),
        })
    }

    async fn ask_with_fallback(
        &self,
        primary: ProviderKind,
        request: &CompletionRequest,
        progress: Option<&watch::Sender<String>>,
    ) -> Result<Reply, TurnError> {
        let available = |kind| self.live.providers.get(kind).is_some();
        match self.ask(primary, request, progress).await {
            Ok(completion) => {
                let reroute = primary == ProviderKind::OpenAi
                    && self.live.config.routing.reroute_cannot_browse
                    && available(ProviderKind::Perplexity)
                    && says_it_cannot_browse(&completion.text);
                if !reroute {
                    return Ok(Reply {
                        completion,
                        note: None,
                    });
                }
                info!("openai cannot browse; re-asking perplexity");
                metrics::counter!(names::REROUTES).increment(1);
                match self.ask(ProviderKind::Perplexity, request, progress).await {
                    Ok(web) => Ok(Reply {
                        completion: web,
                        note: None,
                    }),
                    Err(error) => {
                        warn!(%error, "re-asking perplexity failed; keeping openai's answer");
                        Ok(Reply {
                            completion,
                            note: None,
                        })
                    }
                }
            }
            Err(first) => {
                let other = primary.other();
                if !available(other) {
                    return Err(TurnError::Provider(first));
                }
                warn!(error = %first, fallback = %other, "provider failed; falling back");
                metrics::counter!(names::FALLBACKS, "from" => primary.as_str()).increment(1);
                match self.ask(other, request, progress).await {
                    Ok(completion) => Ok(Reply {
                        completion,
                        note: (primary == ProviderKind::Perplexity)
                            .then_some(messages::WEB_SEARCH_UNAVAILABLE_NOTE),
                    }),
                    Err(second) => Err(TurnError::BothFailed { first, second }),
                }
            }
        }
    }

    async fn ask(
        &self,
        kind: ProviderKind,
        request: &CompletionRequest,
        progress: Option<&watch::Sender<String>>,
    ) -> Result<Completion, ProviderError> {
        let client = self
            .live
            .providers
            .get(kind)
            .expect("routes only name available providers");
        let Some(progress) = progress else {
            return client.complete(request).await;
        };
        let (deltas, mut received) = mpsc::unbounded_channel::<String>();
        let publish = async {
            let mut text = String::new();
            let mut last = tokio::time::Instant::now();
            while let Some(delta) = received.recv().await {
                text.push_str(&delta);
                if last.elapsed() >= PROGRESS_EVERY {
                    progress.send_replace(text.clone());
                    last = tokio::time::Instant::now();
                }
            }
            if !text.is_empty() {
                progress.send_replace(text.clone());
            }
        };
        let (result, ()) = tokio::join!(client.stream(request, deltas), publish);
        result
    }

    /// Stores the turn and counts its tokens; a storage failure is logged,
    /// the user still gets the answer.
    async fn store(
        &self,
        message: &Incoming,
        route: &Route,
        request: &CompletionRequest,
        completion: &Completion,
    ) {
        let answer = strip_reasoning(&completion.text);
        let turn = Turn {
            user_id: message.user_id.clone(),
            question: route.question.clone(),
            answer,
            provider: completion.provider,
            model: completion.model.clone(),
            at: chrono::Utc::now().timestamp(),
        };
        if let Err(error) = self.memory.append(self.key, turn).await {
            warn!(%error, key = %self.key, "could not store the turn");
        }
        if self.live.config.limits.user_daily_tokens == 0 {
            return;
        }
        let tokens = completion
            .usage
            .map_or_else(|| estimate_tokens(request, completion), |u| u.total());
        if let Err(error) = self
            .memory
            .add_tokens(&message.user_id, &today(), tokens)
            .await
        {
            warn!(%error, "could not record token usage");
        }
    }
}

fn estimate_tokens(request: &CompletionRequest, completion: &Completion) -> u64 {
    let prompt: usize = request
        .messages
        .iter()
        .map(|m: &ChatMessage| count_tokens(&m.content))
        .sum();
    (prompt + count_tokens(&completion.text)) as u64
}

/// A stable, non-reversible id for the provider's abuse detection.
fn user_hash(user_id: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    ("duet", user_id).hash(&mut hasher);
    format!("duet-{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_hashes_are_stable_and_distinct() {
        assert_eq!(user_hash("1"), user_hash("1"));
        assert_ne!(user_hash("1"), user_hash("2"));
        assert!(user_hash("1").len() <= 64);
    }
}
