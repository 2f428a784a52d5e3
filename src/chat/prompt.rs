//! Builds the prompt a provider receives: the system message, as much recent
//! history as fits a token budget, then the question. Tokens are counted with
//! the real o200k_base vocabulary (`tiktoken-rs`), not guessed from lengths.
//!
//! Accounting follows OpenAI's chat format: each message costs its content
//! tokens plus [`MESSAGE_OVERHEAD_TOKENS`] (the role and the delimiters
//! around it), and the reply is primed with [`REPLY_PRIMING_TOKENS`].
//! [`prompt_tokens`] gives that total for any prompt.

use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

use crate::chat::types::Turn;
use crate::providers::{ChatMessage, Role};

/// Tokens each message costs beyond its content (`<|start|>role<|message|>…<|end|>`).
pub const MESSAGE_OVERHEAD_TOKENS: usize = 4;
/// Tokens that open the assistant's reply (`<|start|>assistant<|message|>`).
pub const REPLY_PRIMING_TOKENS: usize = 3;

/// Built once (it parses a 200k-entry vocabulary, ~100 ms); shared by all threads.
static O200K: LazyLock<CoreBPE> = LazyLock::new(|| {
    tiktoken_rs::o200k_base().expect("the o200k_base vocabulary is embedded in tiktoken-rs")
});

/// Tokens in `text` under o200k_base; special-token text counts as plain text.
pub fn count_tokens(text: &str) -> usize {
    O200K.encode_ordinary(text).len()
}

/// What a prompt costs, overheads included (the sum [`build_prompt`] keeps within its budget).
pub fn prompt_tokens(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| count_tokens(&m.content) + MESSAGE_OVERHEAD_TOKENS)
        .sum::<usize>()
        + REPLY_PRIMING_TOKENS
}

/// Builds the prompt: the system message, then as many of the most recent
/// turns as fit (whole turns only, never an orphan reply, and no older turn
/// past one that did not fit), then the question, all within `budget_tokens`
/// as counted by [`prompt_tokens`].
///
/// When even system + question exceed the budget, no history is sent and the
/// question is cut (on a char boundary) to what the system message leaves,
/// but to no less than half the room; the system message is cut only if it
/// alone would take more than that. Budgets under 11 tokens (the overheads of
/// two messages and the reply) cannot be met: both contents are then empty.
///
/// The result is `system, (user, assistant)*, user`: strictly alternating
/// after the system message and ending with the question, as Perplexity's
/// Agent API requires too.
pub fn build_prompt(
    system: &str,
    history: &[Turn],
    question: &str,
    budget_tokens: usize,
) -> Vec<ChatMessage> {
    let room = budget_tokens.saturating_sub(2 * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS);
    if byte_bound(system, history, question) <= room {
        // Fits even if every byte were a token: no need to run the tokenizer.
        return assemble(system, history, question);
    }
    let system_tokens = count_tokens(system);
    let question_tokens = count_tokens(question);
    if system_tokens + question_tokens > room {
        return squeezed(system, system_tokens, question, question_tokens, room);
    }
    let kept = recent_turns_within(history, room - system_tokens - question_tokens);
    assemble(system, kept, question)
}

/// An upper bound of the prompt's tokens: every token covers at least one
/// byte, so a text never has more tokens than bytes.
fn byte_bound(system: &str, history: &[Turn], question: &str) -> usize {
    let turns: usize = history
        .iter()
        .map(|turn| turn.question.len() + turn.answer.len() + 2 * MESSAGE_OVERHEAD_TOKENS)
        .sum();
    system.len() + question.len() + turns
}

/// System message, the turns as alternating user/assistant messages, the question.
fn assemble(system: &str, kept: &[Turn], question: &str) -> Vec<ChatMessage> {
    let mut messages = Vec::with_capacity(2 + 2 * kept.len());
    messages.push(ChatMessage::new(Role::System, system));
    for turn in kept {
        messages.push(ChatMessage::new(Role::User, turn.question.as_str()));
        messages.push(ChatMessage::new(Role::Assistant, turn.answer.as_str()));
    }
    messages.push(ChatMessage::new(Role::User, question));
    messages
}

