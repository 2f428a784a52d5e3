use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use tokio::sync::mpsc::unbounded_channel;

use super::*;
use crate::providers::error::ErrorKind;
use crate::providers::types::ChatMessage;
use crate::providers::wire::format::Flow;
use crate::providers::wire::sse::{SseDecoder, SseEvent};

fn api(env: &[(&str, &str)], web_search: bool) -> OpenAiResponses {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = crate::config::Config::from_env(&env).unwrap();
    OpenAiResponses::new(&config.openai, 800, web_search)
}

fn request() -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "alice: hi"),
            ChatMessage::new(Role::Assistant, "Hello!"),
            ChatMessage::new(Role::User, "alice: and now?"),
        ],
        user_hash: Some("hashed-user".into()),
        web_tool: false,
        chat_model: None,
    }
}

fn body_json(api: &OpenAiResponses, stream: bool) -> Value {
    serde_json::from_slice(&api.body(&request(), stream)).unwrap()
}

fn event(data: &str) -> SseEvent {
    SseEvent {
        event: None,
        data: data.into(),
    }
}

/// Runs a stream decoder over SSE text; the deltas and the result.
fn run_stream(api: &OpenAiResponses, sse: &str) -> (String, Result<Completion, ProviderError>) {
    let (tx, mut rx) = unbounded_channel();
    let mut decoder = api.stream_decoder(&Redactor::default());
    let mut ended = false;
    let mut result = None;
    for event in SseDecoder::default().push(sse.as_bytes()).unwrap() {
        match decoder.on_event(&event, &tx) {
            Ok(Flow::Done) => {
                ended = true;
                break;
            }
            Ok(Flow::Continue) => {}
            Err(error) => {
                result = Some(Err(error));
                break;
            }
        }
    }
    let result = result.unwrap_or_else(|| decoder.finish(ended, &tx));
    let mut streamed = String::new();
    while let Ok(delta) = rx.try_recv() {
        streamed.push_str(&delta);
    }
    (streamed, result)
}

#[test]
fn the_body_carries_history_as_items_and_store_false() {
    let body = body_json(&api(&[("OPENAI_REASONING_EFFORT", "low")], false), true);
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "model",
        "instructions",
        "input",
        "max_output_tokens",
        "reasoning",
        "safety_identifier",
        "store",
        "stream",
    ]
    .into();
    assert_eq!(keys, expected);
    assert_eq!(body["store"], false);
    assert_eq!(body["stream"], true);
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["reasoning"], json!({"effort": "low"}));
    let input = body["input"].as_array().unwrap();
    assert_eq!(input.len(), 3);
    assert_eq!(input[0]["content"][0]["type"], "input_text");
    assert_eq!(input[1]["role"], "assistant");
    assert_eq!(input[1]["content"][0]["type"], "output_text");
    assert_eq!(input[1]["content"][0]["text"], "Hello!");
    assert!(input.iter().all(|item| item.get("id").is_none()));
}

#[test]
fn web_search_adds_the_built_in_tool_and_small_caps_are_raised() {
    let env: HashMap<String, String> = HashMap::new();
    let config = crate::config::Config::from_env(&env).unwrap();
    let api = OpenAiResponses::new(&config.openai, 3, true);
    let body = body_json(&api, false);
    assert_eq!(body["tools"], json!([{"type": "web_search"}]));
    assert_eq!(body["max_output_tokens"], 16);
    assert!(body.get("reasoning").is_none());
    assert!(api.endpoint().as_str().ends_with("/v1/responses"));
}

#[test]
fn a_whole_response_with_url_citations_has_numbered_sources() {
    let body = json!({"model": "gpt-5.4", "status": "completed", "output": [
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text",
            "text": "Rust 1.90 shipped. It uses lld.",
            "annotations": [
                {"type": "url_citation", "start_index": 0, "end_index": 18, "url": "https://blog.rust-lang.org", "title": "Rust Blog"},
                {"type": "url_citation", "start_index": 19, "end_index": 31, "url": "https://lld.example", "title": "LLD"}]}]}],
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}});
    let completion = api(&[], true)
        .parse(body.to_string().as_bytes(), &Redactor::default())
        .unwrap();
    assert_eq!(completion.text, "Rust 1.90 shipped.[1] It uses lld.[2]");
    assert_eq!(completion.sources[0].url, "https://blog.rust-lang.org");
    assert_eq!(completion.sources[1].title, "LLD");
    assert_eq!(completion.usage.unwrap().total(), 15);
    assert_eq!(completion.model, "gpt-5.4");
}

#[test]
fn a_failed_run_with_http_200_is_an_error_with_its_message() {
    let body = json!({"status": "failed", "output": [], "error": {"code": "server_error", "message": "boom"}});
    let error = api(&[], false)
        .parse(body.to_string().as_bytes(), &Redactor::default())
        .unwrap_err();
    assert!(error.to_string().contains("boom"), "{error}");
}

