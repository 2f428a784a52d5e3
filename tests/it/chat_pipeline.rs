//! The conversation pipeline against the mock LLM server over real sockets:
//! routing, fallbacks, limits, queues and memory.

use std::sync::Arc;
use std::time::Duration;

use duet::app::{App, Role};
use duet::chat::{ChatService, ConversationKey, Conversations, Incoming, Outcome, messages};
use duet::config::{Config, MemoryScope};
use duet::providers::ProviderKind;
use duet_testkit::mock_llm::{ALPHA_URL, Fault, MockLlm, Route};

/// The real application (`App::build`) on the mock, memory in a temporary
/// directory, no retries; shared with the routing tool's tests.
pub(crate) struct Bot {
    pub(crate) service: ChatService,
    pub(crate) app: App,
    _dir: tempfile::TempDir,
}

pub(crate) async fn bot(mock: &MockLlm, extra: &[(&str, &str)]) -> Bot {
    let dir = tempfile::tempdir().unwrap();
    let mut env = mock.config_env();
    env.insert(
        "DATABASE_PATH".into(),
        dir.path().join("duet.db").display().to_string(),
    );
    env.insert("OPENAI_MAX_RETRIES".into(), "0".into());
    env.insert("PERPLEXITY_MAX_RETRIES".into(), "0".into());
    for (key, value) in extra {
        env.insert(key.to_string(), value.to_string());
    }
    let config = Arc::new(Config::from_env(&env).expect("valid test config"));
    let app = App::build(config, Role::Terminal)
        .await
        .expect("the application starts");
    Bot {
        service: app.service.clone(),
        app,
        _dir: dir,
    }
}

fn message(user: &str, text: &str) -> Incoming {
    Incoming {
        user_id: user.to_string(),
        user_name: user.to_string(),
        channel_id: "general".to_string(),
        guild_id: None,
        settings: None,
        text: text.to_string(),
        forced: None,
        privileged: false,
        attachments: Default::default(),
    }
}

fn key(user: &str) -> ConversationKey {
    ConversationKey::new(MemoryScope::UserChannel, user, "general")
}

fn answer(outcome: Outcome) -> duet::chat::Answer {
    match outcome {
        Outcome::Answer(answer) => answer,
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[tokio::test]
async fn conversation_goes_to_openai_and_the_turn_is_stored() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let reply = answer(
        bot.service
            .handle(message("ann", "hello, how are you?"), None)
            .await,
    );
    assert_eq!(reply.provider, ProviderKind::OpenAi);
    assert!(
        reply.text.contains("You said: hello, how are you?"),
        "{}",
        reply.text
    );
    let stored = bot.service.memory().load(&key("ann")).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].provider, ProviderKind::OpenAi);
}

#[tokio::test]
async fn a_web_question_goes_to_perplexity_and_shows_its_sources() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let reply = answer(
        bot.service
            .handle(message("ann", "what's the weather in Paris today?"), None)
            .await,
    );
    assert_eq!(reply.provider, ProviderKind::Perplexity);
    assert!(
        reply.sources.iter().any(|s| s.url == ALPHA_URL),
        "{:?}",
        reply.sources
    );
    assert!(
        !reply.text.contains("**Sources**"),
        "raw text, not Discord markup"
    );
    assert!(!reply.reasons.is_empty());
}

#[tokio::test]
async fn the_provider_sees_the_earlier_turns_of_the_conversation() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    answer(
        bot.service
            .handle(message("ann", "my name is Ann"), None)
            .await,
    );
    answer(
        bot.service
            .handle(message("ann", "what is my name?"), None)
            .await,
    );
    let second = &mock.requests_on(Route::OpenAiChat)[1].body;
    let contents: Vec<&str> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(contents.contains(&"my name is Ann"), "{contents:?}");
    assert!(
        contents.contains(&"You said: my name is Ann"),
        "{contents:?}"
    );
    assert_eq!(contents.last(), Some(&"what is my name?"));
}

#[tokio::test]
async fn perplexity_sees_the_conversation_as_alternating_history() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    answer(
        bot.service
            .handle(message("ann", "search: rust 1.90 release notes"), None)
            .await,
    );
    answer(
        bot.service
            .handle(message("ann", "search: and the one before?"), None)
            .await,
    );
    let body = &mock.requests_on(Route::Agent)[1].body;
    let roles: Vec<&str> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"], "{body}");
}

#[tokio::test]
async fn perplexity_failing_falls_back_to_openai_with_a_note() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(500)));
    let bot = bot(&mock, &[]).await;
    let reply = answer(
        bot.service
            .handle(message("ann", "search: latest rust news"), None)
            .await,
    );
    assert_eq!(reply.provider, ProviderKind::OpenAi);
    assert_eq!(
        reply.note.as_deref(),
        Some(messages::WEB_SEARCH_UNAVAILABLE_NOTE)
    );
}

