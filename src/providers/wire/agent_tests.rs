use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::providers::error::ErrorKind;
use crate::providers::types::ChatMessage;
use crate::providers::wire::format::Flow;
use crate::providers::wire::sse::SseEvent;

fn api(env: &[(&str, &str)]) -> PerplexityAgent {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = crate::config::Config::from_env(&env).unwrap();
    PerplexityAgent::new(&config.perplexity, 800)
}

fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Cite sources as [n]."),
            ChatMessage::new(Role::User, "What changed in Rust 1.90?"),
        ],
        user_hash: Some("hashed-user".into()),
        web_tool: false,
        chat_model: None,
    }
}

fn body_json(api: &PerplexityAgent, stream: bool) -> Value {
    serde_json::from_slice(&api.body(&request(), stream)).unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn legacy_model_names_are_mapped_and_announced() {
    assert_eq!(
        resolve_target("perplexity/sonar", None),
        (Target::Model("perplexity/sonar".into()), None)
    );
    let (target, note) = resolve_target("sonar", None);
    assert_eq!(target, Target::Model("perplexity/sonar".into()));
    assert!(note.unwrap().contains("retired Sonar name"));
    assert_eq!(
        resolve_target("sonar-pro", None).0,
        Target::Preset("low".into())
    );
    assert_eq!(
        resolve_target("sonar-reasoning-pro", None).0,
        Target::Preset("low".into())
    );
    assert_eq!(
        resolve_target("sonar-deep-research", None).0,
        Target::Preset("medium".into())
    );
    assert_eq!(
        resolve_target("perplexity/sonar", Some("pro-search")).0,
        Target::Preset("low".into())
    );
    assert_eq!(
        resolve_target("x", Some("fast")),
        (Target::Preset("fast".into()), None)
    );
}

#[test]
fn a_model_request_sends_only_documented_fields_and_the_search_tool() {
    let body = body_json(&api(&[]), false);
    let expected: BTreeSet<String> = [
        "model",
        "tools",
        "instructions",
        "input",
        "max_output_tokens",
        "stream",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys(&body), expected);
    assert_eq!(body["model"], "perplexity/sonar");
    assert_eq!(body["tools"], json!([{"type": "web_search"}]));
    assert_eq!(body["instructions"], "Cite sources as [n].");
    assert_eq!(
        body["input"],
        json!([{"type": "message", "role": "user", "content": "What changed in Rust 1.90?"}])
    );
    assert_eq!(body["max_output_tokens"], 800);
    assert_eq!(body["stream"], false);
}

#[test]
fn a_preset_request_carries_no_model_and_no_tools() {
    let body = body_json(&api(&[("PERPLEXITY_PRESET", "fast")]), true);
    assert_eq!(body["preset"], "fast");
    assert!(body.get("model").is_none());
    assert!(body.get("tools").is_none());
    assert_eq!(body["stream"], true);
}

const CAPTURE: &str = r#"{
  "id": "resp_1", "object": "response", "created_at": 1790374547,
  "model": "openai/gpt-6-luna", "status": "completed", "error": null,
  "output": [
    {"type": "search_results", "queries": ["q"], "results": [
       {"id": 1, "url": "https://en.wikipedia.org/wiki/TypeScript", "title": "TypeScript - Wikipedia", "snippet": "..."},
       {"id": 7, "url": "https://www.typescriptlang.org/", "title": "TypeScript: JavaScript With Syntax For Types.", "snippet": "..."}]},
    {"type": "something_new", "payload": 1},
    {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
     "content": [{"type": "output_text", "annotations": [], "text": "The site is typescriptlang.org.[7]"}]}
  ],
  "usage": {"input_tokens": 3007, "output_tokens": 36, "total_tokens": 3043}
}"#;

