//! Servers that are set up differently from what duet asks of them: an
//! OpenAI organisation that may not stream (OpenAI's 400 on `stream: true`),
//! and a local server whose base URL lacks `/v1`. duet answers anyway where
//! it can, and says what to fix where it cannot.

use std::collections::HashMap;
use std::process::Output;

use duet::providers::{AnswerPlan, ErrorKind, Progress, ProviderKind};
use duet_testkit::clients::{ask, client, providers};
use duet_testkit::duet_process::{DuetProcess, run_env};
use duet_testkit::fake_discord::FakeDiscord;
use duet_testkit::mock_llm::{Fault, MockLlm, Route, openai_text};
use serde_json::json;

async fn duet_ask(env: &HashMap<String, String>, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("ask")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env)
        .output()
        .await
        .expect("duet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn streamed_flags(mock: &MockLlm) -> Vec<bool> {
    mock.requests_on(Route::OpenAiChat)
        .iter()
        .map(|r| r.body["stream"] == json!(true))
        .collect()
}

#[tokio::test]
async fn a_refused_stream_is_asked_again_whole_and_later_requests_never_stream() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::StreamNeedsVerification));
    let providers = providers(&mock, &[]);
    let openai = client(&providers, ProviderKind::OpenAi);
    for question in ["first", "second"] {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let completion = openai.stream(&ask(question), tx).await.expect("answered");
        assert_eq!(completion.text, openai_text(question));
        let mut deltas = String::new();
        while let Some(delta) = rx.recv().await {
            deltas.push_str(&delta);
        }
        assert_eq!(
            deltas, completion.text,
            "the deltas still add up to the answer"
        );
    }
    assert!(openai.streaming_refused());
    let stats = openai.stats();
    assert_eq!(
        (stats.consecutive_failures, stats.last_error),
        (0, None),
        "a refused stream is not a provider failure"
    );
    assert_eq!(streamed_flags(&mock), [true, false, false]);
    let whole = &mock.requests_on(Route::OpenAiChat)[1].body;
    assert!(whole.get("stream_options").is_none(), "{whole}");
}

#[tokio::test]
async fn the_default_streaming_ask_answers_when_the_organisation_may_not_stream() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::StreamNeedsVerification));
    let mut env = mock.config_env();
    env.insert("LOG_LEVEL".into(), "warn".into());
    let output = duet_ask(&env, &["--provider", "openai", "hello"]).await;
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(text(&output.stdout), format!("{}\n", openai_text("hello")));
    assert_eq!(streamed_flags(&mock), [true, false]);
    assert_eq!(
        stderr.matches("verify the organization").count(),
        1,
        "one warning says what the operator can do: {stderr}"
    );
    assert!(stderr.contains("STREAM_REPLIES=false"), "{stderr}");
}

#[tokio::test]
async fn a_streaming_refusal_is_answered_by_the_same_provider_without_failover() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::StreamNeedsVerification));
    let providers = providers(&mock, &[]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let answered = providers
        .answer(
            AnswerPlan::routed(ProviderKind::OpenAi, false),
            &ask("hi"),
            Some(tx),
        )
        .await
        .expect("answered");
    assert_eq!(answered.completion.provider, ProviderKind::OpenAi);
    assert!(answered.note.is_none(), "{:?}", answered.note);
    assert!(mock.requests_on(Route::Agent).is_empty(), "no failover");
    let mut shown = String::new();
    while let Ok(event) = rx.try_recv() {
        if let Progress::Delta(text) = event {
            shown.push_str(&text);
        }
    }
    assert_eq!(shown, openai_text("hi"));
}

/// The mock's OpenAI API at a path without `/v1` (as with Ollama's root URL).
fn without_v1(mock: &MockLlm) -> String {
    format!("{}/ollama", mock.base_url().trim_end_matches('/'))
}

#[tokio::test]
async fn ask_against_a_base_url_without_v1_says_where_the_api_usually_is() {
    let mock = MockLlm::start().await;
    let mut env = mock.config_env();
    env.insert("OPENAI_API_URL".into(), without_v1(&mock));
    env.insert("OPENAI_MAX_RETRIES".into(), "0".into());
    let output = duet_ask(&env, &["--provider", "openai", "hello"]).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let base = without_v1(&mock);
    assert!(
        stderr.contains(&format!(
            "OPENAI_API_URL {base} answered 404 — most OpenAI-compatible servers serve their API under {base}/v1"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_404_is_a_misconfiguration_not_a_bad_message() {
    let mock = MockLlm::start().await;
    let mut env = mock.config_env();
    env.insert("OPENAI_API_URL".into(), without_v1(&mock));
    let providers = duet_testkit::clients::providers_from(env);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Misconfigured);
    assert!(error.kind().needs_admin());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_of_a_base_url_without_v1_warns_with_the_hint() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("OPENAI_API_URL".into(), without_v1(&mock));
    env.insert("OPENAI_WARMUP".into(), "true".into());
    let duet = DuetProcess::start(&env, None, dir.path()).await;
    let (_, line) = duet.wait_for_log(0, "warm-up request answered 404").await;
    let message = duet_testkit::duet_process::log_message(&line);
    assert!(
        message.contains("most OpenAI-compatible servers serve their API under"),
        "{message}"
    );
    assert_eq!(line["level"], "WARN", "{line}");
}
