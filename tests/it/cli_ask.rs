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
    let stderr = text(&output.stderr);
    assert!(stderr.contains("perplexity is not configured"), "{stderr}");
    assert!(
        stderr.contains("PERPLEXITY_API_KEY") && stderr.contains("PERPLEXITY_API_URL"),
        "names the keys to set: {stderr}"
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn without_provider_a_failing_perplexity_falls_back_to_openai_with_the_discord_note() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    let mut env = mock.config_env();
    env.insert("PERPLEXITY_MAX_RETRIES".into(), "0".into());
    let output = duet_ask(&env, &["search: rust release notes"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!("{}\n", openai_text("rust release notes"))
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("duet: perplexity failed (overloaded); openai answered instead"),
        "{stderr}"
    );
    let note = duet::chat::messages::WEB_SEARCH_UNAVAILABLE_NOTE.trim_start_matches("-# ");
    assert!(stderr.contains(&format!("duet: {note}\n")), "{stderr}");
    assert_eq!(mock.requests_on(Route::Agent).len(), 1);
}

#[tokio::test]
async fn without_provider_a_failing_openai_falls_back_to_perplexity_with_sources() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::InsufficientQuota));
    let output = duet_ask(&mock.config_env(), &["--no-stream", "chat: tell me a joke"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("About tell me a joke: alpha says yes [1], beta agrees [2]."),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("\n[1] Alpha <{ALPHA_URL}>\n")),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("duet: openai failed (quota_exhausted); perplexity answered instead"),
        "{stderr}"
    );
    assert!(!stderr.contains("Web search is unavailable"), "{stderr}");
}

#[tokio::test]
async fn with_provider_a_failure_is_not_covered_by_the_other_provider() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    let mut env = mock.config_env();
    env.insert("PERPLEXITY_MAX_RETRIES".into(), "0".into());
    let output = duet_ask(&env, &["--provider", "perplexity", "rust news"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("duet: perplexity is overloaded or failing"),
        "{}",
        text(&output.stderr)
    );
    assert!(mock.requests_on(Route::OpenAiChat).is_empty());
}

#[tokio::test]
async fn without_provider_both_failing_explains_each_and_exits_one() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::InsufficientQuota));
    mock.set_fault(Route::OpenAiChat, Some(Fault::UnauthorizedEchoingKey));
    let output = duet_ask(&mock.config_env(), &["search: anything"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("duet: perplexity says the account's quota or credit is used up\n")
            && stderr.contains("duet: openai rejected the API key; check OPENAI_API_KEY\n"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_stream_cut_midway_ends_the_line_and_says_the_other_provider_starts_over() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::TruncatedStream));
    let output = duet_ask(&mock.config_env(), &["search: rust news"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let (cut, answer) = stdout.split_once('\n').expect("two lines");
    assert!(cut.starts_with("About rust news"), "{stdout}");
    assert_eq!(answer, format!("{}\n", openai_text("rust news")));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("duet: the text above is dropped; openai answers from the start"),
        "{stderr}"
    );
}

#[tokio::test]
async fn ask_logs_warnings_only_unless_verbose() {
    let mock = MockLlm::start().await;
    let run = |args: &'static [&'static str]| {
        let env = mock.config_env();
        async move {
            let dir = tempfile::tempdir().unwrap();
            tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
                .args(args)
                .current_dir(dir.path())
                .env_clear()
                .envs(&env)
                .output()
                .await
                .expect("duet runs")
        }
    };
    let quiet = run(&["ask", "explain borrow checking"]).await;
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert!(
        !text(&quiet.stderr).contains("routed"),
        "{}",
        text(&quiet.stderr)
    );
    let verbose = run(&["ask", "-v", "explain borrow checking"]).await;
    assert!(verbose.status.success(), "{}", text(&verbose.stderr));
    assert!(
        text(&verbose.stderr).contains("routed"),
        "{}",
        text(&verbose.stderr)
    );
}
