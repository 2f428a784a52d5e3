//! OpenAI's Responses API against the mock: a conversation with history
//! round-trips streamed and not, the bodies hold only `CreateResponse`
//! fields and `store: false`, a cut stream is an error, a 429 pauses and
//! retries as on chat completions, and `OPENAI_API=auto` picks the API by host.

use std::time::Duration;

use duet::config::Config;
use duet::providers::{
    ChatMessage, Completion, CompletionRequest, ErrorKind, ProviderClient, ProviderKind, Role,
};
use duet_testkit::clients::{client, providers};
use duet_testkit::mock_llm::RetryAfter;
use duet_testkit::mock_llm::{Fault, MockLlm, Route, openai_text};
use duet_testkit::mock_responses::CREATE_RESPONSE_FIELDS;
use serde_json::{Value, json};

const RESPONSES: (&str, &str) = ("OPENAI_API", "responses");

fn conversation(question: &str) -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "alice: earlier question"),
            ChatMessage::new(Role::Assistant, "earlier answer"),
            ChatMessage::new(Role::User, question),
        ],
        user_hash: Some("user-hash".into()),
        web_tool: false,
        chat_model: None,
    }
}

async fn stream(
    client: &ProviderClient,
    request: &CompletionRequest,
) -> (Result<Completion, ErrorKind>, String) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let result = client.stream(request, tx).await.map_err(|e| e.kind());
    let mut streamed = String::new();
    while let Some(delta) = rx.recv().await {
        streamed.push_str(&delta);
    }
    (result, streamed)
}

/// Every field is a `CreateResponse` field, `store` is false and the history
/// is there as message items (assistant turns as `output_text`).
fn assert_a_create_response_body(body: &Value, stream: bool) {
    let object = body.as_object().expect("a JSON object");
    for field in object.keys() {
        assert!(
            CREATE_RESPONSE_FIELDS.contains(&field.as_str()),
            "{field} is not a CreateResponse field"
        );
    }
    assert_eq!(body["store"], false);
    assert_eq!(body["stream"], stream);
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["safety_identifier"], "user-hash");
    let input = body["input"].as_array().expect("input items");
    let roles: Vec<&str> = input.iter().map(|i| i["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(
        input[1]["content"],
        json!([{"type": "output_text", "text": "earlier answer"}])
    );
    assert_eq!(input[0]["content"][0]["type"], "input_text");
    assert!(object.get("messages").is_none());
}

#[tokio::test]
async fn a_conversation_with_history_round_trips_without_streaming() {
    let mock = MockLlm::start().await;
    let providers = providers(
        &mock,
        &[
            RESPONSES,
            ("OPENAI_REASONING_EFFORT", "low"),
            ("OUTPUT_TOKENS", "500"),
        ],
    );
    let answer = client(&providers, ProviderKind::OpenAi)
        .complete(&conversation("bob: and now?"))
        .await
        .expect("an answer");
    assert_eq!(answer.text, openai_text("bob: and now?"));
    assert_eq!(answer.provider, ProviderKind::OpenAi);
    assert!(answer.usage.expect("usage").total() > 0);
    assert!(answer.sources.is_empty());
    assert!(mock.requests_on(Route::OpenAiChat).is_empty());
    let sent = &mock.requests_on(Route::Responses)[0];
    assert_eq!(sent.status, Some(200));
    assert_a_create_response_body(&sent.body, false);
    assert_eq!(sent.body["reasoning"], json!({"effort": "low"}));
    assert_eq!(sent.body["max_output_tokens"], 500);
}

#[tokio::test]
async fn a_conversation_with_history_round_trips_streamed() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[RESPONSES]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let (answer, streamed) = stream(&openai, &conversation("bob: stream it")).await;
    let answer = answer.expect("a streamed answer");
    assert_eq!(answer.text, openai_text("bob: stream it"));
    assert_eq!(streamed, answer.text);
    assert!(answer.usage.is_some());
    let sent = &mock.requests_on(Route::Responses)[0];
    assert_a_create_response_body(&sent.body, true);
}

#[tokio::test]
async fn a_responses_stream_cut_before_its_terminal_event_is_an_error() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Responses, Fault::TruncatedStream);
    let providers = providers(&mock, &[RESPONSES]);
    let (answer, _) = stream(
        &client(&providers, ProviderKind::OpenAi),
        &conversation("cut me"),
    )
    .await;
    assert_eq!(answer.unwrap_err(), ErrorKind::Malformed);
}

#[tokio::test]
async fn a_failed_run_answered_with_http_200_is_an_error() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Responses, Fault::RunFailed);
    let providers = providers(&mock, &[RESPONSES]);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&conversation("fail"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("mock run failed"), "{error}");
}

#[tokio::test]
async fn a_429_on_the_responses_api_waits_for_retry_after_and_retries() {
    let mock = MockLlm::start().await;
    mock.push_fault(
        Route::Responses,
        Fault::RateLimited(RetryAfter::Millis(300)),
    );
    let providers = providers(&mock, &[RESPONSES]);
    let answer = client(&providers, ProviderKind::OpenAi)
        .complete(&conversation("busy?"))
        .await
        .expect("answered after the pause");
    assert_eq!(answer.text, openai_text("busy?"));
    let sent = mock.requests_on(Route::Responses);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].status, Some(429));
    let waited = sent[1].arrived - sent[0].answered.unwrap();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}

#[tokio::test]
async fn the_mock_rejects_what_openai_rejects() {
    let mock = MockLlm::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/responses", mock.openai_url());
    for body in [
        json!({"model": "m", "input": "hi", "messages": []}),
        json!({"model": "m", "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]}),
    ] {
        let status = http.post(&url).json(&body).send().await.unwrap().status();
        assert_eq!(status, 400, "{body}");
    }
}

#[test]
fn auto_speaks_responses_to_openai_and_chat_completions_to_other_servers() {
    let config = |env: &[(&str, &str)]| {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(&env).expect("valid config").openai
    };
    assert!(config(&[]).uses_responses());
    assert!(!config(&[("OPENAI_API_URL", "http://localhost:11434/v1")]).uses_responses());
    assert!(!config(&[("OPENAI_API_URL", "https://openrouter.ai/api/v1")]).uses_responses());
    assert!(config(&[("OPENAI_API_URL", "http://localhost:1234/v1"), RESPONSES]).uses_responses());
    assert!(!config(&[("OPENAI_API", "chat")]).uses_responses());
}

#[tokio::test]
async fn auto_keeps_chat_completions_for_the_local_mock() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[("OPENAI_API", "auto")]);
    client(&providers, ProviderKind::OpenAi)
        .complete(&conversation("which api?"))
        .await
        .expect("an answer");
    assert_eq!(mock.requests_on(Route::OpenAiChat).len(), 1);
    assert!(mock.requests_on(Route::Responses).is_empty());
}
