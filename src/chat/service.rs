//! `ChatService`: the frontend-neutral pipeline behind [`Conversations`].
//! One message goes through: shutdown gate → per-user rate limit and daily
//! budget → the conversation's queue (one turn at a time, in order) → the
//! global turn cap → memory → routing → provider (with fallback and the
//! cannot-browse reroute) → rendering → memory (successful turns only).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, field, info, info_span, warn};

use super::limits::{Admission, UserLimiter};
use super::memory::Memory;
use super::router::RouterConfig;
use super::turn::TurnRunner;
use super::{
    ConversationKey, Conversations, Incoming, Outcome, ProviderStatus, StatusReport, messages,
};
use crate::config::Config;
use crate::metric_names as names;
use crate::providers::Providers;

/// Everything a configuration reload may replace, swapped as one.
pub(super) struct Runtime {
    pub config: Arc<Config>,
    pub providers: Arc<Providers>,
    pub router: RouterConfig,
    pub limiter: Arc<UserLimiter>,
    pub turns: Arc<Semaphore>,
}

/// One conversation's queue: a fair lock (FIFO) and how many wait for it.
#[derive(Default)]
struct ConversationQueue {
    lock: Mutex<()>,
    waiting: AtomicUsize,
}

/// The conversation pipeline; cheap to clone.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: RwLock<Arc<Runtime>>,
    memory: Memory,
    queues: DashMap<ConversationKey, Arc<ConversationQueue>>,
    accepting: AtomicBool,
    in_flight: TaskTracker,
    interrupt: CancellationToken,
}

impl ChatService {
    pub fn new(config: Arc<Config>, providers: Arc<Providers>, memory: Memory) -> Self {
        let runtime = Runtime::build(config, providers, None);
        Self {
            inner: Arc::new(Inner {
                runtime: RwLock::new(Arc::new(runtime)),
                memory,
                queues: DashMap::new(),
                accepting: AtomicBool::new(true),
                in_flight: TaskTracker::new(),
                interrupt: CancellationToken::new(),
            }),
        }
    }

    fn runtime(&self) -> Arc<Runtime> {
        self.inner
            .runtime
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.runtime().config.clone()
    }

    pub fn providers(&self) -> Arc<Providers> {
        self.runtime().providers.clone()
    }

    pub fn memory(&self) -> &Memory {
        &self.inner.memory
    }

    /// Applies a reloaded configuration: the next message uses the new
    /// providers, limits and routing; turns in flight finish on the old ones.
    pub fn reconfigure(&self, config: Arc<Config>, providers: Arc<Providers>) {
        let current = self.runtime();
        let next = Runtime::build(config, providers, Some(&current));
        *self
            .inner
            .runtime
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
    }

