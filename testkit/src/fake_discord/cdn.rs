//! The fake's CDN: attachment bytes served under `/attachments/…` on the
//! fake's own address (the bot's `API_BASE_URL` host, so duet may fetch
//! them), each hit recorded as it arrives (`GET /attachments/…`). An
//! attachment can also answer with an error status, redirect elsewhere or
//! stall, for the bad-download cases.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use super::{Shared, lock};

/// How the CDN answers for one attachment.
#[derive(Debug, Clone)]
pub enum Served {
    /// 200 with these bytes.
    Bytes(Bytes),
    /// This status and no body.
    Status(u16),
    /// 302 to this URL.
    Redirect(String),
    /// Headers never come (a download that hangs).
    Stall,
}

/// The attachment object of a message, as Discord sends it in MESSAGE_CREATE.
pub fn attachment_json(
    id: u64,
    url: &str,
    filename: &str,
    content_type: Option<&str>,
    size: usize,
) -> Value {
    let mut attachment = json!({
        "id": id.to_string(),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
    });
    if let Some(content_type) = content_type {
        attachment["content_type"] = json!(content_type);
    }
    attachment
}

impl super::FakeDiscord {
    /// Hosts an attachment on the fake's CDN and returns its attachment
    /// object (its `size` is the bytes' length, or 1000 for other answers).
    pub fn attachment(&self, filename: &str, content_type: Option<&str>, served: Served) -> Value {
        let id = self.shared.next_id();
        let path = format!("{}/{id}/{filename}", super::fixtures::GENERAL);
        let size = match &served {
            Served::Bytes(bytes) => bytes.len(),
            _ => 1000,
        };
        lock(&self.shared.cdn).insert(path.clone(), served);
        let url = format!(
            "{}/attachments/{path}?ex=ffffffff&is=0&hm=00",
            self.base_url()
        );
        attachment_json(id, &url, filename, content_type, size)
    }

    /// Runs `/name` with `options` where the option `option` is the
    /// attachment `attachment` (an object from [`Self::attachment`]), as
    /// Discord sends it: the option holds the id, `data.resolved` the object.
    /// Returns the interaction token.
    pub fn run_command_with_attachment(
        &self,
        name: &str,
        mut options: Vec<Value>,
        option: &str,
        attachment: Value,
        invoker: &super::fixtures::FakeUser,
    ) -> String {
        let id = self.shared.next_id();
        let token = format!("token-{id}");
        let attachment_id = attachment["id"].clone();
        options.push(json!({"name": option, "type": 11, "value": attachment_id}));
        let mut interaction = super::fixtures::command_interaction(
            id,
            &token,
            name,
            Value::Array(options),
            invoker,
            super::fixtures::GENERAL,
            Some(super::fixtures::GUILD_ID),
        );
        let key = attachment_id.as_str().unwrap_or_default().to_string();
        interaction["data"]["resolved"] = json!({"attachments": {key: attachment}});
        self.dispatch("INTERACTION_CREATE", interaction);
        token
    }

    /// CDN hits so far (`GET /attachments/…` paths).
    pub fn cdn_hits(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/attachments/"))
            .map(|r| r.path)
            .collect()
    }
}

pub(super) async fn serve(State(shared): State<Arc<Shared>>, Path(path): Path<String>) -> Response {
    let served = lock(&shared.cdn).get(&path).cloned();
    match served {
        Some(Served::Bytes(bytes)) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(bytes),
        )
            .into_response(),
        Some(Served::Status(status)) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(Served::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Served::Stall) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
