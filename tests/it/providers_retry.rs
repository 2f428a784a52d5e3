//! Retries over real sockets: 429 pauses the whole provider (each
//! Retry-After form), quota errors fail at once, 5xx backs off, the
//! deadline caps the total, and timeouts are retried at most once.
//! Timing is asserted on the mock's arrival instants, not on the client.

use std::time::Duration;

use duet::providers::{ErrorKind, ProviderClient, ProviderKind};
use duet_testkit::clients::{ask, client, providers};
use duet_testkit::mock_llm::{Fault, MockLlm, Recorded, RetryAfter, Route};

/// Waits (without sleeping) until the client reports a 429 pause.
async fn until_paused(client: &ProviderClient) {
    let wait = async {
        while client.stats().paused_for_secs.is_none() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("the provider never paused");
}

/// Runs three concurrent OpenAI questions whose first answer is a 429 with
/// `retry_after`; returns the mock's record of the OpenAI route.
async fn burst_after_429(
    retry_after: RetryAfter,
) -> (Vec<Recorded>, Vec<Result<String, ErrorKind>>) {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::RateLimited(retry_after));
    // One slot, so the other two queue behind the request that gets the 429.
    let providers = providers(&mock, &[("OPENAI_MAX_CONNECTIONS", "1")]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let openai = openai.clone();
            tokio::spawn(async move {
                let answer = openai.complete(&ask(&format!("q{i}"))).await;
                answer.map(|c| c.text).map_err(|e| e.kind())
            })
        })
        .collect();
    let mut results = Vec::new();
    for call in calls {
        results.push(call.await.unwrap());
    }
    (mock.requests_on(Route::OpenAiChat), results)
}

fn assert_nothing_sent_before_the_reset(requests: &[Recorded], wait: Duration) {
    assert_eq!(requests.len(), 4, "one 429, then the three questions");
    assert_eq!(requests[0].status, Some(429));
    let reset = requests[0].answered.unwrap() + wait;
    for later in &requests[1..] {
        assert!(
            later.arrived >= reset,
            "a request went out before the reset"
        );
        assert_eq!(later.status, Some(200));
    }
}

#[tokio::test]
async fn retry_after_seconds_delays_that_request_and_the_queued_ones() {
    let (requests, results) = burst_after_429(RetryAfter::Secs(2)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_nothing_sent_before_the_reset(&requests, Duration::from_secs(2));
}

#[tokio::test]
async fn retry_after_ms_is_honoured_too() {
    let (requests, results) = burst_after_429(RetryAfter::Millis(300)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_nothing_sent_before_the_reset(&requests, Duration::from_millis(300));
}

#[tokio::test]
async fn openai_reset_headers_in_go_duration_form_are_honoured() {
    let (requests, results) = burst_after_429(RetryAfter::ResetRequests("0m0.3s".into())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_nothing_sent_before_the_reset(&requests, Duration::from_millis(300));
}

#[tokio::test]
async fn a_429_on_one_provider_does_not_slow_the_other() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::RateLimited(RetryAfter::Secs(2)));
    let providers = providers(&mock, &[]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let perplexity = client(&providers, ProviderKind::Perplexity);
    let paused = tokio::spawn({
        let openai = openai.clone();
        async move { openai.complete(&ask("slow down")).await }
    });
    until_paused(&openai).await;
    let web = perplexity
        .complete(&ask("news"))
        .await
        .expect("perplexity answers");
    assert!(web.text.contains("news"));
    // Perplexity answered while OpenAI was still paused.
    assert!(openai.stats().paused_for_secs.is_some());
    assert_eq!(perplexity.stats().paused_for_secs, None);
    paused
        .await
        .unwrap()
        .expect("openai answers after the pause");
    assert_eq!(openai.stats().rate_limited_recent, 1);
}

#[tokio::test]
async fn a_random_share_of_429s_is_absorbed_by_pauses_and_retries() {
    let mock = MockLlm::start().await;
    mock.set_429_share(0.3, RetryAfter::Millis(20));
    let providers = providers(&mock, &[("OPENAI_MAX_RETRIES", "10")]);
    let openai = client(&providers, ProviderKind::OpenAi);
    for i in 0..30 {
        let question = format!("q{i}");
        let answer = openai
            .complete(&ask(&question))
            .await
            .expect("retries absorb 429s");
        assert!(answer.text.ends_with(&question));
    }
    let limited = mock
        .requests()
        .iter()
        .filter(|r| r.status == Some(429))
        .count() as u64;
    assert_eq!(mock.requests().len() as u64, 30 + limited);
    assert_eq!(openai.stats().retries, limited);
    assert_eq!(openai.stats().rate_limited_recent, limited);
}

#[tokio::test]
async fn insufficient_quota_fails_at_once_without_retry() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::InsufficientQuota);
    let providers = providers(&mock, &[]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let error = openai.complete(&ask("hi")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::QuotaExhausted);
    assert!(
        error.to_string().contains("exceeded your current quota"),
        "{error}"
    );
    assert_eq!(mock.requests().len(), 1);
    assert_eq!(openai.stats().retries, 0);
    assert_eq!(
        openai.stats().paused_for_secs,
        None,
        "quota errors do not pause"
    );
}

#[tokio::test]
async fn a_pause_longer_than_the_deadline_fails_fast_as_rate_limited() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::RateLimited(RetryAfter::Secs(60)));
    let providers = providers(&mock, &[("OPENAI_REQUEST_TIMEOUT", "1")]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let first = openai.complete(&ask("hi")).await.unwrap_err();
    assert_eq!(first.kind(), ErrorKind::RateLimited);
    assert!(first.retry_after().unwrap() > Duration::from_secs(50));
    // The next call does not even reach the server while the pause lasts.
    let second = openai.complete(&ask("again")).await.unwrap_err();
    assert_eq!(second.kind(), ErrorKind::RateLimited);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::Status(503));
    mock.push_fault(Route::OpenAiChat, Fault::Status(500));
    let providers = providers(&mock, &[]);
    let openai = client(&providers, ProviderKind::OpenAi);
    let answer = openai
        .complete(&ask("persist"))
        .await
        .expect("third try works");
    assert!(answer.text.contains("persist"));
    let statuses: Vec<_> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(503), Some(500), Some(200)]);
    assert_eq!(openai.stats().retries, 2);
}

