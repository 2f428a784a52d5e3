//! The settings that apply where a message or command was written: the
//! stored layers from the pipeline resolved over the live configuration.

use serenity::all::{Channel, ChannelId, Context, GuildId, UnavailableGuild};
use tracing::{debug, info, warn};

use super::directory::Directory;
use crate::chat::Conversations;
use crate::chat::settings::{Effective, Layers};
use crate::config::Config;

/// What applies to `user` in `channel` of `guild` (a DM when `None`), and
/// the stored layers it was resolved from (handed on to the turn, which then
/// need not read them again); the INI alone when the settings cannot be read.
pub async fn effective_here(
    conversations: &dyn Conversations,
    config: &Config,
    guild: Option<GuildId>,
    channel: ChannelId,
    user: u64,
) -> (Layers, Effective) {
    let guild = guild.map(|g| g.to_string());
    let layers = conversations
        .settings_layers(guild.as_deref(), &channel.to_string(), &user.to_string())
        .await
        .unwrap_or_default();
    let effective = Effective::resolve(&layers, config, Some(channel.get()));
    (layers, effective)
}

/// The server `channel` belongs to, from duet's directory of the servers
/// this process serves or (once) from Discord; `None` when neither knows it.
pub async fn channel_guild(
    ctx: &Context,
    directory: &Directory,
    guild: GuildId,
    channel: ChannelId,
) -> Option<u64> {
    if directory.name(guild.get(), channel.get()).is_some() {
        return Some(guild.get());
    }
    match ctx.http.get_channel(channel).await {
        Ok(Channel::Guild(found)) => Some(found.guild_id.get()),
        Ok(_) => None,
        Err(error) => {
            debug!(channel = channel.get(), %error, "channel lookup failed");
            None
        }
    }
}

/// GUILD_DELETE: when the bot was removed from the server (not an outage,
/// where `unavailable` is set), the server's and its channels' settings go.
pub async fn forget_guild(conversations: &dyn Conversations, guild: UnavailableGuild) {
    if guild.unavailable {
        debug!(
            guild = guild.id.get(),
            "server unavailable (outage); settings kept"
        );
        return;
    }
    let id = guild.id.to_string();
    match conversations.remove_guild_settings(&id).await {
        Ok(removed) => info!(
            guild = guild.id.get(),
            removed, "left a server; its settings were removed"
        ),
        Err(error) => warn!(guild = guild.id.get(), %error, "could not remove a server's settings"),
    }
}
