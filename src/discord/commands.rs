//! Slash commands (poise): `/chat`, `/search`, `/reset`, `/forget`, `/status`.
//! Each one answers Discord within its 3-second window (a deferred
//! response) and delivers the result as the response's content and
//! follow-ups. The doc comments on the commands are their help text.

use serenity::all::{Attachment, CommandInteraction, GuildId};
use tracing::{Instrument, debug, info, warn};

use super::attachment_input::Gatherer;
use super::command_context::{
    CommandError, Ctx, Data, NOT_ALLOWED, command_span, interaction, private,
};
use super::deliver::{TurnSettings, parts_of, run_turn};
use super::errors::{Action, report};
use super::inbound::Author;
use super::outbound::{InteractionSink, no_pings};
use super::place::locate;
use super::policy;
use super::render::{DISCORD_MESSAGE_LIMIT, split_for_discord};
use super::settings_access::render_effective;
use super::settings_cmd;
use super::settings_here::effective_here;
use super::status_text::render_status;
use super::stream::StreamedReply;
use crate::chat::messages;
use crate::config::Config;
use crate::providers::ProviderKind;

/// Asked before `/forget` deletes anything.
pub const FORGET_CONFIRM: &str = "This deletes everything I have stored about you, in every \
     channel and DM. To go ahead, run `/forget confirm:True`.";
/// Told when a command failed for a reason the user cannot fix.
pub const INTERNAL_ERROR: &str = "An internal error occurred.";

/// Every command duet registers: `/settings` unless `ALLOW_GUILD_SETTINGS`
/// is off, `/model` when `USER_MODEL_CHOICE` is on.
pub fn all(config: &Config) -> Vec<poise::Command<Data, CommandError>> {
    let mut commands = vec![chat(), search(), reset(), forget(), export(), status()];
    if config.settings.allow_guild_settings {
        commands.push(settings_cmd::settings());
    }
    if config.settings.user_model_choice {
        commands.push(settings_cmd::model());
    }
    commands
}

/// Builds the poise framework: registers the commands when the bot first
/// connects (globally, or in `guilds` for instant updates) if
/// `register_commands`: only the process that runs shard 0 does, so several
/// processes of one bot register them once.
pub fn framework(
    shared: Data,
    guilds: Vec<u64>,
    register_commands: bool,
) -> poise::Framework<Data, CommandError> {
    poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: all(&shared.config()),
            on_error: |error| Box::pin(on_error(error)),
            allowed_mentions: Some(no_pings()),
            // duet has no prefix commands: mentions are conversation, handled
            // by the event handler. Left on, poise would log the text of
            // every mention at WARN ("didn't recognize command name").
            prefix_options: poise::PrefixFrameworkOptions {
                prefix: None,
                mention_as_prefix: false,
                ..Default::default()
            },
            ..Default::default()
        })
        // Admins come from ADMIN_USER_IDS; no need to ask Discord for the owners.
        .initialize_owners(false)
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                if register_commands {
                    register(ctx, &framework.options().commands, &guilds).await;
                } else {
                    info!("slash commands are registered by the process that runs shard 0");
                }
                // Never fail: poise would then hold every later event forever.
                Ok(shared)
            })
        })
        .build()
}

async fn register(
    ctx: &serenity::all::Context,
    commands: &[poise::Command<Data, CommandError>],
    guilds: &[u64],
) {
    if guilds.is_empty() {
        match poise::builtins::register_globally(ctx, commands).await {
            Ok(()) => info!(
                commands = commands.len(),
                "slash commands registered globally"
            ),
            Err(error) => drop(report(Action::RegisterCommands, 0, &error)),
        }
        return;
    }
    for &guild in guilds {
        match poise::builtins::register_in_guild(ctx, commands, GuildId::new(guild)).await {
            Ok(()) => info!(
                guild,
                commands = commands.len(),
                "slash commands registered in guild"
            ),
            Err(error) => drop(report(Action::RegisterCommands, 0, &error)),
        }
    }
}

/// Talk with the assistant (always answered by the chat model).
#[poise::command(slash_command)]
pub async fn chat(
    ctx: Ctx<'_>,
    #[description = "What you want to say"] message: String,
    #[description = "An image (or a text file) to go with it"] image: Option<Attachment>,
) -> Result<(), CommandError> {
    ask(ctx, message, ProviderKind::OpenAi, image).await
}

/// Ask a question answered from the web, with sources.
#[poise::command(slash_command)]
pub async fn search(
    ctx: Ctx<'_>,
    #[description = "Your question"] query: String,
) -> Result<(), CommandError> {
    ask(ctx, query, ProviderKind::Perplexity, None).await
}

/// Start over: forget our conversation in this channel.
#[poise::command(slash_command)]
pub async fn reset(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        ctx.defer_ephemeral().await?;
        let (user, channel) = (
            interaction.user.id.to_string(),
            interaction.channel_id.to_string(),
        );
        let outcome = ctx.data().conversations.reset(&user, &channel).await;
        show(ctx, interaction, &parts_of(&outcome), true).await;
        Ok(())
    }
    .instrument(command_span("reset", interaction))
    .await
}

