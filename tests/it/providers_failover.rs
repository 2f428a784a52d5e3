//! `Providers::answer` over real sockets: the routed provider, the fallback
//! when it fails (with a note saying so), every error when both fail, the
//! cannot-browse re-ask, and the progress events a streaming caller sees.

use duet::providers::{
    AnswerError, AnswerPlan, Answered, ErrorKind, FailoverNote, Progress, ProviderKind, Providers,
};
use duet_testkit::clients::{ask, providers};
use duet_testkit::mock_llm::{Fault, MockLlm, Route, openai_text, search_query};

const OPENAI: ProviderKind = ProviderKind::OpenAi;
const PERPLEXITY: ProviderKind = ProviderKind::Perplexity;

/// No retries, so a scripted failure fails the provider at once.
pub(crate) const NO_RETRIES: &[(&str, &str)] =
    &[("OPENAI_MAX_RETRIES", "0"), ("PERPLEXITY_MAX_RETRIES", "0")];

/// The mock's OpenAI echoes the question, so this answer reads as a disclaimer.
const DISCLAIMER: &str = "I can't browse the internet, so what is the news today?";

/// Asks with streaming; returns the result and every progress event in order.
async fn streamed(
    providers: &Providers,
    plan: AnswerPlan,
    question: &str,
) -> (Result<Answered, AnswerError>, Vec<Progress>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let result = providers.answer(plan, &ask(question), Some(tx)).await;
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        events.push(event);
    }
    (result, events)
}

/// The text a publisher shows at the end: deltas since the last restart.
fn shown(events: &[Progress]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Progress::Delta(delta) => text.push_str(delta),
            Progress::Restart { .. } => text.clear(),
            Progress::Searching { .. } => {}
        }
    }
    text
}

fn restarts(events: &[Progress]) -> Vec<ProviderKind> {
    events
        .iter()
        .filter_map(|event| match event {
            Progress::Restart { provider } => Some(*provider),
            Progress::Delta(_) | Progress::Searching { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn the_routed_provider_answers_without_a_note() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let answered = providers
        .answer(AnswerPlan::routed(OPENAI, true), &ask("hello"), None)
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, OPENAI);
    assert_eq!(answered.completion.text, openai_text("hello"));
    assert_eq!(answered.note, None);
    assert!(mock.requests_on(Route::Agent).is_empty());
}

#[tokio::test]
async fn a_failing_perplexity_falls_back_to_openai_and_says_why() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    let providers = providers(&mock, NO_RETRIES);
    let answered = providers
        .answer(
            AnswerPlan::routed(PERPLEXITY, true),
            &ask("rust news"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, OPENAI);
    assert_eq!(answered.completion.text, openai_text("rust news"));
    assert_eq!(
        answered.note,
        Some(FailoverNote::FellBack {
            from: PERPLEXITY,
            to: OPENAI,
            reason: ErrorKind::Overloaded,
        })
    );
}

#[tokio::test]
async fn a_failing_openai_falls_back_to_perplexity() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::InsufficientQuota));
    let providers = providers(&mock, NO_RETRIES);
    let answered = providers
        .answer(AnswerPlan::routed(OPENAI, true), &ask("hi"), None)
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, PERPLEXITY);
    assert!(!answered.completion.sources.is_empty());
    assert_eq!(
        answered.note,
        Some(FailoverNote::FellBack {
            from: OPENAI,
            to: PERPLEXITY,
            reason: ErrorKind::QuotaExhausted,
        })
    );
}

#[tokio::test]
async fn when_both_fail_every_error_comes_back_in_the_order_asked() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::MalformedJson));
    mock.set_fault(Route::OpenAiChat, Some(Fault::Status(500)));
    let providers = providers(&mock, NO_RETRIES);
    let error = providers
        .answer(AnswerPlan::routed(PERPLEXITY, true), &ask("q"), None)
        .await
        .unwrap_err();
    let AnswerError::BothFailed { first, second } = &error else {
        panic!("both providers failed: {error:?}");
    };
    assert_eq!(
        (first.provider(), first.kind()),
        (PERPLEXITY, ErrorKind::Malformed)
    );
    assert_eq!(
        (second.provider(), second.kind()),
        (OPENAI, ErrorKind::Overloaded)
    );
    assert_eq!(error.errors().len(), 2);
}

