//! Std mutexes that outlive a panic: a panic elsewhere while one was held
//! leaves plain data behind, so the stores keep going rather than panic
//! too. Also the saturating token total the stores share.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a std mutex; a panic elsewhere while it was held leaves plain data
/// behind, so keep going rather than panic too.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Token totals saturate at `i64::MAX`, the largest SQLite integer.
pub(super) fn add_capped(total: u64, tokens: u64) -> u64 {
    total.saturating_add(tokens).min(i64::MAX as u64)
}
