//! Follow-ups ("tell me more", "why?", "and what about Paris?") stay with the
//! provider that answered the conversation's last substantive turn.

use crate::chat::types::Turn;
use crate::providers::ProviderKind;

/// Whole messages that continue the previous answer.
const WHOLE: &[&str] = &[
    "why",
    "why not",
    "why so",
    "why is that",
    "how",
    "how so",
    "how come",
    "really",
    "go on",
    "continue",
    "keep going",
    "more",
    "tell me more",
    "say more",
    "what else",
    "anything else",
    "and",
    "and then",
    "then what",
    "such as",
    "like what",
    "for example",
    "examples",
    "an example",
    "elaborate",
    "please elaborate",
    "can you elaborate",
    "explain more",
    "more details",
    "details",
    "sources",
    "source",
    "what do you mean",
    "is that true",
    "are you sure",
    "and now",
    "what happened next",
];

/// Openings that continue the previous answer at any length.
const OPENINGS: &[&str] = &[
    "tell me more",
    "what else",
    "more about",
    "more on",
    "elaborate",
    "expand on",
    "go on",
    "keep going",
    "continue",
    "can you elaborate",
    "say more",
];

/// Openings that continue the previous answer when the message is short.
const SHORT_OPENINGS: &[&str] = &[
    "and",
    "also",
    "what about",
    "how about",
    "and what about",
    "and how about",
    "or",
];

/// At most this many words for a [`SHORT_OPENINGS`] message to be a follow-up.
const SHORT_WORDS: usize = 8;

/// Questions that only acknowledge an answer; the turn before them is the one
/// a follow-up continues.
const ACKNOWLEDGEMENTS: &[&str] = &[
    "thanks",
    "thank you",
    "thank you so much",
    "thx",
    "ty",
    "ok",
    "okay",
    "k",
    "cool",
    "nice",
    "great",
    "got it",
    "lol",
    "haha",
    "awesome",
    "perfect",
    "sure",
    "yes",
    "no",
    "yep",
    "nope",
    "wow",
    "i see",
    "makes sense",
    "👍",
    "🙏",
];

/// Whether `lower` (a lowercased message) continues the previous answer.
pub(super) fn is_follow_up(lower: &str) -> bool {
    let core = core(lower);
    if WHOLE.contains(&core) || OPENINGS.iter().any(|o| opens_with(core, o)) {
        return true;
    }
    core.split_whitespace().count() <= SHORT_WORDS
        && SHORT_OPENINGS.iter().any(|o| opens_with(core, o))
}

/// The provider of the last turn within the last `lookback_messages` messages
/// (two per turn; a turn counts when both fit) whose question was more than an
/// acknowledgement.
pub(super) fn anchor(history: &[Turn], lookback_messages: usize) -> Option<ProviderKind> {
    history
        .iter()
        .rev()
        .take(lookback_messages / 2)
        .find(|turn| !is_acknowledgement(&turn.question))
        .map(|turn| turn.provider)
}

fn is_acknowledgement(question: &str) -> bool {
    let core = core(question);
    ACKNOWLEDGEMENTS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(core))
}

/// The message without surrounding whitespace and trailing punctuation.
fn core(text: &str) -> &str {
    text.trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || c == '…' || c.is_whitespace())
}

/// `text` starts with the words of `opening` (not merely its letters: "anderson").
fn opens_with(text: &str, opening: &str) -> bool {
    text.strip_prefix(opening).is_some_and(|rest| {
        rest.chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c.is_ascii_punctuation())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::chat::router::tests::turn;

    #[test]
    fn short_continuations_are_follow_ups() {
        for text in [
            "why?",
            "tell me more",
            "tell me more about the second one",
            "what else?",
            "and what about paris?",
            "also, the same for rome",
            "how about tomorrow",
            "go on…",
            "and?",
            "what about",
            "elaborate on point 2",
        ] {
            assert!(is_follow_up(text), "{text}");
        }
    }

    #[test]
    fn new_questions_are_not_follow_ups() {
        for text in [
            "why is the sky blue?",
            "anderson cooper's age",
            "how do i sort a vec",
            "hello",
            "moreover, rust is fast",
            "and then there were none is a novel by agatha christie that i really loved reading",
        ] {
            assert!(!is_follow_up(text), "{text}");
        }
    }

    #[test]
    fn the_last_turn_is_the_anchor() {
        let history = [
            turn("weather in paris today?", ProviderKind::Perplexity),
            turn("write a poem", ProviderKind::OpenAi),
        ];
        assert_eq!(anchor(&history, 6), Some(ProviderKind::OpenAi));
    }

    #[test]
    fn acknowledgements_are_skipped_inside_the_window() {
        let history = [
            turn("weather in paris today?", ProviderKind::Perplexity),
            turn("Thanks!", ProviderKind::OpenAi),
        ];
        assert_eq!(anchor(&history, 4), Some(ProviderKind::Perplexity));
        assert_eq!(
            anchor(&history, 3),
            None,
            "3 messages hold only the acknowledgement's turn whole"
        );
    }

    #[test]
    fn a_window_shorter_than_one_turn_has_no_anchor() {
        let history = [turn("latest news", ProviderKind::Perplexity)];
        assert_eq!(anchor(&history, 2), Some(ProviderKind::Perplexity));
        assert_eq!(anchor(&history, 1), None);
        assert_eq!(anchor(&history, 0), None);
        assert_eq!(anchor(&[], 6), None);
    }
}
