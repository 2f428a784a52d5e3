//! The one builder of the pipeline's [`Incoming`] from Discord: a message
//! and a slash command give the same author name, roles and privileges.

use serenity::all::{ChannelId, CommandInteraction, GuildId, Member, Message, User};

use super::policy;
use crate::chat::Incoming;
use crate::chat::attachments::input::Attachments;
use crate::config::DiscordConfig;
use crate::providers::ProviderKind;

/// Who sent a message or ran a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: u64,
    /// Server nickname, else display name, else user name.
    pub name: String,
    /// Role ids in the server (empty in DMs).
    pub roles: Vec<u64>,
}

impl Author {
    pub fn of_message(msg: &Message) -> Self {
        Self::new(
            &msg.author,
            msg.member.as_ref().map(|m| (m.nick.as_ref(), &m.roles)),
        )
    }

    pub fn of_interaction(interaction: &CommandInteraction) -> Self {
        Self::new(
            &interaction.user,
            interaction
                .member
                .as_deref()
                .map(|m: &Member| (m.nick.as_ref(), &m.roles)),
        )
    }

    fn new(user: &User, member: Option<(Option<&String>, &Vec<serenity::all::RoleId>)>) -> Self {
        let nick = member.and_then(|(nick, _)| nick.cloned());
        Self {
            id: user.id.get(),
            name: display_name(user, nick),
            roles: member
                .map(|(_, roles)| roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
        }
    }

    /// The message for the pipeline; admins (ADMIN_USER_IDS) are privileged.
    pub fn incoming(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        text: String,
        forced: Option<ProviderKind>,
        attachments: Attachments,
        config: &DiscordConfig,
    ) -> Incoming {
        Incoming {
            user_id: self.id.to_string(),
            user_name: self.name.clone(),
            channel_id: channel.to_string(),
            guild_id: guild.map(|g| g.to_string()),
            settings: None,
            text,
            forced,
            privileged: policy::is_admin(self.id, config),
            attachments,
        }
    }
}

/// Server nickname, else display name, else user name.
pub fn display_name(user: &User, nick: Option<String>) -> String {
    nick.or_else(|| user.global_name.clone())
        .unwrap_or_else(|| user.name.clone())
}
