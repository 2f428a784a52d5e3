//! The API key never shows: not in any error's Display or Debug, not in any
//! log line, even at TRACE level (hyper, h2 and rustls included) and even
//! when the provider echoes the key back in its error message.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use duet::config::Config;
use duet::providers::{
    ChatMessage, CompletionRequest, ProviderError, ProviderKind, Providers, Role,
};
use duet_testkit::mock_llm::{Fault, MockLlm, RetryAfter, Route};

const OPENAI_KEY: &str = "sk-CANARY-openai-7f3a9c";
const PERPLEXITY_KEY: &str = "pplx-CANARY-perplexity-2b8e";

/// Every log line of this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        logs
    })
}

fn providers(mock: &MockLlm, extra: &[(&str, &str)]) -> Providers {
    let mut env: HashMap<String, String> = mock.config_env();
    env.insert("OPENAI_API_KEY".into(), OPENAI_KEY.into());
    env.insert("PERPLEXITY_API_KEY".into(), PERPLEXITY_KEY.into());
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Providers::from_config(&Config::from_env(&env).expect("valid config")).expect("clients")
}

fn ask() -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::new(Role::User, "hello")],
        user_hash: None,
        web_tool: false,
        chat_model: None,
    }
}

fn assert_clean(text: &str, what: &str) {
    for key in [OPENAI_KEY, PERPLEXITY_KEY, "CANARY"] {
        assert!(!text.contains(key), "{what} leaks {key}: {text}");
    }
}

fn assert_error_clean(error: &ProviderError) {
    assert_clean(&error.to_string(), "Display");
    assert_clean(&format!("{error:?}"), "Debug");
}

#[tokio::test]
async fn no_error_and_no_log_line_contains_the_key() {
    let logs = captured_logs();
    let mock = MockLlm::start_tls().await;
    let providers = providers(
        &mock,
        &[
            ("OPENAI_WARMUP", "true"),
            ("PERPLEXITY_WARMUP", "true"),
            ("OPENAI_MAX_RETRIES", "1"),
        ],
    );
    assert_clean(&format!("{providers:?}"), "Providers Debug");
    providers.warm_up().await;
    let openai = providers.get(ProviderKind::OpenAi).unwrap();
    let perplexity = providers.get(ProviderKind::Perplexity).unwrap();

    // The provider echoes the key in its 401 message: the error must not.
    mock.push_fault(Route::OpenAiChat, Fault::UnauthorizedEchoingKey);
    let unauthorized = openai.complete(&ask()).await.unwrap_err();
    assert_error_clean(&unauthorized);
    assert!(
        unauthorized
            .to_string()
            .contains("Incorrect API key provided: [redacted]"),
        "{unauthorized}"
    );

    mock.push_fault(Route::Agent, Fault::UnauthorizedEchoingKey);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    assert_error_clean(&perplexity.stream(&ask(), tx).await.unwrap_err());

    for fault in [
        Fault::RateLimited(RetryAfter::Millis(10)),
        Fault::InsufficientQuota,
        Fault::Status(500),
        Fault::MalformedJson,
        Fault::Reset,
    ] {
        mock.set_fault(Route::OpenAiChat, Some(fault));
        let error = openai.complete(&ask()).await.unwrap_err();
        assert_error_clean(&error);
    }
    mock.set_fault(Route::OpenAiChat, None);
    openai
        .complete(&ask())
        .await
        .expect("a normal answer after the faults");

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        text.contains("provider answered with an error"),
        "the log was captured"
    );
    assert!(
        text.contains("[redacted]"),
        "the echoed key was logged redacted"
    );
    assert_clean(&text, "the log");
}
