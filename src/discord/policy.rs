//! Who gets an answer: the pure decision taken for every incoming message
//! and slash command, from plain facts and the `[Discord]` configuration.
//!
//! Order of the checks: bots (and the bot itself) and webhooks are never
//! answered, blocked users never; then the allowlists (users, roles, channels)
//! unless the author is an admin; then the trigger (DM, `REPLY_ALL` channel,
//! mention, or reply to one of the bot's messages).

use crate::config::DiscordConfig;

/// What the frontend knows about a message when deciding whether to answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub author_id: u64,
    pub author_is_bot: bool,
    pub from_webhook: bool,
    pub place: Place,
    /// Role ids of the author in the guild (empty in DMs).
    pub role_ids: Vec<u64>,
    pub mentions_bot: bool,
    pub replies_to_bot: bool,
    /// The channel's effective `replyall` setting; `None`: `REPLY_ALL_CHANNEL_IDS` decides.
    pub reply_all: Option<bool>,
}

/// Where a message was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Place {
    #[default]
    DirectMessage,
    Guild {
        channel: ChannelRef,
        /// Set when the channel is a thread: the channel it belongs to.
        parent: Option<ChannelRef>,
    },
}

/// A guild channel by id and, when known, name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelRef {
    pub id: u64,
    pub name: Option<String>,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer; `privileged` is set for admins (they bypass limits in the pipeline).
    Answer {
        privileged: bool,
    },
    Ignore(IgnoreReason),
}

/// Why a message is not answered (logged at debug level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    FromBot,
    FromWebhook,
    BlockedUser,
    UserNotAllowed,
    RoleNotAllowed,
    ChannelNotAllowed,
    DirectMessagesOff,
    NotAddressed,
}

/// Decides whether the bot answers a message.
pub fn decide(facts: &MessageFacts, config: &DiscordConfig) -> Decision {
    if facts.author_is_bot {
        return Decision::Ignore(IgnoreReason::FromBot);
    }
    if facts.from_webhook {
        return Decision::Ignore(IgnoreReason::FromWebhook);
    }
    if let Err(reason) = check_access(facts.author_id, &facts.role_ids, &facts.place, config) {
        return Decision::Ignore(reason);
    }
    let addressed = match &facts.place {
        Place::DirectMessage => true,
        Place::Guild { channel, .. } => {
            facts
                .reply_all
                .unwrap_or_else(|| config.reply_all_channel_ids.contains(&channel.id))
                || facts.mentions_bot
                || facts.replies_to_bot
        }
    };
    if !addressed {
        return Decision::Ignore(IgnoreReason::NotAddressed);
    }
    Decision::Answer {
        privileged: is_admin(facts.author_id, config),
    }
}

/// The access rules shared by messages and slash commands: blocked users,
/// DMs switch, and (unless admin) the user, role and channel allowlists.
pub fn check_access(
    user_id: u64,
    role_ids: &[u64],
    place: &Place,
    config: &DiscordConfig,
) -> Result<(), IgnoreReason> {
    if config.blocked_user_ids.contains(&user_id) {
        return Err(IgnoreReason::BlockedUser);
    }
    if *place == Place::DirectMessage && !config.allow_dms {
        return Err(IgnoreReason::DirectMessagesOff);
    }
    if is_admin(user_id, config) {
        return Ok(());
    }
    if !config.allowed_user_ids.is_empty() && !config.allowed_user_ids.contains(&user_id) {
        return Err(IgnoreReason::UserNotAllowed);
    }
    let Place::Guild { channel, parent } = place else {
        return Ok(());
    };
    if !config.allowed_role_ids.is_empty()
        && !role_ids.iter().any(|r| config.allowed_role_ids.contains(r))
    {
        return Err(IgnoreReason::RoleNotAllowed);
    }
    if config.reply_all_channel_ids.contains(&channel.id) {
        return Ok(());
    }
    if !channel_allowed(channel, parent.as_ref(), config) {
        return Err(IgnoreReason::ChannelNotAllowed);
    }
    Ok(())
}

pub fn is_admin(user_id: u64, config: &DiscordConfig) -> bool {
    config.admin_user_ids.contains(&user_id)
}

/// ALLOWED_CHANNEL_IDS when set, else ALLOWED_CHANNELS names, else every
/// channel. A thread is allowed when it or its parent channel is.
fn channel_allowed(
    channel: &ChannelRef,
    parent: Option<&ChannelRef>,
    config: &DiscordConfig,
) -> bool {
    let candidates = std::iter::once(channel).chain(parent);
    if !config.allowed_channel_ids.is_empty() {
        return candidates
            .into_iter()
            .any(|c| config.allowed_channel_ids.contains(&c.id));
    }
    if !config.allowed_channels.is_empty() {
        return candidates.into_iter().any(|c| {
            c.name
                .as_deref()
                .is_some_and(|name| name_matches(name, &config.allowed_channels))
        });
    }
    true
}

