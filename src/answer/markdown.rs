//! Just enough Markdown structure for rendering: fenced code blocks and inline
//! code spans. Citation and mention rewriting leave code alone (`v[1]` in code
//! is an index, not a citation), and splitting keeps fences balanced.
//!
//! The rules follow CommonMark closely enough for model output: a fence is a
//! line whose first non-blank characters are three or more backticks or
//! tildes (a backtick fence's info string may not contain a backtick); it is
//! closed by a line holding only a run of the same character at least as long.
//! "Blank" here means any whitespace except `\n`, so that trimming whitespace
//! at a message edge can never turn a plain line into a fence.

use std::collections::HashMap;
use std::ops::Range;

/// A fenced code block, in byte offsets of the text it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FencedBlock {
    /// Start of the opening fence line.
    pub start: usize,
    /// Just after the opening line's `\n` (the text's end if it has none).
    pub content_start: usize,
    /// Start of the closing fence line; the text's end for an unclosed block.
    pub content_end: usize,
    /// Just after the closing line (and its `\n`, if any); the text's end for
    /// an unclosed block.
    pub end: usize,
    /// The fence run as written, e.g. "```" or "~~~~".
    pub fence: String,
    /// The info string, trimmed; its first word is the language.
    pub info: String,
    pub closed: bool,
}

/// Whitespace that may precede a fence on its line.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

/// Every fenced block of `text`, in order. The last one may be unclosed.
pub(crate) fn fenced_blocks(text: &str) -> Vec<FencedBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<FencedBlock> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_end = offset + line.len();
        let bare = line.strip_suffix('\n').unwrap_or(line);
        match open.take() {
            None => {
                open = opening_fence(bare).map(|(fence, info)| FencedBlock {
                    start: offset,
                    content_start: line_end,
                    content_end: text.len(),
                    end: text.len(),
                    fence,
                    info,
                    closed: false,
                });
            }
            Some(mut block) if is_closing_fence(bare, &block.fence) => {
                block.content_end = offset;
                block.end = line_end;
                block.closed = true;
                blocks.push(block);
            }
            Some(block) => open = Some(block),
        }
        offset = line_end;
    }
    blocks.extend(open);
    blocks
}

/// The fence run and trimmed info string if `line` opens a fenced block.
fn opening_fence(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start_matches(is_blank);
    let fence_char = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = rest.len() - rest.trim_start_matches(fence_char).len();
    if run < 3 {
        return None;
    }
    let info = rest[run..].trim();
    if fence_char == '`' && info.contains('`') {
        return None;
    }
    Some((rest[..run].to_string(), info.to_string()))
}

/// Whether `line` closes a block opened with `fence`.
fn is_closing_fence(line: &str, fence: &str) -> bool {
    let Some(fence_char) = fence.chars().next() else {
        return false;
    };
    let rest = line.trim_start_matches(is_blank);
    let after_run = rest.trim_start_matches(fence_char);
    rest.len() - after_run.len() >= fence.len() && after_run.trim().is_empty()
}

/// Byte ranges of inline code spans in `text[range]`: a run of n backticks
/// up to the next run of exactly n backticks. Unmatched runs are literal.
fn inline_code_spans(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let bytes = &text.as_bytes()[range.clone()];
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let len = bytes[i..].iter().take_while(|b| **b == b'`').count();
            runs.push((range.start + i, len));
            i += len;
        } else {
            i += 1;
        }
    }
    // next_same[k]: the next run with the same length as run k, found in one
    // backwards pass so that many unmatched runs stay linear.
    let mut next_same = vec![None; runs.len()];
    let mut last_seen: HashMap<usize, usize> = HashMap::new();
    for k in (0..runs.len()).rev() {
        next_same[k] = last_seen.insert(runs[k].1, k);
    }
    let mut k = 0;
    while k < runs.len() {
        match next_same[k] {
            Some(close) => {
                out.push(runs[k].0..runs[close].0 + runs[close].1);
                k = close + 1;
            }
            None => k += 1,
        }
    }
}

/// Closes the last fenced block of `text` if it is still open (a truncated
/// answer, or a stream mid-block), so whatever follows is not swallowed.
pub(crate) fn close_open_fence(text: &mut String) {
    if let Some(block) = fenced_blocks(text).pop().filter(|b| !b.closed) {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&block.fence);
    }
}

