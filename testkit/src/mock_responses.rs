//! The mock's OpenAI Responses API answers (`POST /v1/responses`), JSON and
//! SSE, as `mock_llm` serves them. Like OpenAI it answers 400 to a field the
//! `CreateResponse` schema does not define and to `input_text` parts in an
//! assistant turn. A request carrying the `web_search` tool gets a scripted
//! web answer citing [`ALPHA_URL`] and [`BETA_URL`] with `url_citation`
//! annotations; any other request gets `You said: <last user message>`.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::mock_llm::{ALPHA_URL, BETA_URL, last_user_message, openai_text};

/// Every top-level field of OpenAI's `CreateResponse` schema
/// (`CreateModelResponseProperties` + `ResponseProperties`).
pub const CREATE_RESPONSE_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "reasoning",
    "text",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "previous_response_id",
    "conversation",
    "include",
    "store",
    "stream",
    "stream_options",
    "background",
    "truncation",
    "temperature",
    "top_p",
    "top_logprobs",
    "metadata",
    "user",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "service_tier",
    "prompt",
];

/// The two cited sentences of a web answer, with their sources.
fn web_segments(question: &str) -> [(String, &'static str, &'static str); 2] {
    [
        (
            format!("About {question}: alpha says yes."),
            ALPHA_URL,
            "Alpha",
        ),
        (" Beta agrees.".to_string(), BETA_URL, "Beta"),
    ]
}

/// The raw text of the web answer to `question` (no markers: OpenAI cites
/// through annotations).
pub fn openai_web_text(question: &str) -> String {
    web_segments(question).map(|(text, _, _)| text).concat()
}

fn is_web_search(request: &Value) -> bool {
    request["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|tool| tool["type"] == "web_search")
}

/// Why OpenAI would answer 400, if it would: `(param, message)`.
pub fn rejection(request: &Value) -> Option<(String, String)> {
    let Some(body) = request.as_object() else {
        return Some(("".into(), "We could not parse the JSON body.".into()));
    };
    if let Some(field) = body
        .keys()
        .find(|k| !CREATE_RESPONSE_FIELDS.contains(&k.as_str()))
    {
        return Some((field.clone(), format!("Unknown parameter: '{field}'.")));
    }
    let assistant_parts = request["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["role"] == "assistant")
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default());
    for part in assistant_parts {
        if part["type"] == "input_text" {
            return Some((
                "input".into(),
                "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'."
                    .into(),
            ));
        }
    }
    None
}

fn annotations(question: &str) -> Vec<Value> {
    let mut end = 0;
    web_segments(question)
        .iter()
        .map(|(text, url, title)| {
            let start = end;
            end += text.chars().count();
            json!({"type": "url_citation", "start_index": start, "end_index": end, "url": url, "title": title})
        })
        .collect()
}

/// The whole `Response` object answering `request`.
pub fn responses_json(request: &Value, counter: u64) -> Value {
    let question = last_user_message(request);
    let web = is_web_search(request);
    let (text, annotations) = if web {
        (openai_web_text(&question), annotations(&question))
    } else {
        (openai_text(&question), Vec::new())
    };
    let mut output = Vec::new();
    if web {
        output.push(
            json!({"type": "web_search_call", "id": "ws_mock", "status": "completed",
                           "action": {"type": "search", "query": question}}),
        );
    }
    output.push(json!({"type": "message", "id": "msg_mock", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": annotations, "logprobs": []}]}));
    json!({
        "id": format!("resp_mock_{counter}"), "object": "response", "created_at": 1_741_484_430,
        "status": "completed", "error": null, "incomplete_details": null, "model": request["model"],
        "output": output, "store": false,
        "usage": {"input_tokens": question.len(), "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": question.len() + 7}
    })
}

fn frame(value: &Value) -> Bytes {
    let kind = value["type"].as_str().unwrap_or("message");
    Bytes::from(format!("event: {kind}\ndata: {value}\n\n"))
}

/// 5-character deltas of `text`, each a `response.output_text.delta` frame.
fn deltas(text: &str) -> impl Iterator<Item = Bytes> + '_ {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .map(|delta| {
            frame(
                &json!({"type": "response.output_text.delta", "item_id": "msg_mock",
                          "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// The SSE frames of a streamed answer, terminal `response.completed` last;
/// a web answer's annotations follow the text they cite.
pub fn responses_events(request: &Value, counter: u64) -> Vec<Bytes> {
    let question = last_user_message(request);
    let response = responses_json(request, counter);
    let mut events = vec![
        frame(&json!({"type": "response.created", "sequence_number": 0,
            "response": {"id": response["id"], "object": "response", "status": "in_progress", "output": [], "usage": null}})),
        frame(
            &json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "id": "msg_mock", "role": "assistant", "status": "in_progress", "content": []}}),
        ),
    ];
    if is_web_search(request) {
        for (index, ((text, _, _), annotation)) in web_segments(&question)
            .iter()
            .zip(annotations(&question))
            .enumerate()
        {
            events.extend(deltas(text));
            events.push(frame(
                &json!({"type": "response.output_text.annotation.added",
                "item_id": "msg_mock", "output_index": 0, "content_index": 0,
                "annotation_index": index, "annotation": annotation}),
            ));
        }
    } else {
        events.extend(deltas(&openai_text(&question)));
    }
    events.push(frame(&json!({"type": "response.output_text.done", "item_id": "msg_mock",
        "text": response["output"].as_array().and_then(|o| o.last()).map(|m| m["content"][0]["text"].clone())})));
    events.push(frame(
        &json!({"type": "response.completed", "response": response}),
    ));
    events
}