/// Channel names compare without a leading `#` and without case.
fn name_matches(name: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a.trim().trim_start_matches('#').eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(env: &[(&str, &str)]) -> DiscordConfig {
        Config::from_pairs(env).discord
    }

    fn in_channel(id: u64, name: &str) -> Place {
        Place::Guild {
            channel: ChannelRef {
                id,
                name: Some(name.into()),
            },
            parent: None,
        }
    }

    fn mention(place: Place) -> MessageFacts {
        MessageFacts {
            author_id: 7,
            place,
            mentions_bot: true,
            ..MessageFacts::default()
        }
    }

    const ANSWER: Decision = Decision::Answer { privileged: false };

    #[test]
    fn direct_messages_are_answered_unless_switched_off() {
        let dm = MessageFacts {
            author_id: 7,
            ..MessageFacts::default()
        };
        assert_eq!(decide(&dm, &config(&[])), ANSWER);
        assert_eq!(
            decide(&dm, &config(&[("ALLOW_DMS", "false")])),
            Decision::Ignore(IgnoreReason::DirectMessagesOff)
        );
    }

    #[test]
    fn guild_messages_need_a_mention_a_reply_or_a_reply_all_channel() {
        let plain = MessageFacts {
            mentions_bot: false,
            ..mention(in_channel(1, "general"))
        };
        let cfg = config(&[("REPLY_ALL_CHANNEL_IDS", "2")]);
        assert_eq!(
            decide(&plain, &cfg),
            Decision::Ignore(IgnoreReason::NotAddressed)
        );
        assert_eq!(decide(&mention(in_channel(1, "general")), &cfg), ANSWER);
        let reply = MessageFacts {
            replies_to_bot: true,
            ..plain.clone()
        };
        assert_eq!(decide(&reply, &cfg), ANSWER);
        let in_reply_all = MessageFacts {
            place: in_channel(2, "chat"),
            ..plain
        };
        assert_eq!(decide(&in_reply_all, &cfg), ANSWER);
    }

    #[test]
    fn bots_webhooks_and_blocked_users_are_never_answered() {
        let cfg = config(&[("BLOCKED_USER_IDS", "7"), ("ADMIN_USER_IDS", "7")]);
        let from_bot = MessageFacts {
            author_is_bot: true,
            ..mention(Place::DirectMessage)
        };
        assert_eq!(
            decide(&from_bot, &config(&[])),
            Decision::Ignore(IgnoreReason::FromBot)
        );
        let hook = MessageFacts {
            from_webhook: true,
            ..mention(Place::DirectMessage)
        };
        assert_eq!(
            decide(&hook, &config(&[])),
            Decision::Ignore(IgnoreReason::FromWebhook)
        );
        assert_eq!(
            decide(&mention(Place::DirectMessage), &cfg),
            Decision::Ignore(IgnoreReason::BlockedUser),
            "blocking wins over admin"
        );
    }

    #[test]
    fn channel_ids_win_over_channel_names() {
        let cfg = config(&[
            ("ALLOWED_CHANNEL_IDS", "5"),
            ("ALLOWED_CHANNELS", "general"),
        ]);
        assert_eq!(
            decide(&mention(in_channel(1, "general")), &cfg),
            Decision::Ignore(IgnoreReason::ChannelNotAllowed)
        );
        assert_eq!(decide(&mention(in_channel(5, "other")), &cfg), ANSWER);
        let by_name = config(&[("ALLOWED_CHANNELS", "#General, bots")]);
        assert_eq!(decide(&mention(in_channel(1, "general")), &by_name), ANSWER);
        assert_eq!(
            decide(&mention(in_channel(3, "random")), &by_name),
            Decision::Ignore(IgnoreReason::ChannelNotAllowed)
        );
    }

    #[test]
    fn threads_follow_their_parent_channel() {
        let thread = Place::Guild {
            channel: ChannelRef {
                id: 9,
                name: Some("a question".into()),
            },
            parent: Some(ChannelRef {
                id: 5,
                name: Some("help".into()),
            }),
        };
        assert_eq!(
            decide(
                &mention(thread.clone()),
                &config(&[("ALLOWED_CHANNEL_IDS", "5")])
            ),
            ANSWER
        );
        assert_eq!(
            decide(
                &mention(thread.clone()),
                &config(&[("ALLOWED_CHANNELS", "help")])
            ),
            ANSWER
        );
        assert_eq!(
            decide(&mention(thread), &config(&[("ALLOWED_CHANNEL_IDS", "6")])),
            Decision::Ignore(IgnoreReason::ChannelNotAllowed)
        );
    }

    #[test]
    fn user_and_role_allowlists_apply_except_to_admins() {
        let cfg = config(&[
            ("ALLOWED_USER_IDS", "8"),
            ("ADMIN_USER_IDS", "9"),
            ("ALLOWED_CHANNEL_IDS", "5"),
        ]);
        assert_eq!(
            decide(&mention(in_channel(5, "x")), &cfg),
            Decision::Ignore(IgnoreReason::UserNotAllowed)
        );
        let admin = MessageFacts {
            author_id: 9,
            ..mention(in_channel(1, "elsewhere"))
        };
        assert_eq!(decide(&admin, &cfg), Decision::Answer { privileged: true });

        let roles = config(&[("ALLOWED_ROLE_IDS", "40,41")]);
        assert_eq!(
            decide(&mention(in_channel(1, "general")), &roles),
            Decision::Ignore(IgnoreReason::RoleNotAllowed)
        );
        let member = MessageFacts {
            role_ids: vec![3, 41],
            ..mention(in_channel(1, "general"))
        };
        assert_eq!(decide(&member, &roles), ANSWER);
        assert_eq!(
            decide(&mention(Place::DirectMessage), &roles),
            ANSWER,
            "roles only exist in servers"
        );
    }
}