#[tokio::test]
async fn max_retries_zero_disables_retries() {
    let mock = MockLlm::start().await;
    mock.push_fault(Route::OpenAiChat, Fault::Status(503));
    let providers = providers(&mock, &[("OPENAI_MAX_RETRIES", "0")]);
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("once"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Overloaded);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn the_request_deadline_caps_retries() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::Status(502)));
    let providers = providers(
        &mock,
        &[
            ("OPENAI_MAX_RETRIES", "10"),
            ("OPENAI_REQUEST_TIMEOUT", "300ms"),
        ],
    );
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("doomed"))
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::Overloaded | ErrorKind::Timeout),
        "{error}"
    );
    let attempts = mock.requests().len();
    assert!((1..11).contains(&attempts), "{attempts} attempts");
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for (status, kind) in [
        (400, ErrorKind::BadRequest),
        (401, ErrorKind::Unauthorized),
        (403, ErrorKind::Unauthorized),
        (404, ErrorKind::Misconfigured),
    ] {
        let mock = MockLlm::start().await;
        mock.push_fault(Route::OpenAiChat, Fault::Status(status));
        let providers = providers(&mock, &[]);
        let error = client(&providers, ProviderKind::OpenAi)
            .complete(&ask("no"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), kind, "HTTP {status}");
        assert!(
            error
                .to_string()
                .contains(&format!("mock failure {status}")),
            "{error}"
        );
        assert_eq!(mock.requests().len(), 1, "HTTP {status} was retried");
    }
}

#[tokio::test]
async fn a_timed_out_request_is_retried_only_once() {
    let mock = MockLlm::start().await;
    mock.set_fault(
        Route::OpenAiChat,
        Some(Fault::Latency(Duration::from_secs(5))),
    );
    let providers = providers(
        &mock,
        &[
            ("OPENAI_READ_TIMEOUT", "100ms"),
            ("OPENAI_MAX_RETRIES", "3"),
        ],
    );
    let error = client(&providers, ProviderKind::OpenAi)
        .complete(&ask("slow"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.to_string().contains("READ_TIMEOUT"), "{error}");
    assert_eq!(mock.requests().len(), 2);
}
