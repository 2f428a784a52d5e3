//! The JSON a user gets when they ask for their data: every turn they asked,
//! grouped by conversation (oldest first), and their daily token counts.
//!
//! ```json
//! {
//!   "user_id": "42",
//!   "conversations": [
//!     { "conversation": "user:42/channel:7",
//!       "turns": [ { "question": "…", "answer": "…", "provider": "openai",
//!                    "model": "gpt-4o", "at": 1767225600, "at_utc": "2026-01-01T00:00:00Z" } ] }
//!   ],
//!   "token_usage": [ { "day": "2026-01-01", "tokens": 1234 } ],
//!   "settings": { "model": "gpt-5-mini" }
//! }
//! ```
//!
//! `settings` (the user's own choices, e.g. `/model`) is added by
//! `Memory::export_user` on top of what the backends write here.

use serde::Serialize;

use super::error::MemoryError;
use crate::chat::types::Turn;
use crate::providers::ProviderKind;

#[derive(Debug, Serialize)]
pub(super) struct UserExport {
    user_id: String,
    conversations: Vec<ConversationExport>,
    token_usage: Vec<DailyTokens>,
}

#[derive(Debug, Serialize)]
struct ConversationExport {
    conversation: String,
    turns: Vec<ExportedTurn>,
}

#[derive(Debug, Serialize)]
struct ExportedTurn {
    question: String,
    answer: String,
    provider: ProviderKind,
    model: String,
    /// Unix seconds.
    at: i64,
    at_utc: String,
}

#[derive(Debug, Serialize)]
struct DailyTokens {
    day: String,
    tokens: u64,
}

impl UserExport {
    pub(super) fn new(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            conversations: Vec::new(),
            token_usage: Vec::new(),
        }
    }

    /// Adds a turn; turns of one conversation must be pushed together, oldest first.
    pub(super) fn push_turn(&mut self, conversation: &str, turn: Turn) {
        let turn = ExportedTurn {
            at_utc: utc(turn.at),
            question: turn.question,
            answer: turn.answer,
            provider: turn.provider,
            model: turn.model,
            at: turn.at,
        };
        match self.conversations.last_mut() {
            Some(last) if last.conversation == conversation => last.turns.push(turn),
            _ => self.conversations.push(ConversationExport {
                conversation: conversation.to_owned(),
                turns: vec![turn],
            }),
        }
    }

    pub(super) fn push_usage(&mut self, day: &str, tokens: u64) {
        self.token_usage.push(DailyTokens {
            day: day.to_owned(),
            tokens,
        });
    }

    pub(super) fn to_json(&self) -> Result<String, MemoryError> {
        serde_json::to_string_pretty(self).map_err(MemoryError::Export)
    }
}

fn utc(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_are_grouped_by_conversation_in_the_order_given() {
        let turn = |at| Turn {
            user_id: "42".into(),
            question: "q".into(),
            answer: "a".into(),
            provider: ProviderKind::Perplexity,
            model: "sonar".into(),
            at,
        };
        let mut export = UserExport::new("42");
        export.push_turn("k1", turn(1_767_225_600));
        export.push_turn("k1", turn(2));
        export.push_turn("k2", turn(3));
        export.push_usage("2026-01-01", 99);
        let json: serde_json::Value = serde_json::from_str(&export.to_json().unwrap()).unwrap();
        assert_eq!(json["user_id"], "42");
        assert_eq!(json["conversations"].as_array().unwrap().len(), 2);
        assert_eq!(
            json["conversations"][0]["turns"].as_array().unwrap().len(),
            2
        );
        let first = &json["conversations"][0]["turns"][0];
        assert_eq!(first["provider"], "perplexity");
        assert_eq!(first["at_utc"], "2026-01-01T00:00:00Z");
        assert_eq!(json["token_usage"][0]["tokens"], 99);
    }
}
