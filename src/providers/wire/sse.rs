//! Server-sent events, tolerant of what real providers and proxies send:
//! `:` comment lines (OpenRouter's keep-alives), blank `data:` lines, CRLF,
//! `event:` lines, and a last event without its blank line at EOF.
//! [`SseDecoder`] is pure; `event_stream.rs` drives it over a response.

use crate::providers::transport::MAX_BODY_BYTES;

/// One event: its `event:` name, if any, and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// An event or line longer than [`MAX_BODY_BYTES`].
#[derive(Debug, PartialEq, Eq)]
pub struct SseTooLarge;

/// Splits a byte stream into events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the events they completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseTooLarge> {
        let mut events = Vec::new();
        for &byte in chunk {
            if byte != b'\n' {
                self.line.push(byte);
                if self.line.len() + self.data.len() > MAX_BODY_BYTES {
                    return Err(SseTooLarge);
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            events.extend(self.take_line(&line));
        }
        Ok(events)
    }

    /// At EOF: the pending line and event, if any.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            // A line without its newline still ends the event at EOF.
            if let Some(event) = self.take_line(&line) {
                return Some(event);
            }
        }
        self.dispatch()
    }

    fn take_line(&mut self, raw: &[u8]) -> Option<SseEvent> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            return self.dispatch();
        }
        let line = String::from_utf8_lossy(raw);
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            // `id` and `retry` matter to browsers reconnecting, not to us.
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: text.into(),
        }
    }

    #[test]
    fn events_split_across_chunks_are_joined() {
        let mut decoder = SseDecoder::default();
        assert_eq!(decoder.push(b"data: {\"a\"").unwrap(), vec![]);
        assert_eq!(
            decoder.push(b":1}\n\ndata: [DONE]\n\n").unwrap(),
            vec![data("{\"a\":1}"), data("[DONE]")]
        );
    }

    #[test]
    fn comments_crlf_and_blank_data_are_tolerated() {
        let mut decoder = SseDecoder::default();
        let events = decoder
            .push(b": OPENROUTER PROCESSING\r\n\r\ndata:\r\n\r\ndata: x\r\n\r\n")
            .unwrap();
        assert_eq!(events, vec![data(""), data("x")]);
    }

    #[test]
    fn event_names_and_multi_line_data_are_kept() {
        let mut decoder = SseDecoder::default();
        let events = decoder
            .push(b"event: error\ndata: a\ndata: b\nid: 7\n\n")
            .unwrap();
        assert_eq!(
            events,
            vec![SseEvent {
                event: Some("error".into()),
                data: "a\nb".into()
            }]
        );
    }

    #[test]
    fn the_last_event_without_a_blank_line_is_flushed_at_eof() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: tail").unwrap().is_empty());
        assert_eq!(decoder.finish(), Some(data("tail")));
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_a_panic() {
        let mut decoder = SseDecoder::default();
        let events = decoder.push(b"data: \xff\xfe\n\n").unwrap();
        assert_eq!(events[0].data, "\u{fffd}\u{fffd}");
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut decoder = SseDecoder::default();
        let chunk = vec![b'x'; MAX_BODY_BYTES + 1];
        assert_eq!(decoder.push(&chunk), Err(SseTooLarge));
    }
}