#[tokio::test]
async fn openai_failing_falls_back_to_perplexity() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::Status(503)));
    let bot = bot(&mock, &[]).await;
    let reply = answer(
        bot.service
            .handle(message("ann", "write me a haiku"), None)
            .await,
    );
    assert_eq!(reply.provider, ProviderKind::Perplexity);
}

#[tokio::test]
async fn both_failing_gives_a_clear_message_and_stores_nothing() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::Status(503)));
    mock.set_fault(Route::Agent, Some(Fault::MalformedJson));
    let bot = bot(&mock, &[]).await;
    let outcome = bot
        .service
        .handle(message("ann", "write me a haiku"), None)
        .await;
    assert_eq!(outcome, Outcome::Notice(messages::BOTH_DOWN.to_string()));
    assert!(
        bot.service
            .memory()
            .load(&key("ann"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_single_provider_failure_gives_the_message_for_its_kind() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::OpenAiChat, Some(Fault::InsufficientQuota));
    let bot = bot(
        &mock,
        &[
            ("PERPLEXITY_API_KEY", ""),
            ("PERPLEXITY_API_URL", "https://api.perplexity.ai"),
        ],
    )
    .await;
    let outcome = bot.service.handle(message("ann", "hi"), None).await;
    let expected = messages::provider_failed(duet::providers::ErrorKind::QuotaExhausted);
    assert_eq!(outcome, Outcome::Notice(expected.to_string()));
    assert!(
        bot.service
            .memory()
            .load(&key("ann"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_openai_answer_that_cannot_browse_is_re_asked_of_perplexity_once() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    // The mock's OpenAI answer echoes the question, so this one reads as a disclaimer.
    let reply = answer(
        bot.service
            .handle(
                message("ann", "chat: I can't browse the internet, right?"),
                None,
            )
            .await,
    );
    assert_eq!(reply.provider, ProviderKind::Perplexity);
    assert_eq!(mock.requests_on(Route::OpenAiChat).len(), 1);
    assert_eq!(mock.requests_on(Route::Agent).len(), 1);
}

#[tokio::test]
async fn a_forced_search_goes_to_perplexity_whatever_the_text() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let mut incoming = message("ann", "write me a poem");
    incoming.forced = Some(ProviderKind::Perplexity);
    assert_eq!(
        answer(bot.service.handle(incoming, None).await).provider,
        ProviderKind::Perplexity
    );
}

#[tokio::test]
async fn a_rate_limited_user_is_told_once_per_window() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[("RATE_LIMIT", "2"), ("RATE_LIMIT_PER", "3600")]).await;
    answer(bot.service.handle(message("ann", "one"), None).await);
    answer(bot.service.handle(message("ann", "two"), None).await);
    let Outcome::Notice(notice) = bot.service.handle(message("ann", "three"), None).await else {
        panic!("the third message is limited");
    };
    assert!(
        notice.starts_with("⏱️ You're sending messages quickly — try again in "),
        "{notice}"
    );
    assert_eq!(
        bot.service.handle(message("ann", "four"), None).await,
        Outcome::Silent
    );
    answer(bot.service.handle(message("bob", "hi"), None).await);
    assert_eq!(
        mock.requests().len(),
        3,
        "limited messages never reach a provider"
    );
    let status = bot.service.status("ann").await;
    assert_eq!((status.rate_limit_remaining, status.rate_limit), (0, 2));
}

/// Yields until `condition` holds (bounded, no sleeping).
async fn until(mut condition: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_one_conversation_are_answered_in_order_and_the_queue_is_bounded() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[("MAX_QUEUED_PER_CONVERSATION", "2")]).await;
    mock.hold();
    let send = |text: &'static str| {
        let service = bot.service.clone();
        tokio::spawn(async move { service.handle(message("ann", text), None).await })
    };
    let first = send("first");
    mock.wait_for_requests(1).await;
    let second = send("second");
    until(|| bot.service.queued(&key("ann")) == 1).await;
    let third = send("third");
    until(|| bot.service.queued(&key("ann")) == 2).await;
    let overflow = bot.service.handle(message("ann", "fourth"), None).await;
    assert_eq!(overflow, Outcome::Notice(messages::QUEUE_FULL.to_string()));
    mock.release();
    for task in [first, second, third] {
        answer(task.await.unwrap());
    }
    let questions: Vec<String> = bot
        .service
        .memory()
        .load(&key("ann"))
        .await
        .unwrap()
        .iter()
        .map(|t| t.question.clone())
        .collect();
    assert_eq!(questions, ["first", "second", "third"]);
    assert_eq!(
        mock.peak_in_flight(),
        1,
        "one turn at a time per conversation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_bot_answers_busy_at_once_instead_of_hanging() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[("MAX_CONCURRENT_TURNS", "1")]).await;
    mock.hold();
    let service = bot.service.clone();
    let slow = tokio::spawn(async move { service.handle(message("ann", "slow one"), None).await });
    mock.wait_for_requests(1).await;
    let busy = bot.service.handle(message("bob", "hello?"), None).await;
    assert_eq!(busy, Outcome::Notice(messages::BUSY.to_string()));
    mock.release();
    answer(slow.await.unwrap());
}

