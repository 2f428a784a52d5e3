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
//!
//! Self-contained (only crates from duet's Cargo.toml), so a benchmark can
//! include it with `#[path]`.

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

/// Per-connection flag a handler sets to reset its connection.
#[derive(Clone)]
struct ConnReset(Arc<AtomicBool>);

async fn accept_loop(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    state: Arc<MockState>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        // Like real API servers: without it, Nagle holds the answer's second
        // small write until the client's delayed ACK (tens of milliseconds).
        let _ = tcp.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::SeqCst);
        let reset = ConnReset(Arc::new(AtomicBool::new(false)));
        let io = ResettableIo {
            tcp,
            reset: reset.0.clone(),
        };
        let app = app.clone().layer(Extension(reset));
        let (tls, cancel) = (tls.clone(), cancel.clone());
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(io).await {
                        serve(TokioIo::new(stream), app, cancel).await;
                    }
                }
                None => serve(TokioIo::new(io), app, cancel).await,
            }
        });
    }
}

async fn serve<I>(io: I, app: Router, cancel: CancellationToken)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(io, TowerToHyperService::new(app));
    tokio::select! {
        _ = connection => {}
        _ = cancel.cancelled() => {}
    }
}

/// A TCP stream that, once its flag is set, fails every read and write after
/// setting SO_LINGER to 0, so closing it sends a RST (a "connection reset").
struct ResettableIo {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ResettableIo {
    fn check(&self) -> io::Result<()> {
        if !self.reset.load(Ordering::SeqCst) {
            return Ok(());
        }
        #[expect(
            deprecated,
            reason = "linger 0 does not block; it is how a RST is sent"
        )]
        let _ = self.tcp.set_linger(Some(Duration::ZERO));
        Err(io::Error::new(io::ErrorKind::ConnectionReset, "mock reset"))
    }
}

impl AsyncRead for ResettableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls::{self, pki_types};

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "duet mock CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "duet mock LLM");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der =
        pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .expect("server TLS config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca.pem())
}

// ---------------------------------------------------------------- handlers

type Mock = State<Arc<MockState>>;

fn router(state: Arc<MockState>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/agent", post(agent))
        .route("/v1/responses", post(responses))
        .route("/chat/completions", post(sonar))
        .route("/v1/models", get(models))
        .with_state(state)
}

async fn openai_chat(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::OpenAiChat, reset, version, headers, body).await
}

async fn responses(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Responses, reset, version, headers, body).await
}

async fn agent(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Agent, reset, version, headers, body).await
}

async fn sonar(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Sonar, reset, version, headers, body).await
}

async fn models(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
) -> Response {
    handle(mock, Route::Models, reset, version, headers, Bytes::new()).await
}

/// Decrements the in-flight count when the answer is done.
struct InFlight(Arc<MockState>);

