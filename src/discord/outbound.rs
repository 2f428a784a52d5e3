//! Sending replies: the message builders every outgoing text goes through
//! (no pings, suppressed link previews, reply reference that survives a
//! deleted original) and the two [`ReplySink`]s: a channel reply to a
//! message, and the responses to a slash command.

use async_trait::async_trait;
use serenity::all::{
    ChannelId, CommandInteraction, Context, CreateAllowedMentions, CreateAttachment,
    CreateInteractionResponseFollowup, CreateMessage, EditInteractionResponse, EditMessage,
    MessageFlags, MessageId, MessageReference, MessageReferenceKind,
};

use super::errors::{Action, report};
use super::stream::{ReplySink, SendFailed, SentId};
use super::typing::TypingGuard;

/// Allowed mentions for every bot message: nobody is pinged, whatever the
/// model wrote (`@everyone`, role or user mentions), not even the replied user.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// Whether `text` contains a web link (its preview would clutter the reply).
pub fn has_link(text: &str) -> bool {
    text.contains("https://") || text.contains("http://")
}

/// SUPPRESS_EMBEDS when the text has links, nothing otherwise.
pub fn flags_for(text: &str) -> MessageFlags {
    if has_link(text) {
        MessageFlags::SUPPRESS_EMBEDS
    } else {
        MessageFlags::empty()
    }
}

/// A new message, replying to `reply_to` when given (a plain message if the
/// original has been deleted meanwhile).
pub fn new_message(
    channel: ChannelId,
    content: &str,
    reply_to: Option<MessageId>,
) -> CreateMessage {
    let mut message = CreateMessage::new()
        .content(content)
        .allowed_mentions(no_pings());
    if has_link(content) {
        message = message.flags(MessageFlags::SUPPRESS_EMBEDS);
    }
    if let Some(original) = reply_to {
        message = message.reference_message(
            MessageReference::new(MessageReferenceKind::Default, channel)
                .message_id(original)
                .fail_if_not_exists(false),
        );
    }
    message
}

/// An edit; repeats the allowed mentions (an edit without them is re-parsed
/// with Discord's defaults) and sets or clears the preview suppression.
pub fn edit_message(content: &str) -> EditMessage {
    EditMessage::new()
        .content(content)
        .allowed_mentions(no_pings())
        .suppress_embeds(has_link(content))
}

/// Replies in a channel to the user's message; stops the typing indicator
/// when the first message goes out.
pub struct ChannelSink {
    ctx: Context,
    channel: ChannelId,
    reply_to: Option<MessageId>,
    typing: Option<TypingGuard>,
}

impl ChannelSink {
    pub fn new(
        ctx: Context,
        channel: ChannelId,
        reply_to: MessageId,
        typing: Option<TypingGuard>,
    ) -> Self {
        Self {
            ctx,
            channel,
            reply_to: Some(reply_to),
            typing,
        }
    }
}

#[async_trait]
impl ReplySink for ChannelSink {
    async fn create(&mut self, content: &str) -> Result<SentId, SendFailed> {
        if let Some(typing) = self.typing.take() {
            typing.stop().await;
        }
        let builder = new_message(self.channel, content, self.reply_to.take());
        match self.channel.send_message(&self.ctx, builder).await {
            Ok(message) => Ok(message.id.get()),
            Err(error) => Err(report(Action::SendMessage, self.channel.get(), &error)),
        }
    }

    async fn edit(&mut self, id: SentId, content: &str) -> Result<(), SendFailed> {
        let result = self
            .channel
            .edit_message(&self.ctx, MessageId::new(id), edit_message(content))
            .await;
        result
            .map(drop)
            .map_err(|error| report(Action::EditMessage, self.channel.get(), &error))
    }

    async fn delete(&mut self, id: SentId) -> Result<(), SendFailed> {
        let result = self
            .channel
            .delete_message(&self.ctx, MessageId::new(id))
            .await;
        result.map_err(|error| report(Action::DeleteMessage, self.channel.get(), &error))
    }

    async fn attach_file(
        &mut self,
        id: SentId,
        content: &str,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), SendFailed> {
        let edit = edit_message(content).new_attachment(CreateAttachment::bytes(body, name));
        let result = self
            .channel
            .edit_message(&self.ctx, MessageId::new(id), edit)
            .await;
        result
            .map(drop)
            .map_err(|error| report(Action::EditMessage, self.channel.get(), &error))
    }
}

/// Answers a deferred slash command: the first part edits the deferred
/// response, later parts are follow-ups.
pub struct InteractionSink {
    ctx: Context,
    interaction: CommandInteraction,
    ephemeral: bool,
    original: Option<SentId>,
}