/// Delete everything stored about you (asks for confirmation first).
#[poise::command(slash_command)]
pub async fn forget(
    ctx: Ctx<'_>,
    #[description = "Set to True to really delete everything"] confirm: Option<bool>,
) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        if confirm != Some(true) {
            ctx.send(private(FORGET_CONFIRM)).await?;
            return Ok(());
        }
        ctx.defer_ephemeral().await?;
        let outcome = ctx
            .data()
            .conversations
            .forget(&interaction.user.id.to_string())
            .await;
        show(ctx, interaction, &parts_of(&outcome), true).await;
        Ok(())
    }
    .instrument(command_span("forget", interaction))
    .await
}

/// Everything I have stored about you, as JSON (only you see it).
#[poise::command(slash_command)]
pub async fn export(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        ctx.defer_ephemeral().await?;
        let user = interaction.user.id.to_string();
        let outcome = ctx.data().conversations.export(&user).await;
        show(ctx, interaction, &parts_of(&outcome), true).await;
        Ok(())
    }
    .instrument(command_span("export", interaction))
    .await
}

/// Show the mode, the models, the connection pools and your remaining messages.
#[poise::command(slash_command)]
pub async fn status(ctx: Ctx<'_>) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        ctx.defer_ephemeral().await?;
        let report = ctx
            .data()
            .conversations
            .status(&interaction.user.id.to_string())
            .await;
        let (_, here) = effective_here(
            ctx.data().conversations.as_ref(),
            &ctx.data().config(),
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id.get(),
        )
        .await;
        let text = format!("{}\n{}", render_status(&report), render_effective(&here));
        let parts = split_for_discord(&text, DISCORD_MESSAGE_LIMIT);
        show(ctx, interaction, &parts, true).await;
        Ok(())
    }
    .instrument(command_span("status", interaction))
    .await
}

/// `/chat` and `/search`: access check, defer, then one turn with `forced`.
async fn ask(
    ctx: Ctx<'_>,
    text: String,
    forced: ProviderKind,
    attachment: Option<Attachment>,
) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    let span = command_span(forced.as_str(), interaction);
    async {
        let shared = ctx.data();
        let config = shared.config();
        let author = Author::of_interaction(interaction);
        let place = locate(
            ctx.serenity_context(),
            &shared.directory,
            interaction.guild_id,
            interaction.channel_id,
        )
        .await;
        if let Err(reason) = policy::check_access(author.id, &author.roles, &place, &config.discord)
        {
            debug!(?reason, "command refused");
            ctx.send(private(NOT_ALLOWED)).await?;
            return Ok(());
        }
        let Some(work) = shared.shutdown.begin() else {
            ctx.send(private(messages::SHUTTING_DOWN)).await?;
            return Ok(());
        };
        ctx.defer().await?;
        let gatherer = Gatherer {
            downloader: &shared.downloader,
            config: &config.attachments,
        };
        let attachments = gatherer.gather(attachment.as_slice(), None).await;
        let mut incoming = author.incoming(
            interaction.guild_id,
            interaction.channel_id,
            text,
            Some(forced),
            attachments,
            &config.discord,
        );
        let sink = InteractionSink::new(ctx.serenity_context().clone(), interaction.clone(), false);
        let (layers, here) = effective_here(
            shared.conversations.as_ref(),
            &config,
            interaction.guild_id,
            interaction.channel_id,
            author.id,
        )
        .await;
        incoming.settings = Some(layers);
        let settings = TurnSettings {
            never_silent: true,
            stream: here.streaming.value,
            ..TurnSettings::from_config(&config.discord)
        };
        run_turn(
            shared.conversations.as_ref(),
            incoming,
            sink,
            settings,
            work,
        )
        .await;
        Ok(())
    }
    .instrument(span)
    .await
}

/// Shows `parts` as the deferred response (and follow-ups past 2000 characters).
async fn show(ctx: Ctx<'_>, interaction: &CommandInteraction, parts: &[String], ephemeral: bool) {
    let sink = InteractionSink::new(
        ctx.serenity_context().clone(),
        interaction.clone(),
        ephemeral,
    );
    let interval = ctx.data().config().discord.stream_edit_interval;
    let parts = if parts.is_empty() {
        vec![super::deliver::NOTHING_TO_SAY.to_string()]
    } else {
        parts.to_vec()
    };
    StreamedReply::new(sink, interval).finish(&parts).await;
}

async fn on_error(error: poise::FrameworkError<'_, Data, CommandError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            warn!(command = %ctx.command().name, %error, "slash command failed");
            // The interaction may have expired; nothing more to do then.
            let _ = ctx.send(private(INTERNAL_ERROR)).await;
        }
        other => {
            if let Err(error) = poise::builtins::on_error(other).await {
                warn!(%error, "could not report a command error");
            }
        }
    }
}
