//! End to end: the bot's life cycle against the fake Discord: losing and
//! regaining the gateway, a rejected token, refused intents, an unreachable
//! Discord (each named with its fix and exit status 2), and a clean shutdown.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use duet::chat::live::{Live, LiveReceiver, LiveSender};
use duet::chat::messages::INTERRUPTED;
use duet::config::Config;
use duet::discord::{self, DiscordError, DiscordStatus, EXIT_SETUP};
use duet::providers::Providers;
use duet::shutdown::Shutdown;
use duet_testkit::fake_discord::bot::{RunningBot, config_for, init_tracing};
use duet_testkit::fake_discord::conversations::{Scripted, ScriptedConversations};
use duet_testkit::fake_discord::fixtures::{ALICE, DM_ALICE};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage, WAIT, count};
use duet_testkit::mock_llm::MockLlm;
use serde_json::json;

/// A live value over `config`, as `App::build` makes it.
fn live_of(config: Config) -> (LiveSender, LiveReceiver) {
    let config = Arc::new(config);
    let providers = Arc::new(Providers::from_config(&config).expect("providers"));
    Live::first(config, providers).channel()
}

fn dm_replies(log: &[Recorded]) -> Vec<Recorded> {
    let path = format!("/channels/{DM_ALICE}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .cloned()
        .collect()
}

/// Sends a DM and waits for the answer that contains `text`.
async fn ask(bot: &RunningBot, text: &str) {
    bot.discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, text));
    let expected = text.to_string();
    bot.discord
        .wait_until("the DM's answer", |log| {
            dm_replies(log)
                .iter()
                .any(|r| r.content().is_some_and(|c| c.contains(&expected)))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_survives_a_gateway_disconnect_and_answers_afterwards() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    ask(&bot, "before").await;

    bot.discord.close_gateway(4000);
    bot.discord
        .wait_until("a resume or a new session", |log| {
            count(log, "WS", "RESUME") + count(log, "WS", "IDENTIFY") >= 2
        })
        .await;
    ask(&bot, "after").await;
    assert_eq!(bot.pipeline.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_interrupts_a_running_turn_and_tells_the_user() {
    let mut bot = RunningBot::start(
        &[("SHUTDOWN_GRACE_SECS", "0")],
        ScriptedConversations::new(|_, _| Scripted::Hang),
    )
    .await;
    bot.discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, "take your time"));
    bot.pipeline.wait_received(1).await;
    assert!(dm_replies(&bot.discord.requests()).is_empty());

    let stopped = bot.stop().await;
    assert!(stopped.is_ok(), "a clean shutdown: {stopped:?}");
    let notice = dm_replies(&bot.discord.requests());
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].content(), Some(INTERRUPTED));
    assert!(!bot.status.snapshot().await.running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_ends_run_with_an_error_instead_of_retrying() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    let config = config_for(&fake, &[("DISCORD_TOKEN", "wrong-token")]);
    let (_live, updates) = live_of(config);
    let run = discord::run(
        updates,
        ScriptedConversations::echo(),
        Shutdown::new(),
        DiscordStatus::new(),
    );
    let result = tokio::time::timeout(WAIT, run).await.expect("run gives up");
    let Err(error) = result else {
        panic!("run gave up without an error");
    };
    assert!(matches!(error, DiscordError::Gateway(_)), "{error:?}");
    assert!(
        error.to_string().contains("Discord rejected the token")
            && error.to_string().contains("DISCORD_TOKEN"),
        "{error}"
    );
    assert_eq!(error.exit_code(), EXIT_SETUP);
    assert_eq!(
        count(&fake.requests(), "WS", "IDENTIFY"),
        1,
        "no retry loop"
    );
}

