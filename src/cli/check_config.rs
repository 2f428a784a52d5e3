//! `duet check-config`: validate and print the effective configuration.

use std::collections::HashMap;
use std::process::ExitCode;

use super::args::Cli;
use super::bootstrap::{load_or_report, report};
use crate::config::{Purpose, render_effective};

/// Exit 0 when the configuration is complete for `run`, 2 otherwise.
pub fn check_config(cli: &Cli, env: &HashMap<String, String>) -> ExitCode {
    let config = match load_or_report(cli, env) {
        Ok(config) => config,
        Err(code) => return code,
    };
    print!("{}", render_effective(&config));
    if let Err(errors) = config.require(Purpose::Run) {
        report(&errors);
        return ExitCode::from(2);
    }
    let source = match &config.file {
        Some(path) => path.display().to_string(),
        None => "defaults and environment".to_string(),
    };
    eprintln!("configuration OK ({source})");
    ExitCode::SUCCESS
}
