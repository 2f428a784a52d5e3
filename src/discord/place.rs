//! Where a message or command was written, as the policy needs it: a DM, or
//! a guild channel with its name and, for threads, the parent channel.
//! Read from the [`Directory`]; a channel it does not know is fetched.

use serenity::all::{Channel, ChannelId, ChannelType, Context, GuildChannel, GuildId};
use tracing::debug;

use super::directory::Directory;
use super::policy::{ChannelRef, Place};

/// The place of a message in `channel` (of `guild`, or a DM when `None`).
pub async fn locate(
    ctx: &Context,
    directory: &Directory,
    guild: Option<GuildId>,
    channel: ChannelId,
) -> Place {
    let Some(guild) = guild else {
        return Place::DirectMessage;
    };
    if let Some(place) = directory.place(guild.get(), channel.get()) {
        return place;
    }
    // Not known (e.g. a thread the bot has not seen yet): ask Discord once.
    match ctx.http.get_channel(channel).await {
        Ok(Channel::Guild(found)) => {
            describe(&found, |parent| directory.name(guild.get(), parent.get()))
        }
        Ok(_) => unnamed(channel),
        Err(error) => {
            debug!(channel = channel.get(), %error, "channel lookup failed; using its id only");
            unnamed(channel)
        }
    }
}

/// A channel as the policy sees it; only threads have a parent (a text
/// channel's `parent_id` is its category, which does not count).
fn describe(channel: &GuildChannel, parent_name: impl Fn(ChannelId) -> Option<String>) -> Place {
    let is_thread = matches!(
        channel.kind,
        ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
    );
    let parent = channel
        .parent_id
        .filter(|_| is_thread)
        .map(|parent| ChannelRef {
            id: parent.get(),
            name: parent_name(parent),
        });
    Place::Guild {
        channel: ChannelRef {
            id: channel.id.get(),
            name: Some(channel.name.clone()),
        },
        parent,
    }
}

fn unnamed(channel: ChannelId) -> Place {
    Place::Guild {
        channel: ChannelRef {
            id: channel.get(),
            name: None,
        },
        parent: None,
    }
}
