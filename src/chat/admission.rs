//! Admission of one message before it queues: the per-user rate limit and
//! the daily token budget. Admins (`privileged`) are never limited.

use tracing::warn;

use super::budget;
use super::frontend::Incoming;
use super::frontend::Outcome;
use super::limits::Admission;
use super::live::Live;
use super::memory::Memory;
use super::messages;
use crate::metric_names as names;

/// `Some` is the outcome for a refused message.
pub(super) async fn admit(live: &Live, memory: &Memory, message: &Incoming) -> Option<Outcome> {
    if message.privileged {
        return None;
    }
    match live.limiter.admit(&message.user_id).await {
        Admission::Allowed => {}
        Admission::Notify(wait) => {
            return Some(rejected("rate_limited", messages::rate_limited(wait)));
        }
        Admission::Quiet => {
            metrics::counter!(names::MESSAGES_REJECTED, "reason" => "rate_limited").increment(1);
            return Some(Outcome::Silent);
        }
    }
    let budget = live.config.limits.user_daily_tokens;
    if budget == 0 {
        return None;
    }
    match budget::tokens_used(live, memory, &message.user_id, &today()).await {
        Ok(used) if used >= budget => Some(rejected("budget", messages::BUDGET_SPENT.to_string())),
        Ok(_) => None,
        Err(error) => {
            warn!(%error, "could not read the token budget; letting the message through");
            None
        }
    }
}

/// A notice for a message the pipeline turned away, counted by `reason`.
pub(super) fn rejected(reason: &'static str, text: String) -> Outcome {
    metrics::counter!(names::MESSAGES_REJECTED, "reason" => reason).increment(1);
    Outcome::Notice(text)
}

/// The UTC day token budgets are counted in.
pub(super) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
