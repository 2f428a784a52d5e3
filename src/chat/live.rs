//! [`Live`]: everything a configuration reload may replace, swapped as one
//! value through one `watch` channel. The pipeline, the Discord frontend and
//! the health server all read the same channel; a reload only publishes the
//! next value ([`Live::next`]). Turns in flight finish on the value they
//! started with.

use std::sync::Arc;

use tokio::sync::{Semaphore, watch};

use super::limits::UserLimiter;
use super::router::RouterConfig;
use crate::config::Config;
use crate::metric_names as names;
use crate::providers::Providers;

/// The configuration in force and what is built from it.
pub struct Live {
    pub config: Arc<Config>,
    pub providers: Arc<Providers>,
    pub router: RouterConfig,
    pub limiter: Arc<UserLimiter>,
    /// Turns in progress across all users (MAX_CONCURRENT_TURNS).
    pub turns: Arc<Semaphore>,
}

/// Where every part of the process reads the live value from.
pub type LiveReceiver = watch::Receiver<Arc<Live>>;
/// Where a reload publishes the next live value.
pub type LiveSender = watch::Sender<Arc<Live>>;

impl Live {
    /// The first live value of a process.
    pub fn first(config: Arc<Config>, providers: Arc<Providers>) -> Self {
        Self::build(config, providers, None)
    }

    /// The value after a reload: limiter state and the turn cap carry over
    /// when their settings did not change, so a reload forgives nobody.
    pub fn next(&self, config: Arc<Config>, providers: Arc<Providers>) -> Self {
        Self::build(config, providers, Some(self))
    }

    fn build(config: Arc<Config>, providers: Arc<Providers>, previous: Option<&Live>) -> Self {
        let limiter = match previous {
            Some(previous) if previous.limiter.matches(&config.limits) => previous.limiter.clone(),
            _ => Arc::new(
                UserLimiter::new(&config.limits).coordinated(providers.coordinator().cloned()),
            ),
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
        publish_web_provider(previous.map(|p| &*p.providers), &providers);
        Self {
            config,
            providers,
            router,
            limiter,
            turns,
        }
    }

    /// A channel holding `self`.
    pub fn channel(self) -> (LiveSender, LiveReceiver) {
        watch::channel(Arc::new(self))
    }
}

/// The web provider gauge: the one in force is 1, the one a reload replaced 0.
fn publish_web_provider(previous: Option<&Providers>, providers: &Providers) {
    let now = providers.web_label();
    if let Some(before) = previous.and_then(Providers::web_label)
        && Some(before) != now
    {
        metrics::gauge!(names::WEB_PROVIDER, "provider" => before).set(0.0);
    }
    if let Some(now) = now {
        metrics::gauge!(names::WEB_PROVIDER, "provider" => now).set(1.0);
    }
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}
