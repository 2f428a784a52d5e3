//! The command line's shape (clap): `duet [--config PATH] <command>` and
//! each command's arguments, parsed before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::providers::ProviderKind;

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
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Whose conversation to continue (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

/// Ask one question and print the answer, then its sources.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// openai or perplexity (default: the router decides).
    #[arg(long, value_parser = parse_provider)]
    pub provider: Option<ProviderKind>,
    /// Print the answer once complete instead of as it streams.
    #[arg(long)]
    pub no_stream: bool,
    /// The question (several words are joined with spaces).
    #[arg(required = true, value_name = "QUESTION")]
    pub question: Vec<String>,
}

fn parse_provider(name: &str) -> Result<ProviderKind, String> {
    ProviderKind::parse(name)
        .ok_or_else(|| format!("{name:?} is not a provider (openai or perplexity)"))
}

/// Arguments of `duet route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// Print a JSON object {provider, reasons, question} instead of one line.
    #[arg(long)]
    pub json: bool,
    /// Score a labelled set (`web|chat<TAB>message` lines): accuracy, the
    /// confusion matrix and every miss.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub eval: Option<std::path::PathBuf>,
    /// The message to route; several words are joined with spaces.
    #[arg(required_unless_present = "eval", num_args = 1..)]
    pub text: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_parsed_case_insensitively_and_unknown_ones_refused() {
        assert!(parse_provider("OpenAI").is_ok());
        assert!(parse_provider("claude").is_err());
    }
}
