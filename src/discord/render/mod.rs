//! Pure functions that turn answers into Discord messages: the only place
//! that writes Discord markup (masked links, `**Sources**`, defused pings).
//!
//! [`render_answer`] makes an answer safe and readable (reasoning stripped,
//! pings defused, citations linked, sources listed); [`split_for_discord`]
//! then cuts it into messages Discord accepts. Both are deterministic, so the
//! last edit of a streamed answer equals the non-streamed rendering.

mod char_class;
mod citation_links;
mod cut_points;
mod pings;
mod split;

pub use pings::neutralize_mentions;
pub use split::{DISCORD_MESSAGE_LIMIT, split_for_discord};

use crate::answer::markdown;
use crate::answer::reasoning::{is_partial_open_tag, strip_reasoning};
use crate::chat::{Answer, Partial, messages};
use crate::providers::Source;

/// Renders a complete answer for Discord:
/// 1. strips `<think>…</think>` reasoning ([`strip_reasoning`]);
/// 2. outside code, neutralises mentions ([`neutralize_mentions`]) and turns
///    `[n]` markers into masked links to `sources[n - 1]`
///    (`[\[1\]](<https://…>)`); markers without a source stay plain text, and
///    `[1]` in code stays an array index;
/// 3. closes a code block the answer left open (a truncated answer);
/// 4. appends a "Sources" list — one line per distinct URL, `<…>`-wrapped so
///    Discord adds no previews — when there are sources.
///
/// The result is trimmed; it may exceed 2000 chars, so pass it to
/// [`split_for_discord`].
pub fn render_answer(text: &str, sources: &[Source]) -> String {
    let answer = strip_reasoning(text);
    let links = citation_links::source_links(sources);
    let body = markdown::rewrite_outside_code(&answer, |prose, out| {
        citation_links::link_markers(&pings::neutralize_prose(prose), &links, out);
    });
    let mut body = body.trim().to_string();
    markdown::close_open_fence(&mut body);
    match citation_links::sources_list(sources, &links) {
        Some(list) if body.is_empty() => list,
        Some(list) => format!("{body}\n\n{list}"),
        None => body,
    }
}

/// A whole reply: [`render_answer`], then the answer's note (if any) as
/// Discord's small grey subtext.
pub fn render_reply(answer: &Answer) -> String {
    let mut rendered = render_answer(&answer.text, &answer.sources);
    if let Some(note) = &answer.note {
        rendered.push('\n');
        // Each line of the note in small text.
        for line in note.lines().filter(|line| !line.trim().is_empty()) {
            rendered.push_str("\n-# ");
            rendered.push_str(&neutralize_mentions(line));
        }
    }
    rendered
}

/// Renders a streamed answer so far, for the intermediate edits. It is
/// [`render_answer`] except that text which is only the beginning of a
/// `<think>` tag renders as nothing, so a reasoning model's trace never
/// flashes up. An unfinished code block is closed, as in a final answer.
/// What a streamed reply shows so far: the web searches under way until the
/// text starts ("🔎 Searching: …"), then the partial answer.
pub fn render_partial(partial: &Partial) -> String {
    if partial.text.is_empty() && !partial.searching.is_empty() {
        return neutralize_mentions(&messages::searching(&partial.searching));
    }
    render_partial_answer(&partial.text, &[])
}

/// Once the stream ends, `render_partial_answer(full)` equals
/// `render_answer(full)` (unless the whole answer is `<th` or the like).
pub fn render_partial_answer(text: &str, sources: &[Source]) -> String {
    if is_partial_open_tag(text) {
        return String::new();
    }
    render_answer(text, sources)
}

#[cfg(test)]
mod tests;
