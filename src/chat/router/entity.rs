//! The named-entity rule (`ENTITY_DETECTION_MIN_WORDS`): a short question
//! about a named thing ("Who is Sam Altman?", "Did Messi play?") wants
//! current facts with sources.
//!
//! Exactly what counts:
//! - the rule is on when `ENTITY_DETECTION_MIN_WORDS` > 0, and the message has
//!   fewer whitespace-separated words than it;
//! - the message is a question: it ends with `?`, or starts with a question
//!   word (who, what, when, where, which, why, how, is, are, was, were, do,
//!   does, did, has, have, can, could, will, would, should, and their `'s`
//!   forms) or with "tell me about". "I like Star Wars" is a statement;
//! - a word that is not the first of a sentence has an uppercase letter and
//!   a lowercase letter or a digit (`Sam`, `OpenAI`, `iPhone`, `GPT-5`),
//!   starts with a letter, holds no code punctuation (`()[]{}<>=_/\:`), and is
//!   not a stop word: `I` and its contractions, days, months, greetings,
//!   question words and common programming and tech names (`Rust`, `Python`,
//!   `Vec`, `Linux`…), so coding questions stay in conversation. All-caps
//!   acronyms (`API`, `HTTP`) are technical terms, not entities.
//!
//! The entity reported is the run of such words ("Sam Altman"), joined by up
//! to two lowercase connectors ("Pride and Prejudice", "Lord of the Rings"),
//! ending at a comma, the end of a sentence or a possessive `'s` (dropped).

/// Inside a word, these make it code rather than a name.
const CODE_PUNCTUATION: [char; 13] = [
    '(', ')', '[', ']', '{', '}', '<', '>', '=', '_', '/', '\\', ':',
];

/// Lowercase words that may join the parts of one name ("Bank of America").
const CONNECTORS: &[&str] = &["of", "and", "the", "de", "la", "von", "van", "da", "del"];

/// First words that make a message a question.
const QUESTION_WORDS: &[&str] = &[
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is", "are", "was",
    "were", "do", "does", "did", "has", "have", "can", "could", "will", "would", "should", "who's",
    "what's", "whats", "where's", "when's", "how's", "who’s", "what’s",
];

/// Capitalised words that do not name an entity.
const STOP_WORDS: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "i’m",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "hello",
    "hi",
    "hey",
    "please",
    "thanks",
    "ok",
    "okay",
    "what",
    "who",
    "how",
    "why",
    "when",
    "where",
    "which",
    "is",
    "are",
    "the",
    "a",
    "an",
    "rust",
    "python",
    "javascript",
    "typescript",
    "java",
    "kotlin",
    "swift",
    "golang",
    "go",
    "ruby",
    "haskell",
    "scala",
    "elixir",
    "erlang",
    "lua",
    "perl",
    "php",
    "linux",
    "windows",
    "macos",
    "unix",
    "git",
    "docker",
    "kubernetes",
    "vec",
    "string",
    "option",
    "result",
    "hashmap",
    "vector",
    "tokio",
    "serde",
    "react",
    "vue",
    "angular",
    "node",
    "npm",
    "cargo",
    "postgres",
    "postgresql",
    "mysql",
    "sqlite",
    "bash",
    "excel",
    "english",
];

/// The entity a short question asks about, if the rule applies (see module doc).
/// `text` is the message without markup; `lower` is `text` lowercased.
pub(super) fn named_entity(text: &str, lower: &str, min_words: usize) -> Option<String> {
    if min_words == 0 || text.split_whitespace().count() >= min_words || !is_question(lower) {
        return None;
    }
    let mut run: Vec<&str> = Vec::new();
    // Connectors after the run, kept only if another name follows them.
    let mut pending: Vec<&str> = Vec::new();
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word = core(raw);
        let mut run_ends = raw.ends_with([',', ')']);
        if !sentence_start && is_entity_word(word) {
            let name = possessive_stripped(word);
            run_ends |= name.len() < word.len();
            run.append(&mut pending);
            run.push(name);
        } else if !run.is_empty() && pending.len() < 2 && CONNECTORS.contains(&word) {
            pending.push(word);
        } else if !run.is_empty() {
            break;
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':', ';']);
        if !run.is_empty() && (run_ends || sentence_start) {
            break;
        }
    }
    (!run.is_empty()).then(|| run.join(" "))
}

