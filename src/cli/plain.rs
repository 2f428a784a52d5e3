//! Answers as plain text for the terminal frontends (`duet chat`, `duet
//! ask`): no Discord markup, reasoning traces stripped, then the note and
//! the numbered sources as `[1] Title <url>` lines.

use crate::answer::strip_reasoning;
use crate::chat::Answer;
use crate::providers::Source;

/// The answer's text, its note, then its sources, each block apart.
pub fn render_plain(answer: &Answer) -> String {
    let mut blocks = vec![strip_reasoning(&answer.text).trim().to_string()];
    blocks.extend(answer.note.clone());
    if !answer.sources.is_empty() {
        blocks.push(format_sources(&answer.sources).trim_end().to_string());
    }
    blocks.retain(|block| !block.is_empty());
    blocks.join("\n\n")
}

/// `[1] Title <url>` lines, numbered as the answer's `[n]` markers are.
pub fn format_sources(sources: &[Source]) -> String {
    sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            let title = source.title.trim();
            let title = if title.is_empty() {
                "(untitled)"
            } else {
                title
            };
            format!("[{}] {title} <{}>\n", i + 1, source.url.trim())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderKind;

    fn answer(text: &str, sources: Vec<Source>, note: Option<&str>) -> Answer {
        Answer {
            text: text.into(),
            sources,
            note: note.map(str::to_string),
            provider: ProviderKind::Perplexity,
            model: "m".into(),
            reasons: Vec::new(),
        }
    }

    fn source(title: &str, url: &str) -> Source {
        Source {
            title: title.into(),
            url: url.into(),
        }
    }

    #[test]
    fn sources_are_numbered_from_one() {
        let sources = vec![
            source("Alpha ", "https://a.example"),
            source("Beta", "https://b.example"),
        ];
        assert_eq!(
            format_sources(&sources),
            "[1] Alpha <https://a.example>\n[2] Beta <https://b.example>\n"
        );
    }

    #[test]
    fn a_plain_answer_has_no_discord_markup() {
        let rendered = render_plain(&answer(
            "<think>hmm</think>Rust 1.90 is out [1].",
            vec![source("Rust blog", "https://blog.rust-lang.org/")],
            Some("Web search is unavailable right now."),
        ));
        assert_eq!(
            rendered,
            "Rust 1.90 is out [1].\n\nWeb search is unavailable right now.\n\n[1] Rust blog <https://blog.rust-lang.org/>"
        );
        assert!(!rendered.contains("**") && !rendered.contains("](<"));
    }

    #[test]
    fn an_answer_without_sources_or_note_is_just_its_text() {
        assert_eq!(render_plain(&answer("  hi  ", Vec::new(), None)), "hi");
        assert_eq!(
            format_sources(&[source("  ", "https://x.example")]),
            "[1] (untitled) <https://x.example>\n"
        );
    }
}