#[test]
fn a_captured_response_yields_text_with_matching_sources() {
    let completion = api(&[])
        .parse(CAPTURE.as_bytes(), &Redactor::default())
        .unwrap();
    assert_eq!(completion.text, "The site is typescriptlang.org.[2]");
    assert_eq!(completion.sources[1].url, "https://www.typescriptlang.org/");
    assert_eq!(completion.model, "openai/gpt-6-luna");
    assert_eq!(completion.usage.unwrap().output_tokens, 36);
}

#[test]
fn annotations_are_the_sources_when_there_are_no_search_results() {
    let body = r#"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"A [1].","annotations":[{"type":"url_citation","url":"https://a.example","title":"A"}]}]}]}"#;
    let completion = api(&[])
        .parse(body.as_bytes(), &Redactor::default())
        .unwrap();
    assert_eq!(completion.sources[0].url, "https://a.example");
}

#[test]
fn a_failed_run_with_http_200_is_an_error() {
    let body = r#"{"status":"failed","output":[],"error":{"message":"model error","code":"x"}}"#;
    let error = api(&[])
        .parse(body.as_bytes(), &Redactor::default())
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Overloaded);
    assert!(matches!(error, ProviderError::RunFailed { .. }));
    assert!(error.to_string().contains("model error"), "{error}");
}

fn run_stream(events: &[Value]) -> (Result<Completion, ProviderError>, String) {
    let api = api(&[]);
    let mut parser = api.stream_decoder(&Redactor::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut ended = false;
    for value in events {
        let event = SseEvent {
            event: None,
            data: value.to_string(),
        };
        match parser.on_event(&event, &tx) {
            Ok(Flow::Done) => {
                ended = true;
                break;
            }
            Ok(Flow::Continue) => {}
            Err(error) => return (Err(error), String::new()),
        }
    }
    let result = parser.finish(ended, &tx);
    let mut streamed = String::new();
    while let Ok(delta) = rx.try_recv() {
        streamed.push_str(&delta);
    }
    (result, streamed)
}

fn completed(text: &str) -> Value {
    let capture: Value = serde_json::from_str(CAPTURE).unwrap();
    let mut response = capture.clone();
    response["output"][2]["content"][0]["text"] = json!(text);
    json!({"type": "response.completed", "sequence_number": 44, "response": response})
}

#[test]
fn a_stream_renumbers_markers_and_matches_the_json_answer() {
    let results = json!({"type": "response.reasoning.search_results", "results": [
        {"id": 7, "url": "https://www.typescriptlang.org/", "title": "TS"},
        {"id": 1, "url": "https://en.wikipedia.org/wiki/TypeScript", "title": "Wiki"}]});
    let delta = |d: &str| json!({"type": "response.output_text.delta", "delta": d});
    let events = [
        json!({"type": "response.created", "response": {"status": "in_progress", "output": []}}),
        results,
        delta("The site is typescriptlang.org.["),
        delta("7]"),
        completed("The site is typescriptlang.org.[7]"),
    ];
    let (result, streamed) = run_stream(&events);
    let completion = result.unwrap();
    assert_eq!(completion.text, "The site is typescriptlang.org.[2]");
    assert_eq!(streamed, completion.text);
    assert_eq!(completion.sources[1].url, "https://www.typescriptlang.org/");
}

#[test]
fn text_only_in_the_terminal_event_is_still_delivered_as_a_delta() {
    let (result, streamed) = run_stream(&[completed("Late text [1]")]);
    assert_eq!(result.unwrap().text, "Late text [1]");
    assert_eq!(streamed, "Late text [1]");
}

#[test]
fn a_stream_without_a_terminal_event_is_truncated() {
    let delta = json!({"type": "response.output_text.delta", "delta": "partial"});
    let (result, _) = run_stream(&[delta]);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed);
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn a_failed_event_ends_the_stream_with_its_message() {
    let failed = json!({"type": "response.failed", "error": {"message": "upstream model error"}});
    let (result, _) = run_stream(&[failed]);
    let error = result.unwrap_err();
    assert!(
        error.to_string().contains("upstream model error"),
        "{error}"
    );
}
