//! Start-up shared by the commands that talk to providers: configuration,
//! logging, pooled clients (warmed up), memory and the pipeline.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use super::{Cli, load_or_report, report};
use crate::chat::ChatService;
use crate::chat::memory::Memory;
use crate::config::{Config, Purpose};
use crate::logging::{self, LogFile};
use crate::providers::Providers;

/// What a running command holds on to.
pub struct Started {
    pub config: Arc<Config>,
    pub service: ChatService,
    pub log_file: LogFile,
}

/// Loads and checks the configuration for `purpose` and starts logging.
pub fn configure(
    cli: &Cli,
    env: &HashMap<String, String>,
    purpose: Purpose,
) -> Result<(Config, LogFile), ExitCode> {
    let config = load_or_report(cli, env)?;
    if let Err(errors) = config.require(purpose) {
        report(&errors);
        return Err(ExitCode::from(2));
    }
    let log_file =
        logging::init(&config, env.get("RUST_LOG").map(String::as_str)).map_err(|error| {
            eprintln!("cannot open LOG_FILE: {error}");
            ExitCode::from(2)
        })?;
    Ok((config, log_file))
}

/// Builds providers (and warms them up), opens memory and the pipeline.
pub async fn start(
    cli: &Cli,
    env: &HashMap<String, String>,
    purpose: Purpose,
) -> Result<Started, ExitCode> {
    let (config, log_file) = configure(cli, env, purpose)?;
    let config = Arc::new(config);
    let providers = Providers::from_config(&config).map_err(|error| {
        eprintln!(
            "cannot set up the providers: {}",
            logging::redacted(&error.to_string())
        );
        ExitCode::from(2)
    })?;
    providers.warm_up().await;
    let memory =
        Memory::open(&config.memory, config.orchestrator.max_history).map_err(|error| {
            eprintln!(
                "cannot open conversation memory at {}: {error}",
                config.memory.database_path.display()
            );
            ExitCode::from(2)
        })?;
    let service = ChatService::new(config.clone(), Arc::new(providers), memory);
    Ok(Started {
        config,
        service,
        log_file,
    })
}
