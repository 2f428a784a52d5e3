//! `duet route "text"`: which provider would answer a message, and why.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use chrono::Datelike;

use super::{Cli, load_or_report};
use crate::chat::router::{self, RouterConfig, eval};

/// Arguments of `duet route`.
#[derive(Debug, clap::Args)]
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

/// Shown when no provider key is configured.
pub const NO_PROVIDER_NOTE: &str = "note: no provider is configured; showing the decision as if both OpenAI and Perplexity were available";

/// Prints the routing decision for a message without history. Exit 0, or 2
/// when the configuration is invalid.
pub fn route(cli: &Cli, args: &RouteArgs, env: &HashMap<String, String>) -> ExitCode {
    let config = match load_or_report(cli, env) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if config.mode().is_none() {
        eprintln!("{NO_PROVIDER_NOTE}");
    }
    // The router has no clock of its own; the frontend supplies the year.
    let router_config = RouterConfig::from_config(&config, chrono::Local::now().year());
    if let Some(path) = &args.eval {
        return evaluate(path, &router_config);
    }
    let decision = router::route(&args.text.join(" "), &[], &router_config);
    if !args.json {
        println!("{decision}");
        return ExitCode::SUCCESS;
    }
    match serde_json::to_string(&decision) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("duet: cannot encode the decision as JSON: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--eval FILE`: exit 0 with the report, 2 when the file cannot be read or
/// has bad lines.
fn evaluate(path: &std::path::Path, config: &RouterConfig) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("duet: cannot read {}: {error}", path.display());
            return ExitCode::from(2);
        }
    };
    match eval::parse(&text) {
        Ok(set) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = write!(std::io::stdout().lock(), "{}", eval::score(&set, config));
            ExitCode::SUCCESS
        }
        Err(bad) => {
            for line in bad {
                eprintln!("duet: {}: {line}", path.display());
            }
            ExitCode::from(2)
        }
    }
}
