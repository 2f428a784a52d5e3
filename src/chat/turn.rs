//! One turn of a conversation, once it has been admitted: load the history,
//! route, build the prompt, ask the providers (their failover picks who
//! answers), and store the turn; the answer goes back as raw text. Nothing is stored when
//! the turn fails.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{Span, warn};

use super::admission::today;
use super::attachments::compose::compose_question;
use super::attachments::image_cache::{ImageCache, turn_key};
use super::attachments::prompt_images::{attach_images, reserved_tokens};
use super::attachments::steer::{ImageUse, notes, steer_images};
use super::budget;
use super::frontend::Answer;
use super::frontend::Incoming;
use super::live::Live;
use super::memory::{Memory, MemoryError};
use super::messages;
use super::prompt::{build_prompt, count_tokens, system_message};
use super::router::{self, Outcome};
use super::settings::Effective;
use super::types::ConversationKey;
use super::types::Partial;
use super::types::Turn;
use crate::answer::strip_reasoning;
use crate::metric_names as names;
use crate::providers::{
    AnswerError, AnswerPlan, Answered, ChatMessage, Completion, CompletionRequest, ImageInput,
    Progress, ProviderKind,
};

/// How often a streamed partial answer is published to the frontend.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

#[derive(Debug, thiserror::Error)]
pub(super) enum TurnError {
    #[error("memory: {0}")]
    Memory(#[from] MemoryError),
    #[error("{0}")]
    Provider(#[from] AnswerError),
}

impl TurnError {
    pub(super) fn user_message(&self) -> &'static str {
        match self {
            TurnError::Memory(_) => messages::MEMORY_UNAVAILABLE,
            TurnError::Provider(error) => messages::answer_failed(error),
        }
    }

    /// The label for the rejected-messages metric.
    pub(super) fn reason(&self) -> &'static str {
        match self {
            TurnError::Memory(_) => "memory",
            TurnError::Provider(AnswerError::BothFailed { .. }) => "providers_down",
            TurnError::Provider(_) => "provider_error",
        }
    }
}

pub(super) struct TurnRunner<'a> {
    pub live: &'a Live,
    pub memory: &'a Memory,
    pub key: &'a ConversationKey,
    /// Recent images, re-sent to follow-ups.
    pub images: &'a ImageCache,
    /// The server, channel and user settings over the INI.
    pub settings: &'a Effective,
}