#[tokio::test]
async fn a_spent_daily_token_budget_is_refused_with_a_friendly_message() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[("USER_DAILY_TOKENS", "5")]).await;
    answer(bot.service.handle(message("ann", "hello"), None).await);
    let outcome = bot.service.handle(message("ann", "again"), None).await;
    assert_eq!(outcome, Outcome::Notice(messages::BUDGET_SPENT.to_string()));
    assert_eq!(bot.service.status("ann").await.tokens_left_today, Some(0));
    answer(bot.service.handle(message("bob", "hello"), None).await);
}

#[tokio::test]
async fn reset_and_forget_empty_the_memory() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    answer(bot.service.handle(message("ann", "hello"), None).await);
    assert_eq!(
        bot.service.reset("ann", "general").await,
        Outcome::Notice(messages::RESET_DONE.to_string())
    );
    assert!(
        bot.service
            .memory()
            .load(&key("ann"))
            .await
            .unwrap()
            .is_empty()
    );
    answer(
        bot.service
            .handle(message("ann", "hello again"), None)
            .await,
    );
    assert_eq!(
        bot.service.forget("ann").await,
        Outcome::Notice(messages::FORGET_DONE.to_string())
    );
    assert!(
        bot.service
            .memory()
            .export_user("ann")
            .await
            .unwrap()
            .contains("\"conversations\": []")
    );
}

#[tokio::test]
async fn streaming_publishes_progress_and_only_the_outcome_is_the_full_answer() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let (progress, watched) = tokio::sync::watch::channel(duet::chat::Partial::default());
    let reply = answer(
        bot.service
            .handle(message("ann", "tell me a story"), Some(progress))
            .await,
    );
    assert!(!reply.text.is_empty());
    let shown = watched.borrow().text.clone();
    assert!(!shown.is_empty(), "progress was published");
    // The last part is held back: only the outcome, which comes once the
    // turn is stored, shows the whole answer.
    assert!(
        reply.text.starts_with(&shown) && shown.len() < reply.text.len(),
        "{shown:?} / {:?}",
        reply.text
    );
}

#[tokio::test]
async fn shutdown_drain_refuses_new_messages_and_waits_for_turns_in_flight() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    mock.push_fault(Route::OpenAiChat, Fault::Latency(Duration::from_millis(50)));
    let service = bot.service.clone();
    let in_flight = tokio::spawn(async move { service.handle(message("ann", "slow"), None).await });
    mock.wait_for_requests(1).await;
    let drained = bot.app.stop_within(Duration::from_secs(30)).await;
    assert!(drained.clean(), "the turn finished within the grace period");
    answer(in_flight.await.unwrap());
    let refused = bot.service.handle(message("bob", "hi"), None).await;
    assert_eq!(
        refused,
        Outcome::Notice(messages::SHUTTING_DOWN.to_string())
    );
    assert_eq!(
        bot.service.memory().load(&key("ann")).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn export_returns_the_users_turns_as_json() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    answer(
        bot.service
            .handle(message("ann", "remember the number 42"), None)
            .await,
    );
    answer(
        bot.service
            .handle(message("bob", "bob's secret"), None)
            .await,
    );
    let Outcome::Notice(export) = bot.service.export("ann").await else {
        panic!("export is a notice");
    };
    let json = export
        .strip_prefix("```json\n")
        .and_then(|rest| rest.strip_suffix("\n```"))
        .expect("a fenced JSON block");
    let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(value["user_id"], "ann");
    assert!(json.contains("remember the number 42"), "{json}");
    assert!(!json.contains("bob's secret"), "only the caller's turns");
}

#[tokio::test]
async fn the_drain_interrupts_a_turn_past_the_grace_and_the_pipeline_says_so() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    mock.hold();
    let service = bot.service.clone();
    let in_flight =
        tokio::spawn(async move { service.handle(message("ann", "endless"), None).await });
    mock.wait_for_requests(1).await;
    let drained = bot.app.stop_within(Duration::ZERO).await;
    assert_eq!(drained.interrupted, 1);
    assert_eq!(
        in_flight.await.unwrap(),
        Outcome::Notice(messages::INTERRUPTED.to_string())
    );
    assert!(
        bot.service
            .memory()
            .load(&key("ann"))
            .await
            .unwrap()
            .is_empty()
    );
    mock.release();
}