    /// Stops taking messages and waits up to `grace` for turns in flight;
    /// turns still running then are interrupted and their users told so.
    /// Returns true when every turn finished on its own.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.inner.accepting.store(false, Ordering::SeqCst);
        self.inner.in_flight.close();
        let finished = tokio::time::timeout(grace, self.inner.in_flight.wait())
            .await
            .is_ok();
        if !finished {
            warn!(
                in_flight = self.inner.in_flight.len(),
                "grace period over; interrupting turns"
            );
            self.inner.interrupt.cancel();
            self.inner.in_flight.wait().await;
        }
        if let Err(error) = self.inner.memory.flush().await {
            warn!(%error, "could not flush memory at shutdown");
        }
        finished
    }

    /// Turns in progress right now.
    pub fn turns_in_flight(&self) -> usize {
        self.inner.in_flight.len()
    }

    /// Periodic cleanup every USER_LOCK_CLEANUP_INTERVAL: idle queues,
    /// rate-limit state of quiet users, conversations idle past MEMORY_TTL.
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                let interval = service.config().orchestrator.cleanup_interval;
                tokio::time::sleep(interval).await;
                service.sweep().await;
            }
        })
    }

    /// One housekeeping pass.
    pub async fn sweep(&self) {
        let runtime = self.runtime();
        self.inner
            .queues
            .retain(|_, queue| Arc::strong_count(queue) > 1 || queue.lock.try_lock().is_err());
        runtime.limiter.retain_recent();
        if let Some(ttl) = runtime.config.memory.ttl {
            match self
                .inner
                .memory
                .prune_idle(ttl, chrono::Utc::now().timestamp())
                .await
            {
                Ok(0) => {}
                Ok(pruned) => info!(pruned, "pruned idle conversations"),
                Err(error) => warn!(%error, "could not prune idle conversations"),
            }
        }
        metrics::gauge!(names::MEMORY_CACHE_CONVERSATIONS)
            .set(self.inner.memory.cached_conversations() as f64);
        if let Ok(stored) = self.inner.memory.conversation_count().await {
            metrics::gauge!(names::CONVERSATIONS_STORED).set(stored as f64);
        }
    }

    /// Messages waiting behind the turn in progress in this conversation.
    pub fn queued(&self, key: &ConversationKey) -> usize {
        self.inner
            .queues
            .get(key)
            .map_or(0, |queue| queue.waiting.load(Ordering::SeqCst))
    }

    fn queue(&self, key: &ConversationKey) -> Arc<ConversationQueue> {
        self.inner.queues.entry(key.clone()).or_default().clone()
    }

    /// Rate limit and budget; `Some` is the outcome for a refused message.
    async fn admit(&self, runtime: &Runtime, message: &Incoming) -> Option<Outcome> {
        if message.privileged {
            return None;
        }
        match runtime.limiter.admit(&message.user_id) {
            Admission::Allowed => {}
            Admission::Notify(wait) => {
                return Some(rejected("rate_limited", messages::rate_limited(wait)));
            }
            Admission::Quiet => {
                metrics::counter!(names::MESSAGES_REJECTED, "reason" => "rate_limited")
                    .increment(1);
                return Some(Outcome::Silent);
            }
        }
        let budget = runtime.config.limits.user_daily_tokens;
        if budget == 0 {
            return None;
        }
        match self
            .inner
            .memory
            .tokens_used(&message.user_id, &today())
            .await
        {
            Ok(used) if used >= budget => {
                Some(rejected("budget", messages::BUDGET_SPENT.to_string()))
            }
            Ok(_) => None,
            Err(error) => {
                warn!(%error, "could not read the token budget; letting the message through");
                None
            }
        }
    }

    async fn handle_admitted(
        &self,
        runtime: Arc<Runtime>,
        message: Incoming,
        progress: Option<watch::Sender<String>>,
    ) -> Outcome {
        let config = &runtime.config;
        let key = ConversationKey::new(config.memory.scope, &message.user_id, &message.channel_id);
        let queue = self.queue(&key);
        if queue.waiting.fetch_add(1, Ordering::SeqCst) >= config.limits.max_queued_per_conversation
        {
            queue.waiting.fetch_sub(1, Ordering::SeqCst);
            return rejected("queue_full", messages::QUEUE_FULL.to_string());
        }
        let _conversation = queue.lock.lock().await;
        queue.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(_turn) = runtime.turns.clone().try_acquire_owned() else {
            return rejected("busy", messages::BUSY.to_string());
        };
        let runner = TurnRunner {
            runtime: &runtime,
            memory: &self.inner.memory,
            key: &key,
        };
        let turn = runner.run(&message, progress.as_ref());
        let interrupted = self.inner.interrupt.cancelled();
        tokio::select! {
            result = turn => match result {
                Ok(answer) => {
                    metrics::counter!(names::MESSAGES_ANSWERED, "provider" => answer.provider.as_str()).increment(1);
                    Outcome::Answer(answer)
                }
                Err(error) => rejected(error.reason(), error.user_message().to_string()),
            },
            () = interrupted => rejected("interrupted", messages::INTERRUPTED.to_string()),
        }
    }
}

impl Runtime {
    fn build(config: Arc<Config>, providers: Arc<Providers>, previous: Option<&Runtime>) -> Self {
        let limiter = match previous {
            Some(previous) if previous.limiter.matches(&config.limits) => previous.limiter.clone(),
            _ => Arc::new(UserLimiter::new(&config.limits)),
        };
        let turns = match previous {
            Some(previous)
                if previous.config.limits.max_concurrent_turns
                    == config.limits.max_concurrent_turns =>
            {
                previous.turns.clone()
            }
            _ => Arc::new(Semaphore::new(config.limits.max_concurrent_turns)),
        };
        let router = RouterConfig::from_config(&config, current_year());
        Self {
            config,
            providers,
            router,
            limiter,
            turns,
        }
    }
}

