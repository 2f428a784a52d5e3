//! Defusing pings the model writes. The Discord frontend also sends
//! `allowed_mentions: {"parse": []}` with every message and edit; this is the
//! second lock, for the day someone forgets the first.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::answer::markdown::rewrite_outside_code;

/// Zero-width space: invisible, and enough to stop Discord parsing a mention
/// (the same trick as discord.py's `escape_mentions`).
const BREAKER: &str = "\u{200B}";

/// Neutralises `@everyone`, `@here` (any case) and user and role mentions
/// (`<@123>`, `<@!123>`, `<@&456>`) by putting a zero-width space after the
/// `@`, so nobody is pinged even without `allowed_mentions`. Idempotent.
///
/// Code blocks and inline code are left untouched: Discord does not turn
/// them into mentions, and a user copying bot code (`ctx.send("@here")`)
/// must get exactly what was shown.
pub fn neutralize_mentions(text: &str) -> String {
    rewrite_outside_code(text, |prose, out| out.push_str(&neutralize_prose(prose)))
}

/// [`neutralize_mentions`] for text already known to contain no code.
pub(crate) fn neutralize_prose(text: &str) -> Cow<'_, str> {
    static MASS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)@(everyone|here)").expect("the mass-mention pattern is valid")
    });
    static TAG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<@([!&]?[0-9])").expect("the mention-tag pattern is valid"));
    match MASS.replace_all(text, format!("@{BREAKER}$1")) {
        Cow::Borrowed(text) => TAG.replace_all(text, format!("<@{BREAKER}$1")),
        Cow::Owned(text) => Cow::Owned(
            TAG.replace_all(&text, format!("<@{BREAKER}$1"))
                .into_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_mentions_get_a_zero_width_space() {
        assert_eq!(
            neutralize_mentions("hey @everyone and @here, @Everyone!"),
            "hey @\u{200B}everyone and @\u{200B}here, @\u{200B}Everyone!"
        );
    }

    #[test]
    fn user_and_role_mentions_are_broken_up() {
        assert_eq!(
            neutralize_mentions("<@1> <@!22> <@&2> <#3> <:e:4>"),
            "<@\u{200B}1> <@\u{200B}!22> <@\u{200B}&2> <#3> <:e:4>"
        );
    }

    #[test]
    fn neutralising_twice_changes_nothing_more() {
        let once = neutralize_mentions("@here <@&2>");
        assert_eq!(neutralize_mentions(&once), once);
    }

    #[test]
    fn code_is_left_exactly_as_written() {
        let text = "`@everyone` ok\n```py\nawait ctx.send(\"<@123> @here\")\n```\n@here";
        assert_eq!(
            neutralize_mentions(text),
            "`@everyone` ok\n```py\nawait ctx.send(\"<@123> @here\")\n```\n@\u{200B}here"
        );
    }

    #[test]
    fn plain_text_is_borrowed_not_copied() {
        assert!(matches!(
            neutralize_prose("nothing to see"),
            Cow::Borrowed(_)
        ));
    }
}
