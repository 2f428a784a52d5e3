//! What goes over the wire and what comes back: request fields per
//! provider, sources numbered to match the `[n]` markers, and streaming
//! giving the same answer as a plain request.

use std::collections::HashMap;

use duet::providers::{
    ChatMessage, Completion, CompletionRequest, ProviderClient, ProviderKind, Role,
};
use duet_testkit::clients::{client, providers, providers_from};
use duet_testkit::mock_llm::{ALPHA_URL, BETA_URL, MockLlm, Route, openai_text};
use serde_json::json;

fn ask(question: &str) -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "earlier question"),
            ChatMessage::new(Role::Assistant, "earlier answer"),
            ChatMessage::new(Role::User, question),
        ],
        user_hash: None,
        web_tool: false,
        chat_model: None,
    }
}

async fn stream(client: &ProviderClient, question: &str) -> (Completion, String) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let completion = client
        .stream(&ask(question), tx)
        .await
        .expect("streamed answer");
    let mut streamed = String::new();
    while let Some(delta) = rx.recv().await {
        streamed.push_str(&delta);
    }
    (completion, streamed)
}

/// The number inside the marker that follows `phrase` in `text`.
fn marker_after(text: &str, phrase: &str) -> usize {
    let start = text
        .find(phrase)
        .unwrap_or_else(|| panic!("{phrase:?} not in {text:?}"))
        + phrase.len();
    let rest = text[start..].strip_prefix('[').expect("a marker");
    rest[..rest.find(']').unwrap()].parse().expect("a number")
}

fn assert_markers_match_sources(completion: &Completion) {
    let alpha = marker_after(&completion.text, "alpha says yes ");
    let beta = marker_after(&completion.text, "beta agrees ");
    assert_eq!(
        completion.sources[alpha - 1].url,
        ALPHA_URL,
        "{completion:?}"
    );
    assert_eq!(completion.sources[beta - 1].url, BETA_URL, "{completion:?}");
    assert_eq!(completion.sources[alpha - 1].title, "Alpha");
}

#[tokio::test]
async fn openai_gets_the_configured_fields_and_the_bearer_key() {
    let mock = MockLlm::start().await;
    // A trailing slash on the base URL must not double the slash.
    let base = format!("{}/", mock.openai_url());
    let providers = providers(
        &mock,
        &[
            ("OPENAI_API_URL", &base),
            ("GPT_MODEL", "gpt-test"),
            ("OUTPUT_TOKENS", "321"),
        ],
    );
    let answer = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("fields?"))
        .await
        .unwrap();
    assert_eq!(answer.text, openai_text("fields?"));
    assert_eq!(answer.model, "gpt-test");
    let sent = &mock.requests_on(Route::OpenAiChat)[0];
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-mock-openai"));
    assert_eq!(sent.body["model"], "gpt-test");
    assert_eq!(sent.body["max_completion_tokens"], 321);
    assert_eq!(sent.body["messages"].as_array().unwrap().len(), 4);
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
}

#[tokio::test]
async fn a_local_server_gets_no_authorization_and_max_tokens_when_asked() {
    let mock = MockLlm::start().await;
    let env: HashMap<String, String> = [
        ("OPENAI_API_URL", mock.openai_url()),
        ("OPENAI_TOKEN_LIMIT_FIELD", "max_tokens".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let providers = providers_from(env);
    assert_eq!(providers.available(), vec![ProviderKind::OpenAi]);
    client(&providers, ProviderKind::OpenAi)
        .complete(&ask("local"))
        .await
        .unwrap();
    let sent = &mock.requests()[0];
    assert_eq!(sent.authorization, None);
    assert!(sent.body.get("max_completion_tokens").is_none());
    assert!(sent.body["max_tokens"].is_u64());
}

#[tokio::test]
async fn openai_streaming_gives_the_same_answer_as_a_plain_request() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let plain = openai.complete(&ask("same?")).await.unwrap();
    let (streamed, deltas) = stream(&openai, "same?").await;
    assert_eq!(streamed.text, plain.text);
    assert_eq!(deltas, streamed.text);
    assert_eq!(streamed.usage.map(|u| u.total()), Some(12));
    let sent = &mock.requests()[1];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn the_agent_api_gets_only_documented_fields() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[]);
    client(&providers, ProviderKind::Perplexity)
        .complete(&ask("what?"))
        .await
        .unwrap();
    let sent = &mock.requests_on(Route::Agent)[0];
    let mut fields: Vec<&str> = sent
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "input",
            "instructions",
            "max_output_tokens",
            "model",
            "stream",
            "tools"
        ]
    );
    assert_eq!(sent.body["tools"], json!([{"type": "web_search"}]));
    assert_eq!(sent.body["instructions"], "Be brief.");
    assert_eq!(
        sent.body["input"][2],
        json!({"type": "message", "role": "user", "content": "what?"})
    );
    assert_eq!(sent.body["input"][1]["role"], "assistant");
    assert_eq!(sent.authorization.as_deref(), Some("Bearer pplx-mock"));
}

#[tokio::test]
async fn agent_answers_carry_sources_matching_their_markers() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[]);
    let perplexity = client(&providers, ProviderKind::Perplexity);
    let plain = perplexity.complete(&ask("rust")).await.unwrap();
    assert!(plain.text.starts_with("About rust:"), "{}", plain.text);
    assert_markers_match_sources(&plain);
    let (streamed, deltas) = stream(&perplexity, "rust").await;
    assert_eq!(streamed.text, plain.text);
    assert_eq!(streamed.sources, plain.sources);
    assert_eq!(deltas, streamed.text);
}

#[tokio::test]
async fn a_preset_replaces_the_model_and_the_tool() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[("PERPLEXITY_PRESET", "pro-search")]);
    let perplexity = client(&providers, ProviderKind::Perplexity);
    assert_eq!(perplexity.model(), "low");
    perplexity.complete(&ask("deep")).await.unwrap();
    let sent = &mock.requests()[0];
    assert_eq!(sent.body["preset"], "low");
    assert!(sent.body.get("model").is_none() && sent.body.get("tools").is_none());
}

#[tokio::test]
async fn legacy_sonar_answers_carry_sources_matching_their_markers() {
    let mock = MockLlm::start().await;
    let providers = providers(
        &mock,
        &[
            ("PERPLEXITY_API", "sonar"),
            ("PERPLEXITY_MODEL", "sonar-pro"),
        ],
    );
    let perplexity = client(&providers, ProviderKind::Perplexity);
    let plain = perplexity.complete(&ask("legacy")).await.unwrap();
    assert_markers_match_sources(&plain);
    let sent = &mock.requests_on(Route::Sonar)[0];
    assert_eq!(sent.body["model"], "sonar-pro");
    assert!(sent.body["max_tokens"].is_u64());
    let (streamed, deltas) = stream(&perplexity, "legacy").await;
    assert_eq!(streamed.text, plain.text);
    assert_eq!(streamed.sources, plain.sources);
    assert_eq!(deltas, streamed.text);
}

#[tokio::test]
async fn warm_up_asks_each_enabled_provider_for_its_models_once() {
    let mock = MockLlm::start().await;
    let providers = providers(
        &mock,
        &[("OPENAI_WARMUP", "true"), ("PERPLEXITY_WARMUP", "true")],
    );
    providers.warm_up().await;
    assert_eq!(mock.requests_on(Route::Models).len(), 2);
    let off = providers_from(mock.config_env());
    off.warm_up().await;
    assert_eq!(
        mock.requests_on(Route::Models).len(),
        2,
        "warm-up off sends nothing"
    );
}
