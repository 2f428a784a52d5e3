//! The command line: `duet [--config PATH] <command>`.

mod ask;
mod bootstrap;
mod chat;
mod check_config;
mod plain;
mod route;
mod run;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigErrors};

pub use ask::{AskArgs, ask};
pub use chat::{TERMINAL_CHANNEL, chat};
pub use check_config::check_config;
pub use plain::{format_sources, render_plain};
pub use route::{NO_PROVIDER_NOTE, RouteArgs, route};
pub use run::run;

/// duet — a Discord bot for conversation (OpenAI) and web answers (Perplexity).
#[derive(Debug, Parser)]
#[command(name = "duet", version, about)]
pub struct Cli {
    /// The INI file to read (default: ./config.ini when it exists).
    #[arg(long, visible_alias = "conf", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// ask, chat: log at INFO instead of WARN (unless LOG_LEVEL or RUST_LOG
    /// says otherwise); chat also shows why each message went to its provider.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Discord bot (the default).
    Run,
    /// Talk to the bot in the terminal, on the same pipeline and memory.
    Chat(ChatArgs),
    /// Validate the configuration and print the effective values with their sources.
    CheckConfig,
    /// Ask one question through a provider and print the answer with its sources.
    Ask(AskArgs),
    /// Show which provider would answer a message, and why.
    Route(RouteArgs),
}

/// `duet chat` options.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// Whose conversation to continue (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

/// The process environment as a map (configuration reads it, tests inject
/// their own). Read with `vars_os`: a known key whose value is not UTF-8 is
/// an error naming the variable; other such variables are left out.
pub fn process_env() -> Result<HashMap<String, String>, ConfigErrors> {
    crate::config::env_from_os(std::env::vars_os())
}

/// Loads the configuration, printing every problem; `None` means exit 2.
pub fn load_or_report(cli: &Cli, env: &HashMap<String, String>) -> Result<Config, ExitCode> {
    match Config::load(cli.config.as_deref(), env) {
        Ok(config) => {
            for warning in &config.warnings {
                eprintln!("{warning}");
            }
            Ok(config)
        }
        Err(errors) => {
            report(&errors);
            Err(ExitCode::from(2))
        }
    }
}

pub fn report(errors: &ConfigErrors) {
    eprintln!("{errors}");
    for warning in errors.0.iter().filter(|i| !i.is_error()) {
        eprintln!("{warning}");
    }
}
