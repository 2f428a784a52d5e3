//! What the mock LLM was shown: the image parts of a recorded request, in
//! either wire shape (chat completions `image_url`, Responses
//! `input_image`), decoded from their `data:` URLs, with the text of the
//! message they came with.

use base64::Engine;
use serde_json::Value;

/// One image a request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentImage {
    /// The text parts of the message the image was on.
    pub message_text: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
    /// The `detail` the request asked for.
    pub detail: String,
}

/// Every image in a chat completions or Responses request body, in order.
pub fn images_in(request: &Value) -> Vec<SentImage> {
    let messages = request["messages"]
        .as_array()
        .or_else(|| request["input"].as_array());
    let mut out = Vec::new();
    for message in messages.into_iter().flatten() {
        let Some(parts) = message["content"].as_array() else {
            continue;
        };
        let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        for part in parts {
            let (url, detail) = match part["type"].as_str() {
                Some("image_url") => (&part["image_url"]["url"], &part["image_url"]["detail"]),
                Some("input_image") => (&part["image_url"], &part["detail"]),
                _ => continue,
            };
            let Some((media_type, bytes)) = url.as_str().and_then(decode_data_url) else {
                panic!("an image part without a base64 data: URL: {part}");
            };
            out.push(SentImage {
                message_text: text.clone(),
                media_type,
                bytes,
                detail: detail.as_str().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

/// `data:image/png;base64,…` → (`image/png`, bytes).
fn decode_data_url(url: &str) -> Option<(String, Vec<u8>)> {
    let rest = url.strip_prefix("data:")?;
    let (media_type, data) = rest.split_once(";base64,")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .ok()?;
    Some((media_type.to_string(), bytes))
}