/// The longest run of most recent turns whose cost fits in `room` tokens.
fn recent_turns_within(history: &[Turn], mut room: usize) -> &[Turn] {
    let mut kept = 0;
    for turn in history.iter().rev() {
        let cost =
            count_tokens(&turn.question) + count_tokens(&turn.answer) + 2 * MESSAGE_OVERHEAD_TOKENS;
        if cost > room {
            break;
        }
        room -= cost;
        kept += 1;
    }
    &history[history.len() - kept..]
}

/// System + question alone overflow `room`: share it without history.
fn squeezed(
    system: &str,
    system_tokens: usize,
    question: &str,
    question_tokens: usize,
    room: usize,
) -> Vec<ChatMessage> {
    let question_room = question_tokens.min(room.saturating_sub(system_tokens).max(room / 2));
    let system_room = room - question_room;
    vec![
        ChatMessage::new(Role::System, truncate_to_tokens(system, system_room)),
        ChatMessage::new(Role::User, truncate_to_tokens(question, question_room)),
    ]
}

/// The longest prefix of `text`, ending on a char boundary, of at most `max_tokens` tokens.
fn truncate_to_tokens(text: &str, max_tokens: usize) -> &str {
    let tokens = O200K.encode_ordinary(text);
    if tokens.len() <= max_tokens {
        return text;
    }
    // Tokens are a segmentation of the bytes, so the first `max_tokens`
    // cover exactly this many leading bytes.
    let covered: usize = O200K
        ._decode_native_and_split(tokens[..max_tokens].to_vec())
        .map(|bytes| bytes.len())
        .sum();
    let mut end = floor_char_boundary(text, covered);
    // Re-encoding a cut can merge differently; back off until it fits.
    while end > 0 && count_tokens(&text[..end]) > max_tokens {
        end = floor_char_boundary(text, end - 1);
    }
    &text[..end]
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// SYSTEM_MESSAGE with `{date}` and `{time}` filled in (UTC).
pub fn system_message(template: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    template
        .replace("{date}", &now.format("%A, %-d %B %Y").to_string())
        .replace("{time}", &now.format("%H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::providers::ProviderKind;
    use chrono::TimeZone;

    #[test]
    fn placeholders_are_filled_and_other_text_is_kept() {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 20, 5, 0)
            .unwrap();
        assert_eq!(
            system_message("Today is {date}, {time}. 100% {unknown}", now),
            "Today is Sunday, 22 November 2026, 20:05 UTC. 100% {unknown}"
        );
    }

    const SYSTEM: &str = "You are duet, a concise assistant.";

    fn turn(question: &str, answer: &str) -> Turn {
        Turn {
            user_id: "u".into(),
            question: question.into(),
            answer: answer.into(),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            at: 0,
        }
    }

    fn history(n: usize) -> Vec<Turn> {
        (0..n)
            .map(|i| {
                turn(
                    &format!("question number {i}"),
                    &format!("answer number {i} is here"),
                )
            })
            .collect()
    }

    /// The prompt is system, (user, assistant)*, user.
    fn assert_shape(messages: &[ChatMessage]) {
        assert!(
            messages.len() >= 2 && messages.len().is_multiple_of(2),
            "{messages:?}"
        );
        assert_eq!(messages[0].role, Role::System);
        for (i, m) in messages[1..].iter().enumerate() {
            let expected = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            assert_eq!(m.role, expected, "message {} of {messages:?}", i + 1);
        }
    }

    #[test]
    fn tokens_are_counted_with_the_o200k_vocabulary() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("hello world"), 2);
        assert_eq!(
            count_tokens("<|endoftext|>"),
            7,
            "special tokens count as text"
        );
    }

    #[test]
    fn everything_fits_in_a_large_budget_in_order() {
        let history = history(5);
        let messages = build_prompt(SYSTEM, &history, "and now?", 100_000);
        assert_shape(&messages);
        assert_eq!(messages.len(), 12);
        assert_eq!(messages[0].content, SYSTEM);
        assert_eq!(messages[1].content, "question number 0");
        assert_eq!(messages[10].content, "answer number 4 is here");
        assert_eq!(messages[11].content, "and now?");
    }

    #[test]
    fn the_oldest_turns_are_dropped_first_to_fit_the_budget() {
        let history = history(4);
        let full = prompt_tokens(&build_prompt(SYSTEM, &history, "q", 100_000));
        let newest_two = prompt_tokens(&build_prompt(SYSTEM, &history[2..], "q", 100_000));
        assert!(newest_two < full);
        let cases = [(full - 1, 1), (newest_two, 2), (newest_two - 1, 3)];
        for (budget, oldest_sent) in cases {
            let messages = build_prompt(SYSTEM, &history, "q", budget);
            assert_shape(&messages);
            assert!(prompt_tokens(&messages) <= budget);
            assert_eq!(messages.len(), 2 + 2 * (4 - oldest_sent), "budget {budget}");
            assert_eq!(
                messages[1].content,
                format!("question number {oldest_sent}")
            );
        }
        let messages = build_prompt(SYSTEM, &history, "q", full);
        assert_eq!(messages.len(), 10);
        assert_eq!(prompt_tokens(&messages), full, "the accounting is exact");
    }

    #[test]
    fn a_turn_too_big_to_fit_stops_older_turns_from_being_sent() {
        let mut history = history(3);
        history[1].answer = "word ".repeat(5_000);
        let messages = build_prompt(SYSTEM, &history, "q", 1_000);
        assert_shape(&messages);
        assert_eq!(messages.len(), 4, "only the newest turn: {messages:?}");
        assert_eq!(messages[1].content, "question number 2");
    }

    #[test]
    fn an_oversized_question_is_cut_to_fit_without_history() {
        let question = "the quick brown fox jumps. ".repeat(2_000);
        let messages = build_prompt(SYSTEM, &history(3), &question, 500);
        assert_shape(&messages);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0].content, SYSTEM,
            "a short system message stays whole"
        );
        assert!(question.starts_with(&messages[1].content));
        assert!(!messages[1].content.is_empty());
        assert!(prompt_tokens(&messages) <= 500);
    }

    #[test]
    fn a_huge_system_message_leaves_the_question_half_the_room() {
        let system = "rule ".repeat(5_000);
        let messages = build_prompt(&system, &[], "what time is it in Tokyo?", 200);
        assert_eq!(messages[1].content, "what time is it in Tokyo?");
        assert!(system.starts_with(&messages[0].content));
        assert!(prompt_tokens(&messages) <= 200);
    }

    #[test]
    fn multibyte_questions_are_cut_on_char_boundaries() {
        let question = "日本語のテキスト🦀é".repeat(500);
        for budget in [12, 13, 20, 57, 300] {
            let messages = build_prompt("", &[], &question, budget);
            assert_shape(&messages);
            assert!(question.starts_with(&messages[1].content));
            assert!(prompt_tokens(&messages) <= budget, "budget {budget}");
        }
    }

    #[test]
    fn budgets_below_the_overheads_give_empty_messages_without_panicking() {
        for budget in 0..=11 {
            let messages = build_prompt(SYSTEM, &history(2), "hello there", budget);
            assert_shape(&messages);
            assert_eq!(messages.len(), 2);
        }
        let messages = build_prompt(SYSTEM, &[], "hello", 0);
        assert_eq!(messages[1].content, "");
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop::string::string_regex("[a-z é日🦀.,!\n]{0,120}").unwrap()
    }

    proptest! {

        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_text_never_has_more_tokens_than_bytes(text in any::<String>()) {
            // build_prompt skips the tokenizer when the bytes fit, relying on this.
            prop_assert!(count_tokens(&text) <= text.len());
        }
        #[test]
        fn any_prompt_alternates_ends_with_the_question_and_fits(
            pairs in prop::collection::vec((arb_text(), arb_text()), 0..12),
            system in arb_text(),
            question in arb_text(),
            budget in 11usize..400,
        ) {
            let history: Vec<Turn> = pairs.iter().map(|(q, a)| turn(q, a)).collect();
            let messages = build_prompt(&system, &history, &question, budget);
            assert_shape(&messages);
            prop_assert!(prompt_tokens(&messages) <= budget);
            prop_assert!(question.starts_with(&messages[messages.len() - 1].content));
            prop_assert!(system.starts_with(&messages[0].content));
            // The history sent is a suffix of the stored one.
            let sent = (messages.len() - 2) / 2;
            for (i, t) in history[history.len() - sent..].iter().enumerate() {
                prop_assert_eq!(&messages[1 + 2 * i].content, &t.question);
                prop_assert_eq!(&messages[2 + 2 * i].content, &t.answer);
            }
        }
    }
}
