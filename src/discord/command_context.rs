//! What every slash command shares: the framework's data and error types,
//! the context, and the small pieces each command uses to answer.

use std::sync::Arc;

use poise::CreateReply;
use serenity::all::CommandInteraction;
use tracing::info_span;

use super::handler::Shared;
use super::outbound::no_pings;

pub type Data = Arc<Shared>;
pub(super) type Ctx<'a> = poise::Context<'a, Data, CommandError>;

/// Told to a user the access rules keep out.
pub const NOT_ALLOWED: &str = "Sorry, you can't use me here.";

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Discord call failed: {0}")]
    Discord(#[from] serenity::Error),
}

pub(super) fn interaction<'a>(ctx: Ctx<'a>) -> Option<&'a CommandInteraction> {
    match ctx {
        poise::Context::Application(app) => Some(app.interaction),
        poise::Context::Prefix(_) => None,
    }
}

pub(super) fn private(text: &str) -> CreateReply {
    CreateReply::default()
        .content(text)
        .ephemeral(true)
        .allowed_mentions(no_pings())
}

pub(super) fn command_span(command: &str, interaction: &CommandInteraction) -> tracing::Span {
    info_span!(
        "discord_command",
        command,
        user = interaction.user.id.get(),
        channel = interaction.channel_id.get(),
    )
}