impl TurnRunner<'_> {
    pub(super) async fn run(
        &self,
        message: &Incoming,
        progress: Option<&watch::Sender<Partial>>,
    ) -> Result<Answer, TurnError> {
        let history = self.memory.load(self.key).await?;
        // Web search off here: everything goes to the chat model, `/search` too.
        let forced = if self.settings.web.value {
            message.forced
        } else {
            Some(ProviderKind::OpenAi)
        };
        let route = match forced {
            Some(provider) => router::forced(provider, &message.text, &self.live.router),
            None => router::route(&message.text, &history, &self.live.router),
        };
        let route = steer_images(route, &message.attachments);
        let span = Span::current();
        span.record("route", route.provider.as_str());
        metrics::counter!(
            names::ROUTE_DECISIONS,
            "provider" => route.provider.as_str(),
            "outcome" => route.outcome.as_str()
        )
        .increment(1);

        let config = &self.live.config;
        let vision = config.attachments.vision_for(&self.settings.model.value);
        let images = ImageUse::of(&message.attachments, vision, route.provider);
        // Routing read the user's own words; the model reads everything.
        let question = compose_question(&route.question, &message.attachments);
        let sees_images = vision && route.provider == ProviderKind::OpenAi;
        let prompt = self.prompt(message, &history, &question, sees_images);
        let request = CompletionRequest {
            messages: prompt,
            user_hash: Some(user_hash(&message.user_id)),
            web_tool: false,
            chat_model: Some(self.settings.model.value.clone()),
        };
        let mut plan = AnswerPlan::routed(route.provider, config.routing.reroute_cannot_browse);
        if route.outcome == Outcome::Undecided && self.settings.web.value {
            plan = plan.with_web_tool(config.routing.web_tool);
        }
        let reply = match self.answer(plan, &request, progress).await {
            Ok(reply) => reply,
            Err(error) => {
                warn!(%error, "turn failed");
                return Err(error.into());
            }
        };
        span.record("provider", reply.completion.provider.as_str());
        let remember = (images == ImageUse::Sent).then(|| {
            let images = message.attachments.images.iter();
            images.map(|i| i.image.clone()).collect::<Vec<_>>()
        });
        let stored = self
            .store(message, question, remember, &request, &reply.completion)
            .await;
        let failover = reply.note.and_then(messages::failover_note);
        let mut note = notes(&message.attachments, images, &history, failover);
        if !stored {
            // The user sees the answer, but must not think it is remembered.
            let lines = note.into_iter().chain([messages::TURN_NOT_STORED.into()]);
            note = Some(lines.collect::<Vec<String>>().join("\n"));
        }
        Ok(Answer {
            text: reply.completion.text,
            sources: reply.completion.sources,
            note,
            provider: reply.completion.provider,
            model: reply.completion.model,
            reasons: route.reasons.iter().map(ToString::to_string).collect(),
        })
    }

    /// The system message, the history that fits and the question; with
    /// `sees_images`, this message's images and those remembered from the
    /// turns within `IMAGE_MEMORY_TURNS` (their cost set aside in the budget).
    fn prompt(
        &self,
        message: &Incoming,
        history: &[Turn],
        question: &str,
        sees_images: bool,
    ) -> Vec<ChatMessage> {
        let config = &self.live.config;
        let memory_turns = config.attachments.image_memory_turns;
        let current = &message.attachments.images;
        let reserved = if sees_images {
            reserved_tokens(history, memory_turns, current.len())
        } else {
            0
        };
        let system = system_message(&self.settings.prompt.value, chrono::Utc::now());
        let budget = config.prompt.prompt_budget().saturating_sub(reserved);
        let mut prompt = build_prompt(&system, history, question, budget);
        if sees_images {
            let current = current.iter().map(|i| i.image.clone()).collect();
            attach_images(
                &mut prompt,
                history,
                self.key,
                self.images,
                memory_turns,
                current,
            );
        }
        prompt
    }

    /// Asks the providers; with `progress`, streams and publishes the
    /// partial answer (restarting when another provider starts over).
    async fn answer(
        &self,
        plan: AnswerPlan,
        request: &CompletionRequest,
        progress: Option<&watch::Sender<Partial>>,
    ) -> Result<Answered, AnswerError> {
        let providers = &self.live.providers;
        let Some(progress) = progress else {
            return providers.answer(plan, request, None).await;
        };
        let (events, received) = mpsc::unbounded_channel();
        let (result, ()) = tokio::join!(
            providers.answer(plan, request, Some(events)),
            publish(received, progress)
        );
        result
    }

    /// Stores the turn (its images only in RAM, for follow-ups) and counts
    /// its tokens; false when it could not be stored (logged; the user still
    /// gets the answer, with a note that it will not be remembered). The
    /// answer is shown only after this returns (see [`publish`]).
    async fn store(
        &self,
        message: &Incoming,
        question: String,
        images: Option<Vec<ImageInput>>,
        request: &CompletionRequest,
        completion: &Completion,
    ) -> bool {
        let answer = strip_reasoning(&completion.text);
        let turn = Turn {
            user_id: message.user_id.clone(),
            question,
            answer,
            provider: completion.provider,
            model: completion.model.clone(),
            at: chrono::Utc::now().timestamp(),
        };
        if let Some(images) = images {
            self.images.insert(turn_key(self.key, &turn), images);
        }
        let stored = match self.memory.append(self.key, turn).await {
            Ok(()) => true,
            Err(error) => {
                warn!(%error, key = %self.key, "could not store the turn");
                false
            }
        };
        if self.live.config.limits.user_daily_tokens == 0 {
            return stored;
        }
        let tokens = completion
            .usage
            .map_or_else(|| estimate_tokens(request, completion), |u| u.total());
        budget::add_tokens(self.live, self.memory, &message.user_id, &today(), tokens).await;
        stored
    }
}

