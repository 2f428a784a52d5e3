//! Reading a response body with a size cap, so a misbehaving server or proxy
//! cannot make us buffer without bound, and the request id a provider's
//! support asks for.

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;

use crate::providers::error::ProviderError;
use crate::providers::types::ProviderKind;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// The whole body, or [`BodyError::TooLarge`] past [`MAX_BODY_BYTES`].
pub async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The error for a body over the cap.
pub fn too_large(provider: ProviderKind) -> ProviderError {
    ProviderError::Malformed {
        provider,
        detail: format!("response body larger than {MAX_BODY_BYTES} bytes"),
    }
}

/// The provider's `x-request-id`, if it sent one.
pub fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: Vec<u8>) -> reqwest::Response {
        reqwest::Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn bodies_up_to_the_cap_are_read_whole() {
        let body = read_capped(response(vec![b'a'; MAX_BODY_BYTES])).await;
        assert!(matches!(body, Ok(bytes) if bytes.len() == MAX_BODY_BYTES));
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let body = read_capped(response(vec![b'a'; MAX_BODY_BYTES + 1])).await;
        assert!(matches!(body, Err(BodyError::TooLarge)));
    }

    #[test]
    fn the_request_id_header_is_read_when_present() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_id(&headers), None);
        headers.insert("x-request-id", "req_123".parse().unwrap());
        assert_eq!(request_id(&headers), Some("req_123"));
    }
}
