//! `ChatService`: the frontend-neutral pipeline behind [`Conversations`].
//! One message goes through: shutdown gate → per-user rate limit and daily
//! budget → the conversation's queue (one turn at a time, in order; with
//! Redis also across processes) → the global turn cap → the turn itself
//! (memory, routing, providers with their failover, memory again,
//! successful turns only).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use dashmap::DashMap;
use tokio::sync::{Mutex, watch};
use tracing::{Instrument, field, info, info_span};

use super::admission::{admit, rejected};
use super::attachments::image_cache::ImageCache;
use super::frontend::Conversations;
use super::frontend::Incoming;
use super::frontend::Outcome;
use super::frontend::StatusReport;
use super::live::{Live, LiveReceiver};
use super::memory::Memory;
use super::messages;
use super::settings::{Layers, Scope, SettingKey, SettingsError};
use super::turn::TurnRunner;
use super::types::ConversationKey;
use super::types::Partial;
use crate::config::Config;
use crate::coord::ConversationLock;
use crate::metric_names as names;
use crate::providers::Providers;
use crate::shutdown::Shutdown;

/// One conversation's queue: a fair lock (FIFO) and how many wait for it.
#[derive(Default)]
pub(super) struct ConversationQueue {
    lock: Mutex<()>,
    waiting: AtomicUsize,
}

impl ConversationQueue {
    pub(super) fn is_busy(&self) -> bool {
        self.lock.try_lock().is_err()
    }
}

/// The conversation pipeline; cheap to clone.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

struct Inner {
    live: LiveReceiver,
    memory: Memory,
    queues: DashMap<ConversationKey, Arc<ConversationQueue>>,
    shutdown: Shutdown,
    /// Recent images for follow-ups (`IMAGE_CACHE_BYTES`, fixed at start).
    images: ImageCache,
}

impl ChatService {
    /// The pipeline over the live configuration `live`, storing in `memory`,
    /// refusing and interrupting turns as `shutdown` says.
    pub fn new(live: LiveReceiver, memory: Memory, shutdown: Shutdown) -> Self {
        let image_budget = live.borrow().config.attachments.image_cache_bytes;
        Self {
            inner: Arc::new(Inner {
                live,
                memory,
                queues: DashMap::new(),
                shutdown,
                images: ImageCache::new(image_budget),
            }),
        }
    }

    /// The images kept in RAM for follow-ups.
    pub fn image_cache(&self) -> &ImageCache {
        &self.inner.images
    }

    /// The live value now; turns keep the one they started with.
    pub fn live(&self) -> Arc<Live> {
        self.inner.live.borrow().clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.live().config.clone()
    }

    pub fn providers(&self) -> Arc<Providers> {
        self.live().providers.clone()
    }

    pub fn memory(&self) -> &Memory {
        &self.inner.memory
    }

    pub fn shutdown(&self) -> &Shutdown {
        &self.inner.shutdown
    }

    /// Messages waiting behind the turn in progress in this conversation.
    pub fn queued(&self, key: &ConversationKey) -> usize {
        self.inner
            .queues
            .get(key)
            .map_or(0, |queue| queue.waiting.load(Ordering::SeqCst))
    }

    pub(super) fn retain_queues(&self, keep: impl Fn(&Arc<ConversationQueue>) -> bool) {
        self.inner.queues.retain(|_, queue| keep(queue));
    }

    fn queue(&self, key: &ConversationKey) -> Arc<ConversationQueue> {
        self.inner.queues.entry(key.clone()).or_default().clone()
    }

