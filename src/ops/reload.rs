//! Live reload: when the INI file changes (watched with `notify`) or on
//! SIGHUP, re-read and validate it. An invalid file is logged in full and the
//! old configuration stays; a valid one is applied without a restart: new
//! pooled clients are swapped in (turns in flight finish on the old ones),
//! limits, routing, prompts and allowlists apply to the next message.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::signals::isolated;
use crate::chat::live::LiveSender;
use crate::config::{Config, ReloadDiff};
use crate::providers::Providers;

/// Size, modification time and inode of the file a path leads to.
type Fingerprint = (u64, Option<SystemTime>, u64);

/// Which events in the watched directory concern the config file: only
/// events naming the file itself or an entry its path resolves through
/// (Kubernetes updates a mounted ConfigMap by swapping a `..data` symlink,
/// so no event ever names `config.ini` itself). Every other event (a log
/// file or a database next to the config) is dropped before anything else
/// is done for it. A relevant event counts when it names the file or the
/// path now leads to a different file.
struct WatchedFile {
    path: PathBuf,
    file_name: Option<OsString>,
    state: Mutex<WatchState>,
}

struct WatchState {
    /// Names in the directory whose events can change what the path leads to.
    relevant: HashSet<OsString>,
    last: Option<Fingerprint>,
}

impl WatchedFile {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file_name: path.file_name().map(ToOwned::to_owned),
            state: Mutex::new(WatchState {
                relevant: relevant_names(path),
                last: fingerprint(path),
            }),
        }
    }

    fn changed_by(&self, event: &notify::Event) -> bool {
        let kind = event.kind;
        if !(kind.is_modify() || kind.is_create() || kind.is_remove()) {
            return false;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let names = || event.paths.iter().filter_map(|p| p.file_name());
        if !names().any(|name| state.relevant.contains(name)) {
            return false;
        }
        let names_file = names().any(|name| Some(name) == self.file_name.as_deref());
        let now = fingerprint(&self.path);
        let moved = state.last != now;
        state.last = now;
        state.relevant = relevant_names(&self.path);
        names_file || moved
    }
}

/// The file's name and, while it is a symlink into its own directory, the
/// first entry of each link target (`..data` for a ConfigMap mount).
fn relevant_names(path: &Path) -> HashSet<OsString> {
    let dir = watched_dir(path);
    let mut names: HashSet<OsString> = path
        .file_name()
        .map(ToOwned::to_owned)
        .into_iter()
        .collect();
    let mut link = path.to_path_buf();
    // A few hops at most; a symlink loop must not spin.
    for _ in 0..8 {
        let Ok(target) = std::fs::read_link(&link) else {
            break;
        };
        let target = if target.is_absolute() {
            target
        } else {
            dir.join(target)
        };
        let Some(first) = target
            .strip_prefix(dir)
            .ok()
            .and_then(|inside| inside.components().next())
        else {
            break;
        };
        names.insert(first.as_os_str().to_owned());
        link = dir.join(first);
    }
    names
}

fn watched_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Follows symlinks; `None` while the file is missing.
fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok(), metadata.ino()))
}

/// Several editor writes in a row make one reload.
const SETTLE: Duration = Duration::from_millis(200);

pub struct Reloader {
    pub path: PathBuf,
    pub env: HashMap<String, String>,
    /// Where the next live value is published; every part of the process reads it.
    pub live: LiveSender,
}

