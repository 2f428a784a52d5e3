//! Periodic cleanup every USER_LOCK_CLEANUP_INTERVAL: idle conversation
//! queues, rate-limit state of quiet users, conversations idle past
//! MEMORY_TTL, and the memory gauges.

use std::sync::Arc;

use tracing::{info, warn};

use super::service::ChatService;
use crate::metric_names as names;

impl ChatService {
    /// Runs [`Self::sweep`] every cleanup interval until shutdown is requested.
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            let shutdown = service.shutdown().clone();
            loop {
                let interval = service.config().orchestrator.cleanup_interval;
                tokio::select! {
                    () = tokio::time::sleep(interval) => service.sweep().await,
                    () = shutdown.requested() => return,
                }
            }
        })
    }

    /// One housekeeping pass.
    pub async fn sweep(&self) {
        let live = self.live();
        self.retain_queues(|queue| Arc::strong_count(queue) > 1 || queue.is_busy());
        live.limiter.retain_recent();
        let memory = self.memory();
        if let Some(ttl) = live.config.memory.ttl {
            match memory.prune_idle(ttl, chrono::Utc::now().timestamp()).await {
                Ok(0) => {}
                Ok(pruned) => info!(pruned, "pruned idle conversations"),
                Err(error) => warn!(%error, "could not prune idle conversations"),
            }
        }
        metrics::gauge!(names::MEMORY_CACHE_CONVERSATIONS)
            .set(memory.cached_conversations() as f64);
        if let Ok(stored) = memory.conversation_count().await {
            metrics::gauge!(names::CONVERSATIONS_STORED).set(stored as f64);
        }
    }
}
