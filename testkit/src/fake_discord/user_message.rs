//! A user's message as the fake Discord dispatches it in MESSAGE_CREATE.

use serde_json::{Value, json};

use super::fixtures::{self, DUET, FakeUser};

/// A user's message, built for MESSAGE_CREATE.
#[derive(Debug, Clone)]
pub struct UserMessage {
    pub author: FakeUser,
    pub channel: u64,
    /// `None` for DMs.
    pub guild: Option<u64>,
    pub content: String,
    pub mentions: Vec<FakeUser>,
    pub roles: Vec<u64>,
    /// The message this one replies to (as Discord sends it, in full).
    pub replying_to: Option<Value>,
    /// Send only the reply's `message_reference`, not the parent itself
    /// (Discord may leave `referenced_message` out; the bot must fetch it).
    pub reference_only: bool,
    /// A message this one forwards (a `message_snapshots` entry).
    pub forwarding: Option<Value>,
    /// Attachment objects (see [`FakeDiscord::attachment`]).
    pub attachments: Vec<Value>,
    pub webhook: bool,
}

impl UserMessage {
    /// In a guild channel.
    pub fn guild(author: FakeUser, channel: u64, content: &str) -> Self {
        Self {
            author,
            channel,
            guild: Some(fixtures::GUILD_ID),
            content: content.to_string(),
            mentions: Vec::new(),
            roles: Vec::new(),
            replying_to: None,
            reference_only: false,
            forwarding: None,
            attachments: Vec::new(),
            webhook: false,
        }
    }

    /// `<@bot> content` in a guild channel, the bot in `mentions`.
    pub fn mention(author: FakeUser, channel: u64, content: &str) -> Self {
        Self {
            mentions: vec![DUET],
            ..Self::guild(author, channel, &format!("<@{}> {content}", DUET.id))
        }
    }

    /// A direct message to the bot.
    pub fn dm(author: FakeUser, channel: u64, content: &str) -> Self {
        Self {
            guild: None,
            ..Self::guild(author, channel, content)
        }
    }

    pub(super) fn to_json(&self, id: u64) -> Value {
        let mut message =
            fixtures::message(id, self.channel, self.guild, &self.author, &self.content);
        message["mentions"] = json!(self.mentions.iter().map(fixtures::user).collect::<Vec<_>>());
        if self.guild.is_some() {
            message["member"] = fixtures::message_member(&self.roles);
        }
        if let Some(original) = &self.replying_to {
            message["type"] = json!(19);
            message["message_reference"] = json!({
                "type": 0,
                "message_id": original["id"],
                "channel_id": original["channel_id"],
                "guild_id": self.guild.map(|g| g.to_string()),
            });
            if !self.reference_only {
                message["referenced_message"] = original.clone();
            }
        }
        if let Some(forwarded) = &self.forwarding {
            message["message_reference"] = json!({
                "type": 1,
                "message_id": forwarded["id"],
                "channel_id": forwarded["channel_id"],
            });
            let mut snapshot = serde_json::Map::new();
            for key in [
                "type",
                "content",
                "embeds",
                "attachments",
                "timestamp",
                "edited_timestamp",
                "flags",
                "mentions",
                "mention_roles",
            ] {
                snapshot.insert(key.to_string(), forwarded[key].clone());
            }
            message["message_snapshots"] = json!([{"message": snapshot}]);
        }
        message["attachments"] = json!(self.attachments);
        if self.webhook {
            message["webhook_id"] = json!("777");
        }
        message
    }
}
