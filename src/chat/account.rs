//! What a user can ask about their own data and limits, outside a turn:
//! reset a conversation, forget everything, export it, and `/status`.
//! [`super::frontend::Conversations`] exposes them to the frontends.

use tracing::{info, warn};

use super::admission::today;
use super::budget;
use super::frontend::Outcome;
use super::frontend::ProviderStatus;
use super::frontend::StatusReport;
use super::messages;
use super::service::ChatService;
use super::types::ConversationKey;

impl ChatService {
    pub(super) async fn account_reset(&self, user_id: &str, channel_id: &str) -> Outcome {
        let key = ConversationKey::new(self.config().memory.scope, user_id, channel_id);
        match self.memory().reset(&key).await {
            Ok(_) => Outcome::Notice(messages::RESET_DONE.to_string()),
            Err(error) => {
                warn!(%error, %key, "reset failed");
                Outcome::Notice(messages::MEMORY_UNAVAILABLE.to_string())
            }
        }
    }

    pub(super) async fn account_forget(&self, user_id: &str) -> Outcome {
        match self.memory().forget_user(user_id).await {
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

    pub(super) async fn account_export(&self, user_id: &str) -> Outcome {
        match self.memory().export_user(user_id).await {
            Ok(json) => Outcome::Notice(format!("```json\n{json}\n```")),
            Err(error) => {
                warn!(%error, user = %user_id, "export failed");
                Outcome::Notice(messages::MEMORY_UNAVAILABLE.to_string())
            }
        }
    }

    pub(super) async fn account_status(&self, user_id: &str) -> StatusReport {
        let live = self.live();
        let config = &live.config;
        let providers = live
            .providers
            .available()
            .into_iter()
            .filter_map(|kind| live.providers.get(kind))
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
            let used = budget::tokens_used(&live, self.memory(), user_id, &today())
                .await
                .unwrap_or(0);
            Some(budget.saturating_sub(used))
        };
        StatusReport {
            mode: config.effective_mode().to_string(),
            web_provider: live.providers.web_label().map(str::to_string),
            providers,
            rate_limit_remaining: live.limiter.remaining(user_id).await,
            rate_limit: live.limiter.limit(),
            rate_limit_window_secs: live.limiter.window().as_secs(),
            tokens_left_today,
        }
    }
}
