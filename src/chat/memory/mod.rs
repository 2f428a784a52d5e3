//! Conversation memory: durable SQLite storage behind a bounded hot cache.
//!
//! [`Memory`] is the handle. With `MEMORY_BACKEND = sqlite` (the default)
//! every turn is committed by a dedicated worker thread ([`worker`]) to a
//! WAL-mode database ([`sqlite`]), and the most recently used conversations
//! stay in a bounded LRU cache ([`cache`]) so hot reads never touch SQLite.
//! With `memory` everything lives in RAM ([`ram`]), packed so that resident
//! memory stays close to the raw text ([`packed`]). With `postgres` several
//! processes share one PostgreSQL database ([`postgres`], its connection
//! pool in [`postgres_pool`] and migrations in [`postgres_schema`]); it
//! keeps no cache, so no process serves stale history. Server, channel and
//! user settings are stored beside the conversations ([`settings_store`]).

mod cache;
mod error;
mod export;
mod lock;
mod packed;
mod poison;
mod postgres;
mod postgres_pool;
mod postgres_schema;
mod ram;
mod settings_postgres;
mod settings_ram;
mod settings_row;
mod settings_sqlite;
mod settings_store;
mod sqlite;
mod store;
mod worker;

pub use error::MemoryError;
pub use store::Memory;
