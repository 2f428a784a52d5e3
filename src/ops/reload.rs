//! Live reload: when the INI file changes (watched with `notify`) or on
//! SIGHUP, re-read and validate it. An invalid file is logged in full and the
//! old configuration stays; a valid one is applied without a restart: new
//! pooled clients are swapped in (turns in flight finish on the old ones),
//! limits, routing, prompts and allowlists apply to the next message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

use crate::chat::ChatService;
use crate::config::Config;
use crate::providers::Providers;

/// Keys that only take effect after a restart.
pub const RESTART_ONLY_KEYS: &[&str] = &[
    "DISCORD_TOKEN",
    "API_BASE_URL",
    "COMMAND_GUILD_IDS",
    "HEALTH_ENABLED",
    "HEALTH_HOST",
    "HEALTH_PORT",
    "MEMORY_BACKEND",
    "DATABASE_PATH",
    "MEMORY_SCOPE",
    "MEMORY_CACHE_CONVERSATIONS",
    "LOG_FILE",
    "LOG_LEVEL",
    "LOG_FORMAT",
];

/// Several editor writes in a row make one reload.
const SETTLE: Duration = Duration::from_millis(200);

pub struct Reloader {
    pub path: PathBuf,
    pub env: HashMap<String, String>,
    pub service: ChatService,
    /// Publishes each applied configuration (the Discord frontend reads it).
    pub published: watch::Sender<Arc<Config>>,
}

impl Reloader {
    /// Watches the file; returns a channel that fires on every change.
    pub fn watch_file(
        path: &Path,
    ) -> notify::Result<(notify::RecommendedWatcher, mpsc::UnboundedReceiver<()>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let file_name = path.file_name().map(ToOwned::to_owned);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let ours = event
                    .paths
                    .iter()
                    .any(|p| p.file_name() == file_name.as_deref());
                if ours && (event.kind.is_modify() || event.kind.is_create()) {
                    let _ = tx.send(());
                }
            })?;
        // Watch the directory: editors replace the file rather than write in place.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
        Ok((watcher, rx))
    }

    /// Re-reads the file and applies it when valid; returns whether it was applied.
    pub async fn reload(&self) -> bool {
        let new = match Config::load(Some(&self.path), &self.env) {
            Ok(config) => config,
            Err(errors) => {
                error!(file = %self.path.display(), "config reload rejected; keeping the running configuration");
                for issue in errors.0.iter().filter(|i| i.is_error()) {
                    error!("{issue}");
                }
                return false;
            }
        };
        let old = self.service.config();
        let changes = new.changes_from(&old);
        if changes.is_empty() {
            return false;
        }
        for key in RESTART_ONLY_KEYS
            .iter()
            .filter(|key| changes.iter().any(|c| c.starts_with(&format!("{key}:"))))
        {
            warn!(key, "this setting changes only after a restart");
        }
        let providers = match Providers::from_config(&new) {
            Ok(providers) => providers,
            Err(error) => {
                error!(%error, "config reload rejected: cannot build the provider clients");
                return false;
            }
        };
        providers.warm_up().await;
        let new = Arc::new(new);
        self.service.reconfigure(new.clone(), Arc::new(providers));
        self.published.send_replace(new);
        info!(changes = %changes.join(", "), "configuration reloaded");
        true
    }

    /// Reloads on every file change (debounced) until the channel closes.
    pub async fn run(self: Arc<Self>, mut changes: mpsc::UnboundedReceiver<()>) {
        while changes.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while changes.try_recv().is_ok() {}
            self.reload().await;
        }
    }
}