impl InteractionSink {
    pub fn new(ctx: Context, interaction: CommandInteraction, ephemeral: bool) -> Self {
        Self {
            ctx,
            interaction,
            ephemeral,
            original: None,
        }
    }

    fn channel(&self) -> u64 {
        self.interaction.channel_id.get()
    }

    fn followup(&self, content: &str) -> CreateInteractionResponseFollowup {
        let mut flags = flags_for(content);
        if self.ephemeral {
            flags |= MessageFlags::EPHEMERAL;
        }
        CreateInteractionResponseFollowup::new()
            .content(content)
            .allowed_mentions(no_pings())
            .flags(flags)
    }
}

/// An edit of the deferred response. Flags only when there are links: an
/// ephemeral response must not be sent flags that look like clearing it.
fn edit_response(content: &str) -> EditInteractionResponse {
    let edit = EditInteractionResponse::new()
        .content(content)
        .allowed_mentions(no_pings());
    if has_link(content) {
        edit.flags(MessageFlags::SUPPRESS_EMBEDS)
    } else {
        edit
    }
}

#[async_trait]
impl ReplySink for InteractionSink {
    async fn create(&mut self, content: &str) -> Result<SentId, SendFailed> {
        let result = match self.original {
            None => {
                self.interaction
                    .edit_response(&self.ctx, edit_response(content))
                    .await
            }
            Some(_) => {
                let followup = self.followup(content);
                self.interaction.create_followup(&self.ctx, followup).await
            }
        };
        let id = result
            .map(|message| message.id.get())
            .map_err(|error| report(Action::InteractionResponse, self.channel(), &error))?;
        self.original.get_or_insert(id);
        Ok(id)
    }

    async fn edit(&mut self, id: SentId, content: &str) -> Result<(), SendFailed> {
        let result = if self.original == Some(id) {
            self.interaction
                .edit_response(&self.ctx, edit_response(content))
                .await
        } else {
            let builder = self.followup(content);
            self.interaction
                .edit_followup(&self.ctx, MessageId::new(id), builder)
                .await
        };
        result
            .map(drop)
            .map_err(|error| report(Action::InteractionResponse, self.channel(), &error))
    }

    async fn delete(&mut self, id: SentId) -> Result<(), SendFailed> {
        let result = if self.original == Some(id) {
            self.interaction.delete_response(&self.ctx).await
        } else {
            self.interaction
                .delete_followup(&self.ctx, MessageId::new(id))
                .await
        };
        result.map_err(|error| report(Action::InteractionResponse, self.channel(), &error))
    }

    async fn attach_file(
        &mut self,
        id: SentId,
        content: &str,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), SendFailed> {
        let file = CreateAttachment::bytes(body, name);
        let result = if self.original == Some(id) {
            let edit = edit_response(content).new_attachment(file);
            self.interaction.edit_response(&self.ctx, edit).await
        } else {
            let builder = self.followup(content).add_file(file);
            self.interaction
                .edit_followup(&self.ctx, MessageId::new(id), builder)
                .await
        };
        result
            .map(drop)
            .map_err(|error| report(Action::InteractionResponse, self.channel(), &error))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn body(value: impl serde::Serialize) -> Value {
        serde_json::to_value(value).expect("builders serialize")
    }

    #[test]
    fn replies_ping_nobody_and_survive_a_deleted_original() {
        let message = body(new_message(
            ChannelId::new(5),
            "hi @everyone",
            Some(MessageId::new(77)),
        ));
        assert_eq!(message["allowed_mentions"]["parse"], json!([]));
        assert_eq!(message["allowed_mentions"]["replied_user"], json!(false));
        assert_eq!(message["message_reference"]["message_id"], json!("77"));
        assert_eq!(
            message["message_reference"]["fail_if_not_exists"],
            json!(false)
        );
        assert!(message.get("flags").is_none(), "no links, no flags");
    }

    #[test]
    fn links_suppress_previews_on_create_and_edit() {
        let message = body(new_message(
            ChannelId::new(5),
            "see https://example.com",
            None,
        ));
        assert_eq!(message["flags"], json!(4));
        assert!(message.get("message_reference").is_none());
        let edit = body(edit_message("see https://example.com"));
        assert_eq!(edit["flags"], json!(4));
        assert_eq!(edit["allowed_mentions"]["parse"], json!([]));
        assert_eq!(body(edit_message("no links"))["flags"], json!(0));
    }

    #[test]
    fn interaction_edits_ping_nobody() {
        let edit = body(edit_response("@here look"));
        assert_eq!(edit["allowed_mentions"]["parse"], json!([]));
        assert_eq!(edit["content"], json!("@here look"));
        assert!(edit.get("flags").is_none());
        assert_eq!(body(edit_response("https://a.example"))["flags"], json!(4));
    }
}
