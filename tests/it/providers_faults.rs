//! Broken answers over real sockets: each becomes its error kind, never a
//! panic or a silent short answer.

use std::collections::HashMap;
use std::time::Duration;

use duet::config::Config;
use duet::providers::{
    Completion, ErrorKind, ProviderClient, ProviderError, ProviderKind, Providers,
};
use duet_testkit::clients::{ask, client, providers};
use duet_testkit::mock_llm::{Fault, MockLlm, Route};

/// Streams one question; returns the result and the concatenated deltas.
async fn stream(
    client: &ProviderClient,
    question: &str,
) -> (Result<Completion, ProviderError>, String) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let result = client.stream(&ask(question), tx).await;
    let mut streamed = String::new();
    while let Some(delta) = rx.recv().await {
        streamed.push_str(&delta);
    }
    (result, streamed)
}

#[tokio::test]
async fn malformed_json_is_a_malformed_error() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::MalformedJson);
    let providers = providers(&mock, &[]);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Malformed);
    assert!(
        error.to_string().contains("body starts: {\"id\": \"x\""),
        "{error}"
    );
    assert_eq!(mock.requests().len(), 1, "a bad body is not retried");
}

#[tokio::test]
async fn malformed_stream_data_is_a_malformed_error() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Agent, Fault::MalformedJson);
    let providers = providers(&mock, &[]);
    let (result, _) = stream(&client(&providers, ProviderKind::Perplexity), "hi").await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Malformed);
}

#[tokio::test]
async fn truncated_streams_of_every_format_are_errors_not_short_answers() {
    for (api, route, kind) in [
        ("agent", Route::OpenAiChat, ProviderKind::OpenAi),
        ("agent", Route::Agent, ProviderKind::Perplexity),
        ("sonar", Route::Sonar, ProviderKind::Perplexity),
    ] {
        let mock = MockLlm::start().await;
        mock.push_fault(route, Fault::TruncatedStream);
        let providers = providers(&mock, &[("PERPLEXITY_API", api)]);
        let (result, streamed) = stream(&client(&providers, kind), "cut me").await;
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Malformed, "{route:?}: {error}");
        assert!(error.to_string().contains("truncated"), "{error}");
        assert!(
            !streamed.is_empty(),
            "{route:?}: the first half was still delivered"
        );
    }
}

#[tokio::test]
async fn a_reset_connection_is_a_connect_error() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::Reset));
    let providers = providers(&mock, &[("OPENAI_MAX_RETRIES", "1")]);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
    assert_eq!(mock.requests().len(), 2, "a reset is retried");
}

#[tokio::test]
async fn one_reset_then_success_is_retried_transparently() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::Reset);
    let providers = providers(&mock, &[]);
    let answer = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("again"))
        .await
        .expect("the retry works");
    assert!(answer.text.contains("again"));
    assert_eq!(mock.connections(), 2, "the reset connection was not reused");
}

#[tokio::test]
async fn a_body_stalling_past_the_read_timeout_times_out() {
    let mock = MockLlm::start().await;
    mock.set_fault(
        Route::OpenAiChat,
        Some(Fault::SlowBody(Duration::from_secs(5))),
    );
    let providers = providers(&mock, &[("OPENAI_READ_TIMEOUT", "100ms")]);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("slow"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(mock.requests().len(), 2, "a timeout is retried once");
}

#[tokio::test]
async fn a_slow_body_within_the_read_timeout_is_fine() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Agent, Fault::SlowBody(Duration::from_millis(50)));
    let providers = providers(&mock, &[]);
    let answer = client(&providers, ProviderKind::Perplexity)
        .complete(&ask("patience"))
        .await
        .expect("answer");
    assert!(answer.text.contains("patience"));
}

#[tokio::test]
async fn the_retired_sonar_endpoint_is_reported_as_such() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Sonar, Fault::SonarRetired);
    let providers = providers(&mock, &[("PERPLEXITY_API", "sonar")]);
    let error = client(&providers, ProviderKind::Perplexity)
        .complete(&ask("old"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::EndpointRetired);
    assert!(
        error.to_string().contains("PERPLEXITY_API=agent"),
        "{error}"
    );
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn a_failed_agent_run_with_http_200_is_an_error() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::Agent, Fault::RunFailed);
    let providers = providers(&mock, &[]);
    let error = client(&providers, ProviderKind::Perplexity)
        .complete(&ask("fail"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::RunFailed { .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Overloaded);
    assert!(error.to_string().contains("mock run failed"), "{error}");
    let stats = client(&providers, ProviderKind::Perplexity).stats();
    assert_eq!(
        stats.last_error.map(|e| e.kind),
        Some(ErrorKind::Overloaded)
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let env: HashMap<String, String> = [
        ("OPENAI_API_URL", format!("http://127.0.0.1:{port}/v1")),
        ("OPENAI_MAX_RETRIES", "0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let providers = Providers::from_config(&Config::from_env(&env).unwrap()).unwrap();
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("anyone?"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect, "{error}");
}
