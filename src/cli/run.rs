//! `duet run`: the Discord bot, with its health server, live reload of the
//! INI file (on change and on SIGHUP) and graceful shutdown on SIGTERM/SIGINT.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::{error, info, warn};

use super::args::Cli;
use super::bootstrap::{Started, start};
use crate::app::Role;
use crate::chat::ChatService;
use crate::config::Config;
use crate::discord::{self, DiscordStatus};
use crate::logging::LogFile;
use crate::ops::{HealthServer, HealthState, Reloader, install_metrics, spawn_signal_loop};
use crate::shutdown::Shutdown;

pub async fn run(cli: &Cli, env: &HashMap<String, String>) -> ExitCode {
    let metrics = install_metrics();
    let process_started = std::time::Instant::now();
    let Started { app, log_file } = match start(cli, env, Role::Bot).await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let config = app.config();
    let discord_status = DiscordStatus::new();
    let health = if config.health.enabled {
        let state = HealthState {
            started: process_started,
            service: app.service.clone(),
            discord: Some(discord_status.clone()),
            metrics,
        };
        match serve_health(&config, state, &app.shutdown).await {
            Ok(task) => Some(task),
            Err(code) => return code,
        }
    } else {
        None
    };
    let housekeeping = app.service.spawn_housekeeping();
    let reloader = config.file.clone().map(|path| {
        Arc::new(Reloader {
            path,
            env: env.clone(),
            live: app.live.clone(),
        })
    });
    let _watcher = reloader.as_ref().and_then(watch_config);
    if let Err(error) = handle_signals(app.shutdown.clone(), reloader, log_file) {
        eprintln!("duet: cannot listen for signals: {error}");
        return ExitCode::from(2);
    }

    info!(mode = config.effective_mode(), "duet is starting");
    let conversations: Arc<ChatService> = Arc::new(app.service.clone());
    let live = app.subscribe();
    let pacer = discord::SharedPacer::new(live.borrow().providers.coordinator().cloned());
    let result = discord::run_paced(
        live,
        conversations,
        app.shutdown.clone(),
        discord_status,
        Arc::new(pacer),
    )
    .await;
    app.shutdown.request();
    let drained = app.stop().await;
    if !drained.clean() {
        warn!(
            interrupted = drained.interrupted,
            "turns were still running at shutdown and were interrupted"
        );
    }
    // Housekeeping ends when shutdown is requested.
    let _ = housekeeping.await;
    if let Some(health) = health {
        // The health server stops with the shutdown; its result no longer matters.
        let _ = health.await;
    }
    match result {
        Ok(()) => {
            info!("duet stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            error!(%error, "the Discord client failed");
            eprintln!("duet: {}", crate::logging::redacted(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}

async fn serve_health(
    config: &Config,
    state: HealthState,
    shutdown: &Shutdown,
) -> Result<tokio::task::JoinHandle<()>, ExitCode> {
    let address = (config.health.host.as_str(), config.health.port);
    let listener = TcpListener::bind(address).await.map_err(|error| {
        eprintln!(
            "duet: the health server cannot listen on {}:{} ({error}); change HEALTH_HOST/HEALTH_PORT or set HEALTH_ENABLED=false",
            config.health.host, config.health.port
        );
        ExitCode::from(2)
    })?;
    if let Ok(address) = listener.local_addr() {
        info!(%address, "health server listening");
    }
    let stop = shutdown.requested_owned();
    Ok(tokio::spawn(async move {
        if let Err(error) = HealthServer::serve(listener, state, stop).await {
            warn!(%error, "health server stopped");
        }
    }))
}

fn watch_config(reloader: &Arc<Reloader>) -> Option<notify::RecommendedWatcher> {
    match Reloader::watch_file(&reloader.path) {
        Ok((watcher, changes)) => {
            tokio::spawn(Arc::clone(reloader).run(changes));
            Some(watcher)
        }
        Err(error) => {
            warn!(%error, file = %reloader.path.display(), "cannot watch the config file; reload with SIGHUP");
            None
        }
    }
}

/// First SIGTERM/SIGINT: graceful shutdown; a second one: exit at once.
/// SIGHUP: reopen the log file and reload the configuration.
fn handle_signals(
    shutdown: Shutdown,
    reloader: Option<Arc<Reloader>>,
    log_file: LogFile,
) -> std::io::Result<()> {
    spawn_signal_loop(shutdown, move || {
        let (reloader, log_file) = (reloader.clone(), log_file.clone());
        async move {
            if let Err(error) = log_file.reopen() {
                warn!(%error, "cannot reopen LOG_FILE");
            }
            match reloader {
                Some(reloader) => {
                    reloader.reload_isolated().await;
                }
                None => info!("SIGHUP: no config file to reload"),
            }
        }
    })
    .map(drop)
}
