//! The pooled clients over real sockets: connection reuse, the in-flight
//! cap, pool exhaustion, and HTTP/2 multiplexing over TLS after warm-up.

use std::time::Duration;

use duet::providers::{
    ChatMessage, CompletionRequest, ErrorKind, ProviderClient, ProviderKind, Providers, Role,
};
use duet_testkit::clients::providers;
use duet_testkit::mock_llm::{MockLlm, Route, openai_text};
use futures::future::join_all;

fn ask(question: &str) -> CompletionRequest {
    CompletionRequest {
        messages: vec![
            ChatMessage::new(Role::System, "be brief"),
            ChatMessage::new(Role::User, question),
        ],
        user_hash: None,
        web_tool: false,
        chat_model: None,
    }
}

fn openai(providers: &Providers) -> ProviderClient {
    providers
        .get(ProviderKind::OpenAi)
        .expect("openai configured")
        .clone()
}

#[tokio::test]
async fn two_hundred_sequential_requests_reuse_one_connection() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[("OPENAI_MAX_KEEPALIVE", "2")]);
    let client = openai(&providers);
    for i in 0..200 {
        let question = format!("question {i}");
        let answer = client.complete(&ask(&question)).await.expect("answer");
        assert_eq!(answer.text, openai_text(&question));
    }
    let stats = client.stats();
    assert_eq!(stats.requests, 200);
    assert!(stats.connections_created <= 2, "{stats:?}");
    assert_eq!(stats.connections_created, mock.connections());
    assert!(stats.reuse_ratio >= 0.99, "{stats:?}");
    assert_eq!(stats.http_version.as_deref(), Some("HTTP/1.1"));
}

#[tokio::test]
async fn a_hundred_concurrent_requests_never_exceed_max_connections() {
    let mock = MockLlm::start().await;
    mock.set_fault(
        Route::OpenAiChat,
        Some(duet_testkit::mock_llm::Fault::Latency(
            Duration::from_millis(5),
        )),
    );
    let providers = providers(
        &mock,
        &[("OPENAI_MAX_CONNECTIONS", "5"), ("OPENAI_RPM", "100000")],
    );
    let client = openai(&providers);
    let calls = (0..100).map(|i| {
        let client = client.clone();
        async move { client.complete(&ask(&format!("q{i}"))).await }
    });
    let results = join_all(calls).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert!(mock.peak_in_flight() <= 5, "peak {}", mock.peak_in_flight());
    assert!(mock.peak_in_flight() >= 2, "requests did overlap");
    assert!(mock.connections() <= 5);
    let stats = client.stats();
    assert_eq!((stats.in_use, stats.available, stats.waiting), (0, 5, 0));
}

#[tokio::test]
async fn requests_beyond_the_pool_fail_fast_as_pool_exhausted() {
    let mock = MockLlm::start().await;
    mock.hold();
    let providers = providers(
        &mock,
        &[
            ("OPENAI_MAX_CONNECTIONS", "5"),
            ("OPENAI_POOL_TIMEOUT", "20ms"),
            ("OPENAI_RPM", "100000"),
        ],
    );
    let client = openai(&providers);
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..100 {
        let (client, done_tx) = (client.clone(), done_tx.clone());
        tokio::spawn(async move {
            let _ = done_tx.send(client.complete(&ask(&format!("q{i}"))).await);
        });
    }
    // Five requests hold the five slots at the held server; the other 95
    // give up after POOL_TIMEOUT. A bound turns a hang into a failure.
    let bound = Duration::from_secs(10);
    for _ in 0..95 {
        let result = tokio::time::timeout(bound, done.recv())
            .await
            .expect("no hang")
            .unwrap();
        let error = result.expect_err("no free slot");
        assert_eq!(error.kind(), ErrorKind::PoolExhausted);
        assert!(
            error.to_string().contains("all 5 connection slots"),
            "{error}"
        );
    }
    mock.wait_for_requests(5).await;
    assert_eq!(client.stats().in_use, 5);
    assert_eq!(client.stats().pool_exhausted, 95);
    mock.release();
    for _ in 0..5 {
        let result = tokio::time::timeout(bound, done.recv())
            .await
            .expect("no hang")
            .unwrap();
        result.expect("a held request completes after release");
    }
    assert_eq!(mock.requests().len(), 5);
}

#[tokio::test]
async fn after_warm_up_a_tls_burst_shares_one_http2_connection() {
    let mock = MockLlm::start_tls().await;
    let providers = providers(
        &mock,
        &[
            ("OPENAI_WARMUP", "true"),
            ("OPENAI_MAX_CONNECTIONS", "100"),
            ("OPENAI_RPM", "100000"),
        ],
    );
    providers.warm_up().await;
    let client = openai(&providers);
    assert_eq!(mock.requests_on(Route::Models).len(), 1);
    let calls = (0..100).map(|i| {
        let client = client.clone();
        async move { client.complete(&ask(&format!("q{i}"))).await }
    });
    for result in join_all(calls).await {
        result.expect("answer over HTTP/2");
    }
    assert_eq!(mock.connections(), 1);
    assert_eq!(client.stats().connections_created, 1);
    assert_eq!(client.stats().http_version.as_deref(), Some("HTTP/2"));
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.version == http::Version::HTTP_2)
    );
}

#[tokio::test]
async fn with_http2_never_tls_requests_use_http1() {
    let mock = MockLlm::start_tls().await;
    let providers = providers(
        &mock,
        &[("OPENAI_HTTP2", "never"), ("OPENAI_WARMUP", "true")],
    );
    providers.warm_up().await;
    let client = openai(&providers);
    let calls = (0..10).map(|i| {
        let client = client.clone();
        async move { client.complete(&ask(&format!("q{i}"))).await }
    });
    for result in join_all(calls).await {
        result.expect("answer over HTTP/1.1");
    }
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.version == http::Version::HTTP_11)
    );
    assert_eq!(client.stats().http_version.as_deref(), Some("HTTP/1.1"));
    assert_eq!(client.stats().connections_created, mock.connections());
}

#[tokio::test]
async fn http2_always_speaks_h2c_to_a_plain_server() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[("OPENAI_HTTP2", "always")]);
    let client = openai(&providers);
    let calls = (0..20).map(|i| {
        let client = client.clone();
        async move { client.complete(&ask(&format!("q{i}"))).await }
    });
    for result in join_all(calls).await {
        result.expect("answer over h2c");
    }
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.version == http::Version::HTTP_2)
    );
    assert_eq!(
        mock.connections(),
        1,
        "prior knowledge coalesces onto one connection"
    );
}

#[tokio::test]
async fn stats_serialise_in_the_shape_the_health_endpoint_prints() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, &[]);
    let client = openai(&providers);
    client.complete(&ask("hi")).await.unwrap();
    let json = serde_json::to_value(client.stats()).unwrap();
    for key in [
        "total",
        "in_use",
        "available",
        "waiting",
        "connections_created",
        "requests",
        "reuse_ratio",
        "http_version",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["requests"], 1);
}
