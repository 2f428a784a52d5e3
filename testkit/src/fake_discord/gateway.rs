//! The fake gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeat ACK,
//! RESUME → RESUMED, scripted dispatches, and closing the socket on demand.
//! Every op the bot sends is recorded as method `WS` (path = op name).

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Shared;
use super::fixtures;

/// The only token the fake accepts, as serenity sends it in IDENTIFY.
pub const TOKEN_AS_SENT: &str = "Bot fake-token";

/// Heartbeat interval announced in HELLO (short keeps heartbeats in every test).
const HEARTBEAT_MS: u64 = 5_000;

/// What a test asks the live connection to do.
pub(super) enum Outgoing {
    Dispatch(String, Value),
    Close(u16),
}

/// The gateway's session state, shared across connections.
#[derive(Default)]
pub(super) struct Gateway {
    /// The connection with an established session, if any.
    pub current: Option<(u64, mpsc::UnboundedSender<Outgoing>)>,
    pub connections: u64,
    pub sessions: u64,
    pub session_id: Option<String>,
    pub seq: u64,
    /// Dispatches sent while no session was live; delivered on the next one.
    pub pending: Vec<(String, Value)>,
    /// Close code every IDENTIFY is answered with (4014: intents not enabled).
    pub refuse_identify: Option<u16>,
}

pub(super) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(shared, socket))
}

async fn serve(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let connection = {
        let mut gateway = shared.gateway();
        gateway.connections += 1;
        gateway.connections
    };
    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": null, "t": null});
    if send(&mut socket, &hello).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let Ok(payload) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                    if handle_op(&shared, &mut socket, connection, &tx, payload).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            outgoing = rx.recv() => match outgoing {
                Some(Outgoing::Dispatch(event, data)) => {
                    if dispatch(&shared, &mut socket, &event, data).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code)) => {
                    let frame = CloseFrame { code, reason: "closed by the test".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                None => break,
            },
        }
    }
    let mut gateway = shared.gateway();
    if gateway
        .current
        .as_ref()
        .is_some_and(|(id, _)| *id == connection)
    {
        gateway.current = None;
    }
}

async fn handle_op(
    shared: &Arc<Shared>,
    socket: &mut WebSocket,
    connection: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    payload: Value,
) -> Result<(), axum::Error> {
    let op = payload["op"].as_u64().unwrap_or(u64::MAX);
    let data = payload["d"].clone();
    match op {
        1 => {
            shared.record("WS", "HEARTBEAT", data);
            send(socket, &json!({"op": 11, "d": null, "s": null, "t": null})).await
        }
        2 => {
            let token_ok = data["token"].as_str() == Some(TOKEN_AS_SENT);
            shared.record("WS", "IDENTIFY", data);
            let refused = shared.gateway().refuse_identify;
            if !token_ok || refused.is_some() {
                // 4004: authentication failed; the bot must not retry.
                let frame = CloseFrame {
                    code: refused.unwrap_or(4004),
                    reason: "Refused by the test.".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return Err(axum::Error::new("authentication failed"));
            }
            let session_id = {
                let mut gateway = shared.gateway();
                gateway.sessions += 1;
                gateway.seq = 0;
                let id = format!("fake-session-{}", gateway.sessions);
                gateway.session_id = Some(id.clone());
                id
            };
            let ready = fixtures::ready(&session_id, &shared.gateway_url());
            dispatch(shared, socket, "READY", ready).await?;
            dispatch(shared, socket, "GUILD_CREATE", fixtures::guild_create()).await?;
            go_live(shared, socket, connection, tx).await
        }
        6 => {
            shared.record("WS", "RESUME", data.clone());
            let known = shared.gateway().session_id.clone();
            if data["session_id"].as_str() != known.as_deref() {
                return send(socket, &json!({"op": 9, "d": false, "s": null, "t": null})).await;
            }
            dispatch(shared, socket, "RESUMED", json!({})).await?;
            go_live(shared, socket, connection, tx).await
        }
        3 => {
            shared.record("WS", "PRESENCE_UPDATE", data);
            Ok(())
        }
        _ => {
            shared.record("WS", &format!("OP_{op}"), data);
            Ok(())
        }
    }
}

/// Makes this connection the live one and delivers what was queued.
async fn go_live(
    shared: &Arc<Shared>,
    socket: &mut WebSocket,
    connection: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
) -> Result<(), axum::Error> {
    let pending = {
        let mut gateway = shared.gateway();
        gateway.current = Some((connection, tx.clone()));
        std::mem::take(&mut gateway.pending)
    };
    for (event, data) in pending {
        dispatch(shared, socket, &event, data).await?;
    }
    Ok(())
}

async fn dispatch(
    shared: &Arc<Shared>,
    socket: &mut WebSocket,
    event: &str,
    data: Value,
) -> Result<(), axum::Error> {
    let seq = {
        let mut gateway = shared.gateway();
        gateway.seq += 1;
        gateway.seq
    };
    send(socket, &json!({"op": 0, "d": data, "s": seq, "t": event})).await
}

async fn send(socket: &mut WebSocket, payload: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(payload.to_string().into())).await
}
