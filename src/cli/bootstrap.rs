//! Start-up shared by the commands that talk to providers: configuration,
//! logging, then [`App::build`].

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use super::args::Cli;
use crate::app::{App, Role};
use crate::config::{Config, ConfigErrors, Purpose, ValueSource};
use crate::logging::{self, LogFile};

/// Exit status for configuration and start-up problems.
pub const EXIT_SETUP: u8 = 2;

/// What a running command holds on to.
pub struct Started {
    pub app: App,
    pub log_file: LogFile,
}

/// Loads and checks the configuration for `purpose` and starts logging.
pub fn configure(
    cli: &Cli,
    env: &HashMap<String, String>,
    purpose: Purpose,
) -> Result<(Config, LogFile), ExitCode> {
    let mut config = load_or_report(cli, env)?;
    if let Err(errors) = config.require(purpose) {
        report(&errors);
        return Err(ExitCode::from(EXIT_SETUP));
    }
    if purpose == Purpose::Terminal {
        config.logging.level = terminal_log_level(&config, cli.verbose);
    }
    let log_file =
        logging::init(&config, env.get("RUST_LOG").map(String::as_str)).map_err(|error| {
            eprintln!("duet: cannot open LOG_FILE: {error}");
            ExitCode::from(EXIT_SETUP)
        })?;
    Ok((config, log_file))
}

/// Configures, then builds the application for `role`.
pub async fn start(
    cli: &Cli,
    env: &HashMap<String, String>,
    role: Role,
) -> Result<Started, ExitCode> {
    let purpose = match role {
        Role::Bot => Purpose::Run,
        Role::Terminal | Role::OneShot => Purpose::Terminal,
    };
    let (config, log_file) = configure(cli, env, purpose)?;
    let app = App::build(Arc::new(config), role).await.map_err(|error| {
        eprintln!("duet: {}", logging::redacted(&error.to_string()));
        ExitCode::from(EXIT_SETUP)
    })?;
    Ok(Started { app, log_file })
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

/// `ask` and `chat` share the terminal with their output: WARN unless
/// `--verbose` (INFO) or LOG_LEVEL was set on purpose.
fn terminal_log_level(config: &Config, verbose: bool) -> &'static str {
    let explicit = config
        .resolved
        .get(&("Logging", "LOG_LEVEL"))
        .is_some_and(|level| level.source != ValueSource::Default);
    match (explicit, verbose) {
        (true, _) => config.logging.level,
        (false, true) => "info",
        (false, false) => "warn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Config {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(&env).unwrap()
    }

    #[test]
    fn terminal_commands_log_warnings_only_unless_asked_for_more() {
        assert_eq!(terminal_log_level(&config(&[]), false), "warn");
        assert_eq!(terminal_log_level(&config(&[]), true), "info");
        let debug = config(&[("LOG_LEVEL", "debug")]);
        assert_eq!(terminal_log_level(&debug, false), "debug");
    }
}
