//! Uploads: a `multipart/form-data` body (a `payload_json` part and
//! `files[n]` parts, as Discord takes attachments) read into the JSON the
//! routes expect, with the files listed under `"_files"` as
//! `{"filename", "content"}` (content as text, lossily).

use serde_json::{Value, json};

/// The boundary of a `multipart/form-data` content type, if it is one.
pub(super) fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim() == "boundary").then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The payload JSON with the uploaded files under `"_files"`.
pub(super) fn read(body: &[u8], boundary: &str) -> Value {
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut payload = json!({});
    let mut files = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((headers, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let disposition = headers
            .lines()
            .find(|line| line.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        match param(disposition, "filename") {
            Some(filename) => files.push(json!({"filename": filename, "content": content})),
            None if param(disposition, "name").as_deref() == Some("payload_json") => {
                payload = serde_json::from_str(content).unwrap_or(Value::Null);
            }
            None => {}
        }
    }
    if let Value::Object(map) = &mut payload {
        map.insert("_files".into(), Value::Array(files));
    }
    payload
}

fn param(header: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = header
        .find(&format!(" {key}"))
        .or_else(|| header.find(&format!(";{key}")))?
        + key.len()
        + 1;
    let rest = &header[start..];
    Some(rest[..rest.find('"')?].to_string())
}