fn rejected(reason: &'static str, text: String) -> Outcome {
    metrics::counter!(names::MESSAGES_REJECTED, "reason" => reason).increment(1);
    Outcome::Notice(text)
}

pub(super) fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

#[async_trait]
impl Conversations for ChatService {
    async fn handle(&self, message: Incoming, progress: Option<watch::Sender<String>>) -> Outcome {
        metrics::counter!(names::MESSAGES_RECEIVED).increment(1);
        let started = Instant::now();
        let runtime = self.runtime();
        let span = info_span!("turn", user = %message.user_id, channel = %message.channel_id,
            route = field::Empty, provider = field::Empty, latency_ms = field::Empty);
        if runtime.config.logging.message_content {
            span.in_scope(|| info!(text = %message.text, "message"));
        }
        if !self.inner.accepting.load(Ordering::SeqCst) {
            return rejected("shutting_down", messages::SHUTTING_DOWN.to_string());
        }
        if message.text.trim().is_empty() {
            return rejected("empty", messages::EMPTY_MESSAGE.to_string());
        }
        if let Some(outcome) = self.admit(&runtime, &message).await {
            return outcome;
        }
        let turn = self.handle_admitted(runtime, message, progress);
        let outcome = self
            .inner
            .in_flight
            .track_future(turn)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        metrics::histogram!(names::TURN_DURATION_SECONDS).record(started.elapsed().as_secs_f64());
        outcome
    }

    async fn reset(&self, user_id: &str, channel_id: &str) -> Outcome {
        let key = ConversationKey::new(self.config().memory.scope, user_id, channel_id);
        match self.inner.memory.reset(&key).await {
            Ok(_) => Outcome::Notice(messages::RESET_DONE.to_string()),
            Err(error) => {
                warn!(%error, %key, "reset failed");
                Outcome::Notice(messages::MEMORY_UNAVAILABLE.to_string())
            }
        }
    }

    async fn forget(&self, user_id: &str) -> Outcome {
        match self.inner.memory.forget_user(user_id).await {
            Ok(removed) => {
                info!(user = %user_id, removed, "forgot a user");
                Outcome::Notice(messages::FORGET_DONE.to_string())
            }
            Err(error) => {
                warn!(%error, user = %user_id, "forget failed");
                Outcome::Notice(messages::MEMORY_UNAVAILABLE.to_string())
            }
        }
    }

    async fn export(&self, user_id: &str) -> Outcome {
        match self.inner.memory.export_user(user_id).await {
            Ok(json) => Outcome::Notice(format!("```json\n{json}\n```")),
            Err(error) => {
                warn!(%error, user = %user_id, "export failed");
                Outcome::Notice(messages::MEMORY_UNAVAILABLE.to_string())
            }
        }
    }

    async fn status(&self, user_id: &str) -> StatusReport {
        let runtime = self.runtime();
        let config = &runtime.config;
        let providers = runtime
            .providers
            .available()
            .into_iter()
            .filter_map(|kind| runtime.providers.get(kind))
            .map(|client| ProviderStatus {
                provider: client.kind(),
                model: client.model().to_string(),
                pool: serde_json::to_value(client.stats()).unwrap_or_default(),
            })
            .collect();
        let budget = config.limits.user_daily_tokens;
        let tokens_left_today = if budget == 0 {
            None
        } else {
            let used = self
                .inner
                .memory
                .tokens_used(user_id, &today())
                .await
                .unwrap_or(0);
            Some(budget.saturating_sub(used))
        };
        StatusReport {
            mode: config.mode().map_or("none", |m| m.as_str()).to_string(),
            providers,
            rate_limit_remaining: runtime.limiter.remaining(user_id),
            rate_limit: runtime.limiter.limit(),
            rate_limit_window_secs: runtime.limiter.window().as_secs(),
            tokens_left_today,
        }
    }
}
