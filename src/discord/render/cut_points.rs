//! Where an answer may be cut, and how good each place is.
//!
//! Every position between two characters gets a [`Level`] (paragraph, line,
//! sentence, word, hard, unsafe, forbidden) and a [`Zone`] (plain text or the
//! inside of a fenced code block, where a cut costs a closing and a reopening
//! fence line). The splitter then only has to pick the best level that fits.
//! Positions are char indices, so nothing here can slice inside a UTF-8
//! sequence.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::char_class::{
    closes_sentence, ends_sentence, extends_grapheme, is_full_stop, is_regional_indicator, is_wide,
};
use crate::answer::markdown::{FencedBlock, fenced_blocks, inline_code_outside, is_blank};

/// How good a cut at a position is; higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    /// Would break a fence line or fake one; used only if nothing else fits.
    Forbidden,
    /// Inside a link, URL, inline code or a grapheme cluster.
    Unsafe,
    /// Any other char boundary.
    Hard,
    Word,
    Sentence,
    Line,
    Paragraph,
}

/// Whether a cut at a position lands inside a repaired code block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Zone {
    Text,
    /// Inside the content of `blocks[i]`.
    Code(usize),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    pub zone: Zone,
    pub level: Level,
}

/// A fenced block the splitter will close and reopen when it cuts inside.
#[derive(Debug)]
pub(super) struct RepairedBlock {
    /// The fence, e.g. "```", appended (after a `\n` if needed) to close it.
    pub fence: String,
    /// The line that reopens it: fence, info string, `\n`.
    pub reopen: String,
}

/// The answer as chars, with a cut level and zone for every position.
pub(super) struct Layout<'a> {
    pub text: &'a str,
    pub chars: Vec<char>,
    /// Byte offset of every char, plus `text.len()` at the end.
    pub offsets: Vec<usize>,
    /// One per position `0..=chars.len()`.
    pub points: Vec<Point>,
    pub blocks: Vec<RepairedBlock>,
}

impl<'a> Layout<'a> {
    pub fn new(text: &'a str, limit: usize) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let offsets: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let mut layout = Layout {
            text,
            points: classify_text(&chars),
            chars,
            offsets,
            blocks: Vec::new(),
        };
        let fenced = fenced_blocks(text);
        for block in &fenced {
            layout.mark_block(block, limit);
        }
        for span in protected_spans(text, &fenced) {
            let span = layout.char_range(span);
            layout.demote(span.start + 1..span.end);
        }
        layout.demote_grapheme_joints();
        layout
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    fn char_index(&self, byte: usize) -> usize {
        self.offsets.partition_point(|&o| o < byte)
    }

    fn char_range(&self, bytes: Range<usize>) -> Range<usize> {
        self.char_index(bytes.start)..self.char_index(bytes.end)
    }

    fn set(&mut self, positions: Range<usize>, zone: Zone, level: Level) {
        for point in &mut self.points[positions] {
            *point = Point { zone, level };
        }
    }

    fn demote(&mut self, positions: Range<usize>) {
        for point in self.points.get_mut(positions).unwrap_or_default() {
            point.level = point.level.min(Level::Unsafe);
        }
    }

    /// Registers `block` if `limit` leaves room to repair it, and marks its
    /// positions: fence lines are never cut, content is a code zone.
    fn mark_block(&mut self, block: &FencedBlock, limit: usize) {
        let [start, content_start, content_end, end] = [
            block.start,
            block.content_start,
            block.content_end,
            block.end,
        ]
        .map(|b| self.char_index(b));
        // Opening and closing lines, the longest close ("\n" + fence), and
        // one char of content: what a chunk around the block needs at least.
        let fixed = (content_start - start) + (end - content_end) + block.fence.len() + 1 + 1;
        let with_info = format!("{}{}\n", block.fence, block.info);
        let reopen = [with_info, format!("{}\n", block.fence)]
            .into_iter()
            .find(|reopen| fixed + reopen.chars().count() <= limit);
        let Some(reopen) = reopen else {
            return; // too big to repair at this limit: split it as plain text
        };
        let zone = Zone::Code(self.blocks.len());
        self.blocks.push(RepairedBlock {
            fence: block.fence.clone(),
            reopen,
        });
        self.points[start].level = Level::Paragraph;
        self.set(start + 1..content_start + 1, Zone::Text, Level::Forbidden);
        self.points[content_start].zone = zone;
        self.mark_content(content_start, content_end, zone, &block.fence);
        if block.closed {
            self.set(content_end..end, Zone::Text, Level::Forbidden);
            if end < self.len() {
                self.points[end].level = Level::Paragraph;
            }
        } else {
            self.points[content_end].zone = zone;
        }
    }

