//! Tests of the whole rendering: reasoning, mentions, citations, sources.

use super::*;

fn source(title: &str, url: &str) -> Source {
    Source {
        title: title.into(),
        url: url.into(),
    }
}

#[test]
fn renders_citations_and_a_sources_list() {
    let sources = [
        source("Weather", "https://wx.example/today"),
        source("News", "https://news.example"),
    ];
    let out = render_answer("Sunny today[1], says the news[2].", &sources);
    assert_eq!(
        out,
        "Sunny today[\\[1\\]](<https://wx.example/today>), says the news[\\[2\\]](<https://news.example/>).\n\n\
         **Sources**\n[1] Weather — <https://wx.example/today>\n[2] News — <https://news.example/>"
    );
}

#[test]
fn missing_sources_leave_markers_as_text() {
    let sources = [source("Only", "https://only.example")];
    let out = render_answer("A[1] B[2] C[3]", &sources);
    assert!(out.starts_with("A[\\[1\\]](<https://only.example/>) B[2] C[3]\n\n**Sources**"));
}

#[test]
fn duplicate_urls_link_each_marker_and_list_once() {
    let sources = [
        source("Doc", "https://d.example/a"),
        source("Doc (mirror)", "https://d.example/a"),
    ];
    let out = render_answer("x[1] y[2]", &sources);
    assert_eq!(out.matches("<https://d.example/a>").count(), 3, "{out}");
    assert!(out.ends_with("**Sources**\n[1, 2] Doc — <https://d.example/a>"));
}

#[test]
fn markers_and_mentions_inside_code_are_untouched() {
    let sources = [source("S", "https://s.example")];
    let text = "See [1] and `v[1]`.\n```rust\nlet x = v[1]; // @everyone\n```";
    let out = render_answer(text, &sources);
    assert!(out.contains("`v[1]`"));
    assert!(out.contains("```rust\nlet x = v[1]; // @everyone\n```"));
    assert!(out.starts_with("See [\\[1\\]](<https://s.example/>) and"));
}

#[test]
fn no_sources_means_no_list() {
    assert_eq!(render_answer("Just chat [1].", &[]), "Just chat [1].");
}

#[test]
fn pings_in_the_answer_and_in_titles_are_defused() {
    let sources = [source("@here news", "https://n.example")];
    let out = render_answer(
        "<think>ping @everyone?</think>@everyone look <@&2>",
        &sources,
    );
    assert!(out.starts_with("@\u{200B}everyone look <@\u{200B}&2>"));
    assert!(out.contains("[1] @\u{200B}here news"));
    assert!(!out.contains("ping"));
}

#[test]
fn a_reasoning_only_answer_renders_empty() {
    assert_eq!(render_answer("<think>unfinished", &[]), "");
}

#[test]
fn partial_rendering_hides_a_half_written_think_tag() {
    assert_eq!(render_partial_answer("<thi", &[]), "");
    assert_eq!(render_partial_answer("<think>I should", &[]), "");
    assert_eq!(render_partial_answer("<think>ok</think>Hel", &[]), "Hel");
}

#[test]
fn the_last_partial_rendering_equals_the_final_one() {
    let sources = [
        source("A", "https://a.example"),
        source("B", "https://b.example"),
    ];
    let full = "<think>plan</think>Answer[1] with `code[2]` and @here[2].\n```py\nprint(1)\n```";
    let mut streamed = String::new();
    let mut last = String::new();
    for c in full.chars() {
        streamed.push(c);
        last = render_partial_answer(&streamed, &sources);
    }
    assert_eq!(last, render_answer(full, &sources));
    assert_eq!(render_answer(full, &sources), render_answer(full, &sources));
}

#[test]
fn a_long_answer_renders_and_splits_within_the_limit() {
    let sources = [source("Ref", "https://ref.example/a/very/long/path")];
    let paragraph = "Some sentence with a citation[1] in it. ".repeat(20);
    let text = vec![paragraph; 6].join("\n\n");
    let chunks = split_for_discord(&render_answer(&text, &sources), DISCORD_MESSAGE_LIMIT);
    assert!(chunks.len() > 1);
    for chunk in &chunks {
        assert!(chunk.chars().count() <= DISCORD_MESSAGE_LIMIT);
        assert!(!chunk.trim().is_empty());
        assert_eq!(
            chunk.matches("[\\[1\\]](<").count(),
            chunk.matches("path>)").count(),
            "a link was cut"
        );
    }
    assert!(
        chunks
            .last()
            .unwrap()
            .ends_with("<https://ref.example/a/very/long/path>")
    );
}

#[test]
fn an_unclosed_code_block_is_closed_before_the_sources() {
    let sources = [source("S", "https://s.example")];
    let out = render_answer("Try this[1]:\n```sh\ncargo run", &sources);
    assert!(
        out.contains("```sh\ncargo run\n```\n\n**Sources**"),
        "{out}"
    );
}

mod properties {
    use proptest::prelude::*;
    use regex::Regex;

    use super::*;
    use crate::answer::markdown::code_regions;

    fn prose_of(text: &str) -> String {
        let mut prose = String::new();
        let mut prev = 0;
        for region in code_regions(text) {
            prose.push_str(&text[prev..region.start]);
            prose.push('\n');
            prev = region.end;
        }
        prose.push_str(&text[prev..]);
        prose
    }

    proptest! {
        #[test]
        fn rendering_any_answer_leaves_no_live_mention_outside_code(
            text in "(@everyone|@HERE|<@&12>|<@!3>|\\[[0-3]\\]|`|```\n|~~~\n|<think>|</think>|[a-z ]|\n|é|🦀){0,80}",
            titles in prop::collection::vec("(@everyone|[a-z ]|`|\\*){0,12}", 0..4),
        ) {
            let sources: Vec<Source> = titles
                .iter()
                .enumerate()
                .map(|(i, t)| source(t, &format!("https://s{}.example", i % 2)))
                .collect();
            let out = render_answer(&text, &sources);
            let live = Regex::new(r"(?i)@(everyone|here)|<@[!&]?[0-9]").unwrap();
            let prose = prose_of(&out);
            prop_assert!(!live.is_match(&prose), "live mention in {out:?}");
            if !crate::answer::reasoning::is_partial_open_tag(&text) {
                prop_assert_eq!(render_partial_answer(&text, &sources), out);
            }
        }
    }
}
