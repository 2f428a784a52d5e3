//! Web answers without Perplexity: with `[Routing] WEB_PROVIDER=openai`, web
//! questions go to OpenAI's Responses API with the `web_search` tool, and
//! its `url_citation` annotations come back as numbered sources whose `[n]`
//! markers match, through the pipeline (App::build) and through `duet ask`.

use std::collections::HashMap;
use std::sync::Arc;

use duet::app::{App, Role};
use duet::chat::{Conversations, Incoming, Outcome};
use duet::config::Config;
use duet::providers::Source;
use duet_testkit::mock_llm::{ALPHA_URL, BETA_URL, MockLlm, Route};

/// The mock's web answer to `question` as duet shows it: markers where the
/// annotations end, numbered in order of first citation.
fn cited(question: &str) -> String {
    format!("About {question}: alpha says yes.[1] Beta agrees.[2]")
}

/// The mock's environment with web questions sent to OpenAI's web_search
/// and no Perplexity key at all.
fn env(mock: &MockLlm, dir: &tempfile::TempDir) -> HashMap<String, String> {
    let mut env = mock.config_env();
    env.remove("PERPLEXITY_API_KEY");
    env.insert(
        "PERPLEXITY_API_URL".into(),
        "https://api.perplexity.ai".into(),
    );
    env.insert("WEB_PROVIDER".into(), "openai".into());
    env.insert(
        "DATABASE_PATH".into(),
        dir.path().join("duet.db").display().to_string(),
    );
    env
}

fn assert_web_search_request(mock: &MockLlm) {
    assert!(mock.requests_on(Route::Agent).is_empty());
    let sent = &mock.requests_on(Route::Responses)[0];
    assert_eq!(sent.status, Some(200), "{}", sent.body);
    assert_eq!(sent.body["tools"][0]["type"], "web_search");
    assert_eq!(sent.body["store"], false);
}

#[tokio::test]
async fn a_web_question_answered_by_openai_web_search_has_numbered_sources() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(Config::from_env(&env(&mock, &dir)).expect("valid config"));
    let app = App::build(config, Role::Terminal).await.expect("starts");
    let incoming = Incoming {
        user_id: "ann".into(),
        user_name: "ann".into(),
        channel_id: "general".into(),
        guild_id: None,
        settings: None,
        text: "what's the weather in Paris today?".into(),
        forced: None,
        privileged: false,
        attachments: Default::default(),
    };
    let Outcome::Answer(reply) = app.service.handle(incoming, None).await else {
        panic!("expected an answer");
    };
    assert_eq!(reply.text, cited("what's the weather in Paris today?"));
    assert_eq!(
        reply.sources,
        vec![
            Source {
                title: "Alpha".into(),
                url: ALPHA_URL.into()
            },
            Source {
                title: "Beta".into(),
                url: BETA_URL.into()
            },
        ]
    );
    assert_web_search_request(&mock);
    // A conversation question still goes to plain OpenAI, without the tool.
    let chat = Incoming {
        user_id: "ann".into(),
        user_name: "ann".into(),
        channel_id: "general".into(),
        guild_id: None,
        settings: None,
        text: "thanks, how are you?".into(),
        forced: None,
        privileged: false,
        attachments: Default::default(),
    };
    let Outcome::Answer(_) = app.service.handle(chat, None).await else {
        panic!("expected an answer");
    };
    assert_eq!(mock.requests_on(Route::OpenAiChat).len(), 1);
    assert_eq!(
        app.service.providers().web_label(),
        Some("openai_web_search")
    );
}

#[tokio::test]
async fn duet_ask_streams_an_openai_web_answer_with_its_sources_list() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
        .args(["ask", "--provider", "perplexity", "rust news"])
        .current_dir(dir.path())
        .env_clear()
        .envs(env(&mock, &dir))
        .env("LOG_LEVEL", "warn")
        .output()
        .await
        .expect("duet runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.starts_with(&cited("rust news")), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\n[1] Alpha <{ALPHA_URL}>\n[2] Beta <{BETA_URL}>\n"
        )),
        "{stdout}"
    );
    assert_web_search_request(&mock);
    assert_eq!(mock.requests_on(Route::Responses)[0].body["stream"], true);
}

#[tokio::test]
async fn duet_route_names_openai_web_search_as_the_web_provider() {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_duet"))
        .args(["route", "what's the weather in Paris today?"])
        .current_dir(dir.path())
        .env_clear()
        .envs(env(&mock, &dir))
        .output()
        .await
        .expect("duet runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("perplexity  reasons: "), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("(web provider: openai_web_search)"),
        "{stdout}"
    );
}
