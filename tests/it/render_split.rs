//! Property tests for `split_for_discord`, checked against an independent
//! model of its documented contract:
//! - every chunk is at most `limit` chars and not whitespace-only;
//! - removing the added fence lines (a reopen line at the start of a chunk
//!   that starts inside a code block, a closing fence at the end of one that
//!   ends inside) leaves bodies that, joined with the whitespace dropped at
//!   text-zone cut points, are exactly the input — and nothing is dropped
//!   inside code blocks;
//! - every chunk has balanced fences (for realistic fences and limits).

use std::ops::Range;

use duet::discord::render::{DISCORD_MESSAGE_LIMIT, split_for_discord};
use proptest::prelude::*;
use proptest::sample::select;

/// A fenced block as the contract defines it, in byte offsets.
#[derive(Debug, Clone)]
struct Block {
    content_start: usize,
    content_end: usize,
    closed: bool,
    fence: String,
    /// The reopen line the splitter must use, if it repairs this block.
    reopen: Option<String>,
}

fn blank(c: char) -> bool {
    c.is_whitespace() && c != '\n'
}

fn fence_run(line: &str) -> Option<(char, usize, &str)> {
    let rest = line.trim_start_matches(blank);
    let c = rest.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let after = rest.trim_start_matches(c);
    Some((c, rest.len() - after.len(), after))
}

/// Fenced blocks per the contract; `limit` decides which get repaired.
fn blocks(text: &str, limit: Option<usize>) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(usize, usize, String, String)> = None; // start, content_start, fence, info
    let mut at = 0;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
        let line = text[at..end].strip_suffix('\n').unwrap_or(&text[at..end]);
        match (&open, fence_run(line)) {
            (None, Some((c, n, info))) if n >= 3 && !(c == '`' && info.contains('`')) => {
                open = Some((at, end, c.to_string().repeat(n), info.trim().to_string()));
            }
            (Some((start, content_start, fence, info)), Some((c, n, after)))
                if fence.starts_with(c) && n >= fence.len() && after.trim().is_empty() =>
            {
                found.push(block(
                    text,
                    *start,
                    *content_start,
                    at,
                    end,
                    fence,
                    info,
                    true,
                    limit,
                ));
                open = None;
            }
            _ => {}
        }
        at = end;
    }
    if let Some((start, content_start, fence, info)) = open {
        let len = text.len();
        found.push(block(
            text,
            start,
            content_start,
            len,
            len,
            &fence,
            &info,
            false,
            limit,
        ));
    }
    found
}

#[expect(
    clippy::too_many_arguments,
    reason = "a plain record constructor for the test model"
)]
fn block(
    text: &str,
    start: usize,
    content_start: usize,
    content_end: usize,
    end: usize,
    fence: &str,
    info: &str,
    closed: bool,
    limit: Option<usize>,
) -> Block {
    let chars = |r: Range<usize>| text[r].chars().count();
    let fixed = chars(start..content_start) + chars(content_end..end) + fence.len() + 2;
    let reopen = limit.and_then(|limit| {
        [format!("{fence}{info}\n"), format!("{fence}\n")]
            .into_iter()
            .find(|r| fixed + r.chars().count() <= limit)
    });
    Block {
        content_start,
        content_end,
        closed,
        fence: fence.to_string(),
        reopen,
    }
}

/// The longest line outside code that starts like a backtick fence without
/// being one (```` ```a`b ````). A chunk can only keep it from opening a fence
/// if the whole line fits.
fn longest_fake_fence_line(text: &str, model: &[Block]) -> usize {
    let mut longest = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let in_code = model
            .iter()
            .any(|b| b.content_start <= at && at < b.content_end);
        let fake = matches!(fence_run(line), Some(('`', n, info)) if n >= 3 && info.contains('`'));
        if fake && !in_code {
            longest = longest.max(line.trim_end().chars().count());
        }
        at += line.len();
    }
    longest
}

/// The repaired block whose content holds a cut at `pos`.
fn inside(blocks: &[Block], pos: usize, len: usize) -> Option<&Block> {
    blocks
        .iter()
        .filter(|b| b.reopen.is_some())
        .find(|b| b.content_start <= pos && (pos < b.content_end || !b.closed && pos <= len))
}

