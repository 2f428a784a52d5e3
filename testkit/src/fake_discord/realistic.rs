//! GUILD_CREATE payloads of guilds added with [`super::FakeDiscord::add_guild`]
//! and [`super::FakeDiscord::add_realistic_guilds`]: the fixture guild's shape
//! with its own id, channels, roles and members. A realistic guild has about
//! what a real community server sends: 50 channels (categories, text with
//! permission overwrites, voice), 30 roles and a few members.

use serde_json::{Value, json};

use super::fixtures::{self, ALICE, BOB, DUET, EVERYONE_PERMISSIONS, FakeUser};

/// How big an added guild is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuildSize {
    pub channels: u64,
    pub roles: u64,
    pub members: usize,
}

/// Three text channels, two roles, the bot and two users.
pub const SMALL: GuildSize = GuildSize {
    channels: 3,
    roles: 2,
    members: 3,
};

/// About what a real community server sends.
pub const REALISTIC: GuildSize = GuildSize {
    channels: 50,
    roles: 30,
    members: 5,
};

/// Role ids start here past the guild id (channel ids come first).
const ROLE_OFFSET: u64 = 1_000;

/// The guild's `#general`, a text channel where everyone may write.
pub fn general_channel(guild: u64) -> u64 {
    guild + 1
}

/// GUILD_CREATE for `guild` of `size`.
pub fn guild_create(guild: u64, size: GuildSize) -> Value {
    let mut json = fixtures::guild_create();
    json["id"] = json!(guild.to_string());
    json["name"] = json!(format!("Community {guild}"));
    json["roles"] = roles(guild, size.roles).into();
    json["channels"] = channels(guild, size.channels).into();
    json["threads"] = json!([]);
    json["members"] = members(guild, size).into();
    json["member_count"] = json!(size.members);
    json
}

fn roles(guild: u64, count: u64) -> Vec<Value> {
    let mut roles = vec![fixtures::role(guild, "@everyone", EVERYONE_PERMISSIONS, 0)];
    for r in 1..count {
        let name = format!(
            "role-{r}-{}",
            ["members", "moderators", "events", "artists"][(r % 4) as usize]
        );
        let position = u16::try_from(r).unwrap_or(u16::MAX);
        roles.push(fixtures::role(
            guild + ROLE_OFFSET + r,
            &name,
            1 << 10,
            position,
        ));
    }
    roles
}

/// `#general` first, then groups of ten: a category, seven text channels
/// (some with a permission overwrite) and two voice channels.
fn channels(guild: u64, count: u64) -> Vec<Value> {
    let mut channels = Vec::new();
    let mut category = None;
    for k in 0..count {
        let id = general_channel(guild) + k;
        let position = u16::try_from(k).unwrap_or(u16::MAX);
        let channel = match k % 10 {
            _ if k == 0 => text(guild, id, "general".into(), position, None, false),
            1 => {
                category = Some(id);
                json!({
                    "id": id.to_string(), "type": 4, "guild_id": guild.to_string(),
                    "name": format!("Category {}", k / 10), "position": position,
                    "permission_overwrites": [], "nsfw": false, "parent_id": null, "flags": 0,
                })
            }
            8 | 9 => json!({
                "id": id.to_string(), "type": 2, "guild_id": guild.to_string(),
                "name": format!("Voice {k}"), "position": position,
                "permission_overwrites": [], "nsfw": false, "last_message_id": null,
                "parent_id": category.map(|c: u64| c.to_string()), "bitrate": 64_000,
                "user_limit": 0, "rtc_region": null, "rate_limit_per_user": 0, "flags": 0,
            }),
            n => text(
                guild,
                id,
                format!("topic-{k}"),
                position,
                category,
                n % 3 == 0,
            ),
        };
        channels.push(channel);
    }
    channels
}

fn text(
    guild: u64,
    id: u64,
    name: String,
    position: u16,
    parent: Option<u64>,
    restricted: bool,
) -> Value {
    let overwrites = if restricted {
        json!([{"id": (guild + ROLE_OFFSET + 1).to_string(), "type": 0, "allow": "1024", "deny": "0"}])
    } else {
        json!([])
    };
    json!({
        "id": id.to_string(), "type": 0, "guild_id": guild.to_string(), "name": name,
        "position": position, "permission_overwrites": overwrites,
        "topic": "What this channel is about, in a sentence or two.", "nsfw": false,
        "last_message_id": null, "rate_limit_per_user": 0,
        "parent_id": parent.map(|p| p.to_string()), "flags": 0,
    })
}

fn members(guild: u64, size: GuildSize) -> Vec<Value> {
    let people = [DUET, ALICE, BOB];
    (0..size.members)
        .map(|m| {
            let user = match people.get(m) {
                Some(known) => known.clone(),
                None => FakeUser {
                    id: 10_000 + m as u64,
                    name: "member",
                    bot: false,
                },
            };
            let roles: Vec<u64> = (1..size.roles.min(3))
                .map(|r| guild + ROLE_OFFSET + r)
                .collect();
            fixtures::member(
                Some(fixtures::user(&user)),
                if m == 0 { &[] } else { &roles },
            )
        })
        .collect()
}
