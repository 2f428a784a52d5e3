//! `[Health]`: the health and metrics server. It binds once at start: a
//! change waits for a restart.

use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass};

const S: &str = "Health";

pub const HEALTH_ENABLED: KeySpec = KeySpec::new(
    S,
    "HEALTH_ENABLED",
    "true",
    Kind::Bool,
    "Serve /health, /health/live, /health/ready and /metrics.",
)
.reload(ReloadClass::Restart);
pub const HEALTH_HOST: KeySpec = KeySpec::new(
    S,
    "HEALTH_HOST",
    "127.0.0.1",
    Kind::Host,
    "Address of the health server.",
)
.reload(ReloadClass::Restart);
pub const HEALTH_PORT: KeySpec = KeySpec::new(
    S,
    "HEALTH_PORT",
    "8080",
    Kind::Uint {
        min: 0,
        max: 65_535,
    },
    "Port of the health server.",
)
.reload(ReloadClass::Restart);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Health checks and Prometheus metrics.",
    keys: &[HEALTH_ENABLED, HEALTH_HOST, HEALTH_PORT],
};

/// `[Health]`
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
}

impl HealthConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            enabled: r.boolean(&HEALTH_ENABLED),
            host: r.host(&HEALTH_HOST),
            port: u16::try_from(r.uint(&HEALTH_PORT)).unwrap_or(0),
        }
    }
}