/// Runs the Discord frontend against `fake` until it gives up.
async fn run_until_it_fails(fake: &FakeDiscord, env: &[(&str, &str)]) -> DiscordError {
    let (_live, updates) = live_of(config_for(fake, env));
    let run = discord::run(
        updates,
        ScriptedConversations::echo(),
        Shutdown::new(),
        DiscordStatus::new(),
    );
    match tokio::time::timeout(WAIT, run).await.expect("run gives up") {
        Ok(()) => panic!("run ended without an error"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rejected_over_rest_names_the_cause_and_the_fix() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    fake.fail(
        Method::GET,
        "/gateway/bot",
        StatusCode::UNAUTHORIZED,
        json!({"message": "401: Unauthorized", "code": 0}),
    );
    let error = run_until_it_fails(&fake, &[]).await;
    let text = error.to_string();
    assert!(
        text.contains("Discord rejected the token") && text.contains("DISCORD_TOKEN"),
        "{text}"
    );
    assert_eq!(error.exit_code(), EXIT_SETUP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_to_discord_says_so_instead_of_a_bare_http_error() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let error = run_until_it_fails(&fake, &[("API_BASE_URL", &nowhere)]).await;
    let text = error.to_string();
    assert!(text.contains("connection to Discord was refused"), "{text}");
    assert!(text.contains("API_BASE_URL"), "{text}");
    assert_eq!(error.exit_code(), EXIT_SETUP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_at_discord_names_tls_and_the_ca_setting() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    // A TLS server whose certificate no public root signed.
    let untrusted = MockLlm::start_tls().await;
    let error = run_until_it_fails(&fake, &[("API_BASE_URL", &untrusted.base_url())]).await;
    let text = error.to_string();
    assert!(
        text.contains("the TLS connection to Discord failed"),
        "{text}"
    );
    assert!(text.contains("TLS_CA_FILE"), "{text}");
    assert_eq!(error.exit_code(), EXIT_SETUP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_code_4014_asks_for_the_message_content_intent() {
    init_tracing();
    let fake = FakeDiscord::start().await;
    fake.refuse_identify(4014);
    let error = run_until_it_fails(&fake, &[]).await;
    let text = error.to_string();
    assert!(text.contains("Message Content Intent"), "{text}");
    assert_eq!(error.exit_code(), EXIT_SETUP);
    assert_eq!(
        count(&fake.requests(), "WS", "IDENTIFY"),
        1,
        "no retry loop"
    );
}

#[tokio::test]
async fn run_refuses_to_start_without_a_token() {
    let fake = FakeDiscord::start().await;
    let mut config = config_for(&fake, &[]);
    config.discord.token = None;
    let (_live, updates) = live_of(config);
    let result = discord::run(
        updates,
        ScriptedConversations::echo(),
        Shutdown::new(),
        DiscordStatus::new(),
    )
    .await;
    assert!(matches!(result, Err(DiscordError::MissingToken)));
    assert!(fake.requests().is_empty(), "nothing was called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_comes_from_the_configuration_and_follows_reloads() {
    let bot = RunningBot::start(
        &[
            ("BOT_PRESENCE", "idle"),
            ("ACTIVITY_TYPE", "watching"),
            ("ACTIVITY_STATUS", "the chat"),
        ],
        ScriptedConversations::echo(),
    )
    .await;
    let identify = bot.discord.calls("WS", "IDENTIFY").remove(0);
    let presence = &identify.body["presence"];
    assert_eq!(presence["status"], "idle");
    assert_eq!(presence["activities"][0]["name"], "the chat");
    assert_eq!(presence["activities"][0]["type"], 3, "watching");
    assert_eq!(
        identify.body["intents"], 37377,
        "guilds, messages, DMs, content"
    );

    bot.reconfigure(&[
        ("ACTIVITY_TYPE", "listening"),
        ("ACTIVITY_STATUS", "your questions"),
    ]);
    let log = bot
        .discord
        .wait_until("the presence update", |log| {
            count(log, "WS", "PRESENCE_UPDATE") > 0
        })
        .await;
    let update = log.iter().find(|r| r.is("WS", "PRESENCE_UPDATE")).unwrap();
    assert_eq!(update.body["status"], "online");
    assert_eq!(update.body["activities"][0]["name"], "your questions");
    assert_eq!(update.body["activities"][0]["type"], 2, "listening");
}