    /// Levels inside a block's content, one line at a time.
    fn mark_content(&mut self, from: usize, to: usize, zone: Zone, fence: &str) {
        let mut line_start = from;
        let mut previous_blank = false;
        while line_start < to {
            let line_end = (line_start..to)
                .find(|&i| self.chars[i] == '\n')
                .unwrap_or(to);
            if line_start > from {
                let level = if previous_blank {
                    Level::Paragraph
                } else {
                    Level::Line
                };
                self.points[line_start] = Point { zone, level };
            }
            for p in line_start + 1..=line_end.min(to.saturating_sub(1)) {
                let level = self.inline_level(p);
                self.points[p] = Point { zone, level };
            }
            for p in closer_like_cuts(&self.chars[line_start..line_end], fence) {
                self.points[line_start + p].level = Level::Forbidden;
            }
            previous_blank = self.chars[line_start..line_end]
                .iter()
                .all(|c| c.is_whitespace());
            line_start = line_end + 1;
        }
    }

    /// The level of a mid-line position inside code.
    fn inline_level(&self, p: usize) -> Level {
        let (prev, next) = (self.chars[p - 1], self.chars[p]);
        if prev.is_whitespace() && !next.is_whitespace() || is_wide(prev) && is_wide(next) {
            Level::Word
        } else {
            Level::Hard
        }
    }

    /// Splitting a grapheme cluster (emoji with modifiers or joiners, a letter
    /// and its accent, a flag, `\r\n`) is a last resort.
    fn demote_grapheme_joints(&mut self) {
        for p in 1..self.len() {
            let (prev, next) = (self.chars[p - 1], self.chars[p]);
            let joined = prev == '\u{200D}'
                || extends_grapheme(next)
                || is_regional_indicator(prev) && is_regional_indicator(next)
                || prev == '\r' && next == '\n';
            if joined {
                self.demote(p..p + 1);
            }
        }
    }
}

/// Levels for plain text; code blocks are overwritten afterwards.
fn classify_text(chars: &[char]) -> Vec<Point> {
    let n = chars.len();
    let runs = fence_runs(chars);
    // next_non_blank[p]: first index ≥ p on the same line that is not blank.
    let mut next_non_blank = vec![n; n + 1];
    for p in (0..n).rev() {
        next_non_blank[p] = if is_blank(chars[p]) {
            next_non_blank[p + 1]
        } else {
            p
        };
    }
    let fence_at = |i: usize| i < n && runs[i] >= 3;
    let mut points = vec![
        Point {
            zone: Zone::Text,
            level: Level::Hard
        };
        n + 1
    ];
    let mut cuttable_from = first_safe_cut(chars, &runs, next_non_blank[0]);
    let (mut line_blank, mut previous_blank, mut sentence_end) = (true, false, false);
    for p in 1..n {
        let (prev, next) = (chars[p - 1], chars[p]);
        if prev == '\n' {
            previous_blank = line_blank;
            line_blank = true;
            cuttable_from = first_safe_cut(chars, &runs, next_non_blank[p]);
        } else if !prev.is_whitespace() {
            line_blank = false;
            sentence_end = ends_sentence(prev) || closes_sentence(prev) && sentence_end;
        }
        points[p].level = if prev == '\n' {
            if previous_blank {
                Level::Paragraph
            } else {
                Level::Line
            }
        } else if p < cuttable_from || fence_at(next_non_blank[p]) {
            // A chunk edge here would leave a fence-like line in one chunk.
            Level::Forbidden
        } else if prev.is_whitespace() && !next.is_whitespace() {
            if sentence_end {
                Level::Sentence
            } else {
                Level::Word
            }
        } else if is_full_stop(prev) && !next.is_whitespace() {
            Level::Sentence
        } else if is_wide(prev) && is_wide(next) {
            Level::Word
        } else {
            Level::Hard
        };
    }
    points
}

