//! Plain types shared by the conversation pipeline, memory and routing.

use serde::{Deserialize, Serialize};

use crate::config::MemoryScope;
use crate::providers::ProviderKind;

/// Identifies one conversation; what it spans depends on `[Memory] MEMORY_SCOPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConversationKey(String);

impl ConversationKey {
    /// The key of `user`'s conversation in `channel` under `scope`. A DM and
    /// each thread are channels of their own, so `user_channel` keeps them apart.
    pub fn new(scope: MemoryScope, user: &str, channel: &str) -> Self {
        Self(match scope {
            MemoryScope::User => format!("user:{user}"),
            MemoryScope::UserChannel => format!("user:{user}/channel:{channel}"),
            MemoryScope::Channel => format!("channel:{channel}"),
        })
    }

    /// Rebuilds a key from its stored form.
    pub fn from_stored(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ConversationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One successful exchange: the user's question and the answer that was sent.
/// History is stored as whole turns, so trimming never leaves an orphan reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Who asked (a Discord user id, or a terminal user name).
    pub user_id: String,
    pub question: String,
    pub answer: String,
    pub provider: ProviderKind,
    pub model: String,
    /// Unix seconds when the answer was stored.
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_separate_or_share_conversations() {
        let dm = ConversationKey::new(MemoryScope::UserChannel, "7", "dm-1");
        let public = ConversationKey::new(MemoryScope::UserChannel, "7", "general");
        assert_ne!(
            dm, public,
            "a DM never shares history with a public channel"
        );
        assert_eq!(
            ConversationKey::new(MemoryScope::User, "7", "dm-1"),
            ConversationKey::new(MemoryScope::User, "7", "general")
        );
        assert_eq!(
            ConversationKey::new(MemoryScope::Channel, "7", "general"),
            ConversationKey::new(MemoryScope::Channel, "8", "general")
        );
    }
}

/// What a streamed answer shows so far: the raw partial text and, until
/// text arrives, the web searches the provider runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    /// The answer's raw text so far (not rendered).
    pub text: String,
    /// Search queries announced before any text; shown only while `text` is empty.
    pub searching: Vec<String>,
}
