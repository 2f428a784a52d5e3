//! The `duet run` processes of the scale section: each started with the
//! shard range and stores it is given, ready once its `/health` counts the
//! servers of its shards, its CPU read from `/proc`, stopped with SIGTERM.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use crate::duet_run::{spawn_run, stop};
use crate::guilds::{free_port, get_health};
use crate::sys::pid_cpu;

/// How long a process may take to connect its shards and receive its servers.
const READY_WAIT: Duration = Duration::from_secs(120);

/// Where a run keeps its conversations.
#[derive(Debug, Clone)]
pub enum Stores {
    /// SQLite in the run's scratch directory, limits in-process.
    Sqlite,
    /// One PostgreSQL schema and one Redis key prefix for every process.
    Shared {
        database_url: String,
        redis_url: String,
        redis_prefix: String,
    },
}

/// One `duet run`.
pub struct Process {
    child: tokio::process::Child,
    pid: u32,
    health_port: u16,
    log_file: std::path::PathBuf,
    /// Servers its `/health` counts once it has all of its shards' servers.
    pub servers: u64,
}

impl Process {
    /// Starts `exe run` for `shard_ids` (e.g. `0-1`) of a two-shard bot,
    /// with `env` (mock and load settings) and the fake at `discord_url`.
    pub fn start(
        exe: &Path,
        env: &HashMap<String, String>,
        discord_url: &str,
        shard_ids: &str,
        stores: &Stores,
        dir: &Path,
        servers: u64,
    ) -> anyhow::Result<Process> {
        let health_port = free_port()?;
        let log_file = dir.join(format!("duet-{shard_ids}.log"));
        let mut env = env.clone();
        let mut set = |key: &str, value: String| {
            env.insert(key.to_string(), value);
        };
        set("DISCORD_TOKEN", "fake-token".into());
        set("DISCORD_API_BASE_URL", discord_url.into());
        set("STREAM_REPLIES", "false".into());
        set("SHARD_COUNT", "2".into());
        set("SHARD_IDS", shard_ids.into());
        set("HEALTH_HOST", "127.0.0.1".into());
        set("HEALTH_PORT", health_port.to_string());
        set("LOG_FILE", log_file.display().to_string());
        set("LOG_LEVEL", "warn".into());
        match stores {
            Stores::Sqlite => {
                set("MEMORY_BACKEND", "sqlite".into());
                set("DATABASE_PATH", dir.join("duet.db").display().to_string());
            }
            Stores::Shared {
                database_url,
                redis_url,
                redis_prefix,
            } => {
                set("MEMORY_BACKEND", "postgres".into());
                set("DATABASE_URL", database_url.clone());
                set("REDIS_URL", redis_url.clone());
                set("REDIS_KEY_PREFIX", redis_prefix.clone());
            }
        }
        let (child, pid) = spawn_run(exe, &env, Some(dir))?;
        Ok(Process {
            child,
            pid,
            health_port,
            log_file,
            servers,
        })
    }

    /// Waits until `/health` counts every server of this process's shards.
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WAIT;
        loop {
            let health = get_health(self.health_port).await.unwrap_or(Value::Null);
            if health["discord"]["guilds"].as_u64() == Some(self.servers) {
                return Ok(());
            }
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
                let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
                bail!(
                    "duet run (pid {}) was not ready with {} servers (exit {exited:?}); last /health: {health}; its log, newest first:\n{tail}",
                    self.pid,
                    self.servers
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// CPU time (user + system) the process has used so far.
    pub fn cpu(&self) -> Duration {
        pid_cpu(self.pid).unwrap_or_default()
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> u64 {
        crate::sys::status_bytes(&self.pid.to_string(), "VmRSS").unwrap_or(0)
    }

    /// Lines its log file holds so far (LOG_LEVEL = warn: warnings and
    /// errors only) and the first of them.
    pub fn warnings(&self) -> (usize, Option<String>) {
        let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
        let mut lines = log.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().map(|l| l.chars().take(300).collect());
        (lines.count() + usize::from(first.is_some()), first)
    }

    /// SIGTERM; how it ended.
    pub async fn stop(mut self) -> Value {
        stop(&mut self.child, &self.pid.to_string()).await
    }
}
