//! A mock OpenAI / Perplexity server on 127.0.0.1 with fault injection.
//!
//! Routes: OpenAI `POST /v1/chat/completions`, `POST /v1/responses` (the
//! Responses API, see `mock_responses.rs`), `GET /v1/models`; Perplexity
//! Agent API `POST /v1/agent`; legacy Sonar `POST /chat/completions`. JSON and SSE answers are derived from the
//! request (`You said: <last user message>`; Perplexity answers cite `[1]`
//! and `[7]` with matching search results). Served over HTTP/1.1 and h2c on
//! plain TCP ([`MockLlm::start`]), or TLS with ALPN h2/http1.1 and an rcgen
//! CA ([`MockLlm::start_tls`], trust it with [`MockLlm::ca_file`]).
//!
//! It records accepted TCP connections, the peak of requests in flight, and
//! every request (route, HTTP version, JSON body, Authorization header,
//! arrival and answer instants). Faults are scripted per route
//! ([`MockLlm::push_fault`] for the next request, [`MockLlm::set_fault`] for
//! all), plus a random 429 share and a gate that holds every answer.
//!
//! Tool calls: when an OpenAI request offers the `search_web` tool and its
//! last user message contains [`CALL_SEARCH_WEB`], the answer is a
//! `search_web` call (JSON `tool_calls`, or streamed `delta.tool_calls` with
//! the arguments in fragments) whose query is the message without the
//! marker. [`MockLlm::refuse_tools`] makes it answer any request offering
//! tools with a 400 naming them, as servers without function calling do.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::mock_responses;

mod bodies;
mod faults;
mod images;
mod routes;
mod transport;

pub use bodies::*;
use faults::*;
pub use images::{SentImage, images_in};
use routes::*;
use transport::*;
/// In a user message, makes the mock's chat model call `search_web`.
pub const CALL_SEARCH_WEB: &str = "[[search_web]]";

/// The 400 message of a server that does not do function calling.
pub const TOOLS_REFUSED: &str = "mock-model does not support tools";

/// The mock's routes, for faults and assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    OpenAiChat,
    /// OpenAI's Responses API.
    Responses,
    Agent,
    Sonar,
    Models,
}

/// How a 429 says when to come back.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryAfter {
    Secs(u64),
    Millis(u64),
    /// OpenAI's `x-ratelimit-reset-requests` Go duration, e.g. `20ms`.
    ResetRequests(String),
    Nothing,
}

/// A scripted misbehaviour.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer normally after this delay.
    Latency(Duration),
    RateLimited(RetryAfter),
    InsufficientQuota,
    /// This status with an OpenAI-style error body.
    Status(u16),
    /// 401 whose message echoes the bearer token, as OpenAI does.
    UnauthorizedEchoingKey,
    /// 401 whose message echoes the bearer token lowercased and
    /// percent-encoded, as proxies and URL-building clients may.
    UnauthorizedEchoingKeyMangled,
    /// 200 with a body that is not JSON (or SSE data that is not JSON).
    MalformedJson,
    /// SSE cut before `[DONE]` / the terminal event.
    TruncatedStream,
    /// Reset the TCP connection instead of answering.
    Reset,
    /// Send half the body, wait, send the rest.
    SlowBody(Duration),
    /// Answer normally, pausing this long before every chunk but the first
    /// (for SSE: before every event), so a stream takes a while to arrive.
    Drip(Duration),
    /// Legacy Sonar's 403 `chat_completions_not_available`.
    SonarRetired,
    /// Agent API run that failed, with HTTP 200.
    RunFailed,
    /// OpenAI's 400 to `stream: true` from an unverified organisation
    /// (`param: "stream"`); requests without streaming are answered normally.
    StreamNeedsVerification,
}

/// OpenAI's body refusing `stream: true` to an unverified organisation, verbatim.
pub const STREAM_VERIFICATION_BODY: &str = r#"{"error": {"message": "Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.", "type": "invalid_request_error", "param": "stream", "code": "unsupported_value"}}"#;

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub route: Route,
    pub version: Version,
    /// The JSON body (`Null` for GET or a body that is not JSON).
    pub body: Value,
    pub authorization: Option<String>,
    pub arrived: Instant,
    pub answered: Option<Instant>,
    pub status: Option<u16>,
}

#[derive(Default)]
struct Script {
    once: HashMap<Route, VecDeque<Fault>>,
    always: HashMap<Route, Fault>,
    share_429: Option<(f64, RetryAfter)>,
}

struct MockState {
    connections: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    served: AtomicU64,
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<Script>,
    arrivals: watch::Sender<usize>,
    gate_open: watch::Sender<bool>,
    refuse_tools: AtomicBool,
}

