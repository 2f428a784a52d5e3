//! Every text the pipeline shows a user, one constant per situation: short,
//! friendly, at most one emoji, saying what happened and what to do.

use std::time::Duration;

use crate::providers::{AnswerError, ErrorKind, FailoverNote, ProviderKind};

pub const QUEUE_FULL: &str =
    "⏳ I'm still working on your earlier messages — send this one again once I've replied.";
/// `/status` in hybrid mode: the router's three outcomes.
pub const ROUTING_OUTCOMES: &str = "**Routing:** each message is *web* (Perplexity, with sources), *chat* (OpenAI) or *undecided* (no clear signal either way).";
pub const BUSY: &str = "🚦 I'm very busy right now — please try again in a minute.";
pub const BUDGET_SPENT: &str = "🪙 You've used today's token budget — it resets at midnight UTC.";
pub const SHUTTING_DOWN: &str = "🔧 I'm restarting — please send that again in a minute.";
pub const INTERRUPTED: &str =
    "🔧 I had to restart before I could finish your answer — please ask again in a minute.";
pub const MEMORY_UNAVAILABLE: &str =
    "💾 I can't reach my conversation memory right now — please try again shortly.";
/// Shown after an answer whose turn could not be stored.
pub const TURN_NOT_STORED: &str =
    "💾 I couldn't save this exchange to my memory, so I won't remember it later.";
pub const RESET_DONE: &str = "🧹 Conversation cleared — let's start fresh.";
pub const FORGET_DONE: &str = "🗑️ Done — everything I stored about you is deleted.";
pub const BOTH_DOWN: &str =
    "😵 Both of my AI services are failing right now — please try again in a few minutes.";
pub const EMPTY_MESSAGE: &str = "👋 Ask me anything — mention me with a question.";
/// Shown after the answer when Perplexity failed and OpenAI answered instead.
pub const WEB_SEARCH_UNAVAILABLE_NOTE: &str =
    "Web search is unavailable right now, so this answer has no live sources.";

/// Shown after an answer, the first time images come up in a conversation
/// whose chat model does not take them.
pub const IMAGES_NOT_SUPPORTED: &str =
    "🖼️ This model can't see images, so I answered from your text only.";
/// Shown after a web answer to a message with images.
pub const WEB_SEES_NO_IMAGES: &str =
    "🖼️ Web search can't see images, so I answered from your text only.";

/// Shown while a streamed answer searches the web, before its text:
/// "🔎 Searching: rust 1.90 release notes…" (long query lists are cut).
pub fn searching(queries: &[String]) -> String {
    const MOST_CHARS: usize = 160;
    let joined = queries.join(" · ");
    let shown: String = joined.chars().take(MOST_CHARS).collect();
    format!("🔎 Searching: {shown}…")
}

/// "⏱️ You're sending messages quickly — try again in 12 s."
pub fn rate_limited(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!(
        "⏱️ You're sending messages quickly — try again in {} s.",
        secs.max(1)
    )
}

/// The note appended to an answer reached by failover, if the user should know.
pub fn failover_note(note: FailoverNote) -> Option<&'static str> {
    match note {
        FailoverNote::FellBack {
            from: ProviderKind::Perplexity,
            ..
        } => Some(WEB_SEARCH_UNAVAILABLE_NOTE),
        FailoverNote::WebToolFailed { .. } => Some(WEB_SEARCH_UNAVAILABLE_NOTE),
        _ => None,
    }
}

/// The message when no provider answered.
pub fn answer_failed(error: &AnswerError) -> &'static str {
    match error {
        AnswerError::Failed(error) => provider_failed(error.kind()),
        // Both set up wrong: waiting a few minutes would not help.
        AnswerError::BothFailed { first, second }
            if first.kind().needs_admin() && second.kind().needs_admin() =>
        {
            provider_failed(first.kind())
        }
        AnswerError::BothFailed { .. } => BOTH_DOWN,
        // Start-up refuses a configuration without providers; a reload to one would land here.
        AnswerError::NotConfigured { .. } => provider_failed(ErrorKind::Unauthorized),
    }
}

/// The message for a provider failure of this kind.
pub fn provider_failed(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "⏱️ The AI service took too long to answer — please try again.",
        ErrorKind::RateLimited => {
            "🚦 The AI service is rate-limiting me — please try again in a minute."
        }
        ErrorKind::Overloaded => {
            "🔥 The AI service is overloaded right now — please try again shortly."
        }
        ErrorKind::QuotaExhausted => {
            "🔌 The AI service's credit is used up — please tell the bot's admin."
        }
        ErrorKind::Unauthorized | ErrorKind::EndpointRetired => {
            "🔑 The AI service rejected the bot's setup — please tell the bot's admin."
        }
        ErrorKind::Misconfigured => {
            "🔧 The AI service isn't set up right for me — please tell the bot's admin."
        }
        ErrorKind::BadRequest => {
            "🤔 The AI service couldn't handle that message — try rephrasing it, or /reset the conversation."
        }
        ErrorKind::PoolExhausted => BUSY,
        ErrorKind::Malformed | ErrorKind::Connect => {
            "📡 I couldn't get an answer from the AI service — please try again in a moment."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_notice_rounds_the_wait_up_to_whole_seconds() {
        assert_eq!(
            rate_limited(Duration::from_millis(11_200)),
            "⏱️ You're sending messages quickly — try again in 12 s."
        );
        assert_eq!(
            rate_limited(Duration::ZERO),
            "⏱️ You're sending messages quickly — try again in 1 s."
        );
    }

    #[test]
    fn setup_failures_send_the_user_to_the_admin_and_only_content_failures_suggest_rephrasing() {
        for kind in [
            ErrorKind::Misconfigured,
            ErrorKind::Unauthorized,
            ErrorKind::QuotaExhausted,
            ErrorKind::EndpointRetired,
        ] {
            assert!(provider_failed(kind).contains("admin"), "{kind}");
        }
        let rephrase: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|kind| provider_failed(*kind).contains("rephras"))
            .collect();
        assert_eq!(rephrase, [ErrorKind::BadRequest]);
    }

    #[test]
    fn the_search_notice_lists_the_queries_and_stays_short() {
        assert_eq!(
            searching(&["rust 1.90 release notes".into()]),
            "🔎 Searching: rust 1.90 release notes…"
        );
        let long = searching(&["é".repeat(500), "b".into()]);
        assert!(long.chars().count() < 200, "{long}");
    }

    #[test]
    fn every_message_has_at_most_one_emoji_and_stays_short() {
        let mut all = vec![
            QUEUE_FULL,
            BUSY,
            BUDGET_SPENT,
            SHUTTING_DOWN,
            INTERRUPTED,
            MEMORY_UNAVAILABLE,
            TURN_NOT_STORED,
            RESET_DONE,
            FORGET_DONE,
            BOTH_DOWN,
            EMPTY_MESSAGE,
            WEB_SEARCH_UNAVAILABLE_NOTE,
            IMAGES_NOT_SUPPORTED,
            WEB_SEES_NO_IMAGES,
        ];
        all.extend(ErrorKind::ALL.iter().map(|kind| provider_failed(*kind)));
        for text in all {
            let emoji = text
                .chars()
                .filter(|c| (*c as u32) >= 0x2300 && !matches!(c, '—' | '’'))
                .count();
            assert!(emoji <= 2, "{text}"); // an emoji may carry a variation selector
            assert!(text.chars().count() <= 120, "{text}");
        }
    }
}