/// Finds the body range of every chunk, or None if the chunks do not follow
/// the contract. Depth-first, because a chunk ending in a fence can in
/// principle be read two ways.
fn bodies(
    input: &str,
    chunks: &[String],
    blocks: &[Block],
    pos: usize,
) -> Option<Vec<Range<usize>>> {
    let len = input.len();
    let Some(chunk) = chunks.first() else {
        let rest_is_gap =
            input[pos..].trim().is_empty() && (pos == len || inside(blocks, pos, len).is_none());
        return rest_is_gap.then(Vec::new);
    };
    let (start, rest) = match inside(blocks, pos, len) {
        Some(b) if pos < len => (pos, chunk.strip_prefix(b.reopen.as_deref()?)?),
        _ => (
            pos + (input[pos..].len() - input[pos..].trim_start().len()),
            chunk.as_str(),
        ),
    };
    let mut ends = Vec::new();
    // Read one: the chunk ends in plain text, trailing whitespace trimmed.
    if !rest.is_empty()
        && !rest.ends_with(char::is_whitespace)
        && inside(blocks, start + rest.len(), len).is_none()
    {
        ends.push(start + rest.len());
    }
    // Read two: it ends inside a block, with that block's fence appended.
    for b in blocks.iter().filter(|b| b.reopen.is_some()) {
        for (close, body_ends_with_newline) in
            [(format!("\n{}", b.fence), false), (b.fence.clone(), true)]
        {
            let Some(body) = rest.strip_suffix(close.as_str()) else {
                continue;
            };
            let end = start + body.len();
            let same_block =
                inside(blocks, end, len).is_some_and(|x| x.content_start == b.content_start);
            if !body.is_empty() && body.ends_with('\n') == body_ends_with_newline && same_block {
                ends.push(end);
            }
        }
    }
    for end in ends {
        if input.get(start..end) != Some(&rest[..end - start]) {
            continue;
        }
        if let Some(mut tail) = bodies(input, &chunks[1..], blocks, end) {
            tail.insert(0, start..end);
            return Some(tail);
        }
    }
    None
}

