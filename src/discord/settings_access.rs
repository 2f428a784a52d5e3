//! The pure decisions behind `/settings` and `/model`: who may change
//! settings, which scope a `channel` option names, the user-facing texts,
//! and how a change is described in the log.

use crate::chat::settings::{Effective, Scope, SettingKey, Source};
use crate::config::DiscordConfig;

/// `MANAGE_GUILD` (Manage Server).
pub const MANAGE_GUILD: u64 = 1 << 5;
/// `ADMINISTRATOR`.
pub const ADMINISTRATOR: u64 = 1 << 3;

/// Told to a member without Manage Server.
pub const SETTINGS_REFUSED: &str = "Only members with the Manage Server permission (or the bot's admins) can change my settings here.";
/// Told when `/settings` runs outside a server.
pub const SETTINGS_SERVER_ONLY: &str = "Settings are per server: run `/settings` in a server.";
/// Told when the INI switched server settings off.
pub const SETTINGS_OFF: &str = "Server settings are switched off by the bot's operator.";
/// Told when `/model` is off.
pub const MODEL_CHOICE_OFF: &str = "Choosing your own model is switched off by the bot's operator.";
/// Told when the `channel` option names a channel of another server.
pub const FOREIGN_CHANNEL: &str = "That channel is not in this server: pick one of this server's channels (or leave `channel` out for the whole server).";

/// Whether the invoker may change this server's settings: Manage Server or
/// Administrator in the interaction's member permissions, or `ADMIN_USER_IDS`.
pub fn may_manage(permissions: Option<u64>, user_id: u64, config: &DiscordConfig) -> bool {
    let granted = permissions.unwrap_or(0);
    granted & (MANAGE_GUILD | ADMINISTRATOR) != 0 || config.admin_user_ids.contains(&user_id)
}

/// The scope a `channel` option names: the server without one; the channel
/// when it belongs to `guild` (`channel_guild` is where the lookup found
/// it, `None` when it found nothing).
pub fn target_scope(
    guild: u64,
    channel: Option<u64>,
    channel_guild: Option<u64>,
) -> Result<Scope, &'static str> {
    match channel {
        None => Ok(Scope::Server {
            guild: guild.to_string(),
        }),
        Some(channel) if channel_guild == Some(guild) => Ok(Scope::Channel {
            guild: guild.to_string(),
            channel: channel.to_string(),
        }),
        Some(_) => Err(FOREIGN_CHANNEL),
    }
}

/// What a scope is called in replies: "this server" or "<#channel>".
pub fn scope_label(scope: &Scope) -> String {
    match scope {
        Scope::Server { .. } => "this server".to_string(),
        Scope::Channel { channel, .. } => format!("<#{channel}>"),
        Scope::User { .. } => "you".to_string(),
    }
}

/// A value as logged: prompts only with `LOG_MESSAGE_CONTENT`, else their length.
pub fn logged_value(key: SettingKey, value: Option<&str>, log_content: bool) -> String {
    match value {
        None => "(unset)".to_string(),
        Some(v) if key == SettingKey::Prompt && !log_content => {
            format!("({} characters)", v.chars().count())
        }
        Some(v) => v.to_string(),
    }
}

/// The confirmation for a change.
pub fn changed_text(scope: &Scope, key: SettingKey, new: Option<&str>) -> String {
    let label = scope_label(scope);
    match (key, new) {
        (_, None) => format!("**{}** for {label} is back to the default.", key.as_str()),
        (SettingKey::Prompt, Some(p)) => format!(
            "**prompt** for {label} is set ({} characters); it applies from the next message.",
            p.chars().count()
        ),
        (_, Some(v)) => format!(
            "**{}** for {label} is now `{}`; it applies from the next message.",
            key.as_str(),
            shown_flag(v)
        ),
    }
}

fn shown_flag(value: &str) -> &str {
    match value {
        "true" => "on",
        "false" => "off",
        other => other,
    }
}

/// `/settings show` and the settings part of `/status`.
pub fn render_effective(effective: &Effective) -> String {
    let mut lines = vec!["**Settings here** (value · from):".to_string()];
    for (key, value, source) in effective.lines() {
        lines.push(format!("- **{key}**: {value} · {}", source_text(source)));
    }
    lines.join("\n")
}

fn source_text(source: Source) -> &'static str {
    match source {
        Source::Ini => "INI",
        Source::Server => "server setting",
        Source::Channel => "channel setting",
        Source::User => "your choice",
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::Config;

    fn config(env: &[(&str, &str)]) -> DiscordConfig {
        Config::from_pairs(env).discord
    }

    #[test]
    fn manage_server_administrator_or_admin_ids_may_manage() {
        let plain = config(&[]);
        assert!(may_manage(Some(MANAGE_GUILD), 1, &plain));
        assert!(may_manage(Some(ADMINISTRATOR | 1), 1, &plain));
        assert!(!may_manage(Some(1 << 11), 1, &plain));
        assert!(!may_manage(None, 1, &plain));
        assert!(may_manage(None, 7, &config(&[("ADMIN_USER_IDS", "7")])));
    }

    #[test]
    fn prompts_are_logged_as_lengths_unless_content_logging_is_on() {
        assert_eq!(
            logged_value(SettingKey::Prompt, Some("secret"), false),
            "(6 characters)"
        );
        assert_eq!(
            logged_value(SettingKey::Prompt, Some("secret"), true),
            "secret"
        );
        assert_eq!(logged_value(SettingKey::Model, Some("m"), false), "m");
        assert_eq!(logged_value(SettingKey::Model, None, false), "(unset)");
    }

    proptest! {
        #[test]
        fn a_channel_option_names_a_channel_of_this_server_or_is_refused(
            guild in any::<u64>(),
            channel in proptest::option::of(any::<u64>()),
            found in proptest::option::of(any::<u64>()),
        ) {
            match (target_scope(guild, channel, found), channel) {
                (Ok(Scope::Server { guild: g }), None) => prop_assert_eq!(g, guild.to_string()),
                (Ok(Scope::Channel { guild: g, channel: c }), Some(id)) => {
                    prop_assert_eq!(found, Some(guild));
                    prop_assert_eq!((g, c), (guild.to_string(), id.to_string()));
                }
                (Err(text), Some(_)) => {
                    prop_assert_ne!(found, Some(guild));
                    prop_assert_eq!(text, FOREIGN_CHANNEL);
                }
                (other, _) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
