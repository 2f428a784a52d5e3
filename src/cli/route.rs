//! `duet route "text"`: which provider would answer a message, and why.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::Datelike;

use super::{Cli, load_or_report};
use crate::chat::router::{self, RouterConfig};
use crate::config::WebBackend;
use crate::providers::ProviderKind;

/// Arguments of `duet route`.
#[derive(Debug, clap::Args)]
pub struct RouteArgs {
    /// Print a JSON object {provider, reasons, question} instead of one line.
    #[arg(long)]
    pub json: bool,
    /// The message to route; several words are joined with spaces.
    #[arg(required = true, num_args = 1..)]
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
    let decision = router::route(&args.text.join(" "), &[], &router_config);
    let web = config.web_backend().map(WebBackend::as_str);
    if !args.json {
        match web.filter(|_| decision.provider == ProviderKind::Perplexity) {
            Some(web) if web != ProviderKind::Perplexity.as_str() => {
                println!("{decision}  (web provider: {web})");
            }
            _ => println!("{decision}"),
        }
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
