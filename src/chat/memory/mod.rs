//! Conversation memory: durable SQLite storage behind a bounded hot cache.
