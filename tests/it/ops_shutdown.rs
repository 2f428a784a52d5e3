//! Graceful shutdown of a real `duet run` process: SIGTERM lets a slow turn
//! finish (its reply is sent and its history stored) and exits 0; a turn that
//! outlasts SHUTDOWN_GRACE_SECS is interrupted with a notice; a second signal
//! exits at once with 130.

use std::collections::HashMap;
use std::path::Path;

use duet::chat::ConversationKey;
use duet::chat::memory::Memory;
use duet::chat::messages::INTERRUPTED;
use duet::config::{Config, MemoryScope};
use duet_testkit::duet_process::{DuetProcess, log_message, run_env};
use duet_testkit::fake_discord::fixtures::{ALICE, DM_ALICE};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage};
use duet_testkit::mock_llm::MockLlm;

const SHUTTING_DOWN: &str = "shutting down: finishing turns in flight";

fn dm_replies(log: &[Recorded]) -> Vec<String> {
    let path = format!("/channels/{DM_ALICE}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .filter_map(|r| r.content().map(str::to_string))
        .collect()
}

/// Starts `duet run` with SHUTDOWN_GRACE_SECS = `grace` and sends Alice's
/// DM `question`, which the mock holds: on return the turn is in flight.
async fn bot_with_a_held_turn(
    discord: &FakeDiscord,
    mock: &MockLlm,
    dir: &Path,
    grace: &str,
    question: &str,
) -> DuetProcess {
    let mut env = run_env(discord, mock, dir);
    env.insert("SHUTDOWN_GRACE_SECS".into(), grace.into());
    let duet = DuetProcess::start(&env, None, dir).await;
    discord.wait_for_commands().await;
    mock.hold();
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, question));
    mock.wait_for_requests(1).await;
    duet
}

/// Alice's DM conversation as stored in the database the child used.
async fn stored_dm(dir: &Path) -> Vec<(String, String)> {
    let env = HashMap::from([(
        "DATABASE_PATH".to_string(),
        dir.join("duet.db").display().to_string(),
    )]);
    let config = Config::from_env(&env).expect("a valid memory config");
    let memory = Memory::open(&config.memory, config.orchestrator.max_history).expect("the db");
    let key = ConversationKey::new(
        MemoryScope::UserChannel,
        &ALICE.id.to_string(),
        &DM_ALICE.to_string(),
    );
    memory
        .load(&key)
        .await
        .expect("load the conversation")
        .iter()
        .map(|turn| (turn.question.clone(), turn.answer.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_turn_finish_then_exits_zero_with_the_turn_stored() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "20", "slow question").await;

    let mark = duet.log_mark();
    duet.signal(libc::SIGTERM);
    duet.wait_for_log(mark, SHUTTING_DOWN).await;
    duet.wait_for_log(mark, "closing Discord shards").await;
    mock.release();

    discord
        .wait_until("the slow answer", |log| !dm_replies(log).is_empty())
        .await;
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "{:#?}", duet.logs());
    assert_eq!(dm_replies(&discord.requests()), ["You said: slow question"]);
    let logged: Vec<String> = duet.logs().iter().map(log_message).collect();
    assert!(logged.iter().any(|m| m == "duet stopped"), "{logged:#?}");
    assert!(
        !logged.iter().any(|m| m.contains("interrupt")),
        "nothing was cut off: {logged:#?}"
    );
    assert_eq!(
        stored_dm(dir.path()).await,
        [(
            "slow question".to_string(),
            "You said: slow question".to_string()
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_outlasting_the_grace_period_is_interrupted_with_a_notice() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "1", "endless question").await;

    duet.signal(libc::SIGTERM);
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "{:#?}", duet.logs());
    assert_eq!(dm_replies(&discord.requests()), [INTERRUPTED]);
    assert!(
        stored_dm(dir.path()).await.is_empty(),
        "an unfinished turn is not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once_with_130() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut duet = bot_with_a_held_turn(&discord, &mock, dir.path(), "20", "slow question").await;

    let mark = duet.log_mark();
    duet.signal(libc::SIGTERM);
    duet.wait_for_log(mark, SHUTTING_DOWN).await;
    duet.signal(libc::SIGINT);
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(130), "{:#?}", duet.logs());
    assert!(dm_replies(&discord.requests()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_discord_never_answers_at_start_still_exits_zero() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A "Discord" that accepts connections and never answers them.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("DISCORD_API_BASE_URL".into(), silent_url);
    let mut duet = DuetProcess::start(&env, None, dir.path()).await;
    duet.signal(libc::SIGTERM);
    let status = duet.wait_for_exit().await;
    assert_eq!(
        status.code(),
        Some(0),
        "one SIGTERM is enough while connecting"
    );
    held.abort();
}
