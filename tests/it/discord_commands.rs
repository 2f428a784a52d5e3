//! End to end: slash commands through INTERACTION_CREATE, from the deferred
//! response to the follow-ups, and their registration.

use std::time::Duration;

use duet::discord::render::{DISCORD_MESSAGE_LIMIT, split_for_discord};
use duet::discord::{FORGET_CONFIRM, NOT_ALLOWED};
use duet::providers::ProviderKind;
use duet_testkit::fake_discord::bot::RunningBot;
use duet_testkit::fake_discord::conversations::{Scripted, ScriptedConversations};
use duet_testkit::fake_discord::fixtures::{ALICE, APPLICATION_ID, GENERAL, GUILD_ID};
use duet_testkit::fake_discord::{Recorded, UserMessage};
use serde_json::{Value, json};

const EPHEMERAL: u64 = 64;

fn text_option(name: &str, value: &str) -> Value {
    json!([{"name": name, "type": 3, "value": value}])
}

/// The calls made for the interaction with `token`, in order.
fn calls_for<'a>(log: &'a [Recorded], token: &str) -> Vec<&'a Recorded> {
    log.iter()
        .filter(|r| r.is_rest() && r.path.contains(&format!("/{token}")))
        .collect()
}

fn original(token: &str) -> String {
    format!("/webhooks/{APPLICATION_ID}/{token}/messages/@original")
}

/// Runs `/name` in #general as Alice and waits until its response has content.
async fn run(bot: &RunningBot, name: &str, options: Value) -> (String, Vec<Recorded>) {
    let token = bot
        .discord
        .run_command(name, options, &ALICE, GENERAL, Some(GUILD_ID));
    let edit = original(&token);
    let answered = token.clone();
    let log = bot
        .discord
        .wait_until("the command's answer", move |log| {
            log.iter().any(|r| {
                r.is("PATCH", &edit)
                    || (r.path.contains(&answered) && r.body["data"]["content"].is_string())
            })
        })
        .await;
    (token, log)
}

