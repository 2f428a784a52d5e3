//! `[ConnectionPool]`: each provider's HTTP client (connections, keep-alive,
//! timeouts, HTTP/2, warm-up, retries, requests per minute) and extra root
//! certificates. The two providers have the same twelve keys under their own
//! prefix, declared once by [`pool_keys!`]. Every change rebuilds the
//! provider clients on reload.

use std::time::Duration;

use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{DAY, HOUR, KeySpec, Kind, ReloadClass, names};

const S: &str = "ConnectionPool";

/// `[ConnectionPool] <PREFIX>_HTTP2`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http2Mode {
    /// Negotiate with ALPN over TLS; HTTP/1.1 over plain HTTP.
    Auto,
    /// HTTP/2 with prior knowledge (also h2c).
    Always,
    /// HTTP/1.1 only.
    Never,
}

impl Http2Mode {
    const CHOICES: [(&'static str, Self); 3] = [
        ("auto", Self::Auto),
        ("always", Self::Always),
        ("never", Self::Never),
    ];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

/// Timeouts: above zero (a zero timeout fails every call) and at most an hour.
const TIMEOUT: Kind = Kind::Duration {
    min: Duration::from_millis(1),
    max: HOUR,
};
/// Keep-alive times: 0 turns the feature off.
const KEEPALIVE: Kind = Kind::Duration {
    min: Duration::ZERO,
    max: DAY,
};

/// One provider's twelve pool keys.
#[derive(Debug, Clone, Copy)]
pub struct PoolKeys {
    pub max_connections: KeySpec,
    pub max_keepalive: KeySpec,
    pub keepalive_expiry: KeySpec,
    pub tcp_keepalive: KeySpec,
    pub pool_timeout: KeySpec,
    pub connect_timeout: KeySpec,
    pub read_timeout: KeySpec,
    pub request_timeout: KeySpec,
    pub http2: KeySpec,
    pub warmup: KeySpec,
    pub max_retries: KeySpec,
    pub rpm: KeySpec,
}

/// A provider's [`PoolKeys`] with names `<PREFIX>_…` and docs naming it.
macro_rules! pool_keys {
    ($prefix:literal, $name:literal, $connections:literal, $keepalive:literal, $rpm:literal, $models:literal) => {
        PoolKeys {
            max_connections: key(
                concat!($prefix, "_MAX_CONNECTIONS"),
                $connections,
                Kind::Uint {
                    min: 1,
                    max: 10_000,
                },
                concat!("Most requests in flight to ", $name, " at once."),
            ),
            max_keepalive: key(
                concat!($prefix, "_MAX_KEEPALIVE"),
                $keepalive,
                Kind::Uint {
                    min: 0,
                    max: 10_000,
                },
                concat!("Idle connections kept open to ", $name, "."),
            ),
            keepalive_expiry: key(
                concat!($prefix, "_KEEPALIVE_EXPIRY"),
                "90",
                KEEPALIVE,
                concat!(
                    "How long an idle ",
                    $name,
                    " connection is kept; 0 = not kept."
                ),
            ),
            tcp_keepalive: key(
                concat!($prefix, "_TCP_KEEPALIVE"),
                "60",
                KEEPALIVE,
                concat!(
                    "TCP keep-alive interval for ",
                    $name,
                    " connections; 0 = off."
                ),
            ),
            pool_timeout: key(
                concat!($prefix, "_POOL_TIMEOUT"),
                "5",
                TIMEOUT,
                concat!(
                    "How long a request waits for a free ",
                    $name,
                    " slot before failing."
                ),
            ),
            connect_timeout: key(
                concat!($prefix, "_CONNECT_TIMEOUT"),
                "10",
                TIMEOUT,
                concat!("Time to open a connection to ", $name, "."),
            ),
            read_timeout: key(
                concat!($prefix, "_READ_TIMEOUT"),
                "120",
                TIMEOUT,
                concat!("Time to wait for data from ", $name, "."),
            ),
            request_timeout: key(
                concat!($prefix, "_REQUEST_TIMEOUT"),
                "180",
                TIMEOUT,
                concat!("Deadline for one ", $name, " call, retries included."),
            ),
            http2: key(
                concat!($prefix, "_HTTP2"),
                "auto",
                Kind::Choice(&Http2Mode::NAMES),
                "auto (ALPN over TLS), always (prior knowledge, also h2c) or never.",
            ),
            warmup: key(
                concat!($prefix, "_WARMUP"),
                "true",
                Kind::Bool,
                concat!(
                    "Open the ",
                    $name,
                    " connection at start (GET ",
                    $models,
                    ") so bursts share it."
                ),
            ),
            max_retries: key(
                concat!($prefix, "_MAX_RETRIES"),
                "3",
                Kind::Uint { min: 0, max: 10 },
                concat!(
                    "Retries of a failed ",
                    $name,
                    " request (429, 5xx, connect errors)."
                ),
            ),
            rpm: key(
                concat!($prefix, "_RPM"),
                $rpm,
                Kind::Uint {
                    min: 1,
                    max: 1_000_000,
                },
                concat!("Requests per minute sent to ", $name, "."),
            ),
        }
    };
}

const fn key(name: &'static str, default: &'static str, kind: Kind, doc: &'static str) -> KeySpec {
    KeySpec::new(S, name, default, kind, doc).reload(ReloadClass::RebuildProviders)
}

pub const OPENAI: PoolKeys = pool_keys!("OPENAI", "OpenAI", "50", "10", "500", "/models");
pub const PERPLEXITY: PoolKeys =
    pool_keys!("PERPLEXITY", "Perplexity", "30", "5", "50", "/v1/models");

pub const TLS_CA_FILE: KeySpec = key(
    "TLS_CA_FILE",
    "",
    Kind::OptPath,
    "Extra PEM root certificates to trust (corporate proxy, private CA).",
);

impl PoolKeys {
    const fn all(&self) -> [KeySpec; 12] {
        [
            self.max_connections,
            self.max_keepalive,
            self.keepalive_expiry,
            self.tcp_keepalive,
            self.pool_timeout,
            self.connect_timeout,
            self.read_timeout,
            self.request_timeout,
            self.http2,
            self.warmup,
            self.max_retries,
            self.rpm,
        ]
    }
}

const OPENAI_KEYS: [KeySpec; 12] = OPENAI.all();
const PERPLEXITY_KEYS: [KeySpec; 12] = PERPLEXITY.all();
const KEYS: [KeySpec; 25] = {
    let mut out = [TLS_CA_FILE; 25];
    let mut i = 0;
    while i < 12 {
        out[i] = OPENAI_KEYS[i];
        out[12 + i] = PERPLEXITY_KEYS[i];
        i += 1;
    }
    out
};

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "One HTTP client per provider: connections, timeouts, HTTP/2, retries, rate.",
    keys: &KEYS,
};

/// One provider's `[ConnectionPool]` keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolConfig {
    pub max_connections: usize,
    pub max_keepalive: usize,
    pub keepalive_expiry: Duration,
    pub tcp_keepalive: Duration,
    pub pool_timeout: Duration,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub request_timeout: Duration,
    pub http2: Http2Mode,
    pub warmup: bool,
    pub max_retries: u32,
    pub requests_per_minute: u32,
}

impl PoolConfig {
    pub(super) fn read(r: &mut Reader, keys: &'static PoolKeys) -> Self {
        let small = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            max_connections: super::parse::to_usize(r.uint(&keys.max_connections)),
            max_keepalive: super::parse::to_usize(r.uint(&keys.max_keepalive)),
            keepalive_expiry: r.duration(&keys.keepalive_expiry),
            tcp_keepalive: r.duration(&keys.tcp_keepalive),
            pool_timeout: r.duration(&keys.pool_timeout),
            connect_timeout: r.duration(&keys.connect_timeout),
            read_timeout: r.duration(&keys.read_timeout),
            request_timeout: r.duration(&keys.request_timeout),
            http2: r.choice(&keys.http2, &Http2Mode::CHOICES),
            warmup: r.boolean(&keys.warmup),
            max_retries: small(r.uint(&keys.max_retries)),
            requests_per_minute: small(r.uint(&keys.rpm)),
        }
    }
}