impl Reloader {
    /// Watches the file; returns a channel that fires on every change.
    pub fn watch_file(
        path: &Path,
    ) -> notify::Result<(notify::RecommendedWatcher, mpsc::UnboundedReceiver<()>)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let file = WatchedFile::new(path);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|event| file.changed_by(&event)) {
                    let _ = tx.send(());
                }
            })?;
        // Watch the directory: editors replace the file rather than write in place.
        watcher.watch(watched_dir(path), RecursiveMode::NonRecursive)?;
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
        let current = self.live.borrow().clone();
        let old = &current.config;
        let diff = ReloadDiff::between(old, &new);
        if diff.is_empty() {
            return false;
        }
        let changes = new.changes_from(old);
        for key in diff.restart_keys() {
            warn!(key, "this setting changes only after a restart");
        }
        let providers = if diff.rebuilds_providers() {
            // The Redis connection stays: REDIS_URL changes only with a restart.
            let coordinator = current.providers.coordinator().cloned();
            match Providers::from_config_coordinated(&new, coordinator) {
                Ok(providers) => {
                    providers.warm_up().await;
                    Arc::new(providers)
                }
                Err(error) => {
                    error!(%error, "config reload rejected: cannot build the provider clients");
                    return false;
                }
            }
        } else {
            // Keep the warm connections and the pool statistics.
            current.providers.clone()
        };
        crate::logging::redact(crate::logging::secrets_of(&new));
        let next = current.next(Arc::new(new), providers);
        self.live.send_replace(Arc::new(next));
        info!(changes = %changes.join(", "), "configuration reloaded");
        true
    }

    /// Reloads on every file change (debounced) until the channel closes.
    /// Each reload runs [`isolated`]: a panic in one is a failed reload,
    /// and the next change is still applied.
    pub async fn run(self: Arc<Self>, mut changes: mpsc::UnboundedReceiver<()>) {
        while changes.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while changes.try_recv().is_ok() {}
            self.reload_isolated().await;
        }
    }

    /// [`Self::reload`] in a task of its own; a panic counts as a rejected reload.
    pub async fn reload_isolated(self: &Arc<Self>) -> bool {
        let reloader = Arc::clone(self);
        isolated("the configuration reload", async move {
            reloader.reload().await
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("config.ini"), &HashMap::new()).expect("valid")
    }

    fn rebuilds(old: &Config, new: &Config) -> bool {
        ReloadDiff::between(old, new).rebuilds_providers()
    }

    #[test]
    fn only_provider_keys_rebuild_the_provider_clients() {
        let base = config("[Limits]\nRATE_LIMIT = 5\n[Default]\nSYSTEM_MESSAGE = hi\n");
        let limits = config(
            "[Limits]\nRATE_LIMIT = 2\n[Default]\nSYSTEM_MESSAGE = hello\nINPUT_TOKENS = 5000\n",
        );
        assert!(!rebuilds(&base, &limits));
        let pool =
            config("[Limits]\nRATE_LIMIT = 5\n[ConnectionPool]\nOPENAI_MAX_CONNECTIONS = 3\n");
        assert!(rebuilds(&base, &pool));
        let model = config("[Default]\nGPT_MODEL = other\n");
        assert!(rebuilds(&base, &model));
        let output = config("[Default]\nOUTPUT_TOKENS = 100\n");
        assert!(
            rebuilds(&base, &output),
            "providers put OUTPUT_TOKENS in each request"
        );
    }

    /// The kubelet's update of a mounted ConfigMap: a new versioned
    /// directory, then the `..data` symlink swapped by a rename.
    fn swap_configmap(dir: &Path, version: &str, text: &str) {
        let versioned = dir.join(format!("..{version}"));
        std::fs::create_dir(&versioned).unwrap();
        std::fs::write(versioned.join("config.ini"), text).unwrap();
        let staged = dir.join("..data_tmp");
        std::os::unix::fs::symlink(format!("..{version}"), &staged).unwrap();
        std::fs::rename(&staged, dir.join("..data")).unwrap();
    }

    async fn fires(changes: &mut mpsc::UnboundedReceiver<()>) -> bool {
        tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_configmap_symlink_swap_counts_as_a_change_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        swap_configmap(dir.path(), "v1", "[Limits]\nRATE_LIMIT = 1\n");
        let path = dir.path().join("config.ini");
        std::os::unix::fs::symlink("..data/config.ini", &path).unwrap();
        let (_watcher, mut changes) = Reloader::watch_file(&path).unwrap();

        swap_configmap(dir.path(), "v2", "[Limits]\nRATE_LIMIT = 2\n");
        assert!(fires(&mut changes).await);
    }

    #[tokio::test]
    async fn writes_to_other_files_in_the_directory_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.ini");
        std::fs::write(&path, "[Limits]\nRATE_LIMIT = 1\n").unwrap();
        let (_watcher, mut changes) = Reloader::watch_file(&path).unwrap();

        std::fs::write(dir.path().join("duet.db-wal"), "pages").unwrap();
        std::fs::write(&path, "[Limits]\nRATE_LIMIT = 2\n").unwrap();
        assert!(fires(&mut changes).await, "the edit of the file itself");
        // One write arrives as several events; let them all land first.
        for _ in 0..50 {
            let settled = tokio::time::timeout(Duration::from_millis(200), changes.recv()).await;
            if settled.is_err() {
                break;
            }
        }
        std::fs::write(dir.path().join("duet.db-wal"), "more pages").unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), changes.recv())
                .await
                .is_err(),
            "a database write is not a config change"
        );
    }

    fn event(kind: notify::EventKind, path: &Path) -> notify::Event {
        notify::Event::new(kind).add_path(path.to_path_buf())
    }

    #[test]
    fn only_events_naming_the_file_or_its_link_chain_are_considered() {
        let dir = tempfile::tempdir().unwrap();
        swap_configmap(dir.path(), "v1", "[Limits]\nRATE_LIMIT = 1\n");
        let path = dir.path().join("config.ini");
        std::os::unix::fs::symlink("..data/config.ini", &path).unwrap();
        let watched = WatchedFile::new(&path);
        let relevant = relevant_names(&path);
        assert!(
            relevant.contains(std::ffi::OsStr::new("config.ini")),
            "{relevant:?}"
        );
        assert!(
            relevant.contains(std::ffi::OsStr::new("..data")),
            "{relevant:?}"
        );

        let modify = notify::EventKind::Modify(notify::event::ModifyKind::Any);
        // Even when the file did change, an event about a log file says nothing.
        swap_configmap(dir.path(), "v2", "[Limits]\nRATE_LIMIT = 2\n");
        assert!(!watched.changed_by(&event(modify, &dir.path().join("duet.log"))));
        assert!(watched.changed_by(&event(modify, &dir.path().join("..data"))));
        assert!(
            !watched.changed_by(&event(modify, &dir.path().join("..data"))),
            "no change since"
        );
        assert!(
            watched.changed_by(&event(modify, &path)),
            "an event naming the file counts"
        );
    }
}
