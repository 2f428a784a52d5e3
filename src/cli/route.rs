//! `duet route "text"`: which provider would answer a message, and why.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use chrono::Datelike;

use super::args::{Cli, RouteArgs};
use super::bootstrap::load_or_report;
use crate::chat::router::{self, Reason, Route, RouterConfig, eval};
use crate::config::WebBackend;
use crate::providers::ProviderKind;

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
    let text = args.text.join(" ");
    let decision = router::route(&text, &[], &router_config);
    if !args.json {
        let would = router::route(&text, &[], &router_config.with_both_available());
        let shown = line(&decision, &would);
        let web = config.web_backend().map(WebBackend::as_str);
        match web.filter(|_| decision.provider == ProviderKind::Perplexity) {
            Some(web) if web != ProviderKind::Perplexity.as_str() => {
                println!("{shown}  (web provider: {web})");
            }
            _ => println!("{shown}"),
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

/// The decision; with a single provider, also where the message would go
/// with both: `openai  (only provider; would go to web: time_sensitive("today"))`.
fn line(decision: &Route, would: &Route) -> String {
    let only = decision.reasons.last() == Some(&Reason::OnlyProvider(decision.provider));
    if !only || would.reasons.iter().any(|r| matches!(r, Reason::Forced(_))) {
        return decision.to_string();
    }
    let to = match would.provider {
        ProviderKind::Perplexity => "web",
        ProviderKind::OpenAi => "chat",
    };
    let reasons: Vec<String> = would.reasons.iter().map(ToString::to_string).collect();
    format!(
        "{}  (only provider; would go to {to}: {})",
        decision.provider,
        reasons.join(", ")
    )
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
