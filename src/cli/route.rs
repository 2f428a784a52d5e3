//! `duet route "text"`: which provider would answer a message, and why.

use std::collections::HashMap;
use std::process::ExitCode;

use chrono::Datelike;

use super::args::{Cli, RouteArgs};
use super::bootstrap::load_or_report;
use crate::chat::router::{self, RouterConfig};

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