    async fn handle_admitted(
        &self,
        live: Arc<Live>,
        message: Incoming,
        progress: Option<watch::Sender<Partial>>,
    ) -> Outcome {
        let config = &live.config;
        let key = ConversationKey::new(config.memory.scope, &message.user_id, &message.channel_id);
        let queue = self.queue(&key);
        if queue.waiting.fetch_add(1, Ordering::SeqCst) >= config.limits.max_queued_per_conversation
        {
            queue.waiting.fetch_sub(1, Ordering::SeqCst);
            return rejected("queue_full", messages::QUEUE_FULL.to_string());
        }
        let _conversation = queue.lock.lock().await;
        queue.waiting.fetch_sub(1, Ordering::SeqCst);
        let _across_processes = shared_lock(&live, &key).await;
        let Ok(_turn) = live.turns.clone().try_acquire_owned() else {
            return rejected("busy", messages::BUSY.to_string());
        };
        let settings = self.turn_settings(&message, config).await;
        let runner = TurnRunner {
            live: &live,
            settings: &settings,
            memory: &self.inner.memory,
            key: &key,
            images: &self.inner.images,
        };
        match runner.run(&message, progress.as_ref()).await {
            Ok(answer) => {
                metrics::counter!(names::MESSAGES_ANSWERED, "provider" => answer.provider.as_str())
                    .increment(1);
                Outcome::Answer(answer)
            }
            Err(error) => rejected(error.reason(), error.user_message().to_string()),
        }
    }
}

/// The conversation's lock in Redis, held with the in-process one so a turn
/// runs in one process at a time. `None` without Redis or while it is away:
/// the in-process queue alone orders the turns then.
async fn shared_lock(live: &Live, key: &ConversationKey) -> Option<ConversationLock> {
    let coordinator = live.providers.coordinator()?;
    coordinator.lock_conversation(key.as_str()).await.ok()
}

#[async_trait]
impl Conversations for ChatService {
    async fn handle(&self, message: Incoming, progress: Option<watch::Sender<Partial>>) -> Outcome {
        metrics::counter!(names::MESSAGES_RECEIVED).increment(1);
        let started = Instant::now();
        let live = self.live();
        let span = info_span!("turn", user = %message.user_id, channel = %message.channel_id,
            route = field::Empty, provider = field::Empty, latency_ms = field::Empty);
        if live.config.logging.message_content {
            span.in_scope(|| info!(text = %message.text, "message"));
        }
        let Some(_work) = self.inner.shutdown.begin() else {
            return rejected("shutting_down", messages::SHUTTING_DOWN.to_string());
        };
        if message.text.trim().is_empty() && !message.attachments.has_content() {
            let problems = &message.attachments.problems;
            if problems.is_empty() {
                return rejected("empty", messages::EMPTY_MESSAGE.to_string());
            }
            // Nothing usable came: say what went wrong with each attachment.
            let lines: Vec<String> = problems.iter().map(|p| p.user_line()).collect();
            return rejected("attachments", lines.join("\n"));
        }
        if let Some(outcome) = admit(&live, &self.inner.memory, &message).await {
            return outcome;
        }
        // Waiting in the queue counts as running: the grace period ends both.
        let turn = self
            .handle_admitted(live, message, progress)
            .instrument(span.clone());
        let outcome = tokio::select! {
            outcome = turn => outcome,
            () = self.inner.shutdown.interrupted() => {
                rejected("interrupted", messages::INTERRUPTED.to_string())
            }
        };
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        metrics::histogram!(names::TURN_DURATION_SECONDS).record(started.elapsed().as_secs_f64());
        outcome
    }

    async fn reset(&self, user_id: &str, channel_id: &str) -> Outcome {
        self.account_reset(user_id, channel_id).await
    }

    async fn forget(&self, user_id: &str) -> Outcome {
        self.account_forget(user_id).await
    }

    async fn export(&self, user_id: &str) -> Outcome {
        self.account_export(user_id).await
    }

    async fn status(&self, user_id: &str) -> StatusReport {
        self.account_status(user_id).await
    }

    async fn settings_layers(
        &self,
        guild_id: Option<&str>,
        channel_id: &str,
        user_id: &str,
    ) -> Result<Layers, SettingsError> {
        self.service_layers(guild_id, channel_id, user_id).await
    }

    async fn change_setting(
        &self,
        scope: &Scope,
        key: SettingKey,
        value: Option<&str>,
    ) -> Result<Option<String>, SettingsError> {
        self.service_change(scope, key, value).await
    }

    async fn clear_settings(&self, scope: &Scope) -> Result<usize, SettingsError> {
        self.service_clear(scope).await
    }

    async fn remove_guild_settings(&self, guild_id: &str) -> Result<usize, SettingsError> {
        self.service_remove_guild(guild_id).await
    }
}