fn check_split(input: &str, limit: usize, expect_balanced: bool) -> Result<(), TestCaseError> {
    let chunks = split_for_discord(input, limit);
    let model = blocks(input, Some(limit.max(1)));
    // The contract only promises balance when the limit has room for every
    // block's fence lines and for every fence-like line as a whole.
    let balanced = expect_balanced
        && model.iter().all(|b| b.reopen.is_some())
        && longest_fake_fence_line(input, &model) <= limit;
    for chunk in &chunks {
        prop_assert!(
            chunk.chars().count() <= limit.max(1),
            "chunk over {limit}: {chunk:?}"
        );
        prop_assert!(!chunk.trim().is_empty(), "empty chunk in {chunks:?}");
        if balanced {
            prop_assert!(
                blocks(chunk, None).iter().all(|b| b.closed),
                "unbalanced fences: {chunk:?}"
            );
        }
    }
    let ranges = bodies(input, &chunks, &model, 0);
    prop_assert!(
        ranges.is_some(),
        "chunks do not match the contract:\n{chunks:#?}"
    );
    let mut rebuilt = String::new();
    let mut prev = 0;
    for range in ranges.unwrap_or_default() {
        let gap = &input[prev..range.start];
        prop_assert!(gap.trim().is_empty(), "dropped text {gap:?}");
        prop_assert!(
            gap.is_empty() || inside(&model, prev, input.len()).is_none(),
            "dropped code {gap:?}"
        );
        rebuilt.push_str(gap);
        rebuilt.push_str(&input[range.clone()]);
        prev = range.end;
    }
    rebuilt.push_str(&input[prev..]);
    prop_assert_eq!(rebuilt, input);
    Ok(())
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{1,10}",
        2 => "[A-Z][a-z]{0,8}",
        1 => "[0-9]{1,4}",
        2 => select(vec!["🦀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "é", "naïve", "Zürich", "ß", "Ω"]).prop_map(String::from),
        2 => "[\u{4e00}-\u{4e80}\u{3041}-\u{3090}]{1,8}",
        1 => "[a-z]{20,120}",
        1 => "\\[[a-z ]{1,20}\\]\\(<https://example\\.com/[a-z]{1,30}>\\)",
        1 => "<https://docs\\.rs/[a-z/]{1,40}>",
        1 => "`[a-z \\[\\]0-9]{1,15}`",
        1 => "\\[[1-9]\\]",
        1 => "(```|~~~)[a-z_]{1,30}",
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    select(vec![
        " ", " ", " ", " ", ", ", ". ", "! ", "? ", "\n", "\n\n", "。", "  ", "\n- ", ".\n\n",
    ])
}

fn prose() -> impl Strategy<Value = String> {
    prop::collection::vec((word(), separator()), 0..120)
        .prop_map(|parts| parts.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

fn code_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "    let [a-z]{1,8} = v\\[[0-9]{1,2}\\];",
        3 => "[a-z (){};=]{0,80}",
        2 => Just(String::new()),
        1 => Just("```python".to_string()),
        1 => Just("~~~x".to_string()),
        1 => Just("  // 🦀 日本語のコメント".to_string()),
        1 => "[A-Za-z0-9]{100,300}",
        1 => "[ ]{0,2}(```|~~~)[ a-z]{0,30}",
        1 => "[a-z ]{0,30}(```|~~~)[ ]{0,2}",
        1 => "```[a-z]{1,5}`[a-z ]{0,40}",
    ]
}

fn code_block() -> impl Strategy<Value = String> {
    (
        select(vec!["```", "```", "~~~", "````"]),
        select(vec!["", "rust", "py", "c++", "json"]),
        select(vec!["", "  "]),
        prop::collection::vec(code_line(), 0..40),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(fence, lang, indent, lines, closed)| {
            let mut block = format!("{indent}{fence}{lang}\n");
            for line in lines {
                block.push_str(&line);
                block.push('\n');
            }
            if closed {
                block.push_str(&format!("{indent}{fence}"));
            }
            block
        })
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![3 => prose(), 2 => code_block()], 0..6)
        .prop_map(|parts| parts.join("\n\n"))
}

fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 64usize..=400, 1 => Just(DISCORD_MESSAGE_LIMIT)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn answers_split_within_the_limit_and_rejoin_exactly(text in document(), limit in limit()) {
        check_split(&text, limit, true)?;
    }

    #[test]
    fn any_text_at_any_limit_splits_without_loss(
        chars in prop::collection::vec(
            prop_oneof![
                4 => any::<char>(),
                2 => select(vec![' ', '\n', '`', '~', '[', ']', '.', '\u{200D}', '\u{FE0F}', '🦀']),
            ],
            0..400,
        ),
        limit in 0usize..=120,
    ) {
        let text: String = chars.into_iter().collect();
        check_split(&text, limit, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_twenty_thousand_char_code_block_is_fenced_in_every_chunk(
        lines in prop::collection::vec(code_line(), 200..400),
        lang in select(vec!["", "rust", "py"]),
        limit in prop_oneof![64usize..=400, Just(DISCORD_MESSAGE_LIMIT)],
    ) {
        let mut code = String::new();
        for line in lines.iter().cycle() {
            if code.chars().count() >= 20_000 {
                break;
            }
            code.push_str(line);
            code.push('\n');
        }
        let text = format!("Here you go:\n\n```{lang}\n{code}```\n\nDone.");
        check_split(&text, limit, true)?;
    }

    #[test]
    fn a_twenty_thousand_char_line_of_code_is_hard_split(
        unit in "[a-z0-9🦀é日]{1,40}",
        limit in prop_oneof![64usize..=400, Just(DISCORD_MESSAGE_LIMIT)],
    ) {
        let line: String = unit.chars().cycle().take(20_000).collect();
        check_split(&format!("```\n{line}\n```"), limit, true)?;
    }
}

#[test]
fn the_model_reads_a_hand_made_split() {
    let input = "intro\n\n```rust\nlet a = 1;\nlet b = 2;\n```\nend";
    let chunks = vec![
        "intro\n\n```rust\nlet a = 1;\n```".to_string(),
        "```rust\nlet b = 2;\n```\nend".to_string(),
    ];
    let model = blocks(input, Some(30));
    assert_eq!(bodies(input, &chunks, &model, 0), Some(vec![0..26, 26..44]));
    let wrong = vec!["intro".to_string(), "let a = 1;".to_string()];
    assert_eq!(bodies(input, &wrong, &model, 0), None);
}
