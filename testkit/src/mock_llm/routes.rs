//! The mock's routes: each request is recorded, counted in flight, then
//! answered or faulted as scripted.

use super::*;

pub(super) fn router(state: Arc<MockState>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/agent", post(agent))
        .route("/v1/responses", post(responses))
        .route("/chat/completions", post(sonar))
        .route("/v1/models", get(models))
        .with_state(state)
}

pub(super) async fn openai_chat(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::OpenAiChat, reset, version, headers, body).await
}

pub(super) async fn responses(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Responses, reset, version, headers, body).await
}

pub(super) async fn agent(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Agent, reset, version, headers, body).await
}

pub(super) async fn sonar(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(mock, Route::Sonar, reset, version, headers, body).await
}

pub(super) async fn models(
    State(mock): Mock,
    Extension(reset): Extension<ConnReset>,
    version: Version,
    headers: HeaderMap,
) -> Response {
    handle(mock, Route::Models, reset, version, headers, Bytes::new()).await
}

/// Decrements the in-flight count when the answer is done.
pub(super) struct InFlight(Arc<MockState>);

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

pub(super) async fn handle(
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

pub(super) fn error_body(status: StatusCode, message: &str, kind: &str, code: Value) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}
