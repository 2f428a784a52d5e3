//! Operations: the health and metrics server, live reload of the INI file,
//! and signal handling for graceful shutdown.

mod health;
mod reload;
mod signals;

pub use health::{
    HEALTH_PATH, HealthServer, HealthState, LIVE_PATH, METRICS_PATH, READY_PATH, install_metrics,
};
pub use reload::Reloader;
pub use signals::{EXIT_INTERRUPTED, Signal, isolated, signals, spawn_signal_loop};
