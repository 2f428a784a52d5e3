//! What the mock says: answer texts derived from the request, and the JSON
//! and SSE bodies of each API.

use super::*;

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
pub(super) fn scripted_tool_query(request: &Value) -> Option<String> {
    let question = last_user_message(request);
    let offered = request["tools"]
        .as_array()
        .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == "search_web"));
    (offered && question.contains(CALL_SEARCH_WEB))
        .then(|| question.replace(CALL_SEARCH_WEB, "").trim().to_string())
}

pub(super) fn openai_json(request: &Value, counter: u64) -> Value {
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

pub(super) fn search_results_item() -> Value {
    // Out of id order on purpose: clients must not rely on the order.
    json!({"type": "search_results", "queries": ["mock"], "results": [
        {"id": 7, "url": BETA_URL, "title": "Beta", "snippet": "beta", "source": "web"},
        {"id": 1, "url": ALPHA_URL, "title": "Alpha", "snippet": "alpha", "source": "web"}]})
}

pub(super) fn agent_response(request: &Value, counter: u64) -> Value {
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

pub(super) fn agent_json(request: &Value, counter: u64) -> Value {
    agent_response(request, counter)
}

pub(super) fn sonar_json(request: &Value, counter: u64) -> Value {
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
pub(super) fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(5).map(|c| c.iter().collect()).collect()
}

pub(super) fn data(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// The search query the mock's Agent API announces for `question`.
pub fn search_query(question: &str) -> String {
    format!("{question} latest")
}

/// The SSE events of a streamed answer, in order (terminal event last).
pub(super) fn stream_events(route: Route, request: &Value, counter: u64) -> Vec<Bytes> {
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
