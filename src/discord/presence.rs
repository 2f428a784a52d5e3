//! The bot's presence from `[Discord] BOT_PRESENCE`, `ACTIVITY_TYPE` and
//! `ACTIVITY_STATUS`.

use serenity::all::{ActivityData, ActivityType, OnlineStatus};

use crate::config::{ActivityKind, DiscordConfig, Presence};

/// The online status and the activity (none when ACTIVITY_STATUS is empty).
pub fn presence_for(config: &DiscordConfig) -> (OnlineStatus, Option<ActivityData>) {
    let status = match config.presence {
        Presence::Online => OnlineStatus::Online,
        Presence::Idle => OnlineStatus::Idle,
        Presence::DoNotDisturb => OnlineStatus::DoNotDisturb,
        Presence::Invisible => OnlineStatus::Invisible,
    };
    let activity = config
        .activity_status
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| activity(config.activity_type, text));
    (status, activity)
}

fn activity(kind: ActivityKind, text: &str) -> ActivityData {
    match kind {
        ActivityKind::Playing => ActivityData::playing(text),
        ActivityKind::Listening => ActivityData::listening(text),
        ActivityKind::Watching => ActivityData::watching(text),
        ActivityKind::Competing => ActivityData::competing(text),
        // Discord shows "Streaming" only with a Twitch/YouTube URL; without
        // one the activity is shown by name, which is what the operator wrote.
        ActivityKind::Streaming => {
            let mut data = ActivityData::playing(text);
            data.kind = ActivityType::Streaming;
            data
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn discord(env: &[(&str, &str)]) -> DiscordConfig {
        Config::from_pairs(env).discord
    }

    #[test]
    fn presence_and_activity_follow_the_configuration() {
        let (status, activity) = presence_for(&discord(&[
            ("BOT_PRESENCE", "dnd"),
            ("ACTIVITY_TYPE", "watching"),
            ("ACTIVITY_STATUS", "the chat"),
        ]));
        assert_eq!(status, OnlineStatus::DoNotDisturb);
        let activity = activity.expect("an activity");
        assert_eq!(activity.kind, ActivityType::Watching);
        assert_eq!(activity.name, "the chat");
    }

    #[test]
    fn no_activity_text_means_no_activity() {
        let (status, activity) = presence_for(&discord(&[("ACTIVITY_STATUS", "  ")]));
        assert_eq!(status, OnlineStatus::Online);
        assert!(activity.is_none());
    }
}