/// For a line whose first non-blank char is at `first`: the first position at
/// which a cut leaves a head that is not a fence line. 0 for ordinary lines;
/// for "```a`b…" (no fence: a backtick in the info string) just after that
/// backtick; never (`usize::MAX`) for lines that open a fence.
fn first_safe_cut(chars: &[char], runs: &[usize], first: usize) -> usize {
    if runs.get(first).is_none_or(|&run| run < 3) {
        return 0;
    }
    let info = first + runs[first];
    let backtick = chars[info..]
        .iter()
        .take_while(|c| **c != '\n')
        .position(|c| *c == '`');
    match backtick {
        Some(i) if chars[first] == '`' => info + i + 1,
        _ => usize::MAX,
    }
}

/// runs[i]: how many identical backticks or tildes start at i.
fn fence_runs(chars: &[char]) -> Vec<usize> {
    let mut runs = vec![0; chars.len() + 1];
    for i in (0..chars.len()).rev() {
        if matches!(chars[i], '`' | '~') {
            runs[i] = if chars.get(i + 1) == Some(&chars[i]) {
                runs[i + 1] + 1
            } else {
                1
            };
        }
    }
    runs
}

/// Cut positions (relative to the line) inside a code line that would leave
/// a closing fence on either side of the cut.
fn closer_like_cuts(line: &[char], fence: &str) -> Vec<usize> {
    let fence_char = fence.chars().next().unwrap_or('`');
    let n = fence.len();
    let mut cuts = Vec::new();
    // Before the cut: blanks, then a run of at least n fence chars, then blanks.
    let first = line
        .iter()
        .position(|c| !is_blank(*c))
        .unwrap_or(line.len());
    let run = line[first..]
        .iter()
        .take_while(|c| **c == fence_char)
        .count();
    if run >= n {
        let after = first
            + run
            + line[first + run..]
                .iter()
                .take_while(|c| is_blank(**c))
                .count();
        cuts.extend(first + n..=after);
    }
    // After the cut: blanks, then a run of at least n fence chars, then blanks.
    let last = line
        .iter()
        .rposition(|c| !is_blank(*c))
        .map_or(0, |i| i + 1);
    let run = line[..last]
        .iter()
        .rev()
        .take_while(|c| **c == fence_char)
        .count();
    if run >= n {
        let before = last
            - run
            - line[..last - run]
                .iter()
                .rev()
                .take_while(|c| is_blank(**c))
                .count();
        cuts.extend(before..=last - n);
    }
    cuts.retain(|&p| p > 0 && p <= line.len());
    cuts
}

