//! The SQLite store's dedicated thread. Async callers send it jobs over a
//! channel and await a oneshot reply, so SQLite never runs on the async
//! runtime. One thread runs every job in arrival order, which gives
//! read-your-writes, keeps appends to one conversation in order, and lets it
//! update the hot cache right after each commit. Hot reads skip it entirely.
//!
//! A job whose caller went away still runs: a turn handed over is written.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::cache::ConversationTable;
use super::error::MemoryError;
use super::poison::lock;
use super::sqlite::{Db, open_connection};
use crate::chat::types::ConversationKey;
use crate::chat::types::Turn;

type Job = Box<dyn FnOnce(&mut Db) + Send>;

#[derive(Debug)]
pub(super) struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    cache: Arc<Mutex<ConversationTable>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for SqliteStore {
    /// Lets the worker finish the jobs already sent, then waits for it, so
    /// the database (and its lock) is closed when the last handle is gone:
    /// the same process may open it again right away.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.jobs, mpsc::channel().0));
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

impl SqliteStore {
    /// Opens (and migrates) the database here, then hands the connection to a new thread.
    pub(super) fn open(
        path: &Path,
        cache_conversations: usize,
        max_turns: usize,
    ) -> Result<Self, MemoryError> {
        let (conn, lock) = open_connection(path)?;
        let cache = Arc::new(Mutex::new(ConversationTable::bounded(
            cache_conversations,
            max_turns,
        )));
        let mut db = Db {
            conn,
            cache: Arc::clone(&cache),
            max_turns,
            _lock: lock,
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("duet-memory".into())
            .spawn(move || {
                // Ends when the last `SqliteStore` handle is dropped; the
                // connection closes with it.
                for job in queue {
                    // A panicking job loses only its own reply.
                    let _ = catch_unwind(AssertUnwindSafe(|| job(&mut db)));
                }
            })
            .map_err(|source| MemoryError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            jobs,
            cache,
            thread: Some(thread),
        })
    }

    /// Runs `f` on the worker thread and waits for its answer.
    pub(super) async fn run<R, F>(&self, f: F) -> Result<R, MemoryError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Db) -> Result<R, MemoryError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |db| {
            let _ = reply.send(f(db));
        });
        self.jobs.send(job).map_err(|_| MemoryError::WorkerGone)?;
        answer.await.map_err(|_| MemoryError::WorkerGone)?
    }

    pub(super) fn cached_conversations(&self) -> usize {
        lock(&self.cache).len()
    }

    pub(super) async fn load(&self, key: &ConversationKey) -> Result<Vec<Turn>, MemoryError> {
        if let Some(turns) = lock(&self.cache).get(key.as_str()) {
            return Ok(turns);
        }
        let key = key.as_str().to_owned();
        self.run(move |db| db.load(&key)).await
    }

    pub(super) async fn append(
        &self,
        key: &ConversationKey,
        turn: Turn,
    ) -> Result<(), MemoryError> {
        let key = key.as_str().to_owned();
        self.run(move |db| db.append(&key, turn)).await
    }

    pub(super) async fn reset(&self, key: &ConversationKey) -> Result<usize, MemoryError> {
        let key = key.as_str().to_owned();
        self.run(move |db| db.reset(&key)).await
    }

    pub(super) async fn forget_user(&self, user_id: &str) -> Result<usize, MemoryError> {
        let user_id = user_id.to_owned();
        self.run(move |db| db.forget_user(&user_id)).await
    }

    pub(super) async fn export_user(&self, user_id: &str) -> Result<String, MemoryError> {
        let user_id = user_id.to_owned();
        self.run(move |db| db.export_user(&user_id)).await
    }

    pub(super) async fn prune(
        &self,
        cutoff: i64,
        oldest_day: Option<String>,
    ) -> Result<usize, MemoryError> {
        self.run(move |db| db.prune(cutoff, oldest_day.as_deref()))
            .await
    }

    pub(super) async fn add_tokens(
        &self,
        user_id: &str,
        day: &str,
        tokens: u64,
    ) -> Result<u64, MemoryError> {
        let (user_id, day) = (user_id.to_owned(), day.to_owned());
        self.run(move |db| db.add_tokens(&user_id, &day, tokens))
            .await
    }

    pub(super) async fn tokens_used(&self, user_id: &str, day: &str) -> Result<u64, MemoryError> {
        let (user_id, day) = (user_id.to_owned(), day.to_owned());
        self.run(move |db| db.tokens_used(&user_id, &day)).await
    }

    pub(super) async fn conversation_count(&self) -> Result<u64, MemoryError> {
        self.run(Db::conversation_count).await
    }

    /// Every job sent before this one has finished (and committed) once it runs.
    pub(super) async fn flush(&self) -> Result<(), MemoryError> {
        self.run(Db::checkpoint).await
    }
}
