//! The fake gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeat ACK,
//! RESUME → RESUMED, scripted dispatches, and closing the socket on demand.
//! Every op the bot sends is recorded as method `WS` (path = op name).
//!
//! Each IDENTIFY's `shard: [id, count]` is honoured: the session serves that
//! shard, READY names it, and only the guilds of that shard are created on
//! it. Scripted dispatches go to the shard of their `guild_id`
//! (`(guild_id >> 22) % shards`, see [`super::shards`]); events without a
//! guild (DMs) go to shard 0, as Discord does.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Shared;
use super::fixtures;
use super::shards::{guild_json, shard_of};

/// The only token the fake accepts, as serenity sends it in IDENTIFY.
pub const TOKEN_AS_SENT: &str = "Bot fake-token";

/// Heartbeat interval announced in HELLO (short keeps heartbeats in every test).
const HEARTBEAT_MS: u64 = 5_000;

/// What a test asks the live connection to do.
pub(super) enum Outgoing {
    Dispatch(String, Value),
    /// GUILD_CREATE of an added guild, built when it is sent.
    Guild(u64),
    Close(u16),
}

/// One shard's live connection.
pub(super) struct Live {
    pub connection: u64,
    pub tx: mpsc::UnboundedSender<Outgoing>,
}

/// The gateway's session state, shared across connections.
#[derive(Default)]
pub(super) struct Gateway {
    /// The connection with an established session, by shard id.
    pub live: HashMap<u32, Live>,
    pub connections: u64,
    pub sessions: u64,
    /// Every session id handed out, with its shard (RESUME looks here).
    pub session_ids: HashMap<String, u32>,
    /// Each connection's shard, once it identified or resumed.
    pub shard_of_connection: HashMap<u64, u32>,
    /// The last sequence number sent, by shard (a resumed session goes on).
    pub seq: HashMap<u32, u64>,
    /// Dispatches sent while their shard had no live session; delivered on its next one.
    pub pending: Vec<(u32, String, Value)>,
    /// Close code every IDENTIFY is answered with (4014: intents not enabled).
    pub refuse_identify: Option<u16>,
}

impl Gateway {
    /// Sends `event` to `shard` now, or queues it for the shard's next session.
    pub fn route(&mut self, shard: u32, event: String, data: Value) {
        match self.live.get(&shard) {
            Some(live) => {
                let _ = live.tx.send(Outgoing::Dispatch(event, data));
            }
            None => self.pending.push((shard, event, data)),
        }
    }
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
                    if dispatch(&shared, &mut socket, connection, &event, data).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Guild(id)) => {
                    if dispatch(&shared, &mut socket, connection, "GUILD_CREATE", guild_json(&shared, id)).await.is_err() {
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
    gateway.live.retain(|_, live| live.connection != connection);
    gateway.shard_of_connection.remove(&connection);
    drop(gateway);
    shared.live_changed();
}

/// `[id, count]` of an IDENTIFY (`[0, 1]` when absent or malformed).
fn shard_of_identify(data: &Value) -> (u32, u32) {
    let part = |i: usize| {
        data["shard"][i]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
    };
    match (part(0), part(1)) {
        (Some(id), Some(count)) if id < count => (id, count),
        _ => (0, 1),
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
        2 => identify(shared, socket, connection, tx, data).await,
        6 => {
            shared.record("WS", "RESUME", data.clone());
            let shard = data["session_id"]
                .as_str()
                .and_then(|id| shared.gateway().session_ids.get(id).copied());
            let Some(shard) = shard else {
                return send(socket, &json!({"op": 9, "d": false, "s": null, "t": null})).await;
            };
            shared
                .gateway()
                .shard_of_connection
                .insert(connection, shard);
            dispatch(shared, socket, connection, "RESUMED", json!({})).await?;
            go_live(shared, shard, connection, tx, Vec::new());
            Ok(())
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

async fn identify(
    shared: &Arc<Shared>,
    socket: &mut WebSocket,
    connection: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    data: Value,
) -> Result<(), axum::Error> {
    let token_ok = data["token"].as_str() == Some(TOKEN_AS_SENT);
    let (shard, count) = shard_of_identify(&data);
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
        gateway.seq.insert(shard, 0);
        gateway.shard_of_connection.insert(connection, shard);
        let id = format!("fake-session-{}", gateway.sessions);
        gateway.session_ids.insert(id.clone(), shard);
        id
    };
    let routed = shared.shard_count();
    let fixture_here = shard_of(fixtures::GUILD_ID, routed) == shard;
    let added = shared.guilds_of_shard(shard, routed);
    let mut unavailable: Vec<u64> = added.clone();
    if fixture_here {
        unavailable.insert(0, fixtures::GUILD_ID);
    }
    let ready = fixtures::ready(
        &session_id,
        &shared.gateway_url(),
        [shard, count],
        &unavailable,
    );
    dispatch(shared, socket, connection, "READY", ready).await?;
    if fixture_here {
        dispatch(
            shared,
            socket,
            connection,
            "GUILD_CREATE",
            fixtures::guild_create(),
        )
        .await?;
    }
    go_live(shared, shard, connection, tx, added);
    Ok(())
}

/// Makes this connection the live one of `shard`; its added guilds, then
/// what was queued for it, follow in order (through the connection's queue,
/// so heartbeats are answered in between).
fn go_live(
    shared: &Arc<Shared>,
    shard: u32,
    connection: u64,
    tx: &mpsc::UnboundedSender<Outgoing>,
    guilds: Vec<u64>,
) {
    {
        let mut gateway = shared.gateway();
        for id in guilds {
            let _ = tx.send(Outgoing::Guild(id));
        }
        let (mine, others) = std::mem::take(&mut gateway.pending)
            .into_iter()
            .partition(|(to, _, _)| *to == shard);
        gateway.pending = others;
        for (_, event, data) in mine {
            let _ = tx.send(Outgoing::Dispatch(event, data));
        }
        let live = Live {
            connection,
            tx: tx.clone(),
        };
        gateway.live.insert(shard, live);
    }
    shared.live_changed();
}

async fn dispatch(
    shared: &Arc<Shared>,
    socket: &mut WebSocket,
    connection: u64,
    event: &str,
    data: Value,
) -> Result<(), axum::Error> {
    let seq = {
        let mut gateway = shared.gateway();
        let shard = gateway
            .shard_of_connection
            .get(&connection)
            .copied()
            .unwrap_or(0);
        let seq = gateway.seq.entry(shard).or_insert(0);
        *seq += 1;
        *seq
    };
    send(socket, &json!({"op": 0, "d": data, "s": seq, "t": event})).await
}

async fn send(socket: &mut WebSocket, payload: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(payload.to_string().into())).await
}