/// Spans a cut should not break: masked links, `<…>` links, bare URLs and
/// inline code, as byte ranges.
fn protected_spans(text: &str, blocks: &[FencedBlock]) -> Vec<Range<usize>> {
    static LINKS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"\[(?:\\.|[^\[\]\\\n])*\]\((?:<[^<>\n]*>|[^\s()]*)\)",
            r"|<(?:https?|mailto):[^<>\s]*>",
            r"|https?://[^\s<>]+",
        ))
        .expect("the link pattern is valid")
    });
    let mut spans: Vec<Range<usize>> = LINKS.find_iter(text).map(|m| m.range()).collect();
    spans.extend(inline_code_outside(text, blocks));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_at(text: &str, before: &str) -> Level {
        let layout = Layout::new(text, 2000);
        let byte = text.find(before).expect("marker in text");
        layout.points[layout.char_index(byte)].level
    }

    #[test]
    fn boundaries_are_ranked_paragraph_line_sentence_word() {
        let text = "One two. Three\nFour\n\nFive";
        assert_eq!(level_at(text, "two"), Level::Word);
        assert_eq!(level_at(text, "Three"), Level::Sentence);
        assert_eq!(level_at(text, "Four"), Level::Line);
        assert_eq!(level_at(text, "Five"), Level::Paragraph);
        assert_eq!(level_at(text, "ne"), Level::Hard);
    }

    #[test]
    fn cjk_full_stops_and_ideographs_are_boundaries() {
        let text = "今日は晴れ。明日は雨";
        assert_eq!(level_at(text, "明日"), Level::Sentence);
        assert_eq!(level_at(text, "日は晴"), Level::Word);
    }

    #[test]
    fn links_and_inline_code_are_not_cut_inside() {
        let text = "see [the docs](<https://x.org/a b>) and `a b` ok";
        assert_eq!(level_at(text, "docs]"), Level::Unsafe);
        assert_eq!(level_at(text, "b`"), Level::Unsafe);
        assert_eq!(level_at(text, "and"), Level::Word);
    }

    #[test]
    fn fence_lines_are_never_cut_and_code_is_a_zone() {
        let text = "a\n```rust\nlet x = 1;\n```\nb";
        let layout = Layout::new(text, 2000);
        let at = |s: &str| layout.points[layout.char_index(text.find(s).unwrap())];
        assert_eq!(at("```rust").level, Level::Paragraph);
        assert_eq!(at("rust").level, Level::Forbidden);
        assert_eq!(
            at("let").level,
            Level::Forbidden,
            "an empty code chunk is pointless"
        );
        assert_eq!(at("x =").zone, Zone::Code(0));
        assert_eq!(at("x =").level, Level::Word);
        assert_eq!(at("```\nb").level, Level::Forbidden);
        assert_eq!(at("b").level, Level::Paragraph);
        assert_eq!(layout.blocks[0].reopen, "```rust\n");
    }

    #[test]
    fn a_cut_may_not_leave_a_closing_fence_on_a_code_line() {
        let cuts = closer_like_cuts(&"``` x".chars().collect::<Vec<_>>(), "```");
        assert_eq!(cuts, vec![3, 4]);
        let cuts = closer_like_cuts(&"x ```".chars().collect::<Vec<_>>(), "```");
        assert_eq!(cuts, vec![1, 2]);
    }

    #[test]
    fn a_cut_may_not_start_a_chunk_with_a_fence_run() {
        assert_eq!(level_at("say ```x``` now", "```x"), Level::Forbidden);
    }

    #[test]
    fn a_fence_like_line_can_be_cut_after_its_info_backtick() {
        let text = "```a`b c d";
        assert_eq!(level_at(text, "a`"), Level::Forbidden);
        assert_eq!(level_at(text, "`b"), Level::Forbidden);
        assert_eq!(level_at(text, "b c"), Level::Hard);
        assert_eq!(level_at(text, "c d"), Level::Word);
    }

    #[test]
    fn blocks_too_large_for_the_limit_stay_plain_text() {
        let text = "```rust\nfn main() {}\n```";
        assert_eq!(Layout::new(text, 14).blocks.len(), 0);
        let small = Layout::new(text, 23);
        assert_eq!(
            small.blocks[0].reopen, "```\n",
            "the language is dropped first"
        );
    }

    #[test]
    fn emoji_sequences_are_kept_together() {
        let text = "👍🏽 👨‍👩‍👧";
        assert_eq!(level_at(text, "🏽"), Level::Unsafe);
        assert_eq!(level_at(text, "\u{200D}👩"), Level::Unsafe);
        assert_eq!(level_at(text, "👩"), Level::Unsafe);
    }
}
