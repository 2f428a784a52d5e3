//! Scoring the router on a labelled set (`duet route --eval FILE`).
//!
//! A set is a text file with one `label<TAB>message` per line, `label` being
//! `web` (the message needs the web) or `chat`; blank lines and lines starting
//! with `#` are skipped. Each message is routed alone (no history).
//!
//! This scores the heuristic alone: an `undecided` decision counts as the
//! heuristic's fallback provider ([`Route::provider`]), and how many were
//! undecided is reported separately (those are the messages the chat model
//! would be offered the `search_web` tool for).

use std::fmt;

use super::{Outcome, Route, RouterConfig, route};
use crate::providers::ProviderKind;

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    /// 1-based line in the file.
    pub line: usize,
    pub expected: ProviderKind,
    pub text: String,
}

/// A line that is neither a comment nor `web|chat<TAB>message`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: expected `web<TAB>message` or `chat<TAB>message`, found {found:?}")]
pub struct BadLine {
    pub line: usize,
    pub found: String,
}

/// Reads a labelled set; every bad line is reported.
pub fn parse(text: &str) -> Result<Vec<Labelled>, Vec<BadLine>> {
    let mut set = Vec::new();
    let mut bad = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let parsed = raw.split_once('\t').and_then(|(label, message)| {
            let expected = match label.trim() {
                "web" => ProviderKind::Perplexity,
                "chat" => ProviderKind::OpenAi,
                _ => return None,
            };
            let text = message.trim();
            (!text.is_empty()).then(|| Labelled {
                line,
                expected,
                text: text.to_string(),
            })
        });
        match parsed {
            Some(labelled) => set.push(labelled),
            None => bad.push(BadLine {
                line,
                found: raw.chars().take(80).collect(),
            }),
        }
    }
    if bad.is_empty() { Ok(set) } else { Err(bad) }
}

/// A message the router got wrong.
#[derive(Debug, Clone)]
pub struct Miss {
    pub labelled: Labelled,
    pub route: Route,
}

/// The score of one set.
#[derive(Debug, Clone, Default)]
pub struct Score {
    pub total: usize,
    pub correct: usize,
    /// Decisions that were `undecided` (scored by their fallback provider).
    pub undecided: usize,
    /// `matrix[expected][predicted]`, index 0 = web, 1 = chat.
    pub matrix: [[usize; 2]; 2],
    pub misses: Vec<Miss>,
}

impl Score {
    /// Correct decisions as a percentage (0 for an empty set).
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.correct as f64 * 100.0 / self.total as f64
    }
}

fn index(provider: ProviderKind) -> usize {
    match provider {
        ProviderKind::Perplexity => 0,
        ProviderKind::OpenAi => 1,
    }
}

fn label(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Perplexity => "web",
        ProviderKind::OpenAi => "chat",
    }
}

/// Routes every message of `set` and scores the heuristic alone.
pub fn score(set: &[Labelled], config: &RouterConfig) -> Score {
    let mut score = Score::default();
    for labelled in set {
        let decision = route(&labelled.text, &[], config);
        score.total += 1;
        if decision.outcome == Outcome::Undecided {
            score.undecided += 1;
        }
        score.matrix[index(labelled.expected)][index(decision.provider)] += 1;
        if decision.provider == labelled.expected {
            score.correct += 1;
        } else {
            score.misses.push(Miss {
                labelled: labelled.clone(),
                route: decision,
            });
        }
    }
    score
}

impl fmt::Display for Score {
    /// Accuracy, the undecided count, the confusion matrix and every miss.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accuracy: {:.1}% ({} of {}, heuristic alone: undecided scored as its fallback)",
            self.accuracy(),
            self.correct,
            self.total
        )?;
        writeln!(
            f,
            "undecided: {} of {} (the chat model would be offered search_web)",
            self.undecided, self.total
        )?;
        writeln!(f, "confusion (rows expected, columns routed):")?;
        writeln!(f, "          web   chat")?;
        for (row, name) in ["web", "chat"].iter().enumerate() {
            writeln!(
                f,
                "  {name:<6} {:>5}  {:>5}",
                self.matrix[row][0], self.matrix[row][1]
            )?;
        }
        writeln!(f, "misses: {}", self.misses.len())?;
        for miss in &self.misses {
            writeln!(
                f,
                "  line {}: expected {}, got {}: {:?}",
                miss.labelled.line,
                label(miss.labelled.expected),
                miss.route,
                miss.labelled.text
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    #[test]
    fn comments_and_blank_lines_are_skipped_and_bad_lines_all_reported() {
        let set = parse("# c\n\nweb\tweather today\nchat\thi\n").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set[0].line, 3);
        assert_eq!(set[0].expected, ProviderKind::Perplexity);
        let bad = parse("web weather\nchat\thi\nmaybe\tx\n").unwrap_err();
        let lines: Vec<_> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn the_score_counts_misses_undecided_and_the_confusion_matrix() {
        let set =
            parse("web\tweather in paris today\nchat\twrite a poem\nweb\twhy is the sky blue?\n")
                .unwrap();
        let score = score(&set, &RouterConfig::new(Mode::Hybrid, 2026));
        assert_eq!((score.total, score.correct, score.undecided), (3, 2, 1));
        assert_eq!(score.matrix, [[1, 1], [0, 1]]);
        assert_eq!(score.misses.len(), 1);
        assert_eq!(score.misses[0].labelled.line, 3);
        let shown = score.to_string();
        assert!(shown.starts_with("accuracy: 66.7% (2 of 3"), "{shown}");
        assert!(
            shown.contains("line 3: expected web, got undecided (fallback openai)"),
            "{shown}"
        );
    }
}