impl InFlight {
    fn enter(state: &Arc<MockState>) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(
    mock: Arc<MockState>,
    route: Route,
    reset: ConnReset,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // In flight before recorded: whoever sees the request sees it counted.
    let in_flight = InFlight::enter(&mock);
    let index = mock.record(route, version, &headers, json.clone());
    let fault = mock.next_fault(route);
    let mut gate = mock.gate_open.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    if let Some(Fault::Latency(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start_matches("Bearer ").to_string())
        .unwrap_or_default();
    let refused = route == Route::OpenAiChat
        && json.get("tools").is_some()
        && mock.refuse_tools.load(Ordering::SeqCst);
    let response = match fault {
        _ if refused => error_body(
            StatusCode::BAD_REQUEST,
            TOOLS_REFUSED,
            "invalid_request_error",
            Value::Null,
        ),
        Some(Fault::Reset) => {
            reset.0.store(true, Ordering::SeqCst);
            StatusCode::OK.into_response()
        }
        Some(Fault::StreamNeedsVerification) if !is_stream(&json) => answer(
            route,
            &json,
            mock.served.fetch_add(1, Ordering::SeqCst) + 1,
            Pace::AtOnce,
            in_flight,
        ),
        Some(fault) if !matches!(fault, Fault::Latency(_)) => {
            fault_response(route, &fault, &json, &token, in_flight)
        }
        _ => answer(
            route,
            &json,
            mock.served.fetch_add(1, Ordering::SeqCst) + 1,
            Pace::AtOnce,
            in_flight,
        ),
    };
    mock.answered(index, response.status().as_u16());
    response
}

impl MockState {
    fn record(&self, route: Route, version: Version, headers: &HeaderMap, body: Value) -> usize {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut requests = lock(&self.requests);
        requests.push(Recorded {
            route,
            version,
            body,
            authorization,
            arrived: Instant::now(),
            answered: None,
            status: None,
        });
        let count = requests.len();
        drop(requests);
        self.arrivals.send_replace(count);
        count - 1
    }

    fn answered(&self, index: usize, status: u16) {
        if let Some(request) = lock(&self.requests).get_mut(index) {
            request.answered = Some(Instant::now());
            request.status = Some(status);
        }
    }

    fn next_fault(&self, route: Route) -> Option<Fault> {
        let mut script = lock(&self.script);
        if route != Route::Models
            && let Some((share, retry_after)) = &script.share_429
            && fastrand::f64() < *share
        {
            return Some(Fault::RateLimited(retry_after.clone()));
        }
        if let Some(fault) = script.once.get_mut(&route).and_then(VecDeque::pop_front) {
            return Some(fault);
        }
        script.always.get(&route).cloned()
    }
}

fn error_body(status: StatusCode, message: &str, kind: &str, code: Value) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn fault_response(
    route: Route,
    fault: &Fault,
    request: &Value,
    token: &str,
    in_flight: InFlight,
) -> Response {
    match fault {
        Fault::RateLimited(retry_after) => {
            let mut response = error_body(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached",
                "requests",
                json!("rate_limit_exceeded"),
            );
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: String| {
                headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
            };
            match retry_after {
                RetryAfter::Secs(secs) => set("retry-after", secs.to_string()),
                RetryAfter::Millis(ms) => set("retry-after-ms", ms.to_string()),
                RetryAfter::ResetRequests(reset) => {
                    set("x-ratelimit-remaining-requests", "0".into());
                    set("x-ratelimit-reset-requests", reset.clone());
                }
                RetryAfter::Nothing => {}
            }
            response
        }
        Fault::InsufficientQuota => error_body(
            StatusCode::TOO_MANY_REQUESTS,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            json!("insufficient_quota"),
        ),
        Fault::Status(status) => {
            let status = StatusCode::from_u16(*status).expect("status");
            error_body(
                status,
                &format!("mock failure {}", status.as_u16()),
                "server_error",
                Value::Null,
            )
        }
        Fault::UnauthorizedEchoingKey => error_body(
            StatusCode::UNAUTHORIZED,
            &format!(
                "Incorrect API key provided: {token}. You can find your API key at https://example.invalid."
            ),
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        Fault::UnauthorizedEchoingKeyMangled => {
            let encoded: String = token.bytes().map(|b| format!("%{b:02X}")).collect();
            error_body(
                StatusCode::UNAUTHORIZED,
                &format!(
                    "Incorrect API key provided: {}. Key param: key={encoded}",
                    token.to_lowercase()
                ),
                "invalid_request_error",
                json!("invalid_api_key"),
            )
        }
        Fault::SonarRetired => error_body(
            StatusCode::FORBIDDEN,
            "Sonar is now the Agent API. Use /v1/responses instead of /v1/sonar.",
            "chat_completions_not_available",
            json!(403),
        ),
        Fault::RunFailed => {
            let body = json!({"id": "resp_failed", "object": "response", "status": "failed", "output": [],
                              "error": {"message": "mock run failed", "code": "model_error"}});
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        Fault::MalformedJson if is_stream(request) => sse_response(
            vec![Bytes::from_static(b"data: {\"choices\": [ not json\n\n")],
            Pace::AtOnce,
            in_flight,
        ),
        Fault::MalformedJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"x\", \"choices\": [",
        )
            .into_response(),
        Fault::TruncatedStream => {
            let mut events = stream_events(route, request, 0);
            events.truncate(events.len() / 2);
            sse_response(events, Pace::AtOnce, in_flight)
        }
        Fault::SlowBody(delay) => {
            answer(route, request, 0, Pace::PauseAfterFirst(*delay), in_flight)
        }
        Fault::Drip(delay) => answer(route, request, 0, Pace::Drip(*delay), in_flight),
        Fault::StreamNeedsVerification => (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            STREAM_VERIFICATION_BODY,
        )
            .into_response(),
        Fault::Latency(_) | Fault::Reset => unreachable!("handled before"),
    }
}

fn is_stream(request: &Value) -> bool {
    request["stream"].as_bool().unwrap_or(false)
}

/// How a body's chunks are spaced in time.
#[derive(Debug, Clone, Copy)]
enum Pace {
    AtOnce,
    PauseAfterFirst(Duration),
    Drip(Duration),
}

impl Pace {
    /// The pause before chunk `index`.
    fn before(self, index: usize) -> Option<Duration> {
        match self {
            Pace::PauseAfterFirst(delay) if index == 1 => Some(delay),
            Pace::Drip(delay) if index > 0 => Some(delay),
            _ => None,
        }
    }
}

/// The normal answer; a `pace` other than `AtOnce` splits a JSON body in two.
fn answer(
    route: Route,
    request: &Value,
    counter: u64,
    pace: Pace,
    in_flight: InFlight,
) -> Response {
    if route == Route::Responses
        && let Some((param, message)) = mock_responses::rejection(request)
    {
        let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": null}});
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    if route != Route::Models && is_stream(request) {
        return sse_response(stream_events(route, request, counter), pace, in_flight);
    }
    let body = match route {
        Route::OpenAiChat => openai_json(request, counter),
        Route::Agent => agent_json(request, counter),
        Route::Responses => mock_responses::responses_json(request, counter),
        Route::Sonar => sonar_json(request, counter),
        Route::Models => {
            json!({"object": "list", "data": [{"id": "mock-model", "object": "model"}]})
        }
    }
    .to_string();
    let bytes = Bytes::from(body);
    let chunks = match pace {
        Pace::AtOnce => vec![bytes],
        Pace::PauseAfterFirst(_) | Pace::Drip(_) => vec![
            bytes.slice(..bytes.len() / 2),
            bytes.slice(bytes.len() / 2..),
        ],
    };
    let mut response = Response::new(chunked_body(chunks, pace, in_flight));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response.headers_mut().insert(
        "x-request-id",
        HeaderValue::from_str(&format!("req_mock_{counter}")).expect("id"),
    );
    response
}

fn sse_response(events: Vec<Bytes>, pace: Pace, in_flight: InFlight) -> Response {
    let mut response = Response::new(chunked_body(events, pace, in_flight));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// A body sent chunk by chunk, paced by `pace`.
fn chunked_body(chunks: Vec<Bytes>, pace: Pace, in_flight: InFlight) -> Body {
    let stream =
        futures::stream::iter(chunks.into_iter().enumerate()).then(move |(i, chunk)| async move {
            if let Some(delay) = pace.before(i) {
                tokio::time::sleep(delay).await;
            }
            Ok::<_, Infallible>(chunk)
        });
    // The in-flight guard lives as long as the body.
    let stream = stream.map(move |chunk| {
        let _ = &in_flight;
        chunk
    });
    Body::from_stream(stream)
}

// ---------------------------------------------------------------- answers

/// The last user message of an OpenAI `messages` or Agent/Responses `input`
/// array (string content, or the text of its parts).
pub fn last_user_message(request: &Value) -> String {
    let items = request["messages"]
        .as_array()
        .or_else(|| request["input"].as_array());
    if let Some(text) = request["input"].as_str() {
        return text.to_string();
    }
    items
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| match &m["content"] {
            Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
            content => content.as_str().unwrap_or_default().to_string(),
        })
        .unwrap_or_default()
}

/// What the mock answers to `question`: OpenAI echoes it.
pub fn openai_text(question: &str) -> String {
    format!("You said: {question}")
}

/// Perplexity's answer cites result ids 1 (alpha) and 7 (beta).
pub fn perplexity_raw_text(question: &str) -> String {
    format!("About {question}: alpha says yes [1], beta agrees [7].")
}

pub const ALPHA_URL: &str = "https://alpha.example/source";
pub const BETA_URL: &str = "https://beta.example/source";

/// The query of the scripted `search_web` call, if this request gets one.
fn scripted_tool_query(request: &Value) -> Option<String> {
    let question = last_user_message(request);
    let offered = request["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == "search_web"));
    (offered && question.contains(CALL_SEARCH_WEB))
        .then(|| question.replace(CALL_SEARCH_WEB, "").trim().to_string())
}

fn openai_json(request: &Value, counter: u64) -> Value {
    let question = last_user_message(request);
    if let Some(query) = scripted_tool_query(request) {
        let arguments = json!({"query": query}).to_string();
        return json!({
            "id": format!("chatcmpl-mock-{counter}"), "object": "chat.completion", "created": 1_741_570_283,
            "model": request["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null,
                "tool_calls": [{"id": "call_mock", "type": "function",
                                "function": {"name": "search_web", "arguments": arguments}}]},
                         "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": question.len(), "completion_tokens": 5, "total_tokens": question.len() + 5}
        });
    }
    json!({
        "id": format!("chatcmpl-mock-{counter}"), "object": "chat.completion", "created": 1_741_570_283,
        "model": request["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": openai_text(&question), "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": question.len(), "completion_tokens": 3, "total_tokens": question.len() + 3}
    })
}

fn search_results_item() -> Value {
    // Out of id order on purpose: clients must not rely on the order.
    json!({"type": "search_results", "queries": ["mock"], "results": [
        {"id": 7, "url": BETA_URL, "title": "Beta", "snippet": "beta", "source": "web"},
        {"id": 1, "url": ALPHA_URL, "title": "Alpha", "snippet": "alpha", "source": "web"}]})
}

fn agent_response(request: &Value, counter: u64) -> Value {
    let model = request["model"]
        .as_str()
        .or(request["preset"].as_str())
        .unwrap_or("mock");
    json!({
        "id": format!("resp_mock_{counter}"), "object": "response", "created_at": 1_790_374_547,
        "model": model, "status": "completed", "error": null,
        "output": [search_results_item(),
            {"type": "message", "id": "msg_mock", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "annotations": [], "text": perplexity_raw_text(&last_user_message(request))}]}],
        "usage": {"input_tokens": 30, "output_tokens": 12, "total_tokens": 42}
    })
}

fn agent_json(request: &Value, counter: u64) -> Value {
    agent_response(request, counter)
}

fn sonar_json(request: &Value, counter: u64) -> Value {
    let text = perplexity_raw_text(&last_user_message(request)).replace("[7]", "[2]");
    json!({
        "id": format!("sonar-mock-{counter}"), "model": request["model"], "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "citations": [ALPHA_URL, BETA_URL],
        "search_results": [{"title": "Beta", "url": BETA_URL}, {"title": "Alpha", "url": ALPHA_URL}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
    })
}

/// Splits text into 5-character pieces (so markers like `[7]` get split too).
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(5).map(|c| c.iter().collect()).collect()
}

fn data(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// The search query the mock's Agent API announces for `question`.
pub fn search_query(question: &str) -> String {
    format!("{question} latest")
}

/// The SSE events of a streamed answer, in order (terminal event last).
fn stream_events(route: Route, request: &Value, counter: u64) -> Vec<Bytes> {
    let question = last_user_message(request);
    match route {
        Route::Responses => mock_responses::responses_events(request, counter),
        Route::Agent => {
            let response = agent_response(request, counter);
            let mut events = vec![
                data(&json!({"type": "response.created", "sequence_number": 0,
                             "response": {"id": response["id"], "status": "in_progress", "output": [], "usage": null}})),
                // As the Agent API announces its searches before their results and the text.
                data(
                    &json!({"type": "response.reasoning.search_queries", "sequence_number": 1,
                             "call_id": "call_mock", "queries": [search_query(&question)]}),
                ),
                data(
                    &json!({"type": "response.reasoning.search_results", "sequence_number": 1,
                             "results": search_results_item()["results"]}),
                ),
                data(
                    &json!({"type": "response.output_item.added", "sequence_number": 2,
                             "item": {"type": "message", "id": "msg_mock", "role": "assistant", "content": null}}),
                ),
            ];
            let text = perplexity_raw_text(&question);
            events.extend(pieces(&text).iter().enumerate().map(|(i, piece)| {
                data(
                    &json!({"type": "response.output_text.delta", "sequence_number": 3 + i,
                             "item_id": "msg_mock", "delta": piece}),
                )
            }));
            events.push(data(
                &json!({"type": "response.output_text.done", "text": text}),
            ));
            events.push(data(
                &json!({"type": "response.completed", "response": response}),
            ));
            events
        }
        Route::Sonar => {
            let text = perplexity_raw_text(&question).replace("[7]", "[2]");
            let mut events: Vec<Bytes> = pieces(&text)
                .iter()
                .map(|piece| data(&json!({"object": "chat.completion.chunk", "model": request["model"],
                    "citations": [ALPHA_URL, BETA_URL], "choices": [{"index": 0, "delta": {"content": piece}}]})))
                .collect();
            events.push(data(&json!({"object": "chat.completion.done", "model": request["model"],
                "citations": [ALPHA_URL, BETA_URL],
                "search_results": [{"title": "Beta", "url": BETA_URL}, {"title": "Alpha", "url": ALPHA_URL}],
                "choices": [{"index": 0, "finish_reason": "stop", "delta": {}, "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}})));
            events
        }
        Route::OpenAiChat | Route::Models => {
            let chunk = |delta: Value, finish: Value| {
                data(&json!({"id": format!("chatcmpl-mock-{counter}"),
                "object": "chat.completion.chunk", "model": request["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null}))
            };
            let mut events = vec![
                chunk(json!({"role": "assistant", "content": ""}), Value::Null),
                Bytes::from_static(b": keep-alive\n\n"),
                Bytes::from_static(b"data:\n\n"),
            ];
            if let Some(query) = scripted_tool_query(request) {
                let arguments = json!({"query": query}).to_string();
                events.push(chunk(
                    json!({"tool_calls": [{"index": 0, "id": "call_mock", "type": "function",
                        "function": {"name": "search_web", "arguments": ""}}]}),
                    Value::Null,
                ));
                events.extend(pieces(&arguments).into_iter().map(|p| {
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                        Value::Null,
                    )
                }));
                events.push(chunk(json!({}), json!("tool_calls")));
            } else {
                events.extend(
                    pieces(&openai_text(&question))
                        .into_iter()
                        .map(|p| chunk(json!({"content": p}), Value::Null)),
                );
                events.push(chunk(json!({}), json!("stop")));
            }
            if request["stream_options"]["include_usage"] == true {
                events.push(data(
                    &json!({"object": "chat.completion.chunk", "choices": [],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}}),
                ));
            }
            events.push(Bytes::from_static(b"data: [DONE]\n\n"));
            events
        }
    }
}
