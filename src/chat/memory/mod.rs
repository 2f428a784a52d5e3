//! Conversation memory: durable SQLite storage behind a bounded hot cache.
//!
//! [`Memory`] is the handle. With `MEMORY_BACKEND = sqlite` (the default)
//! every turn is committed by a dedicated worker thread ([`worker`]) to a
//! WAL-mode database ([`sqlite`]), and the most recently used conversations
//! stay in a bounded LRU cache ([`cache`]) so hot reads never touch SQLite.
//! With `memory` everything lives in RAM ([`ram`]), packed so that resident
//! memory stays close to the raw text ([`log`]).

mod cache;
mod export;
mod lock;
mod packed;
mod ram;
mod sqlite;
mod store;
mod worker;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use store::{Memory, MemoryError};

/// Locks a std mutex; a panic elsewhere while it was held leaves plain data
/// behind, so keep going rather than panic too.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Token totals saturate at `i64::MAX`, the largest SQLite integer.
fn add_capped(total: u64, tokens: u64) -> u64 {
    total.saturating_add(tokens).min(i64::MAX as u64)
}
