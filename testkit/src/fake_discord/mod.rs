//! A fake Discord: REST routes and a WebSocket gateway on 127.0.0.1.
//!
//! Point the bot at [`FakeDiscord::base_url`] (`[Discord] API_BASE_URL`).
//! Every REST call is recorded (method, path, JSON body, arrival time) and
//! answered like Discord would; unknown routes get a 404 and are recorded
//! too, so tests can assert the bot made no unexpected calls. Gateway ops
//! the bot sends are recorded with method `WS`. Tests script gateway events
//! with [`FakeDiscord::send_message`] and [`FakeDiscord::run_command`] and
//! await what the bot did with [`FakeDiscord::wait_until`].

mod admin;
pub mod bot;
mod cdn;
pub mod conversations;
pub mod fixtures;
mod gateway;
mod multipart;
pub mod realistic;
mod recorded;
mod rest;
pub mod shards;
mod user_message;

pub use admin::MANAGE_GUILD;
pub use cdn::{Served, attachment_json};
use recorded::describe;
pub use recorded::{Recorded, count};
pub use user_message::UserMessage;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{oneshot, watch};

use fixtures::FakeUser;
use gateway::{Gateway, Outgoing};

/// How long [`FakeDiscord::wait_until`] waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(15);

/// A failure to answer instead of the normal response.
struct Failure {
    method: Method,
    path: String,
    status: StatusCode,
    body: Value,
}

pub(crate) struct Shared {
    addr: SocketAddr,
    log: Mutex<Vec<Recorded>>,
    changed: watch::Sender<usize>,
    gateway: Mutex<Gateway>,
    ids: AtomicU64,
    /// Messages the bot sent, by id (tests reply to them).
    sent: Mutex<HashMap<u64, Value>>,
    /// The message id of each interaction's `@original` response, by token.
    originals: Mutex<HashMap<String, u64>>,
    failures: Mutex<Vec<Failure>>,
    /// Who waits for the bot's reply to a message, by the message's id.
    reply_waiters: Mutex<HashMap<u64, oneshot::Sender<Recorded>>>,
    /// Attachments on the fake CDN, by path under `/attachments/`.
    cdn: Mutex<HashMap<String, cdn::Served>>,
    /// Messages users sent (MESSAGE_CREATE), by id, for `GET /channels/…/messages/{id}`.
    user_messages: Mutex<HashMap<u64, Value>>,
    /// The shard count, `max_concurrency` and added guilds.
    world: Mutex<shards::ShardWorld>,
    /// Shards with a live session, in order.
    live_shards: watch::Sender<Vec<u32>>,
}

impl Shared {
    fn record(&self, method: &str, path: &str, body: Value) {
        self.push(Recorded {
            method: method.to_string(),
            path: path.to_string(),
            body,
            status: 0,
            response: Value::Null,
            at: Instant::now(),
        });
    }

    fn push(&self, recorded: Recorded) {
        let waiter = recorded
            .replies_to()
            .and_then(|id| lock(&self.reply_waiters).remove(&id));
        if let Some(waiter) = waiter {
            let _ = waiter.send(recorded.clone());
        }
        let count = {
            let mut log = lock(&self.log);
            log.push(recorded);
            log.len()
        };
        self.changed.send_replace(count);
    }

