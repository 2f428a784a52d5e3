//! duet: a Discord chat bot that routes conversation to OpenAI and web
//! questions to Perplexity. `main.rs` only wires these modules together.

pub mod answer;
pub mod app;
pub mod chat;
pub mod cli;
pub mod config;
pub mod coord;
pub mod discord;
pub mod logging;
pub mod metric_names;
pub mod ops;
pub mod providers;
pub mod secret;
pub mod shutdown;