#[tokio::test]
async fn an_only_plan_never_asks_the_other_provider() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    let providers = providers(&mock, NO_RETRIES);
    let error = providers
        .answer(AnswerPlan::only(PERPLEXITY), &ask("q"), None)
        .await
        .unwrap_err();
    assert!(matches!(&error, AnswerError::Failed(e) if e.provider() == PERPLEXITY));
    assert!(mock.requests_on(Route::OpenAiChat).is_empty());
}

#[tokio::test]
async fn a_route_to_an_unconfigured_provider_goes_to_the_configured_one() {
    let mock = MockLlm::start().await;
    let mut env = mock.config_env();
    env.remove("PERPLEXITY_API_KEY");
    env.insert(
        "PERPLEXITY_API_URL".into(),
        "https://api.perplexity.example".into(),
    );
    let providers = duet_testkit::clients::providers_from(env);
    let answered = providers
        .answer(AnswerPlan::routed(PERPLEXITY, true), &ask("q"), None)
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, OPENAI);
    let error = providers
        .answer(AnswerPlan::only(PERPLEXITY), &ask("q"), None)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        AnswerError::NotConfigured {
            provider: PERPLEXITY
        }
    ));
}

#[tokio::test]
async fn an_openai_answer_that_cannot_browse_is_re_asked_of_perplexity_once() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let answered = providers
        .answer(AnswerPlan::routed(OPENAI, true), &ask(DISCLAIMER), None)
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, PERPLEXITY);
    assert_eq!(
        answered.note,
        Some(FailoverNote::Rerouted {
            from: OPENAI,
            to: PERPLEXITY
        })
    );
    assert_eq!(mock.requests_on(Route::OpenAiChat).len(), 1);
    assert_eq!(mock.requests_on(Route::Agent).len(), 1);
}

#[tokio::test]
async fn with_the_re_ask_switched_off_the_disclaimer_stands() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let answered = providers
        .answer(AnswerPlan::routed(OPENAI, false), &ask(DISCLAIMER), None)
        .await
        .unwrap();
    assert_eq!(answered.completion.provider, OPENAI);
    assert_eq!(answered.note, None);
    assert!(mock.requests_on(Route::Agent).is_empty());
}

#[tokio::test]
async fn a_failing_re_ask_keeps_openais_answer_on_screen_and_in_the_result() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::TruncatedStream));
    let providers = providers(&mock, NO_RETRIES);
    let (result, events) = streamed(&providers, AnswerPlan::routed(OPENAI, true), DISCLAIMER).await;
    let answered = result.unwrap();
    assert_eq!(answered.completion.text, openai_text(DISCLAIMER));
    assert_eq!(
        answered.note,
        Some(FailoverNote::RerouteFailed {
            from: OPENAI,
            to: PERPLEXITY,
            reason: ErrorKind::Malformed,
        })
    );
    assert_eq!(restarts(&events), [PERPLEXITY, OPENAI]);
    assert_eq!(shown(&events), answered.completion.text);
}

#[tokio::test]
async fn a_stream_cut_midway_restarts_with_the_fallback_providers_text() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::TruncatedStream));
    let providers = providers(&mock, NO_RETRIES);
    let (result, events) = streamed(
        &providers,
        AnswerPlan::routed(PERPLEXITY, true),
        "rust news",
    )
    .await;
    let answered = result.unwrap();
    assert_eq!(answered.completion.provider, OPENAI);
    let restart = events
        .iter()
        .position(|e| *e == Progress::Restart { provider: OPENAI })
        .expect("a restart for the fallback");
    assert!(
        events[..restart]
            .iter()
            .any(|e| matches!(e, Progress::Delta(d) if !d.is_empty())),
        "perplexity's partial text came first: {events:?}"
    );
    assert_eq!(shown(&events), openai_text("rust news"));
    assert_eq!(restarts(&events), [OPENAI]);
}

#[tokio::test]
async fn a_plain_streamed_answer_has_no_restart() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let (result, events) = streamed(&providers, AnswerPlan::routed(PERPLEXITY, true), "rust").await;
    let answered = result.unwrap();
    assert!(restarts(&events).is_empty());
    assert_eq!(shown(&events), answered.completion.text);
}

#[tokio::test]
async fn the_agent_api_searches_are_reported_before_its_text() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let (result, events) = streamed(&providers, AnswerPlan::only(PERPLEXITY), "rust news").await;
    let answered = result.expect("answered");
    assert_eq!(
        events.first(),
        Some(&Progress::Searching {
            queries: vec![search_query("rust news")]
        }),
        "{events:?}"
    );
    assert_eq!(shown(&events), answered.completion.text);
}
