//! [`Recorded`]: one call the bot made to the fake, as the tests read it.

use std::time::Instant;

use serde_json::Value;

/// One call the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path without the `/api/v10` prefix and without the query.
    pub path: String,
    pub body: Value,
    pub status: u16,
    /// The JSON the fake answered with (`Null` for 204s).
    pub response: Value,
    pub at: Instant,
}

impl Recorded {
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }

    /// The `content` of a message body, if any.
    pub fn content(&self) -> Option<&str> {
        self.body["content"].as_str()
    }

    /// A REST call (not a gateway op).
    pub fn is_rest(&self) -> bool {
        self.method != "WS"
    }

    /// The message a new bot message replies to, if it is one.
    pub fn replies_to(&self) -> Option<u64> {
        if self.method != "POST" || !self.path.ends_with("/messages") {
            return None;
        }
        self.body["message_reference"]["message_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
    }

    /// The id of the message the fake returned.
    pub fn message_id(&self) -> u64 {
        self.response["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("a message response")
    }
}

pub fn count(log: &[Recorded], method: &str, path: &str) -> usize {
    log.iter().filter(|r| r.is(method, path)).count()
}

pub(super) fn describe(log: &[Recorded]) -> String {
    log.iter()
        .filter(|r| r.path != "HEARTBEAT")
        .map(|r| format!("  {} {} -> {} {}", r.method, r.path, r.status, r.body))
        .collect::<Vec<_>>()
        .join("\n")
}