#[test]
fn an_incomplete_run_without_text_says_the_budget_ran_out() {
    let body = json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
                      "output": [{"type": "reasoning", "id": "rs_1", "summary": []}]});
    let error = api(&[], false)
        .parse(body.to_string().as_bytes(), &Redactor::default())
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed);
    assert!(error.to_string().contains("OUTPUT_TOKENS"), "{error}");
}

const STREAM: &str = "event: response.created\n\
data: {\"type\":\"response.created\",\"response\":{\"status\":\"in_progress\",\"output\":[]}}\n\n\
event: response.output_text.delta\n\
data: {\"type\":\"response.output_text.delta\",\"delta\":\"Rust 1.90 \"}\n\n\
data: {\"type\":\"response.output_text.delta\",\"delta\":\"shipped.\"}\n\n\
data: {\"type\":\"response.output_text.annotation.added\",\"annotation\":{\"type\":\"url_citation\",\"end_index\":18,\"url\":\"https://blog.rust-lang.org\",\"title\":\"Rust Blog\"}}\n\n\
data: {\"type\":\"response.output_text.delta\",\"delta\":\" Yes.\"}\n\n";

const COMPLETED: &str = "event: response.completed\n\
data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"model\":\"gpt-5.4\",\"output\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}}\n\n";

#[test]
fn a_stream_sends_deltas_with_markers_and_ends_at_completed() {
    let (streamed, result) = run_stream(&api(&[], true), &format!("{STREAM}{COMPLETED}"));
    let completion = result.unwrap();
    assert_eq!(completion.text, "Rust 1.90 shipped.[1] Yes.");
    assert_eq!(streamed, completion.text);
    assert_eq!(completion.sources.len(), 1);
    assert_eq!(completion.usage.unwrap().total(), 7);
}

#[test]
fn a_stream_without_its_terminal_event_is_an_error() {
    let (_, result) = run_stream(&api(&[], false), STREAM);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed);
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn failed_and_error_events_are_errors() {
    let failed = "data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"message\":\"model exploded\"}}}\n\n";
    let (_, result) = run_stream(&api(&[], false), failed);
    assert!(result.unwrap_err().to_string().contains("model exploded"));
    let error =
        "event: error\ndata: {\"type\":\"error\",\"code\":\"x\",\"message\":\"stream broke\"}\n\n";
    let (_, result) = run_stream(&api(&[], false), error);
    assert!(result.unwrap_err().to_string().contains("stream broke"));
}

#[test]
fn a_stream_with_only_the_terminal_event_still_delivers_the_text() {
    let sse = "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"late\",\"annotations\":[]}]}]}}\n\n";
    let (streamed, result) = run_stream(&api(&[], false), sse);
    assert_eq!(result.unwrap().text, "late");
    assert_eq!(streamed, "late");
    assert_eq!(
        run_stream(&api(&[], false), &event("").data)
            .1
            .unwrap_err()
            .kind(),
        ErrorKind::Malformed
    );
}

proptest! {
    #[test]
    fn arbitrary_bodies_and_streams_never_panic(input in any::<Vec<u8>>(), text in ".{0,200}") {
        let api = api(&[], true);
        let redactor = Redactor::default();
        let _ = api.parse(&input, &redactor);
        let _ = api.parse(text.as_bytes(), &redactor);
        let _ = run_stream(&api, &text);
        let _ = run_stream(&api, &format!("data: {text}\n\n"));
        let _ = run_stream(&api, &String::from_utf8_lossy(&input));
    }

    #[test]
    fn arbitrary_annotations_never_panic(text in ".{0,40}", end in any::<u64>(), url in ".{0,10}") {
        let mut citations = Citations::default();
        let annotations = json!([{"type": "url_citation", "end_index": end, "url": url}, {"end_index": -1}]);
        let marked = citations.mark(&text, &annotations);
        prop_assert!(marked.len() >= text.len());
    }
}

fn with_image() -> CompletionRequest {
    let mut request = request();
    request.messages[3].images = vec![crate::providers::ImageInput {
        media_type: "image/jpeg",
        bytes: bytes::Bytes::from_static(b"\xFF\xD8\xFF"),
    }];
    request
}

#[test]
fn images_are_input_image_parts_with_detail_auto_but_never_for_the_web_search() {
    let chat: Value = serde_json::from_slice(&api(&[], false).body(&with_image(), false)).unwrap();
    let content = &chat["input"][2]["content"];
    assert_eq!(
        content[0],
        serde_json::json!({"type": "input_text", "text": "alice: and now?"})
    );
    assert_eq!(
        content[1],
        serde_json::json!({"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/", "detail": "auto"})
    );
    let web: Value = serde_json::from_slice(&api(&[], true).body(&with_image(), false)).unwrap();
    assert_eq!(web["input"][2]["content"].as_array().map(Vec::len), Some(1));
}