pub(super) fn is_question(lower: &str) -> bool {
    let trimmed = lower.trim_end();
    if trimmed.ends_with('?') || trimmed.starts_with("tell me about") {
        return true;
    }
    let first = trimmed
        .split_whitespace()
        .next()
        .map(core)
        .unwrap_or_default();
    QUESTION_WORDS.contains(&first)
}

fn is_entity_word(word: &str) -> bool {
    let starts_with_letter = word.chars().next().is_some_and(char::is_alphabetic);
    let has_upper = word.chars().any(char::is_uppercase);
    let has_lower_or_digit = word.chars().any(|c| c.is_lowercase() || c.is_ascii_digit());
    let code_like = word.contains(CODE_PUNCTUATION);
    let bare = possessive_stripped(word);
    starts_with_letter
        && has_upper
        && has_lower_or_digit
        && !code_like
        && !STOP_WORDS
            .iter()
            .any(|stop| stop.eq_ignore_ascii_case(bare))
}

/// The word without the punctuation around it (inner punctuation stays).
fn core(raw: &str) -> &str {
    raw.trim_matches(|c: char| !c.is_alphanumeric())
}

fn possessive_stripped(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(text: &str, min_words: usize) -> Option<String> {
        named_entity(text, &text.to_lowercase(), min_words)
    }

    #[test]
    fn a_short_question_about_a_person_names_them() {
        assert_eq!(
            entity("Who is Sam Altman?", 10).as_deref(),
            Some("Sam Altman")
        );
        assert_eq!(
            entity("hello, who is Sam Altman", 10).as_deref(),
            None,
            "no ? and no question word first"
        );
        assert_eq!(
            entity("so who is Sam Altman?", 10).as_deref(),
            Some("Sam Altman")
        );
    }

    #[test]
    fn possessives_products_and_mixed_case_names_count() {
        assert_eq!(
            entity("What is Anthropic's newest model?", 10).as_deref(),
            Some("Anthropic")
        );
        assert_eq!(
            entity("how good is the iPhone camera", 10).as_deref(),
            Some("iPhone")
        );
        assert_eq!(entity("what is GPT-5?", 10).as_deref(), Some("GPT-5"));
        assert_eq!(
            entity("tell me about OpenAI", 10).as_deref(),
            Some("OpenAI")
        );
    }

    #[test]
    fn statements_concepts_and_acronyms_are_not_entity_questions() {
        for text in [
            "I like Star Wars",
            "What is recursion?",
            "What is an API?",
            "How do I sort a Vec in Rust?",
            "What should I do on Monday?",
            "Is HashMap::new() allocating?",
            "What?",
        ] {
            assert_eq!(entity(text, 10), None, "{text}");
        }
    }

    #[test]
    fn names_may_span_connectors_and_end_at_punctuation() {
        assert_eq!(
            entity("Who wrote Pride and Prejudice?", 10).as_deref(),
            Some("Pride and Prejudice")
        );
        assert_eq!(
            entity("is Bank of America open", 10).as_deref(),
            Some("Bank of America")
        );
        assert_eq!(
            entity("did Sam Altman and the board agree?", 10).as_deref(),
            Some("Sam Altman")
        );
        assert_eq!(
            entity("is Anthropic's Claude good?", 10).as_deref(),
            Some("Anthropic")
        );
        assert_eq!(
            entity("was Paris, France nice?", 10).as_deref(),
            Some("Paris")
        );
    }

    #[test]
    fn the_first_word_of_a_sentence_is_not_an_entity() {
        assert_eq!(entity("Paris is nice. Is it?", 10), None);
        assert_eq!(
            entity("Fine. Who founded Tesla?", 10).as_deref(),
            Some("Tesla")
        );
    }

    #[test]
    fn questions_with_as_many_words_as_the_minimum_are_left_alone() {
        let text = "Who is Sam Altman and why is he famous?"; // 9 words
        assert_eq!(entity(text, 10).as_deref(), Some("Sam Altman"));
        assert_eq!(entity(text, 9), None);
    }

    #[test]
    fn zero_disables_the_rule() {
        assert_eq!(entity("Who is Sam Altman?", 0), None);
    }
}
