//! The command line: `duet [--config PATH] <command>`.

mod args;
mod ask;
mod bootstrap;
mod chat;
mod check_config;
mod plain;
mod route;
mod run;

pub use args::{AskArgs, ChatArgs, Cli, Command, RouteArgs};
pub use ask::ask;
pub use bootstrap::{load_or_report, process_env, report};
pub use chat::{TERMINAL_CHANNEL, chat};
pub use check_config::check_config;
pub use plain::{format_sources, render_plain};
pub use route::{NO_PROVIDER_NOTE, route};
pub use run::run;