/// A running mock server; stops when dropped.
pub struct MockLlm {
    addr: SocketAddr,
    tls: bool,
    ca_file: Option<PathBuf>,
    state: Arc<MockState>,
    cancel: CancellationToken,
}

impl MockLlm {
    /// Plain TCP: HTTP/1.1 and h2c (prior knowledge) on the same port.
    pub async fn start() -> MockLlm {
        Self::launch(None).await
    }

    /// TLS with ALPN `h2`, `http/1.1`, certificate for 127.0.0.1 and localhost.
    pub async fn start_tls() -> MockLlm {
        let (acceptor, ca_pem) = tls_acceptor();
        let mut mock = Self::launch(Some(acceptor)).await;
        let path = std::env::temp_dir().join(format!(
            "duet-mock-ca-{}-{}.pem",
            std::process::id(),
            mock.addr.port()
        ));
        std::fs::write(&path, ca_pem).expect("write the mock CA file");
        mock.ca_file = Some(path);
        mock
    }

    async fn launch(tls: Option<tokio_rustls::TlsAcceptor>) -> MockLlm {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(MockState {
            connections: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            served: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(Script::default()),
            arrivals: watch::channel(0).0,
            gate_open: watch::channel(true).0,
            refuse_tools: AtomicBool::new(false),
        });
        let cancel = CancellationToken::new();
        let is_tls = tls.is_some();
        tokio::spawn(accept_loop(
            listener,
            tls,
            router(state.clone()),
            state.clone(),
            cancel.clone(),
        ));
        MockLlm {
            addr,
            tls: is_tls,
            ca_file: None,
            state,
            cancel,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port` or `https://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.addr.port())
    }

    /// The value for OPENAI_API_URL.
    pub fn openai_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The value for PERPLEXITY_API_URL.
    pub fn perplexity_url(&self) -> String {
        self.base_url()
    }

    /// The CA certificate (PEM) of a TLS mock, for TLS_CA_FILE.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Environment for duet's config: both providers pointed here, with keys
    /// `sk-mock-openai` / `pplx-mock`, warm-up off, the CA trusted.
    pub fn config_env(&self) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("OPENAI_API_URL", self.openai_url()),
            ("OPENAI_API_KEY", "sk-mock-openai".to_string()),
            ("PERPLEXITY_API_URL", self.perplexity_url()),
            ("PERPLEXITY_API_KEY", "pplx-mock".to_string()),
            ("OPENAI_WARMUP", "false".to_string()),
            ("PERPLEXITY_WARMUP", "false".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if let Some(ca) = &self.ca_file {
            env.insert("TLS_CA_FILE".into(), ca.display().to_string());
        }
        env
    }

    /// The next request on `route` gets `fault` (faults queue in order).
    pub fn push_fault(&self, route: Route, fault: Fault) {
        let mut script = lock(&self.state.script);
        script.once.entry(route).or_default().push_back(fault);
    }

    /// Every request on `route` gets `fault` (after queued ones), until cleared.
    pub fn set_fault(&self, route: Route, fault: Option<Fault>) {
        let mut script = lock(&self.state.script);
        match fault {
            Some(fault) => script.always.insert(route, fault),
            None => script.always.remove(&route),
        };
    }

    /// A random `share` (0..=1) of completion requests gets a 429 with `retry_after`.
    pub fn set_429_share(&self, share: f64, retry_after: RetryAfter) {
        lock(&self.state.script).share_429 = (share > 0.0).then_some((share, retry_after));
    }

    /// Holds every answer until [`Self::release`].
    /// Answer every OpenAI request that offers tools with a 400 naming them.
    pub fn refuse_tools(&self, refuse: bool) {
        self.state.refuse_tools.store(refuse, Ordering::SeqCst);
    }

    pub fn hold(&self) {
        self.state.gate_open.send_replace(false);
    }

    pub fn release(&self) {
        self.state.gate_open.send_replace(true);
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Most requests being handled at the same time.
    pub fn peak_in_flight(&self) -> u64 {
        self.state.peak_in_flight.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    /// Drops the requests recorded so far (a long load run would otherwise
    /// keep every body; the arrival count stays).
    pub fn forget_requests(&self) {
        lock(&self.state.requests).clear();
    }

    pub fn requests_on(&self, route: Route) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.route == route)
            .collect()
    }

    /// Waits until at least `count` requests have arrived.
    pub async fn wait_for_requests(&self, count: usize) {
        let mut arrivals = self.state.arrivals.subscribe();
        arrivals
            .wait_for(|seen| *seen >= count)
            .await
            .expect("mock state alive");
    }
}

impl Drop for MockLlm {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(path) = &self.ca_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------- transport
