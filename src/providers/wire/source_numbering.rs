//! Numbering web sources so that marker `[n]` in the answer is
//! `sources[n - 1]`.
//!
//! The Agent API's markers name the `id` of a search result, and ids need
//! not be 1..N (a capture cites `[7]` out of ten results; several searches
//! give several lists). Sources are numbered in the order results arrive
//! (each list sorted by id), so the common single search with ids 1..N keeps
//! its markers as they are, and any other numbering is rewritten. The
//! rewriter works on a stream too: it holds back a fragment that might be the
//! start of a marker (`[1` at the end of a delta) until the next one.

use std::collections::HashMap;

use crate::providers::types::Source;

/// Markers longer than this many digits are plain text.
const MAX_MARKER_DIGITS: usize = 4;

/// Search results collected by id, first one wins.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    sources: Vec<Source>,
    position_of_id: HashMap<u64, usize>,
}

impl SourceMap {
    /// Adds one list of `(id, source)`; ids already known are skipped.
    pub fn add_results(&mut self, mut results: Vec<(u64, Source)>) {
        results.sort_by_key(|(id, _)| *id);
        for (id, source) in results {
            if self.position_of_id.contains_key(&id) {
                continue;
            }
            self.sources.push(source);
            self.position_of_id.insert(id, self.sources.len());
        }
    }

    /// Adds a source without an id (an annotation), unless its URL is known.
    pub fn add_unnumbered(&mut self, source: Source) {
        if self.sources.iter().all(|known| known.url != source.url) {
            self.sources.push(source);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    pub fn sources(&self) -> Vec<Source> {
        self.sources.clone()
    }

    /// The marker number that replaces `[id]`, if the id is known.
    fn position(&self, id: u64) -> Option<usize> {
        self.position_of_id.get(&id).copied()
    }

    /// `text` with every known `[id]` replaced by its position.
    pub fn rewrite(&self, text: &str) -> String {
        let mut rewriter = MarkerRewriter::default();
        let mut out = rewriter.push(text, self);
        out.push_str(&rewriter.flush(self));
        out
    }
}

/// Streaming marker rewriting (see the module doc).
#[derive(Debug, Default)]
pub struct MarkerRewriter {
    held: String,
}

impl MarkerRewriter {
    /// Rewrites what can be rewritten now; may hold back a marker's start.
    pub fn push(&mut self, fragment: &str, sources: &SourceMap) -> String {
        self.held.push_str(fragment);
        let keep_from = partial_marker_start(&self.held);
        let rest = self.held.split_off(keep_from);
        let ready = std::mem::replace(&mut self.held, rest);
        rewrite_complete(&ready, sources)
    }

    /// Everything still held, at the end of the text.
    pub fn flush(&mut self, sources: &SourceMap) -> String {
        rewrite_complete(&std::mem::take(&mut self.held), sources)
    }
}

/// Where a trailing `[` or `[12` (an unfinished marker) starts, else the length.
fn partial_marker_start(text: &str) -> usize {
    let Some(open) = text.rfind('[') else {
        return text.len();
    };
    let tail = &text[open + 1..];
    let unfinished = tail.len() <= MAX_MARKER_DIGITS && tail.bytes().all(|b| b.is_ascii_digit());
    if unfinished { open } else { text.len() }
}

fn rewrite_complete(text: &str, sources: &SourceMap) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let closes = after.as_bytes().get(digits) == Some(&b']');
        let position = (closes && (1..=MAX_MARKER_DIGITS).contains(&digits))
            .then(|| after[..digits].parse::<u64>().ok())
            .flatten()
            .and_then(|id| sources.position(id));
        match position {
            Some(position) => {
                out.push_str(&format!("[{position}]"));
                rest = &after[digits + 1..];
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str) -> Source {
        Source {
            title: name.to_string(),
            url: format!("https://example.com/{name}"),
        }
    }

    fn map(ids: &[(u64, &str)]) -> SourceMap {
        let mut map = SourceMap::default();
        map.add_results(ids.iter().map(|(id, name)| (*id, source(name))).collect());
        map
    }

    #[test]
    fn ids_one_to_n_keep_their_markers() {
        let sources = map(&[(2, "b"), (1, "a")]);
        assert_eq!(sources.rewrite("x [1] y [2][1]"), "x [1] y [2][1]");
        assert_eq!(sources.sources()[0].title, "a");
    }

    #[test]
    fn sparse_ids_are_renumbered_to_match_the_source_list() {
        let sources = map(&[(1, "wiki"), (7, "typescript")]);
        assert_eq!(sources.rewrite("types.[7] and [1]"), "types.[2] and [1]");
        assert_eq!(sources.sources()[1].title, "typescript");
    }

    #[test]
    fn unknown_markers_and_lookalikes_stay_plain_text() {
        let sources = map(&[(3, "c")]);
        assert_eq!(
            sources.rewrite("[9] [x] [] [12345] a[3"),
            "[9] [x] [] [12345] a[3"
        );
    }

    #[test]
    fn a_later_search_never_renumbers_earlier_sources() {
        let mut sources = map(&[(5, "e")]);
        sources.add_results(vec![(1, source("a")), (5, source("dup"))]);
        assert_eq!(sources.rewrite("[5][1]"), "[1][2]");
        assert_eq!(sources.sources().len(), 2);
    }

    #[test]
    fn markers_split_across_deltas_are_rewritten_once_complete() {
        let sources = map(&[(1, "a"), (7, "b")]);
        let mut rewriter = MarkerRewriter::default();
        let mut out = String::new();
        for fragment in ["see [", "7", "] and [1", "]. Price [", "x] ok"] {
            out.push_str(&rewriter.push(fragment, &sources));
        }
        out.push_str(&rewriter.flush(&sources));
        assert_eq!(out, "see [2] and [1]. Price [x] ok");
    }

    #[test]
    fn multibyte_text_around_markers_is_kept_intact() {
        let sources = map(&[(4, "d")]);
        assert_eq!(sources.rewrite("é[4]ü「[4]」"), "é[1]ü「[1]」");
    }

    #[test]
    fn annotations_are_deduplicated_by_url() {
        let mut sources = SourceMap::default();
        sources.add_unnumbered(source("a"));
        sources.add_unnumbered(source("a"));
        sources.add_unnumbered(source("b"));
        assert_eq!(sources.sources().len(), 2);
    }
}
