//! Turns raw Discord message text into what the pipeline sees: the bot's own
//! mention removed, other users' mentions shown as readable `@names`.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// `<@123>` and the legacy nickname form `<@!123>`, with the spaces after it.
static USER_MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<@!?(\d{1,20})>( *)").expect("valid mention pattern"));

/// Removes mentions of `bot_id` (with the spaces after them), replaces other
/// user mentions with `@name` from `names` (unknown ids stay as written) and
/// trims the result. Everything else, code blocks included, is kept as is.
pub fn clean_content(text: &str, bot_id: u64, names: &HashMap<u64, String>) -> String {
    let replaced = USER_MENTION.replace_all(text, |caps: &Captures<'_>| {
        let id = caps[1].parse::<u64>().ok();
        let spaces = &caps[2];
        match id.filter(|id| *id != bot_id) {
            None if id == Some(bot_id) => String::new(),
            Some(id) if names.contains_key(&id) => format!("@{}{spaces}", names[&id]),
            _ => caps[0].to_string(),
        }
    });
    replaced.trim().to_string()
}

/// Whether `text` mentions `bot_id` (either mention form).
pub fn mentions_user(text: &str, user_id: u64) -> bool {
    USER_MENTION
        .captures_iter(text)
        .any(|caps| caps[1].parse::<u64>().ok() == Some(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<u64, String> {
        HashMap::from([(42, "alice".to_string())])
    }

    #[test]
    fn removes_the_bots_own_mention_in_both_forms() {
        assert_eq!(
            clean_content("<@9> hello there", 9, &names()),
            "hello there"
        );
        assert_eq!(
            clean_content("hey <@!9>, what's up?", 9, &names()),
            "hey , what's up?"
        );
        assert_eq!(clean_content("<@9>", 9, &names()), "");
    }

    #[test]
    fn other_users_become_readable_names() {
        assert_eq!(
            clean_content("<@9> ask <@42> and <@!42> about <@77>", 9, &names()),
            "ask @alice and @alice about <@77>"
        );
    }

    #[test]
    fn keeps_code_blocks_exactly() {
        let text = "<@9> fix this:\n```\n    let  x = 1;\n```";
        assert_eq!(
            clean_content(text, 9, &names()),
            "fix this:\n```\n    let  x = 1;\n```"
        );
    }

    #[test]
    fn multibyte_text_around_mentions_survives() {
        assert_eq!(
            clean_content("ça va <@9> ? 日本", 9, &names()),
            "ça va ? 日本"
        );
        assert!(mentions_user("héllo <@!9>", 9));
        assert!(!mentions_user("<@99999999999999999999999>", 9));
        assert!(!mentions_user("<@&9> is a role", 9));
    }
}
