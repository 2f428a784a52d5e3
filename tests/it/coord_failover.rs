//! Redis lost and found again (DUET_TEST_REDIS_URL, behind a proxy the test
//! cuts): limits fall back to per process, the coordinator reports the
//! problem, and sharing resumes without a restart. Redis unreachable at
//! start stops `duet run` with exit 2 and a message that names REDIS_URL,
//! never its value.

use std::time::{Duration, Instant};

use duet::chat::limits::{Admission, UserLimiter};
use duet::config::LimitsConfig;
use duet::coord::Coordinator;
use duet::secret::Secret;
use duet_testkit::duet_process::{DuetProcess, duet_binary, run_env};
use duet_testkit::fake_discord::FakeDiscord;
use duet_testkit::mock_llm::MockLlm;
use duet_testkit::tcp_proxy::TcpProxy;
use duet_testkit::test_redis::TestRedis;

fn one_per_hour() -> LimitsConfig {
    LimitsConfig {
        rate_limit: 1,
        rate_limit_per: Duration::from_secs(3600),
        max_queued_per_conversation: 3,
        max_concurrent_turns: 10,
        user_daily_tokens: 0,
        redis_url: None,
        redis_key_prefix: String::new(),
    }
}

async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn limits_fall_back_to_per_process_while_redis_is_lost_and_share_again_after() {
    let Some(redis) = TestRedis::from_env("failover") else {
        return;
    };
    let proxy = TcpProxy::start(redis.addr()).await;
    let url = Secret::new(redis.url_via(proxy.addr()));
    let coordinator = Coordinator::connect(&url, &redis.prefix).await.unwrap();
    let limiter = UserLimiter::new(&one_per_hour()).coordinated(Some(coordinator.clone()));
    assert_eq!(limiter.admit("ann").await, Admission::Allowed);
    assert!(coordinator.problem().is_none());

    proxy.cut();
    wait_until("Redis counts as lost", || !coordinator.is_up()).await;
    let problem = coordinator.problem().expect("a problem for /health");
    assert!(problem.starts_with("redis: unreachable"), "{problem}");
    assert!(problem.contains("per process"), "{problem}");
    assert_eq!(
        limiter.admit("ann").await,
        Admission::Allowed,
        "the in-process limiter decides while Redis is away (it has not seen ann)"
    );
    assert!(
        coordinator
            .take_user("ann", 1, Duration::from_secs(3600))
            .await
            .is_err()
    );

    proxy.restore();
    wait_until("Redis counts as back", || coordinator.is_up()).await;
    assert!(coordinator.problem().is_none());
    assert!(
        matches!(limiter.admit("ann").await, Admission::Notify(_)),
        "the shared limit applies again: ann's message before the loss still counts"
    );
}

#[tokio::test]
async fn duet_run_exits_2_naming_redis_url_when_redis_is_unreachable_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(duet_binary())
        .arg("run")
        .current_dir(dir.path())
        .env_clear()
        .env("DISCORD_TOKEN", "fake-token")
        .env("OPENAI_API_KEY", "sk-test")
        .env("OPENAI_WARMUP", "false")
        .env("DATABASE_PATH", dir.path().join("duet.db"))
        .env("HEALTH_ENABLED", "false")
        .env("REDIS_URL", "redis://:hunter2-secret@127.0.0.1:1/0")
        .output()
        .await
        .expect("duet runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the URL's password never shows: {stderr}"
    );
}

fn redis_problem(health: &serde_json::Value) -> Option<String> {
    health["problems"]
        .as_array()?
        .iter()
        .filter_map(|p| p.as_str())
        .find(|p| p.starts_with("redis:"))
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_degraded_while_redis_is_lost_and_recovers_without_a_restart() {
    let Some(redis) = TestRedis::from_env("failover-health") else {
        return;
    };
    let proxy = TcpProxy::start(redis.addr()).await;
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("REDIS_URL".into(), redis.url_via(proxy.addr()));
    env.insert("REDIS_KEY_PREFIX".into(), redis.prefix.clone());
    let duet = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;
    duet.wait_for_health("a healthy bot", |h| h["status"] == "ok")
        .await;

    proxy.cut();
    let health = duet
        .wait_for_health("Redis reported lost", |h| redis_problem(h).is_some())
        .await;
    assert_eq!(health["status"], "degraded");
    let problem = redis_problem(&health).unwrap_or_default();
    assert!(problem.contains("per process"), "{problem}");
    let (_, metrics) = duet.get("/metrics").await;
    assert!(metrics.contains("duet_redis_up 0"), "{metrics}");

    proxy.restore();
    duet.wait_for_health("Redis back", |h| redis_problem(h).is_none())
        .await;
    let (_, metrics) = duet.get("/metrics").await;
    assert!(metrics.contains("duet_redis_up 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_url_the_bot_says_at_start_that_limits_are_per_process() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let duet = DuetProcess::start(&run_env(&discord, &mock, dir.path()), None, dir.path()).await;
    duet.wait_for_log(0, "REDIS_URL is not set: rate limits, budgets, provider pauses and conversation queues are per process")
        .await;
}
