//! Recognises OpenAI answers that admit they cannot browse or lack current
//! information, so failover (`failover.rs`) can re-ask Perplexity once.

use std::sync::LazyLock;

use regex::Regex;

static CANNOT_BROWSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(?:i\ )?(?:can(?:no|')t|am\ unable\ to|am\ not\ able\ to|don't\ have\ the\ ability\ to)\ (?:browse|access|search)\ (?:the\ )?(?:internet|web|real[-\ ]time|live|current)
        | \bdon't\ have\ (?:access\ to\ )?(?:real[-\ ]time|live|current|browsing|internet)\b
        | \bdo\ not\ have\ (?:access\ to\ )?(?:real[-\ ]time|live|current|browsing|internet)\b
        | \b(?:my\ )?(?:knowledge|training)\ (?:cut[-\ ]?off|cutoff)\b
        | \bas\ of\ my\ (?:last\ )?(?:knowledge|training)\ (?:update|cut)
        | \bi\ (?:can(?:no|')t|am\ unable\ to)\ (?:provide|give)\ (?:real[-\ ]time|live|current|up[-\ ]to[-\ ]date)\b
        ",
    )
    .expect("valid regex")
});

/// True when the answer says it cannot look things up or is out of date.
pub fn says_it_cannot_browse(answer: &str) -> bool {
    // Only the opening matters: a long answer that mentions cut-offs in passing is still an answer.
    let head: String = answer.chars().take(600).collect();
    CANNOT_BROWSE.is_match(&head.replace('’', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_usual_disclaimers() {
        for answer in [
            "I can't browse the internet, but generally...",
            "I’m sorry, I don’t have real-time data access.",
            "As of my last knowledge update in 2024, the CEO was...",
            "I do not have access to current weather information.",
            "I am unable to provide real-time stock prices.",
            "My knowledge cutoff is June 2024.",
        ] {
            assert!(says_it_cannot_browse(answer), "{answer}");
        }
    }

    #[test]
    fn ordinary_answers_are_kept() {
        for answer in [
            "Recursion is when a function calls itself.",
            "Here is a poem about the sea.",
            "You can browse the docs at docs.rs to find that crate.",
            "",
        ] {
            assert!(!says_it_cannot_browse(answer), "{answer}");
        }
    }
}
