//! Removing the `<think>…</think>` reasoning traces that reasoning models
//! (DeepSeek-R1, QwQ and others behind OpenAI-compatible servers) put before
//! their answer.

use super::markdown::code_regions;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Strips reasoning traces from a model's answer:
/// - leading `<think>…</think>` blocks, and an unclosed leading `<think>`
///   (a stream still reasoning, or a truncated answer), which leaves nothing;
/// - a `</think>` with no `<think>` before it (templates that put the opening
///   tag in the prompt): everything up to and including it;
/// - closed `<think>…</think>` blocks later in the text, unless they sit in
///   code (an answer may well show the tags in a code block).
///
/// Tags match case-insensitively. The answer's leading whitespace is trimmed
/// when a leading trace was removed.
pub fn strip_reasoning(text: &str) -> String {
    let (mut rest, mut stripped) = match orphan_close_end(text) {
        Some(end) => (&text[end..], true),
        None => (text, false),
    };
    loop {
        let trimmed = rest.trim_start();
        if !starts_with_ignore_case(trimmed, OPEN) {
            break;
        }
        stripped = true;
        match find_ignore_case(trimmed, CLOSE, OPEN.len()) {
            Some(close) => rest = &trimmed[close + CLOSE.len()..],
            None => return String::new(),
        }
    }
    let answer = if stripped { rest.trim_start() } else { rest };
    strip_inner_blocks(answer)
}

/// Where a leading `</think>` without an opening tag ends, if there is one
/// outside code.
fn orphan_close_end(text: &str) -> Option<usize> {
    let close = find_ignore_case(text, CLOSE, 0)?;
    let opened = find_ignore_case(&text[..close], OPEN, 0).is_some();
    let in_code = code_regions(text).iter().any(|r| r.contains(&close));
    (!opened && !in_code).then_some(close + CLOSE.len())
}

/// Removes closed `<think>…</think>` blocks that start outside code.
fn strip_inner_blocks(text: &str) -> String {
    let mut text = text.to_string();
    let mut from = 0;
    while let Some(open) = find_ignore_case(&text, OPEN, from) {
        let in_code = code_regions(&text).iter().any(|r| r.contains(&open));
        match find_ignore_case(&text, CLOSE, open + OPEN.len()) {
            Some(close) if !in_code => text.replace_range(open..close + CLOSE.len(), ""),
            Some(_) => from = open + OPEN.len(),
            None => break,
        }
    }
    text
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Byte offset of `needle` (ASCII) in `text`, at or after `from`.
fn find_ignore_case(text: &str, needle: &str, from: usize) -> Option<usize> {
    let hay = text.as_bytes();
    let needle = needle.as_bytes();
    (from..=hay.len().checked_sub(needle.len())?)
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Whether a streamed answer so far is only the start of an opening tag, so
/// nothing should be shown yet.
pub(crate) fn is_partial_open_tag(text: &str) -> bool {
    let trimmed = text.trim_start();
    !trimmed.is_empty() && trimmed.len() < OPEN.len() && starts_with_ignore_case(OPEN, trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_a_leading_think_block() {
        assert_eq!(
            strip_reasoning("<think>\nhmm, 2+2\n</think>\n\nIt is 4."),
            "It is 4."
        );
        assert_eq!(
            strip_reasoning("  <THINK>a</Think> <think>b</think>Done"),
            "Done"
        );
    }

    #[test]
    fn an_unclosed_leading_block_leaves_nothing() {
        assert_eq!(strip_reasoning("<think>still reasoning about [1]"), "");
    }

    #[test]
    fn a_close_tag_without_an_opening_one_ends_the_reasoning() {
        assert_eq!(
            strip_reasoning("reasoning here\n</think>\nAnswer."),
            "Answer."
        );
    }

    #[test]
    fn later_blocks_are_removed_but_not_in_code() {
        let text = "A <think>x</think>B\n```xml\n<think>kept</think>\n```";
        assert_eq!(
            strip_reasoning(text),
            "A B\n```xml\n<think>kept</think>\n```"
        );
        assert_eq!(
            strip_reasoning("use `</think>` to end"),
            "use `</think>` to end"
        );
    }

    #[test]
    fn text_without_tags_is_unchanged() {
        assert_eq!(strip_reasoning("  plain 🦀 text "), "  plain 🦀 text ");
    }

    #[test]
    fn recognises_the_start_of_an_opening_tag() {
        assert!(is_partial_open_tag("<th"));
        assert!(is_partial_open_tag("\n<THINK"));
        assert!(!is_partial_open_tag("<think>"));
        assert!(!is_partial_open_tag("<b>"));
        assert!(!is_partial_open_tag(""));
    }
}
