//! Coordination of several duet processes through Redis (`[Limits]
//! REDIS_URL`): per-user rate limits and daily token budgets
//! (`limits.rs`), each provider's requests per minute and its 429 pause
//! (`pause.rs`), the per-conversation lock (`lock.rs`) and identify pacing
//! for the gateway (`identify.rs`). Every check-and-change is one Lua
//! script, so two processes never both take the last slot.
//!
//! Redis is a helper, never a single point of failure: when it cannot be
//! reached every call fails fast with [`CoordError::Down`] and the caller
//! keeps its in-process behaviour (limits per process) until the probe in
//! `health.rs` sees Redis again; the connection manager reconnects by itself.

mod coordinator;
mod health;
mod identify;
mod limits;
mod lock;
mod pause;

pub use coordinator::{CoordError, Coordinator};
pub use health::PROBE_EVERY;
pub use identify::IDENTIFY_SPACING;
pub use limits::Take;
pub use lock::{ConversationLock, LOCK_RENEW_EVERY, LOCK_TTL};
