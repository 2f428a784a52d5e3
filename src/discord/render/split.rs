//! Splitting a rendered answer into Discord messages.
//!
//! The splitter is greedy: each chunk takes as much text as fits, ending at
//! the best boundary available (paragraph, then line, then sentence, then
//! word, then any char boundary). A strong boundary is only preferred over a
//! weaker one if it still fills at least half the chunk, so a short first
//! paragraph does not cost an extra message.

use super::cut_points::{Layout, Level, Zone};

/// Discord's message content limit, in Unicode code points (`chars()`).
pub const DISCORD_MESSAGE_LIMIT: usize = 2000;

/// Boundaries worth preferring, best first.
const PREFERRED: [Level; 4] = [Level::Paragraph, Level::Line, Level::Sentence, Level::Word];

/// Splits `text` into chunks of at most `limit` chars (code points, as
/// Discord counts them).
///
/// Splits on paragraph, then line, then sentence, then word boundaries; a
/// single over-long word is cut on a char boundary as a last resort. Links,
/// `<url>`s, inline code and emoji sequences are only cut if nothing else fits.
///
/// Exactly what comes out, so that it can be checked:
/// - Each chunk is `[reopen] body [close]`, where the bodies are consecutive
///   slices of `text`.
/// - Between two bodies (and before the first, after the last) the only text
///   left out is the whitespace at the cut, outside code blocks — Discord trims
///   it from a message's edges anyway. Inside a code block nothing is left out:
///   a cut there keeps indentation and blank lines.
/// - A chunk that ends inside a fenced block (```` ``` ```` or `~~~`) gets the
///   block's fence appended (after a `\n` unless the body ends with one); the
///   next chunk starts with a reopen line: the fence, the same info string
///   (language) and `\n`. An unclosed block at the end is closed the same way.
/// - No chunk is empty or whitespace-only, every chunk is at most `limit`
///   chars including the added fence lines, and empty or whitespace-only
///   `text` gives no chunks. A `limit` of 0 is treated as 1.
///
/// Fences stay balanced in every chunk when `limit` leaves room for each
/// block's opening and closing lines, a reopen line, a closing fence and one
/// more char, and for each line that starts like a fence without being one
/// (```` ```a`b ````) as a whole — true at 2000 unless such a line is absurdly
/// long. A block without that room (the language is dropped from the reopen
/// line first) is split as plain text.
pub fn split_for_discord(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let layout = Layout::new(text, limit);
    let mut chunks = Vec::new();
    let mut start = skip_gap(&layout, 0);
    while start < layout.len() {
        let end = choose_cut(&layout, start, limit);
        chunks.push(render_chunk(&layout, start, end));
        start = match layout.points[end].zone {
            Zone::Code(_) => end,
            Zone::Text => skip_gap(&layout, end),
        };
    }
    chunks
}

/// The first non-whitespace position at or after `p`.
fn skip_gap(layout: &Layout, p: usize) -> usize {
    (p..layout.len())
        .find(|&i| !layout.chars[i].is_whitespace())
        .unwrap_or(layout.len())
}

fn reopen_len(layout: &Layout, start: usize) -> usize {
    match layout.points[start].zone {
        Zone::Code(b) => layout.blocks[b].reopen.chars().count(),
        Zone::Text => 0,
    }
}

/// The closing fence a chunk ending at `end` needs, if it ends inside code.
fn close_for(layout: &Layout, end: usize) -> Option<String> {
    let Zone::Code(b) = layout.points[end].zone else {
        return None;
    };
    let fence = &layout.blocks[b].fence;
    Some(if layout.chars[end - 1] == '\n' {
        fence.clone()
    } else {
        format!("\n{fence}")
    })
}

/// The length of [`close_for`], without building it.
fn close_len(layout: &Layout, end: usize) -> Option<usize> {
    let Zone::Code(b) = layout.points[end].zone else {
        return None;
    };
    Some(layout.blocks[b].fence.len() + usize::from(layout.chars[end - 1] != '\n'))
}

/// The end of the chunk starting at `start`: all the rest if it fits, else the
/// best boundary that fits.
fn choose_cut(layout: &Layout, start: usize, limit: usize) -> usize {
    let budget = limit.saturating_sub(reopen_len(layout, start));
    let mut best: [Option<usize>; 7] = [None; 7];
    let mut content_end = start;
    for p in start + 1..=layout.len() {
        if !layout.chars[p - 1].is_whitespace() {
            content_end = p;
        }
        if content_end - start > budget {
            break; // no later end can be shorter
        }
        let len = match close_len(layout, p) {
            Some(close) => p - start + close,
            None => content_end - start,
        };
        if len > budget || content_end == start {
            continue;
        }
        if p == layout.len() {
            return p;
        }
        best[layout.points[p].level as usize] = Some(p);
    }
    pick(&best, start, budget / 2)
}

/// The strongest boundary that fills at least half the chunk; else the
/// strongest at all; else the latest hard, unsafe or forbidden cut.
fn pick(best: &[Option<usize>; 7], start: usize, half: usize) -> usize {
    let at = |level: Level| best[level as usize];
    PREFERRED
        .iter()
        .find_map(|&level| at(level).filter(|&p| p - start >= half))
        .or_else(|| PREFERRED.iter().find_map(|&level| at(level)))
        .or_else(|| at(Level::Hard))
        .or_else(|| at(Level::Unsafe))
        .or_else(|| at(Level::Forbidden))
        .unwrap_or(start + 1)
}

