//! `duet ask` as a process, configured by environment variables, against the
//! mock LLM server.

use std::collections::HashMap;
use std::process::Output;

use duet_testkit::mock_llm::{ALPHA_URL, BETA_URL, Fault, MockLlm, Route, openai_text};

/// Runs `duet ask <args>` in an empty directory with exactly `env`.
async fn duet_ask(env: &HashMap<String, String>, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("ask")
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env)
        .env("LOG_LEVEL", "warn")
        .output()
        .await
        .expect("duet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn ask_prints_the_openai_answer_and_exits_zero() {
    let mock = MockLlm::start().await;
    let output = duet_ask(
        &mock.config_env(),
        &["--provider", "openai", "hello", "there"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!("{}\n", openai_text("hello there"))
    );
    let sent = &mock.requests_on(Route::OpenAiChat)[0];
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["messages"][0]["role"], "system");
}

#[tokio::test]
async fn ask_prints_perplexity_sources_numbered_like_the_markers() {
    let mock = MockLlm::start().await;
    let output = duet_ask(
        &mock.config_env(),
        &["--provider", "perplexity", "--no-stream", "rust news"],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("About rust news: alpha says yes [1], beta agrees [2]."),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\n[1] Alpha <{ALPHA_URL}>\n[2] Beta <{BETA_URL}>\n"
        )),
        "{stdout}"
    );
}

#[tokio::test]
async fn without_provider_ask_uses_perplexity_when_openai_is_not_configured() {
    let mock = MockLlm::start().await;
    let mut env = mock.config_env();
    env.remove("OPENAI_API_KEY");
    // A public-looking URL needs a key, so OpenAI is not usable.
    env.insert(
        "OPENAI_API_URL".into(),
        "https://api.openai.example/v1".into(),
    );
    let output = duet_ask(&env, &["who?"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(mock.requests_on(Route::Agent).len(), 1);
}

#[tokio::test]
async fn a_provider_failure_exits_non_zero_with_a_short_message() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::InsufficientQuota);
    let output = duet_ask(&mock.config_env(), &["--provider", "openai", "hi"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("duet: openai says the account's quota or credit is used up"),
        "{stderr}"
    );
}

#[tokio::test]
async fn asking_an_unconfigured_provider_is_a_setup_error() {
    let mock = MockLlm::start().await;
    let mut env = mock.config_env();
    env.remove("PERPLEXITY_API_KEY");
    env.insert(
        "PERPLEXITY_API_URL".into(),
        "https://api.perplexity.example".into(),
    );
    let output = duet_ask(&env, &["--provider", "perplexity", "hi"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("perplexity is not configured"));
    assert!(mock.requests().is_empty());
}
