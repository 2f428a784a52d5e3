//! The Discord frontend; the only code that imports serenity and poise.
//!
//! [`run`] connects the bot and serves until shutdown. Incoming messages go
//! through [`policy`] (who gets an answer) and [`mentions`] (clean text) to
//! the pipeline ([`crate::chat::Conversations`]); answers come back through
//! the streaming delivery in `stream` and the builders in `outbound`.
//! Slash commands live in `commands`. [`run_paced`] starts this process's
//! shard range, each shard after an [`IdentifyPacer`] grants it. Everything
//! that decides something is a pure function tested without a Discord
//! connection; the end-to-end tests drive the real client against the fake
//! Discord of the `duet-testkit` crate.

mod allowed_hosts;
mod attachment_input;
mod client;
mod command_context;
mod commands;
mod deliver;
mod directory;
mod download;
mod errors;
mod gateway_status;
mod handler;
mod identify;
mod inbound;
mod long_answer;
pub mod mentions;
mod outbound;
mod place;
pub mod policy;
mod presence;
pub mod render;
mod settings_access;
mod settings_cmd;
mod settings_here;
mod shard_start;
mod startup;
mod status_text;
mod stream;
mod typing;

pub use client::{intents, run, run_paced};
pub use command_context::NOT_ALLOWED;
pub use commands::{FORGET_CONFIRM, INTERNAL_ERROR};
pub use deliver::NOTHING_TO_SAY;

pub use gateway_status::{DiscordStatus, DiscordStatusSnapshot};
pub use handler::EMPTY_MENTION_HINT;
pub use identify::{IDENTIFY_INTERVAL, IdentifyPacer, LocalPacer, SharedPacer, bucket_of};
pub use long_answer::{ANSWER_FILE_NAME, LONG_ANSWER_LEAD};
pub use settings_access::{FOREIGN_CHANNEL, MODEL_CHOICE_OFF, SETTINGS_REFUSED};
pub use startup::{Cause as StartupCause, DiscordError, EXIT_FAILURE, EXIT_SETUP};
pub use status_text::render_status;
