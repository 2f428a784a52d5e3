//! `[Discord] ATTACH_LONG_ANSWERS_CHARS`: an answer longer than this is
//! sent as an `answer.md` file under a one-line lead, instead of a run of
//! 2000-character messages. The length counted is the rendered reply's
//! (sources and notes included), in characters, not bytes.

use super::render::render_reply;
use crate::chat::Outcome;

/// The file a long answer is sent as.
pub const ANSWER_FILE_NAME: &str = "answer.md";
/// The message the file comes with.
pub const LONG_ANSWER_LEAD: &str = "📄 That's a long answer, so here it is as a file.";

/// The file's bytes when `outcome` is an answer longer than `limit`
/// characters (`limit` 0: never).
pub fn as_file(outcome: &Outcome, limit: usize) -> Option<Vec<u8>> {
    let Outcome::Answer(answer) = outcome else {
        return None;
    };
    if limit == 0 {
        return None;
    }
    let rendered = render_reply(answer);
    // More than `limit` characters: the `limit + 1`-th exists.
    rendered
        .char_indices()
        .nth(limit)
        .is_some()
        .then(|| rendered.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Answer;
    use crate::providers::ProviderKind;

    fn answer(text: &str) -> Outcome {
        Outcome::Answer(Answer {
            text: text.into(),
            sources: Vec::new(),
            note: None,
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            reasons: Vec::new(),
        })
    }

    #[test]
    fn only_answers_past_the_limit_in_characters_become_files() {
        let text = "é".repeat(10);
        assert_eq!(as_file(&answer(&text), 10), None, "exactly the limit stays");
        assert_eq!(as_file(&answer(&text), 9), Some(text.clone().into_bytes()));
        assert_eq!(as_file(&answer(&text), 0), None, "0 = never");
        assert_eq!(as_file(&Outcome::Notice(text), 1), None);
    }

    #[test]
    fn the_lead_is_one_short_line() {
        assert!(!LONG_ANSWER_LEAD.contains('\n'));
        assert!(LONG_ANSWER_LEAD.chars().count() <= 80);
    }
}
