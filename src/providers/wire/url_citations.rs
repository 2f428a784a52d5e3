//! OpenAI `url_citation` annotations turned into duet's numbered sources:
//! each distinct URL gets the next number (in order of first citation) and
//! a `[n]` marker is placed at the end of every span it cites, so an answer
//! from OpenAI's `web_search` reads like a Perplexity answer. Offsets count
//! characters (the spec does not say; characters never split a code point).

use serde_json::Value;

use crate::providers::types::Source;

/// The sources cited so far, numbered from 1 in order of first citation.
#[derive(Debug, Default, Clone)]
pub struct Citations {
    sources: Vec<Source>,
}

impl Citations {
    /// The number of the annotation's URL (a new one for a new URL), or
    /// `None` when the annotation is not a `url_citation` with a URL.
    pub fn number(&mut self, annotation: &Value) -> Option<usize> {
        if annotation["type"]
            .as_str()
            .is_some_and(|t| t != "url_citation")
        {
            return None;
        }
        let url = annotation["url"]
            .as_str()
            .filter(|u| !u.trim().is_empty())?;
        if let Some(index) = self.sources.iter().position(|s| s.url == url) {
            return Some(index + 1);
        }
        let title = annotation["title"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(url);
        self.sources.push(Source {
            title: title.to_string(),
            url: url.to_string(),
        });
        Some(self.sources.len())
    }

    pub fn sources(self) -> Vec<Source> {
        self.sources
    }

    /// `text` with a `[n]` marker after every cited span of `annotations`
    /// (an offset past the end puts the marker at the end).
    pub fn mark(&mut self, text: &str, annotations: &Value) -> String {
        let mut markers: Vec<(usize, usize)> = annotations
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let number = self.number(a)?;
                let end = a["end_index"].as_u64().unwrap_or(u64::MAX);
                Some((usize::try_from(end).unwrap_or(usize::MAX), number))
            })
            .collect();
        markers.sort_by_key(|(end, _)| *end);
        let mut out = String::with_capacity(text.len() + markers.len() * 4);
        let mut pending = markers.into_iter().peekable();
        for (index, ch) in text.chars().enumerate() {
            while let Some((_, number)) = pending.next_if(|(end, _)| *end <= index) {
                push_marker(&mut out, number);
            }
            out.push(ch);
        }
        for (_, number) in pending {
            push_marker(&mut out, number);
        }
        out
    }
}

fn push_marker(out: &mut String, number: usize) {
    let marker = format!("[{number}]");
    // The same source cited twice at one place shows once.
    if !out.ends_with(&marker) {
        out.push_str(&marker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_land_at_span_ends_numbered_by_first_citation() {
        let text = "Alpha is up. Beta too. Alpha again.";
        let annotations = json!([
            {"type": "url_citation", "start_index": 0, "end_index": 12, "url": "https://a.example", "title": "A"},
            {"type": "url_citation", "start_index": 13, "end_index": 22, "url": "https://b.example", "title": ""},
            {"type": "url_citation", "start_index": 23, "end_index": 35, "url": "https://a.example", "title": "A"},
        ]);
        let mut citations = Citations::default();
        let marked = citations.mark(text, &annotations);
        assert_eq!(marked, "Alpha is up.[1] Beta too.[2] Alpha again.[1]");
        let sources = citations.sources();
        assert_eq!(sources.len(), 2);
        assert_eq!(sources[1].title, "https://b.example");
    }

    #[test]
    fn offsets_count_characters_and_may_point_past_the_end() {
        let annotations = json!([
            {"type": "url_citation", "end_index": 3, "url": "https://ü.example"},
            {"type": "url_citation", "end_index": 999, "url": "https://z.example"},
            {"type": "file_citation", "end_index": 1, "file_id": "f"},
            {"type": "url_citation", "end_index": 2},
        ]);
        let mut citations = Citations::default();
        assert_eq!(citations.mark("äöü!", &annotations), "äöü[1]![2]");
    }
}
