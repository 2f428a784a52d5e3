//! The fake world's JSON: users, the guild sent in GUILD_CREATE, message and
//! interaction objects. Shapes follow Discord API v10 closely enough for
//! serenity 0.12.5 to accept them (a dispatch it cannot parse is silently
//! dropped, so every required field is present).

use serde_json::{Value, json};

pub const BOT_ID: u64 = 900;
pub const APPLICATION_ID: u64 = 901;
pub const GUILD_ID: u64 = 1000;
/// `#general`, a text channel.
pub const GENERAL: u64 = 1001;
/// `#random`, a text channel.
pub const RANDOM: u64 = 1002;
/// `#announcements`, where @everyone may not send messages.
pub const READ_ONLY: u64 = 1003;
/// A public thread under `#general`.
pub const THREAD: u64 = 1010;
/// A thread under `#general` missing from GUILD_CREATE (only `GET /channels` knows it).
pub const NEW_THREAD: u64 = 1011;
/// The DM channel between Alice and the bot.
pub const DM_ALICE: u64 = 2001;
/// A role some members have.
pub const MEMBER_ROLE: u64 = 1100;

pub const TIMESTAMP: &str = "2025-01-01T00:00:00.000000+00:00";

/// VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | SEND_MESSAGES_IN_THREADS.
pub const EVERYONE_PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 38);
const SEND_MESSAGES: u64 = 1 << 11;

/// A Discord user of the fake world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUser {
    pub id: u64,
    pub name: &'static str,
    pub bot: bool,
}

pub const DUET: FakeUser = FakeUser {
    id: BOT_ID,
    name: "duet",
    bot: true,
};
pub const ALICE: FakeUser = FakeUser {
    id: 501,
    name: "alice",
    bot: false,
};
pub const BOB: FakeUser = FakeUser {
    id: 502,
    name: "bob",
    bot: false,
};
pub const OTHER_BOT: FakeUser = FakeUser {
    id: 503,
    name: "helperbot",
    bot: true,
};

pub fn user(user: &FakeUser) -> Value {
    json!({
        "id": user.id.to_string(),
        "username": user.name,
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "bot": user.bot,
        "public_flags": 0,
    })
}

pub(super) fn member(user_json: Option<Value>, roles: &[u64]) -> Value {
    let mut member = json!({
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "nick": null,
        "joined_at": TIMESTAMP,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
    });
    if let Some(user_json) = user_json {
        member["user"] = user_json;
    }
    member
}

pub(super) fn role(id: u64, name: &str, permissions: u64, position: u16) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

fn text_channel(id: u64, name: &str, position: u16, overwrites: Value) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "guild_id": GUILD_ID.to_string(),
        "name": name,
        "position": position,
        "permission_overwrites": overwrites,
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

fn thread(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(),
        "type": 11,
        "guild_id": GUILD_ID.to_string(),
        "name": name,
        "parent_id": GENERAL.to_string(),
        "owner_id": ALICE.id.to_string(),
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "message_count": 1,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": 1440,
            "archive_timestamp": TIMESTAMP,
            "locked": false,
        },
    })
}

/// Every channel of the fake guild (threads included), for `GET /channels/{id}`.
pub fn channel(id: u64) -> Option<Value> {
    let everyone_cannot_send = json!([{
        "id": GUILD_ID.to_string(), "type": 0, "allow": "0", "deny": SEND_MESSAGES.to_string(),
    }]);
    match id {
        GENERAL => Some(text_channel(GENERAL, "general", 0, json!([]))),
        RANDOM => Some(text_channel(RANDOM, "random", 1, json!([]))),
        READ_ONLY => Some(text_channel(
            READ_ONLY,
            "announcements",
            2,
            everyone_cannot_send,
        )),
        THREAD => Some(thread(THREAD, "a long question")),
        NEW_THREAD => Some(thread(NEW_THREAD, "a newer question")),
        _ => None,
    }
}

/// GUILD_CREATE: one guild with its channels, a thread, roles and members
/// (the bot among them, so serenity's permission checks have data).
pub fn guild_create() -> Value {
    let mut guild = json!({
        "id": GUILD_ID.to_string(),
        "name": "Duet Test Server",
        "icon": null, "icon_hash": null, "splash": null, "discovery_splash": null,
        "owner_id": ALICE.id.to_string(),
        "afk_channel_id": null, "afk_timeout": 300,
        "widget_enabled": false, "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0),
            role(MEMBER_ROLE, "members", 0, 1),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null, "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null, "max_members": 500000,
        "vanity_url_code": null, "description": null, "banner": null,
    });
    let create_fields = json!({
        "premium_tier": 0, "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25, "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "joined_at": TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": 3,
        "voice_states": [],
        "members": [
            member(Some(user(&DUET)), &[]),
            member(Some(user(&ALICE)), &[MEMBER_ROLE]),
            member(Some(user(&BOB)), &[]),
        ],
        "channels": [channel(GENERAL), channel(RANDOM), channel(READ_ONLY)],
        "threads": [channel(THREAD)],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    for (key, value) in create_fields.as_object().expect("an object") {
        guild[key] = value.clone();
    }
    guild
}

/// READY for a new session of `shard` (`[id, count]`) with `guilds` to come.
pub fn ready(session_id: &str, gateway_url: &str, shard: [u32; 2], guilds: &[u64]) -> Value {
    let guilds: Vec<Value> = guilds
        .iter()
        .map(|id| json!({"id": id.to_string(), "unavailable": true}))
        .collect();
    json!({
        "v": 10,
        "user": user(&DUET),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": gateway_url,
        "shard": shard,
        "application": {"id": APPLICATION_ID.to_string(), "flags": 0},
    })
}

/// A message object; `guild` is `None` in DMs.
pub fn message(
    id: u64,
    channel_id: u64,
    guild: Option<u64>,
    author: &FakeUser,
    content: &str,
) -> Value {
    let mut message = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": user(author),
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
    });
    if let Some(guild) = guild {
        message["guild_id"] = json!(guild.to_string());
    }
    message
}

/// The `member` field of a guild MESSAGE_CREATE (no `user` inside).
pub fn message_member(roles: &[u64]) -> Value {
    member(None, roles)
}

/// An APPLICATION_COMMAND interaction (`options` as Discord sends them).
pub fn command_interaction(
    id: u64,
    token: &str,
    name: &str,
    options: Value,
    invoker: &FakeUser,
    channel_id: u64,
    guild: Option<u64>,
) -> Value {
    let mut interaction = json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID.to_string(),
        "type": 2,
        "data": {"id": (id + 1).to_string(), "name": name, "type": 1, "options": options},
        "channel_id": channel_id.to_string(),
        "token": token,
        "version": 1,
        "app_permissions": EVERYONE_PERMISSIONS.to_string(),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
        "context": if guild.is_some() { 0 } else { 1 },
        "attachment_size_limit": 26_214_400,
    });
    match guild {
        Some(guild) => {
            interaction["guild_id"] = json!(guild.to_string());
            let mut member = member(Some(user(invoker)), &[]);
            member["permissions"] = json!(EVERYONE_PERMISSIONS.to_string());
            interaction["member"] = member;
        }
        None => interaction["user"] = user(invoker),
    }
    interaction
}

/// `/users/@me` and the application (for `/oauth2/applications/@me`).
pub fn application() -> Value {
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": "duet",
        "icon": null,
        "description": "",
        "bot_public": true,
        "bot_require_code_grant": false,
        "owner": user(&ALICE),
        "verify_key": "0",
        "team": null,
        "flags": 0,
    })
}