fn render_chunk(layout: &Layout, start: usize, end: usize) -> String {
    let close = close_for(layout, end);
    let body_end = if close.is_some() {
        end
    } else {
        (start..end)
            .rev()
            .find(|&i| !layout.chars[i].is_whitespace())
            .map_or(start, |i| i + 1)
    };
    let mut chunk = String::new();
    if let Zone::Code(b) = layout.points[start].zone {
        chunk.push_str(&layout.blocks[b].reopen);
    }
    chunk.push_str(&layout.text[layout.offsets[start]..layout.offsets[body_end]]);
    chunk.push_str(close.as_deref().unwrap_or(""));
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(chunks: &[String]) -> Vec<usize> {
        chunks.iter().map(|c| c.chars().count()).collect()
    }

    #[test]
    fn exactly_the_limit_is_one_chunk_and_one_more_is_two() {
        let text = "é".repeat(DISCORD_MESSAGE_LIMIT);
        assert_eq!(
            split_for_discord(&text, DISCORD_MESSAGE_LIMIT),
            vec![text.clone()]
        );
        let longer = format!("{text}é");
        let chunks = split_for_discord(&longer, DISCORD_MESSAGE_LIMIT);
        assert_eq!(lengths(&chunks), vec![2000, 1]);
        assert_eq!(chunks.concat(), longer);
    }

    #[test]
    fn words_at_the_limit_split_between_words() {
        let text = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
        assert_eq!(text.chars().count(), 2001);
        let chunks = split_for_discord(&text, DISCORD_MESSAGE_LIMIT);
        assert_eq!(chunks, vec!["a".repeat(1000), "b".repeat(1000)]);
    }

    #[test]
    fn empty_and_whitespace_input_give_no_chunks() {
        assert!(split_for_discord("", DISCORD_MESSAGE_LIMIT).is_empty());
        assert!(split_for_discord(" \n\t\n ", DISCORD_MESSAGE_LIMIT).is_empty());
    }

    #[test]
    fn a_zero_limit_is_treated_as_one() {
        assert_eq!(split_for_discord("ab", 0), vec!["a", "b"]);
    }

    #[test]
    fn prefers_a_paragraph_break_that_fills_half_the_chunk() {
        let text = "First paragraph here.\n\nSecond one. It goes on and on.";
        let chunks = split_for_discord(text, 40);
        assert_eq!(
            chunks,
            vec!["First paragraph here.", "Second one. It goes on and on."]
        );
    }

    #[test]
    fn a_short_first_paragraph_does_not_cost_a_message() {
        let text = "Hi.\n\nThis is a sentence. This is another one here.";
        let chunks = split_for_discord(text, 30);
        assert_eq!(chunks[0], "Hi.\n\nThis is a sentence.");
    }

    #[test]
    fn a_five_thousand_char_answer_with_a_long_rust_block_keeps_it_fenced() {
        let line = "    let value = compute(index, &table); // keep going\n";
        let code: String = line.repeat(92);
        let text = format!("Here is the code:\n\n```rust\n{code}```\n\nThat is all.");
        assert!((5000..5100).contains(&text.chars().count()));
        let chunks = split_for_discord(&text, DISCORD_MESSAGE_LIMIT);
        assert!(chunks.len() >= 3);
        for chunk in &chunks {
            assert!(chunk.chars().count() <= DISCORD_MESSAGE_LIMIT);
            assert_eq!(chunk.matches("```").count() % 2, 0, "unbalanced: {chunk:?}");
        }
        assert!(chunks[1].starts_with("```rust\n    let value"));
        assert!(chunks[0].ends_with("// keep going\n```"));
        assert!(chunks.last().unwrap().ends_with("That is all."));
    }

    #[test]
    fn an_unclosed_block_is_closed() {
        assert_eq!(
            split_for_discord("x\n```py\nprint(1)", 100),
            vec!["x\n```py\nprint(1)\n```"]
        );
    }

    #[test]
    fn a_cut_never_leaves_a_closing_fence_at_the_start_of_a_chunk() {
        let text = format!("```\n{} ```\nbbbbbbbbbb\n```", "a".repeat(20));
        let chunks = split_for_discord(&text, 30);
        assert_eq!(chunks[0], format!("```\n{} `\n```", "a".repeat(20)));
        assert_eq!(chunks[1], "```\n``\nbbbbbbbbbb\n```");
    }

    #[test]
    fn a_cut_never_leaves_a_closing_fence_at_the_end_of_a_chunk() {
        let text = format!("```\n``` {}\n```", "a".repeat(20));
        let chunks = split_for_discord(&text, 16);
        assert_eq!(chunks[0], "```\n``` aaaa\n```");
    }

    #[test]
    fn a_cut_never_turns_inline_backticks_into_a_fence() {
        let text = "Use ```rust_and_a_very_long_identifier_here ok";
        let chunks = split_for_discord(text, 30);
        assert_eq!(chunks[0], "Use ```rust_and_a_very_long_id");
    }

    #[test]
    fn a_fence_like_line_longer_than_the_limit_is_still_split_within_it() {
        let text = format!("```a {} ```a", "b".repeat(80));
        let chunks = split_for_discord(&text, 64);
        assert!(chunks.iter().all(|c| c.chars().count() <= 64));
        assert_eq!(chunks.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_single_huge_word_is_cut_on_char_boundaries() {
        let text = "🦀".repeat(45);
        let chunks = split_for_discord(&text, 20);
        assert_eq!(lengths(&chunks), vec![20, 20, 5]);
    }

    #[test]
    fn a_masked_link_is_moved_whole_to_the_next_chunk() {
        let text = "Read this: [the official guide](<https://example.com/guide>) today";
        let chunks = split_for_discord(text, 50);
        assert_eq!(chunks[0], "Read this:");
        assert!(chunks[1].starts_with("[the official guide](<https://example.com/guide>)"));
    }
}