/// Inline code spans outside the given fenced blocks, in order. As in
/// CommonMark a span never crosses a blank line, so one stray backtick cannot
/// turn the rest of an answer into "code".
pub(crate) fn inline_code_outside(text: &str, blocks: &[FencedBlock]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut prev = 0;
    let gaps = blocks
        .iter()
        .map(|b| (b.start, b.end))
        .chain([(text.len(), text.len())]);
    for (gap_end, next) in gaps {
        for paragraph in paragraphs(text, prev..gap_end) {
            inline_code_spans(text, paragraph, &mut spans);
        }
        prev = next;
    }
    spans
}

/// `text[range]` cut at blank lines.
fn paragraphs(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let (mut start, mut at) = (range.start, range.start);
    for line in text[range.clone()].split_inclusive('\n') {
        let end = at + line.len();
        if line.trim().is_empty() {
            if start < at {
                found.push(start..at);
            }
            start = end;
        }
        at = end;
    }
    if start < range.end {
        found.push(start..range.end);
    }
    found
}

/// Every code region of `text` (fenced blocks and inline spans), in order.
pub(crate) fn code_regions(text: &str) -> Vec<Range<usize>> {
    let blocks = fenced_blocks(text);
    let mut regions: Vec<Range<usize>> = blocks.iter().map(|b| b.start..b.end).collect();
    regions.extend(inline_code_outside(text, &blocks));
    regions.sort_by_key(|r| r.start);
    regions
}

/// Rebuilds `text`, passing each stretch outside code through `rewrite` and
/// copying code verbatim.
pub(crate) fn rewrite_outside_code(
    text: &str,
    mut rewrite: impl FnMut(&str, &mut String),
) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut prev = 0;
    for region in code_regions(text) {
        rewrite(&text[prev..region.start], &mut out);
        out.push_str(&text[region.clone()]);
        prev = region.end;
    }
    rewrite(&text[prev..], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_closed_block_with_its_language() {
        let text = "intro\n```rust\nlet v = [1];\n```\nafter";
        let blocks = fenced_blocks(text);
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        assert_eq!(&text[b.start..b.content_start], "```rust\n");
        assert_eq!(&text[b.content_start..b.content_end], "let v = [1];\n");
        assert_eq!(&text[b.content_end..b.end], "```\n");
        assert_eq!(
            (b.fence.as_str(), b.info.as_str(), b.closed),
            ("```", "rust", true)
        );
    }

    #[test]
    fn a_shorter_or_different_fence_does_not_close_a_block() {
        let text = "````md\n```\n~~~~\n````";
        let blocks = fenced_blocks(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            &text[blocks[0].content_start..blocks[0].content_end],
            "```\n~~~~\n"
        );
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end() {
        let text = "a\n~~~\ncode";
        let blocks = fenced_blocks(text);
        assert_eq!(blocks.len(), 1);
        assert!(!blocks[0].closed);
        assert_eq!(blocks[0].content_end, text.len());
    }

    #[test]
    fn an_open_fence_is_closed_with_its_own_fence() {
        let mut text = String::from("x\n~~~~py\nprint(1)");
        close_open_fence(&mut text);
        assert_eq!(text, "x\n~~~~py\nprint(1)\n~~~~");
        close_open_fence(&mut text);
        assert_eq!(
            text, "x\n~~~~py\nprint(1)\n~~~~",
            "a closed block is left alone"
        );
    }

    #[test]
    fn a_backtick_fence_with_a_backtick_in_its_info_is_not_a_fence() {
        assert!(fenced_blocks("```a`b\ntext").is_empty());
        assert_eq!(code_regions("say ```x``` now"), vec![4..11]);
    }

    #[test]
    fn inline_code_needs_a_run_of_the_same_length() {
        let text = "a `x` b ``y`z`` c ` d";
        let spans: Vec<&str> = code_regions(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(spans, vec!["`x`", "``y`z``"]);
    }

    #[test]
    fn inline_code_does_not_cross_a_blank_line() {
        assert!(code_regions("a `b\n\nc` d").is_empty());
        assert_eq!(code_regions("a `b\nc` d"), vec![2..7]);
    }

    #[test]
    fn rewriting_skips_code() {
        let text = "[1] `[1]`\n```\n[1]\n```\n[1]";
        let out = rewrite_outside_code(text, |prose, out| out.push_str(&prose.replace("[1]", "X")));
        assert_eq!(out, "X `[1]`\n```\n[1]\n```\nX");
    }
}