    fn gateway(&self) -> MutexGuard<'_, Gateway> {
        lock(&self.gateway)
    }

    fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.addr)
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::SeqCst)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake Discord.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            addr,
            log: Mutex::default(),
            changed: watch::channel(0).0,
            gateway: Mutex::default(),
            ids: AtomicU64::new(100_000),
            sent: Mutex::default(),
            originals: Mutex::default(),
            failures: Mutex::default(),
            reply_waiters: Mutex::default(),
            cdn: Mutex::default(),
            user_messages: Mutex::default(),
            world: Mutex::default(),
            live_shards: watch::channel(Vec::new()).0,
        });
        let app = rest::router(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake Discord server");
        });
        Self { shared, server }
    }

    /// The value for `[Discord] API_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.log).clone()
    }

    /// REST calls matching `method` and `path`.
    pub fn calls(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is(method, path))
            .collect()
    }

    /// Waits (at most [`WAIT`]) until `done` holds for the recorded calls;
    /// fails the test with `what` and the full log otherwise.
    pub async fn wait_until(
        &self,
        what: &str,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let mut changed = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let log = self.requests();
            if done(&log) {
                return log;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!(
                    "timed out waiting for {what}; recorded:\n{}",
                    describe(&log)
                );
            }
        }
    }

    /// Waits until the bot has registered its slash commands, which it does
    /// once it is connected and ready to answer.
    pub async fn wait_for_commands(&self) -> Vec<Recorded> {
        self.wait_until("slash command registration", |log| {
            log.iter()
                .any(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        })
        .await
    }

    /// Waits until the bot has identified `sessions` times and is live.
    pub async fn wait_for_session(&self, what: &str, identifies: usize, resumes: usize) {
        self.wait_until(what, |log| {
            count(log, "WS", "IDENTIFY") >= identifies && count(log, "WS", "RESUME") >= resumes
        })
        .await;
    }

    /// Sends a gateway dispatch now (or when its shard's next session is
    /// live), on the shard of its `guild_id`, or shard 0 without one.
    pub fn dispatch(&self, event: &str, data: Value) {
        let guild = data["guild_id"].as_str().and_then(|id| id.parse().ok());
        let shard = guild.map_or(0, |id| shards::shard_of(id, self.shared.shard_count()));
        self.shared.gateway().route(shard, event.to_string(), data);
    }

    /// Answers every IDENTIFY from now on by closing with `code`, as Discord
    /// does with 4014 when a privileged intent is not enabled.
    pub fn refuse_identify(&self, code: u16) {
        self.shared.gateway().refuse_identify = Some(code);
    }

    /// Closes every live gateway connection with `code` (4000 = resumable error).
    pub fn close_gateway(&self, code: u16) {
        for (_, live) in self.shared.gateway().live.drain() {
            let _ = live.tx.send(Outgoing::Close(code));
        }
    }

    /// Dispatches MESSAGE_CREATE for `message` and returns its id.
    pub fn send_message(&self, message: UserMessage) -> u64 {
        let id = self.shared.next_id();
        let json = message.to_json(id);
        lock(&self.shared.user_messages).insert(id, json.clone());
        self.dispatch("MESSAGE_CREATE", json);
        id
    }

    /// A message a user sent, as dispatched (to reply to it or forward it).
    pub fn user_message(&self, id: u64) -> Value {
        lock(&self.shared.user_messages)
            .get(&id)
            .cloned()
            .expect("a message a user sent")
    }

    /// A message sent earlier, by a user or the bot, as `GET` returns it.
    pub(crate) fn known_message(shared: &Shared, id: u64) -> Option<Value> {
        let user = lock(&shared.user_messages).get(&id).cloned();
        user.or_else(|| lock(&shared.sent).get(&id).cloned())
    }

    /// Dispatches MESSAGE_CREATE for `message`; the receiver gets the bot's
    /// first message that replies to it (for load runs, where scanning the
    /// whole log per message would cost more than the bot).
    pub fn send_awaiting_reply(&self, message: UserMessage) -> oneshot::Receiver<Recorded> {
        let id = self.shared.next_id();
        let (waiter, reply) = oneshot::channel();
        lock(&self.shared.reply_waiters).insert(id, waiter);
        self.dispatch("MESSAGE_CREATE", message.to_json(id));
        reply
    }

    /// Dispatches INTERACTION_CREATE for `/name options` and returns the
    /// interaction token (webhook paths contain it).
    pub fn run_command(
        &self,
        name: &str,
        options: Value,
        invoker: &FakeUser,
        channel: u64,
        guild: Option<u64>,
    ) -> String {
        let id = self.shared.next_id();
        let token = format!("token-{id}");
        let interaction =
            fixtures::command_interaction(id, &token, name, options, invoker, channel, guild);
        self.dispatch("INTERACTION_CREATE", interaction);
        token
    }

    /// A message the bot sent (to reply to it).
    pub fn sent_message(&self, id: u64) -> Value {
        lock(&self.shared.sent)
            .get(&id)
            .cloned()
            .expect("a message the bot sent")
    }

    /// Answers `method` calls whose path starts with `path` with `status`
    /// and `body` from now on.
    pub fn fail(&self, method: Method, path: &str, status: StatusCode, body: Value) {
        lock(&self.shared.failures).push(Failure {
            method,
            path: path.to_string(),
            status,
            body,
        });
    }
}
