//! `/settings` (server managers shape the bot per server and channel) and
//! `/model` (each user picks their own chat model). Values are checked
//! here, stored through the pipeline ([`crate::chat::Conversations`]) and
//! apply from the next message. Every refusal is ephemeral and changes nothing.

use poise::serenity_prelude as serenity;
use serenity::{AutocompleteChoice, ChannelId, CommandInteraction, CreateAutocompleteResponse};
use tracing::{Instrument, info};

use super::command_context::{CommandError, Ctx, NOT_ALLOWED, command_span, interaction, private};
use super::settings_access::{
    MODEL_CHOICE_OFF, SETTINGS_OFF, SETTINGS_REFUSED, SETTINGS_SERVER_ONLY, changed_text,
    logged_value, may_manage, render_effective, scope_label, target_scope,
};
use super::settings_here::{channel_guild, effective_here};
use crate::chat::settings::{Scope, SettingKey, check_model, check_prompt, model_suggestions};

/// What a `/settings` subcommand asks for.
enum Change {
    Show,
    Set(SettingKey, String),
    Clear(SettingKey),
    Reset,
}

/// Server settings: prompt, model, web search, reply-all, streaming (Manage Server).
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands(
        "show",
        "prompt",
        "prompt_clear",
        "model_setting",
        "web",
        "replyall",
        "streaming",
        "reset"
    ),
    subcommand_required
)]
pub async fn settings(_ctx: Ctx<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// The effective settings here and where each comes from.
#[poise::command(slash_command)]
async fn show(
    ctx: Ctx<'_>,
    #[description = "A channel (default: this one)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(ctx, channel, Change::Show).await
}

/// Set the system prompt or persona (at most 4000 characters; {date} and {time} are filled in).
#[poise::command(slash_command)]
async fn prompt(
    ctx: Ctx<'_>,
    #[description = "The system prompt"] text: String,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(ctx, channel, Change::Set(SettingKey::Prompt, text)).await
}

/// Go back to the default system prompt.
#[poise::command(slash_command, rename = "prompt-clear")]
async fn prompt_clear(
    ctx: Ctx<'_>,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(ctx, channel, Change::Clear(SettingKey::Prompt)).await
}

/// The chat model, one of the operator's CHAT_MODELS.
#[poise::command(slash_command, rename = "model")]
async fn model_setting(
    ctx: Ctx<'_>,
    #[description = "The model"]
    #[autocomplete = "autocomplete_model"]
    name: String,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(ctx, channel, Change::Set(SettingKey::Model, name)).await
}

/// Whether web search is used (off: everything goes to the chat model).
#[poise::command(slash_command)]
async fn web(
    ctx: Ctx<'_>,
    #[description = "Use web search"] enabled: bool,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(
        ctx,
        channel,
        Change::Set(SettingKey::Web, enabled.to_string()),
    )
    .await
}

/// Answer every message without a mention.
#[poise::command(slash_command)]
async fn replyall(
    ctx: Ctx<'_>,
    #[description = "Answer every message"] enabled: bool,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(
        ctx,
        channel,
        Change::Set(SettingKey::ReplyAll, enabled.to_string()),
    )
    .await
}

/// Show replies while they are written.
#[poise::command(slash_command)]
async fn streaming(
    ctx: Ctx<'_>,
    #[description = "Stream replies"] enabled: bool,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(
        ctx,
        channel,
        Change::Set(SettingKey::Streaming, enabled.to_string()),
    )
    .await
}

/// Drop every setting of the server (or of one channel).
#[poise::command(slash_command)]
async fn reset(
    ctx: Ctx<'_>,
    #[description = "A channel (default: the whole server)"] channel: Option<ChannelId>,
) -> Result<(), CommandError> {
    apply(ctx, channel, Change::Reset).await
}

/// Pick your own chat model for your conversations (leave `name` out for the default).
#[poise::command(slash_command)]
pub async fn model(
    ctx: Ctx<'_>,
    #[description = "The model"]
    #[autocomplete = "autocomplete_model"]
    name: Option<String>,
) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        let config = ctx.data().config();
        if !config.settings.user_model_choice {
            ctx.send(private(MODEL_CHOICE_OFF)).await?;
            return Ok(());
        }
        if config
            .discord
            .blocked_user_ids
            .contains(&interaction.user.id.get())
        {
            ctx.send(private(NOT_ALLOWED)).await?;
            return Ok(());
        }
        let value = match name.map(|n| check_model(&n, &config.settings.chat_models)) {
            Some(Err(error)) => {
                ctx.send(private(&error.to_string())).await?;
                return Ok(());
            }
            Some(Ok(model)) => Some(model),
            None => None,
        };
        let scope = Scope::User {
            user: interaction.user.id.to_string(),
        };
        let reply = store(
            ctx,
            interaction,
            &scope,
            SettingKey::Model,
            value.as_deref(),
        )
        .await;
        ctx.send(private(&reply)).await?;
        Ok(())
    }
    .instrument(command_span("model", interaction))
    .await
}

