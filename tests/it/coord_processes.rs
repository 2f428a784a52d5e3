//! Two real `duet run` processes, each on its own fake Discord, sharing the
//! mock LLM and a Redis key prefix (DUET_TEST_REDIS_URL): a user's rate limit
//! and a provider's 429 pause hold across them.

use std::collections::HashMap;
use std::path::Path;

use duet::chat::messages::provider_failed;
use duet::providers::ErrorKind;
use duet_testkit::duet_process::{DuetProcess, PROCESS_WAIT, run_env};
use duet_testkit::fake_discord::fixtures::{ALICE, DM_ALICE};
use duet_testkit::fake_discord::{FakeDiscord, UserMessage};
use duet_testkit::mock_llm::{Fault, MockLlm, RetryAfter, Route};
use duet_testkit::test_redis::TestRedis;

/// What a process logs (at debug) when another process holds the conversation.
const WAITING_FOR_LOCK: &str = "waiting for the conversation lock";

struct Replica {
    discord: FakeDiscord,
    duet: DuetProcess,
}

/// A `duet run` on its own fake Discord, OpenAI only, limits in `redis`.
async fn replica(mock: &MockLlm, redis: &TestRedis, dir: &Path, extra: &[(&str, &str)]) -> Replica {
    let discord = FakeDiscord::start().await;
    let mut env: HashMap<String, String> = run_env(&discord, mock, dir);
    env.remove("PERPLEXITY_API_KEY");
    env.remove("PERPLEXITY_API_URL");
    env.insert("REDIS_URL".into(), redis.url.clone());
    env.insert("REDIS_KEY_PREFIX".into(), redis.prefix.clone());
    for (key, value) in extra {
        env.insert((*key).into(), (*value).into());
    }
    let duet = DuetProcess::start(&env, None, dir).await;
    discord.wait_for_commands().await;
    Replica { discord, duet }
}

/// Alice's DM `text` through `replica`; the text of the bot's reply.
async fn ask(replica: &Replica, text: &str) -> String {
    let reply = replica
        .discord
        .send_awaiting_reply(UserMessage::dm(ALICE, DM_ALICE, text));
    let reply = tokio::time::timeout(PROCESS_WAIT, reply)
        .await
        .unwrap_or_else(|_| panic!("no reply to {text:?}"))
        .expect("the fake Discord saw a reply");
    reply.content().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_rate_limit_holds_across_two_processes() {
    let Some(redis) = TestRedis::from_env("two-processes-limit") else {
        return;
    };
    let mock = MockLlm::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let limit = [("RATE_LIMIT", "2"), ("RATE_LIMIT_PER", "3600")];
    let a = replica(&mock, &redis, dir_a.path(), &limit).await;
    let b = replica(&mock, &redis, dir_b.path(), &limit).await;

    let first = ask(&a, "hello one").await;
    let second = ask(&b, "hello two").await;
    assert!(
        !first.contains("quickly") && !second.contains("quickly"),
        "{first} / {second}"
    );
    let third = ask(&a, "hello three").await;
    assert!(
        third.contains("You're sending messages quickly"),
        "the third message in the window is limited, whichever process got the first two: {third}"
    );
    assert_eq!(
        mock.requests_on(Route::OpenAiChat).len(),
        2,
        "the limited one never reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_seen_by_one_process_pauses_the_provider_for_the_other() {
    let Some(redis) = TestRedis::from_env("two-processes-429") else {
        return;
    };
    let mock = MockLlm::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = replica(&mock, &redis, dir_a.path(), &[]).await;
    let b = replica(&mock, &redis, dir_b.path(), &[]).await;

    mock.push_fault(Route::OpenAiChat, Fault::RateLimited(RetryAfter::Secs(600)));
    let limited = provider_failed(ErrorKind::RateLimited);
    assert_eq!(ask(&a, "hello from a").await, limited);
    assert_eq!(mock.requests_on(Route::OpenAiChat).len(), 1);

    assert_eq!(
        ask(&b, "hello from b").await,
        limited,
        "the other process waits out the pause instead of spending its own 429"
    );
    assert_eq!(
        mock.requests_on(Route::OpenAiChat).len(),
        1,
        "no request went to the paused provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_conversation_runs_one_turn_at_a_time_across_processes() {
    let Some(redis) = TestRedis::from_env("two-processes-queue") else {
        return;
    };
    let mock = MockLlm::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = replica(&mock, &redis, dir_a.path(), &[]).await;
    let debug = [("RUST_LOG", "info,duet::coord=debug")];
    let b = replica(&mock, &redis, dir_b.path(), &debug).await;

    mock.hold();
    let first = a
        .discord
        .send_awaiting_reply(UserMessage::dm(ALICE, DM_ALICE, "first question"));
    mock.wait_for_requests(1).await;
    let second = b
        .discord
        .send_awaiting_reply(UserMessage::dm(ALICE, DM_ALICE, "second question"));
    b.duet.wait_for_log(0, WAITING_FOR_LOCK).await;
    assert_eq!(
        mock.requests().len(),
        1,
        "the second turn waits for the first"
    );
    mock.release();
    for reply in [first, second] {
        tokio::time::timeout(PROCESS_WAIT, reply)
            .await
            .expect("both messages are answered")
            .expect("a reply");
    }
    assert_eq!(mock.requests().len(), 2);
    assert_eq!(
        mock.peak_in_flight(),
        1,
        "the conversation's turns never overlapped, though two processes served it"
    );
    // Released in the background as each turn ends.
    let deadline = std::time::Instant::now() + PROCESS_WAIT;
    while redis.keys().iter().any(|k| k.contains(":lock:")) {
        assert!(
            std::time::Instant::now() < deadline,
            "a lock was never released"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
