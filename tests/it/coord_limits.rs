//! Shared limits through a real Redis (DUET_TEST_REDIS_URL): two
//! coordinators on one key prefix stand for two duet processes.

use std::time::Duration;

use duet::chat::limits::{Admission, UserLimiter};
use duet::config::LimitsConfig;
use duet::coord::Coordinator;
use duet::secret::Secret;
use duet_testkit::test_redis::TestRedis;

pub(crate) async fn coordinator(redis: &TestRedis) -> Coordinator {
    Coordinator::connect(&Secret::new(redis.url.clone()), &redis.prefix)
        .await
        .expect("the test Redis answers")
}

fn limits(rate_limit: u32, per_secs: u64) -> LimitsConfig {
    LimitsConfig {
        rate_limit,
        rate_limit_per: Duration::from_secs(per_secs),
        max_queued_per_conversation: 3,
        max_concurrent_turns: 10,
        user_daily_tokens: 0,
        redis_url: None,
        redis_key_prefix: String::new(),
    }
}

#[tokio::test]
async fn a_users_rate_limit_holds_across_processes() {
    let Some(redis) = TestRedis::from_env("user-limit") else {
        return;
    };
    let first = UserLimiter::new(&limits(3, 3600)).coordinated(Some(coordinator(&redis).await));
    let second = UserLimiter::new(&limits(3, 3600)).coordinated(Some(coordinator(&redis).await));

    assert_eq!(first.admit("ann").await, Admission::Allowed);
    assert_eq!(second.admit("ann").await, Admission::Allowed);
    assert_eq!(second.remaining("ann").await, 1, "both processes count");
    assert_eq!(first.admit("ann").await, Admission::Allowed);
    let Admission::Notify(wait) = second.admit("ann").await else {
        panic!("the fourth message, wherever it arrives, is limited");
    };
    assert!(wait > Duration::from_secs(600), "{wait:?}");
    assert_eq!(second.admit("ann").await, Admission::Quiet);
    assert_eq!(
        first.admit("bob").await,
        Admission::Allowed,
        "others are not affected"
    );
    assert!(
        redis.keys().iter().all(|k| k.starts_with(&redis.prefix)),
        "every key carries the prefix"
    );
}

#[tokio::test]
async fn daily_token_budgets_add_up_across_processes_and_expire() {
    let Some(redis) = TestRedis::from_env("budget") else {
        return;
    };
    let (a, b) = (coordinator(&redis).await, coordinator(&redis).await);
    assert_eq!(a.tokens_used("ann", "2026-12-01").await.unwrap(), 0);
    a.add_tokens("ann", "2026-12-01", 100).await.unwrap();
    assert_eq!(b.add_tokens("ann", "2026-12-01", 50).await.unwrap(), 150);
    assert_eq!(a.tokens_used("ann", "2026-12-01").await.unwrap(), 150);
    assert_eq!(
        a.tokens_used("ann", "2026-12-02").await.unwrap(),
        0,
        "per day"
    );
    let key = a.key("tokens", "2026-12-01:ann");
    let ttl: i64 = redis.query(redis::cmd("TTL").arg(&key));
    assert!(ttl > 0, "the counter expires ({ttl})");
}

#[tokio::test]
async fn a_providers_requests_per_minute_are_shared() {
    let Some(redis) = TestRedis::from_env("rpm") else {
        return;
    };
    let (a, b) = (coordinator(&redis).await, coordinator(&redis).await);
    assert!(a.take_provider("openai", 2).await.unwrap().allowed);
    assert!(b.take_provider("openai", 2).await.unwrap().allowed);
    let refused = a.take_provider("openai", 2).await.unwrap();
    assert!(!refused.allowed);
    assert!(
        refused.wait > Duration::from_secs(20) && refused.wait <= Duration::from_secs(30),
        "one request back every 30 s: {:?}",
        refused.wait
    );
    assert!(
        b.take_provider("perplexity", 2).await.unwrap().allowed,
        "per provider"
    );
}

#[tokio::test]
async fn a_429_pause_is_seen_by_every_process_and_never_shortened() {
    let Some(redis) = TestRedis::from_env("pause") else {
        return;
    };
    let (a, b) = (coordinator(&redis).await, coordinator(&redis).await);
    assert_eq!(b.provider_pause("openai").await.unwrap(), None);
    a.pause_provider("openai", Duration::from_secs(60))
        .await
        .unwrap();
    let seen = b.provider_pause("openai").await.unwrap().expect("paused");
    assert!(seen > Duration::from_secs(50), "{seen:?}");
    let kept = b
        .pause_provider("openai", Duration::from_secs(1))
        .await
        .unwrap();
    assert!(
        kept > Duration::from_secs(50),
        "a shorter pause keeps the longer one: {kept:?}"
    );
    assert_eq!(b.provider_pause("perplexity").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_redis_at_start_is_an_error_without_the_url() {
    let url = Secret::new("redis://:hunter2-secret@127.0.0.1:1");
    let error = Coordinator::connect(&url, "duet:").await.unwrap_err();
    let text = error.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
}
