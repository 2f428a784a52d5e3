//! Turning `[n]` citation markers into links and listing the sources.
//!
//! Marker `[n]` refers to `sources[n - 1]`. A marker becomes a masked link
//! `[\[n\]](<url>)`: Discord shows "[n]", links it, and the angle brackets
//! keep it from adding a preview embed. Markers without a usable source stay
//! as they are.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use url::Url;

use super::pings::neutralize_prose;
use crate::providers::Source;

/// Titles longer than this are shortened in the Sources list.
const MAX_TITLE_CHARS: usize = 100;

/// The `http(s)` URL of every source, normalised (so `https://A.com` and
/// `https://a.com/` are one URL); `None` where the URL is unusable.
pub(crate) fn source_links(sources: &[Source]) -> Vec<Option<String>> {
    sources.iter().map(|s| normalize_url(&s.url)).collect()
}

fn normalize_url(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    // The URL serializer percent-encodes spaces and `<>`, so the result is
    // safe inside `<…>`.
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// Appends `prose` to `out` with every `[n]` that has a source linked.
/// `[n](…)` (already a link) and `\[n]` (escaped) are left alone.
pub(crate) fn link_markers(prose: &str, links: &[Option<String>], out: &mut String) {
    static MARKER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(\\?)\[([0-9]{1,4})\](\(?)").expect("the marker pattern is valid")
    });
    let linked = MARKER.replace_all(prose, |caps: &Captures| {
        let whole = caps[0].to_string();
        if !caps[1].is_empty() || !caps[3].is_empty() {
            return whole;
        }
        let link = caps[2]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| links.get(i))
            .and_then(Option::as_ref);
        match link {
            Some(url) => format!("[\\[{}\\]](<{url}>)", &caps[2]),
            None => whole,
        }
    });
    out.push_str(&linked);
}

/// The "Sources" section: one line per distinct URL, with every marker number
/// that points to it. `None` when there is nothing to list.
pub(crate) fn sources_list(sources: &[Source], links: &[Option<String>]) -> Option<String> {
    let mut entries: Vec<(Vec<usize>, &Source, Option<&str>)> = Vec::new();
    for (i, (source, link)) in sources.iter().zip(links).enumerate() {
        let same_url = entries
            .iter_mut()
            .find(|(_, _, seen)| link.is_some() && *seen == link.as_deref());
        match same_url {
            Some((numbers, _, _)) => numbers.push(i + 1),
            None if link.is_some() || !source.title.trim().is_empty() => {
                entries.push((vec![i + 1], source, link.as_deref()));
            }
            None => {}
        }
    }
    if entries.is_empty() {
        return None;
    }
    let mut list = String::from("**Sources**");
    for (numbers, source, link) in entries {
        let numbers: Vec<String> = numbers.iter().map(usize::to_string).collect();
        list.push_str(&format!(
            "\n[{}] {}",
            numbers.join(", "),
            display_title(source, link)
        ));
        if let Some(url) = link {
            list.push_str(&format!(" — <{url}>"));
        }
    }
    Some(list)
}

/// A one-line title safe to show: no Markdown, no pings, not too long; the
/// site's host when the source has no title.
fn display_title(source: &Source, link: Option<&str>) -> String {
    let title = source
        .title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let title = if title.is_empty() {
        link.and_then(|l| Url::parse(l).ok())
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
    } else {
        title
    };
    let title = if title.chars().count() > MAX_TITLE_CHARS {
        let short: String = title.chars().take(MAX_TITLE_CHARS - 1).collect();
        format!("{}…", short.trim_end())
    } else {
        title
    };
    neutralize_prose(&escape_markdown(&title)).into_owned()
}

fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<' | '>' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(title: &str, url: &str) -> Source {
        Source {
            title: title.into(),
            url: url.into(),
        }
    }

    fn link(text: &str, sources: &[Source]) -> String {
        let mut out = String::new();
        link_markers(text, &source_links(sources), &mut out);
        out
    }

    #[test]
    fn markers_become_masked_links_without_previews() {
        let sources = [
            source("A", "https://a.example/x"),
            source("B", "https://b.example"),
        ];
        assert_eq!(
            link("Fact[1][2].", &sources),
            "Fact[\\[1\\]](<https://a.example/x>)[\\[2\\]](<https://b.example/>)."
        );
    }

    #[test]
    fn markers_without_a_source_stay_text() {
        let sources = [source("A", "https://a.example")];
        assert_eq!(link("x [0] [2] [99999]", &sources), "x [0] [2] [99999]");
    }

    #[test]
    fn existing_links_and_escaped_brackets_are_left_alone() {
        let sources = [source("A", "https://a.example")];
        assert_eq!(
            link("[1](https://z.example) \\[1]", &sources),
            "[1](https://z.example) \\[1]"
        );
    }

    #[test]
    fn unusable_urls_are_not_linked() {
        let sources = [source("A", "javascript:alert(1)"), source("B", "not a url")];
        assert_eq!(link("[1] [2]", &sources), "[1] [2]");
    }

    #[test]
    fn the_list_merges_duplicate_urls() {
        let sources = [
            source("Rust", "https://rust-lang.org"),
            source("Tokio", "https://tokio.rs/"),
            source("Rust again", "https://RUST-lang.org/"),
        ];
        let list = sources_list(&sources, &source_links(&sources)).unwrap();
        assert_eq!(
            list,
            "**Sources**\n[1, 3] Rust — <https://rust-lang.org/>\n[2] Tokio — <https://tokio.rs/>"
        );
    }

    #[test]
    fn titles_are_escaped_neutralised_and_shortened() {
        let long = "word ".repeat(40);
        let sources = [
            source("*bold* @everyone [x]", "https://a.example"),
            source("", "https://host.example/page"),
            source(&long, "https://c.example"),
        ];
        let list = sources_list(&sources, &source_links(&sources)).unwrap();
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(
            lines[1],
            "[1] \\*bold\\* @\u{200B}everyone \\[x\\] — <https://a.example/>"
        );
        assert_eq!(lines[2], "[2] host.example — <https://host.example/page>");
        assert!(lines[3].contains("word…"));
        assert!(lines[3].chars().count() < 140);
    }

    #[test]
    fn no_usable_sources_means_no_list() {
        assert_eq!(sources_list(&[], &[]), None);
        let empty = [source(" ", "")];
        assert_eq!(sources_list(&empty, &source_links(&empty)), None);
    }
}