fn is_deferral(call: &Recorded, flags: Option<u64>) -> bool {
    call.path.ends_with("/callback")
        && call.body["type"] == json!(5)
        && call.body["data"]["flags"].as_u64().filter(|f| *f != 0) == flags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_defers_then_answers_in_the_original_response() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let (token, log) = run(&bot, "chat", text_option("message", "hello")).await;

    let calls = calls_for(&log, &token);
    assert!(is_deferral(calls[0], None), "deferred first: {calls:#?}");
    assert_eq!(calls[1].method, "PATCH");
    assert_eq!(calls[1].content(), Some("turn 1: hello"));
    assert_eq!(calls[1].body["allowed_mentions"]["parse"], json!([]));

    let received = bot.pipeline.received();
    assert_eq!(received[0].forced, Some(ProviderKind::OpenAi));
    assert_eq!(received[0].channel_id, GENERAL.to_string());
    bot.assert_no_unexpected_calls();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_forces_perplexity_and_long_answers_continue_in_followups() {
    let answer = "A sourced line of the answer.\n".repeat(150);
    let script_answer = answer.clone();
    let bot = RunningBot::start(
        &[],
        ScriptedConversations::new(move |_, _| Scripted::Answer(script_answer.clone())),
    )
    .await;
    let expected = split_for_discord(&answer, DISCORD_MESSAGE_LIMIT);
    let token = bot.discord.run_command(
        "search",
        text_option("query", "news today"),
        &ALICE,
        GENERAL,
        Some(GUILD_ID),
    );
    let followups = format!("/webhooks/{APPLICATION_ID}/{token}");
    let log = bot
        .discord
        .wait_until("every follow-up", |log| {
            log.iter().filter(|r| r.is("POST", &followups)).count() == expected.len() - 1
        })
        .await;

    let calls = calls_for(&log, &token);
    assert!(is_deferral(calls[0], None));
    let contents: Vec<&str> = calls[1..].iter().filter_map(|c| c.content()).collect();
    assert_eq!(contents, expected);
    assert!(calls[1].is("PATCH", &original(&token)));
    assert!(calls[2..].iter().all(|c| c.is("POST", &followups)));
    assert_eq!(
        bot.pipeline.received()[0].forced,
        Some(ProviderKind::Perplexity)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_is_ephemeral_and_empties_the_conversation() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let (token, log) = run(&bot, "reset", json!([])).await;

    let calls = calls_for(&log, &token);
    assert!(is_deferral(calls[0], Some(EPHEMERAL)), "{calls:#?}");
    assert_eq!(calls[1].content(), Some("Conversation reset."));
    assert_eq!(
        bot.pipeline.calls(),
        vec![format!("reset {} {GENERAL}", ALICE.id)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_starts_the_conversation_over() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "one"));
    bot.pipeline.wait_received(1).await;
    run(&bot, "reset", json!([])).await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "two"));

    let log = bot
        .discord
        .wait_until("the answer after the reset", |log| {
            log.iter().any(|r| r.content() == Some("turn 1: two"))
        })
        .await;
    assert!(
        log.iter()
            .all(|r| r.content() != Some("turn 2: two (after: one)"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_asks_for_confirmation_before_deleting_anything() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let (token, log) = run(&bot, "forget", json!([])).await;
    let calls = calls_for(&log, &token);
    assert_eq!(calls[0].body["type"], json!(4), "answered at once");
    assert_eq!(calls[0].body["data"]["content"], json!(FORGET_CONFIRM));
    assert_eq!(calls[0].body["data"]["flags"], json!(EPHEMERAL));
    assert!(bot.pipeline.calls().is_empty(), "nothing deleted yet");

    let confirm = json!([{"name": "confirm", "type": 5, "value": true}]);
    let (token, log) = run(&bot, "forget", confirm).await;
    let calls = calls_for(&log, &token);
    assert!(is_deferral(calls[0], Some(EPHEMERAL)));
    assert_eq!(
        calls[1].content(),
        Some("I deleted everything I had stored about you.")
    );
    assert_eq!(bot.pipeline.calls(), vec![format!("forget {}", ALICE.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_ephemeral_and_readable() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let (token, log) = run(&bot, "status", json!([])).await;
    let calls = calls_for(&log, &token);
    assert!(is_deferral(calls[0], Some(EPHEMERAL)));
    let text = calls[1].content().expect("status text");
    assert!(text.starts_with("**Mode:** hybrid"), "{text}");
    assert!(text.contains("4 of 5 messages left per minute"), "{text}");
    assert_eq!(bot.pipeline.calls(), vec![format!("status {}", ALICE.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_the_rules_keep_out_get_a_private_refusal() {
    let bot = RunningBot::start(
        &[("BLOCKED_USER_IDS", &ALICE.id.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    let (token, log) = run(&bot, "chat", text_option("message", "let me in")).await;
    let calls = calls_for(&log, &token);
    assert_eq!(calls[0].body["type"], json!(4));
    assert_eq!(calls[0].body["data"]["content"], json!(NOT_ALLOWED));
    assert_eq!(calls[0].body["data"]["flags"], json!(EPHEMERAL));
    assert!(bot.pipeline.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_globally_or_in_the_configured_guilds() {
    let names = |call: &Recorded| -> Vec<String> {
        call.body
            .as_array()
            .expect("a command list")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let global = bot
        .discord
        .calls("PUT", &format!("/applications/{APPLICATION_ID}/commands"));
    assert_eq!(
        names(&global[0]),
        [
            "chat", "search", "reset", "forget", "export", "status", "settings"
        ]
    );
    drop(bot);

    let bot = RunningBot::start(
        &[("COMMAND_GUILD_IDS", &GUILD_ID.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    let log = bot.discord.requests();
    let in_guild = format!("/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands");
    assert!(log.iter().any(|r| r.is("PUT", &in_guild)));
    assert!(
        !log.iter()
            .any(|r| r.path == format!("/applications/{APPLICATION_ID}/commands"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_handle_reports_the_connection() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    // Bounded polling: the shard is connected after READY, the guild cached
    // once GUILD_CREATE went through the cache.
    let mut snapshot = bot.status.snapshot().await;
    for _ in 0..200 {
        if snapshot.is_ready() && snapshot.guilds == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        snapshot = bot.status.snapshot().await;
    }
    assert!(snapshot.is_ready(), "{snapshot:?}");
    assert_eq!(snapshot.shards, 1);
    assert_eq!(snapshot.guilds, 1);
}