async fn autocomplete_model(ctx: Ctx<'_>, partial: &str) -> CreateAutocompleteResponse {
    let models = ctx.data().config().settings.chat_models.clone();
    let choices = model_suggestions(partial, &models)
        .into_iter()
        .map(|m| AutocompleteChoice::new(m.clone(), m))
        .collect();
    CreateAutocompleteResponse::new().set_choices(choices)
}

/// Checks who asks, where and what, then shows or changes the settings.
async fn apply(
    ctx: Ctx<'_>,
    channel: Option<ChannelId>,
    change: Change,
) -> Result<(), CommandError> {
    let Some(interaction) = interaction(ctx) else {
        return Ok(());
    };
    async {
        match decide(ctx, interaction, channel, change).await {
            Ok(reply) | Err(reply) => ctx.send(private(&reply)).await?,
        };
        Ok(())
    }
    .instrument(command_span("settings", interaction))
    .await
}

/// The reply to a `/settings` subcommand; `Err` for a refusal.
async fn decide(
    ctx: Ctx<'_>,
    interaction: &CommandInteraction,
    channel: Option<ChannelId>,
    change: Change,
) -> Result<String, String> {
    let config = ctx.data().config();
    let Some(guild) = interaction.guild_id else {
        return Err(SETTINGS_SERVER_ONLY.into());
    };
    if !config.settings.allow_guild_settings {
        return Err(SETTINGS_OFF.into());
    }
    let user = interaction.user.id.get();
    if config.discord.blocked_user_ids.contains(&user) {
        return Err(NOT_ALLOWED.into());
    }
    let permissions = interaction
        .member
        .as_ref()
        .and_then(|m| m.permissions)
        .map(|p| p.bits());
    if !may_manage(permissions, user, &config.discord) {
        return Err(SETTINGS_REFUSED.into());
    }
    let found = match channel {
        Some(id) => channel_guild(ctx.serenity_context(), &ctx.data().directory, guild, id).await,
        None => None,
    };
    let scope = target_scope(guild.get(), channel.map(ChannelId::get), found)?;
    match change {
        Change::Show => {
            let here = channel.unwrap_or(interaction.channel_id);
            let conversations = ctx.data().conversations.as_ref();
            let (_, effective) =
                effective_here(conversations, &config, Some(guild), here, user).await;
            Ok(format!(
                "Settings for <#{here}>:\n{}",
                render_effective(&effective)
            ))
        }
        Change::Set(key, raw) => {
            let value = match key {
                SettingKey::Prompt => check_prompt(&raw).map(|()| raw),
                SettingKey::Model => check_model(&raw, &config.settings.chat_models),
                _ => Ok(raw),
            }
            .map_err(|e| e.to_string())?;
            Ok(store(ctx, interaction, &scope, key, Some(&value)).await)
        }
        Change::Clear(key) => Ok(store(ctx, interaction, &scope, key, None).await),
        Change::Reset => match ctx.data().conversations.clear_settings(&scope).await {
            Ok(removed) => {
                log_change(
                    interaction,
                    &scope,
                    "all",
                    &format!("{removed} settings"),
                    "(unset)",
                );
                Ok(format!(
                    "Every setting of {} is back to the default.",
                    scope_label(&scope)
                ))
            }
            Err(error) => Err(error.to_string()),
        },
    }
}

/// Stores one value (or removes it), logs the change and says what changed.
async fn store(
    ctx: Ctx<'_>,
    interaction: &CommandInteraction,
    scope: &Scope,
    key: SettingKey,
    value: Option<&str>,
) -> String {
    let shared = ctx.data();
    match shared.conversations.change_setting(scope, key, value).await {
        Ok(old) => {
            let content = shared.config().logging.message_content;
            let old = logged_value(key, old.as_deref(), content);
            let new = logged_value(key, value, content);
            log_change(interaction, scope, key.as_str(), &old, &new);
            changed_text(scope, key, value)
        }
        Err(error) => error.to_string(),
    }
}

fn log_change(interaction: &CommandInteraction, scope: &Scope, key: &str, old: &str, new: &str) {
    let (guild, channel, _) = scope.parts();
    info!(
        user = interaction.user.id.get(),
        guild,
        channel,
        scope = ?scope.source(),
        key,
        old,
        new,
        "setting changed"
    );
}