/// Accumulates the streamed text and publishes it (raw, as a [`Partial`]
/// with the searches announced so far; those at once), at most every
/// [`PROGRESS_EVERY`] and once at the end if it changed since.
///
/// The latest delta that holds more than whitespace (and whatever follows
/// it) is held back, so a published partial is never the whole answer: the
/// complete reply reaches the screen only as the turn's outcome, after
/// [`TurnRunner::store`] has stored the turn. A user who saw the whole
/// answer can count on the turn being remembered, even if the process dies
/// right after the stream ends.
async fn publish(
    mut received: mpsc::UnboundedReceiver<Progress>,
    progress: &watch::Sender<Partial>,
) {
    let mut partial = Partial::default();
    let mut held = String::new();
    let mut unpublished = false;
    let mut last = tokio::time::Instant::now();
    while let Some(event) = received.recv().await {
        match event {
            Progress::Delta(delta) if delta.trim().is_empty() => {
                held.push_str(&delta);
                continue;
            }
            Progress::Delta(delta) => {
                let shown = std::mem::replace(&mut held, delta);
                if shown.is_empty() {
                    continue;
                }
                partial.text.push_str(&shown);
            }
            Progress::Searching { queries } => {
                partial.searching.extend(queries);
                // Searching comes before any text: show it at once.
                if partial.text.is_empty() {
                    progress.send_replace(partial.clone());
                    last = tokio::time::Instant::now();
                    continue;
                }
            }
            Progress::Restart { .. } => {
                partial = Partial::default();
                held.clear();
                last = tokio::time::Instant::now();
                continue;
            }
        }
        unpublished = true;
        if last.elapsed() >= PROGRESS_EVERY {
            progress.send_replace(partial.clone());
            unpublished = false;
            last = tokio::time::Instant::now();
        }
    }
    if unpublished && !partial.text.is_empty() {
        progress.send_replace(partial);
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

    async fn published(events: Vec<(Duration, Progress)>) -> Vec<String> {
        published_partials(events)
            .await
            .into_iter()
            .map(|partial| partial.text)
            .collect()
    }

    async fn published_partials(events: Vec<(Duration, Progress)>) -> Vec<Partial> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (progress, mut shown) = watch::channel(Partial::default());
        let mut seen = Vec::new();
        let publisher = publish(rx, &progress);
        let feed = async {
            for (wait, event) in events {
                tokio::time::advance(wait).await;
                tx.send(event).unwrap();
                tokio::task::yield_now().await;
                if shown.has_changed().unwrap_or(false) {
                    seen.push(shown.borrow_and_update().clone());
                }
            }
            drop(tx);
        };
        tokio::join!(publisher, feed);
        if shown.has_changed().unwrap_or(false) {
            seen.push(shown.borrow_and_update().clone());
        }
        seen
    }

    fn delta(text: &str) -> Progress {
        Progress::Delta(text.into())
    }

    #[tokio::test(start_paused = true)]
    async fn partial_text_is_published_at_most_every_interval_and_at_the_end() {
        let seen = published(vec![
            (Duration::ZERO, delta("a")),
            (Duration::from_millis(10), delta("b")),
            (PROGRESS_EVERY, delta("c")),
            (Duration::from_millis(10), delta("d")),
        ])
        .await;
        // "d", the last delta, is held back: only the outcome shows it.
        assert_eq!(seen, ["ab".to_string(), "abc".to_string(),]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_drops_the_text_of_the_provider_that_failed() {
        let restart = Progress::Restart {
            provider: ProviderKind::OpenAi,
        };
        let seen = published(vec![
            (PROGRESS_EVERY, delta("cut ")),
            (PROGRESS_EVERY, delta("sho")),
            (Duration::ZERO, restart),
            (PROGRESS_EVERY, delta("fresh ")),
            (PROGRESS_EVERY, delta("start")),
        ])
        .await;
        assert_eq!(seen, ["cut ".to_string(), "fresh ".to_string(),]);
    }

    #[tokio::test(start_paused = true)]
    async fn searches_are_published_at_once_and_the_text_follows() {
        let queries = vec!["rust 1.90 release notes".to_string()];
        let seen = published_partials(vec![
            (
                Duration::ZERO,
                Progress::Searching {
                    queries: queries.clone(),
                },
            ),
            (PROGRESS_EVERY, delta("Rust")),
            (PROGRESS_EVERY, delta(" 1.90")),
        ])
        .await;
        assert_eq!(
            seen[0],
            Partial {
                text: String::new(),
                searching: queries
            }
        );
        assert_eq!(seen.last().map(|p| p.text.as_str()), Some("Rust"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_whole_answer_is_never_published_only_the_outcome_shows_it() {
        let seen = published(vec![
            (Duration::ZERO, delta("The ")),
            (PROGRESS_EVERY, delta("answer")),
            (PROGRESS_EVERY, delta(".")),
            (PROGRESS_EVERY, delta("\n")),
            (PROGRESS_EVERY, delta("")),
        ])
        .await;
        assert_eq!(seen, ["The ".to_string(), "The answer".to_string()]);
    }

    #[test]
    fn user_hashes_are_stable_and_distinct() {
        assert_eq!(user_hash("1"), user_hash("1"));
        assert_ne!(user_hash("1"), user_hash("2"));
        assert!(user_hash("1").len() <= 64);
    }
}
