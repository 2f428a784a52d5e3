//! Drives a streamed response: bytes from the transport's [`OpenStream`]
//! through the [`SseDecoder`] into a wire format's [`StreamDecoder`].

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::format::{Flow, StreamDecoder};
use super::sse::SseDecoder;
use crate::providers::error::ProviderError;
use crate::providers::transport::{MAX_BODY_BYTES, OpenStream};

/// How long to keep reading after the terminal event so the connection can
/// be reused; a server that keeps the body open past it only costs the reuse.
const DRAIN_AFTER_END: Duration = Duration::from_millis(500);

/// Feeds the stream to `decoder` until its terminal event, passing on the
/// search queries it reports to `searching`; `Ok(false)` when
/// the body ended before it (the decoder's `finish` decides whether that is
/// an error).
pub async fn read_events(
    stream: &mut OpenStream,
    decoder: &mut dyn StreamDecoder,
    deltas: &UnboundedSender<String>,
    searching: Option<&UnboundedSender<Vec<String>>>,
) -> Result<bool, ProviderError> {
    let mut events = SseDecoder::default();
    let provider = stream.provider();
    let too_large = || ProviderError::Malformed {
        provider,
        detail: format!("stream event larger than {MAX_BODY_BYTES} bytes"),
    };
    while let Some(chunk) = stream.next_chunk().await? {
        for event in events.push(&chunk).map_err(|_| too_large())? {
            let flow = decoder.on_event(&event, deltas)?;
            let queries = decoder.take_search_queries();
            if let Some(searching) = searching.filter(|_| !queries.is_empty()) {
                let _ = searching.send(queries);
            }
            if flow == Flow::Done {
                drain(stream).await;
                return Ok(true);
            }
        }
    }
    if let Some(event) = events.finish() {
        return Ok(decoder.on_event(&event, deltas)? == Flow::Done);
    }
    Ok(false)
}

async fn drain(stream: &mut OpenStream) {
    let rest = async { while let Ok(Some(_)) = stream.next_chunk().await {} };
    let _ = tokio::time::timeout(DRAIN_AFTER_END, rest).await;
}
