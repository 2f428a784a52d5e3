//! The fake's REST side: the routes the bot calls, answered with realistic
//! JSON, every call recorded with its body, status and response; injected
//! failures served instead of the normal answer; unknown routes → 404.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::fixtures::{self, DUET};
use super::{FakeDiscord, Recorded, Shared, cdn, gateway, lock, multipart};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/gateway", get(gateway_info))
        .route("/gateway/bot", get(gateway_bot))
        .route("/users/@me", get(|| async { Json(fixtures::user(&DUET)) }))
        .route(
            "/oauth2/applications/@me",
            get(|| async { Json(fixtures::application()) }),
        )
        .route("/channels/{channel}", get(get_channel))
        .route("/channels/{channel}/messages", post(create_message))
        .route(
            "/channels/{channel}/messages/{message}",
            get(get_message).patch(edit_message).delete(no_content),
        )
        .route("/channels/{channel}/typing", post(no_content))
        .route("/applications/{app}/commands", put(set_commands))
        .route(
            "/applications/{app}/guilds/{guild}/commands",
            put(set_commands_in_guild),
        )
        .route("/interactions/{id}/{token}/callback", post(no_content))
        .route("/webhooks/{app}/{token}", post(create_followup))
        .route(
            "/webhooks/{app}/{token}/messages/{message}",
            patch(edit_webhook_message)
                .get(edit_webhook_message)
                .delete(no_content),
        );
    Router::new()
        .route("/gateway", get(gateway::upgrade))
        .route("/attachments/{*path}", get(cdn::serve))
        .nest("/api/v10", api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), record))
        .with_state(shared)
}

/// Records every REST call with its body and status; serves injected failures.
async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let method = request.method().clone();
    let path = request
        .uri()
        .path()
        .trim_start_matches("/api/v10")
        .to_string();
    if path == "/gateway" && request.headers().contains_key("upgrade") {
        return next.run(request).await;
    }
    if path.starts_with("/attachments/") {
        // CDN hits count when they arrive; bodies stream (and may stall).
        shared.record(method.as_str(), &path, Value::Null);
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let mut bytes = to_bytes(body, 8 << 20).await.unwrap_or_default();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(boundary) = multipart::boundary(content_type) {
        // An upload: the routes read its payload as JSON, the log keeps the files too.
        let json = multipart::read(&bytes, &boundary);
        bytes = json.to_string().into();
        let json_type = header::HeaderValue::from_static("application/json");
        parts.headers.insert(header::CONTENT_TYPE, json_type);
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let failure = lock(&shared.failures)
        .iter()
        .find(|f| f.method == method && path.starts_with(&f.path))
        .map(|f| (f.status, f.body.clone()));
    let response = match failure {
        Some((status, body)) => (status, Json(body)).into_response(),
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, 8 << 20).await.unwrap_or_default();
    shared.push(Recorded {
        method: method.to_string(),
        path,
        body: json,
        status: parts.status.as_u16(),
        response: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        at,
    });
    Response::from_parts(parts, Body::from(bytes))
}

async fn gateway_info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"url": shared.gateway_url()}))
}

async fn gateway_bot(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let (shards, max_concurrency) = {
        let world = lock(&shared.world);
        (world.count, world.max_concurrency)
    };
    Json(json!({
        "url": shared.gateway_url(),
        "shards": shards,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": max_concurrency},
    }))
}

async fn get_channel(Path(channel): Path<u64>) -> Response {
    match fixtures::channel(channel) {
        Some(found) => Json(found).into_response(),
        None => unknown(10003, "Unknown Channel"),
    }
}

async fn get_message(
    State(shared): State<Arc<Shared>>,
    Path((_, id)): Path<(u64, u64)>,
) -> Response {
    match FakeDiscord::known_message(&shared, id) {
        Some(message) => Json(message).into_response(),
        None => unknown(10008, "Unknown Message"),
    }
}

async fn create_message(
    State(shared): State<Arc<Shared>>,
    Path(channel): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    if channel == fixtures::READ_ONLY {
        // @everyone may not send there; Discord says so with 50013.
        let refusal = json!({"code": 50013, "message": "Missing Permissions"});
        return (StatusCode::FORBIDDEN, Json(refusal)).into_response();
    }
    let id = shared.next_id();
    let guild = fixtures::channel(channel).map(|_| fixtures::GUILD_ID);
    let mut message = bot_message(id, channel, guild, &body);
    if let Some(reference) = body.get("message_reference") {
        message["message_reference"] = reference.clone();
        message["type"] = json!(19);
    }
    lock(&shared.sent).insert(id, message.clone());
    Json(message).into_response()
}

async fn edit_message(
    State(shared): State<Arc<Shared>>,
    Path((channel, id)): Path<(u64, u64)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let guild = fixtures::channel(channel).map(|_| fixtures::GUILD_ID);
    let message = bot_message(id, channel, guild, &body);
    lock(&shared.sent).insert(id, message.clone());
    Json(message)
}

async fn create_followup(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    Json(bot_message(
        shared.next_id(),
        fixtures::GENERAL,
        None,
        &body,
    ))
}

async fn edit_webhook_message(
    State(shared): State<Arc<Shared>>,
    Path((_, token, message)): Path<(u64, String, String)>,
    body: Option<Json<Value>>,
) -> Json<Value> {
    let body = body.map(|Json(b)| b).unwrap_or(Value::Null);
    let id = match message.parse() {
        Ok(followup) => followup,
        Err(_) => *lock(&shared.originals)
            .entry(token)
            .or_insert_with(|| shared.next_id()),
    };
    Json(bot_message(id, fixtures::GENERAL, None, &body))
}

fn bot_message(id: u64, channel: u64, guild: Option<u64>, body: &Value) -> Value {
    let content = body["content"].as_str().unwrap_or_default();
    let mut message = fixtures::message(id, channel, guild, &DUET, content);
    message["flags"] = json!(body["flags"].as_u64().unwrap_or(0));
    message
}

async fn set_commands(Json(commands): Json<Value>) -> Json<Value> {
    Json(with_ids(commands, None))
}

async fn set_commands_in_guild(
    Path((_, guild)): Path<(u64, u64)>,
    Json(commands): Json<Value>,
) -> Json<Value> {
    Json(with_ids(commands, Some(guild)))
}

/// The registered commands as Discord returns them.
fn with_ids(commands: Value, guild: Option<u64>) -> Value {
    let list = commands.as_array().cloned().unwrap_or_default();
    Value::Array(
        list.into_iter()
            .enumerate()
            .map(|(i, mut command)| {
                command["id"] = json!((5000 + i).to_string());
                command["application_id"] = json!(fixtures::APPLICATION_ID.to_string());
                command["version"] = json!("1");
                command["default_member_permissions"] = Value::Null;
                command["type"] = command.get("type").cloned().unwrap_or(json!(1));
                if let Some(guild) = guild {
                    command["guild_id"] = json!(guild.to_string());
                }
                command
            })
            .collect(),
    )
}

async fn no_content() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn not_found() -> Response {
    unknown(0, "404: Not Found")
}

fn unknown(code: u32, message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": code, "message": message})),
    )
        .into_response()
}
