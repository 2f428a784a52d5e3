//! One turn: hand the user's message to the pipeline and bring its answer
//! to the screen through a [`ReplySink`], streamed or at once, and tell the
//! its delivery registered with the process's shutdown.

use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tracing::info;

use super::long_answer;
use super::render::{DISCORD_MESSAGE_LIMIT, render_reply, split_for_discord};
use super::stream::{ReplySink, StreamedReply};
use crate::chat::{Conversations, Incoming, Outcome, messages};
use crate::config::DiscordConfig;
use crate::shutdown::Work;

/// Shown to a slash command whose turn produced nothing to say.
pub const NOTHING_TO_SAY: &str = "Nothing to say to that right now.";

/// How a turn's reply is delivered.
#[derive(Debug, Clone, Copy)]
pub struct TurnSettings {
    pub stream: bool,
    pub edit_interval: Duration,
    /// Deferred slash commands must show something even when the pipeline is silent.
    pub never_silent: bool,
    /// Answers longer than this go as a file (`ATTACH_LONG_ANSWERS_CHARS`; 0 = never).
    pub attach_long_answers_chars: usize,
}

impl TurnSettings {
    pub fn from_config(config: &DiscordConfig) -> Self {
        Self {
            stream: config.stream_replies,
            edit_interval: config.stream_edit_interval,
            never_silent: false,
            attach_long_answers_chars: config.attach_long_answers_chars,
        }
    }
}

/// Runs one turn to the end (or until the shutdown interrupts it).
pub async fn run_turn<S: ReplySink>(
    conversations: &dyn Conversations,
    incoming: Incoming,
    sink: S,
    settings: TurnSettings,
    work: Work,
) {
    let mut reply = StreamedReply::new(sink, settings.edit_interval);
    let answer = async {
        if settings.stream {
            let (progress, shown) = watch::channel(crate::chat::Partial::default());
            let (finished, done) = oneshot::channel::<()>();
            let answer = async move {
                let outcome = conversations.handle(incoming, Some(progress)).await;
                let _ = finished.send(());
                outcome
            };
            // The pipeline may keep a clone of the sender; its return ends the following.
            let until_answered = async {
                let _ = done.await;
            };
            let (outcome, ()) = tokio::join!(answer, reply.follow(shown, until_answered));
            outcome
        } else {
            conversations.handle(incoming, None).await
        }
    };
    // The real pipeline ends an interrupted turn itself with this notice;
    // the delivery does not rely on it.
    let mut target = tokio::select! {
        outcome = answer => {
            log_outcome(&outcome);
            if let Some(file) = long_answer::as_file(&outcome, settings.attach_long_answers_chars) {
                let (lead, name) = (long_answer::LONG_ANSWER_LEAD, long_answer::ANSWER_FILE_NAME);
                reply.finish_with_file(lead, name, file).await;
                drop(work);
                return;
            }
            parts_of(&outcome)
        }
        () = work.interrupted() => {
            info!("turn interrupted by shutdown");
            vec![messages::INTERRUPTED.to_string()]
        }
    };
    if target.is_empty() && settings.never_silent {
        target.push(NOTHING_TO_SAY.to_string());
    }
    reply.finish(&target).await;
    // Delivered: the shutdown drain may stop waiting for this turn.
    drop(work);
}

/// The messages an outcome shows: the split answer or notice, or nothing.
pub fn parts_of(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Answer(answer) => split_for_discord(&render_reply(answer), DISCORD_MESSAGE_LIMIT),
        Outcome::Notice(notice) => split_for_discord(notice, DISCORD_MESSAGE_LIMIT),
        Outcome::Silent => Vec::new(),
    }
}

fn log_outcome(outcome: &Outcome) {
    match outcome {
        Outcome::Answer(answer) => info!(
            provider = %answer.provider,
            model = %answer.model,
            reasons = ?answer.reasons,
            chars = answer.text.chars().count(),
            "answered"
        ),
        Outcome::Notice(_) => info!("answered with a notice"),
        Outcome::Silent => info!("stayed silent"),
    }
}
