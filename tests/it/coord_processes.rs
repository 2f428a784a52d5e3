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

struct Replica {
    discord: FakeDiscord,
    _duet: DuetProcess,
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
    Replica {
        discord,
        _duet: duet,
    }
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
