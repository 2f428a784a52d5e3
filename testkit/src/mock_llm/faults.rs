//! Answers and injected faults: status errors, 429s with Retry-After,
//! malformed and truncated bodies, slow and paced streams.

use super::*;

pub(super) fn fault_response(
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

pub(super) fn is_stream(request: &Value) -> bool {
    request["stream"].as_bool().unwrap_or(false)
}

/// How a body's chunks are spaced in time.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pace {
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
pub(super) fn answer(
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

pub(super) fn sse_response(events: Vec<Bytes>, pace: Pace, in_flight: InFlight) -> Response {
    let mut response = Response::new(chunked_body(events, pace, in_flight));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// A body sent chunk by chunk, paced by `pace`.
pub(super) fn chunked_body(chunks: Vec<Bytes>, pace: Pace, in_flight: InFlight) -> Body {
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
