//! End to end: the real serenity client ↔ the fake Discord ↔ a scripted
//! pipeline. Who gets answered, how replies look, streaming, resilience.

use std::time::Duration;

use duet::discord::EMPTY_MENTION_HINT;
use duet::discord::render::{DISCORD_MESSAGE_LIMIT, split_for_discord};
use duet_testkit::fake_discord::bot::RunningBot;
use duet_testkit::fake_discord::conversations::{Scripted, ScriptedConversations};
use duet_testkit::fake_discord::fixtures::{
    ALICE, BOB, DM_ALICE, GENERAL, NEW_THREAD, OTHER_BOT, RANDOM, READ_ONLY, THREAD,
};
use duet_testkit::fake_discord::{Recorded, UserMessage, count};
use serde_json::json;

fn messages_to(channel: u64) -> String {
    format!("/channels/{channel}/messages")
}

fn posts(log: &[Recorded], channel: u64) -> Vec<Recorded> {
    log.iter()
        .filter(|r| r.is("POST", &messages_to(channel)))
        .cloned()
        .collect()
}

/// Sends a DM and waits for its answer: everything dispatched before it has
/// been through the bot's decision by then (a barrier for "no reply" checks).
async fn barrier(bot: &RunningBot, text: &str) {
    bot.discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, text));
    let expected = text.to_string();
    bot.discord
        .wait_until("the barrier DM's answer", |log| {
            posts(log, DM_ALICE)
                .iter()
                .any(|r| r.content().is_some_and(|c| c.contains(&expected)))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_gets_a_reply_that_pings_nobody() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    let id = bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, "hello there"));

    let log = bot
        .discord
        .wait_until("the DM reply", |log| !posts(log, DM_ALICE).is_empty())
        .await;
    let reply = &posts(&log, DM_ALICE)[0];
    assert_eq!(reply.content(), Some("turn 1: hello there"));
    assert_eq!(
        reply.body["message_reference"]["message_id"],
        json!(id.to_string())
    );
    assert_eq!(reply.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(reply.body["allowed_mentions"]["replied_user"], json!(false));

    let received = bot.pipeline.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].user_id, ALICE.id.to_string());
    assert_eq!(received[0].channel_id, DM_ALICE.to_string());
    assert!(received[0].forced.is_none());
    assert!(!received[0].privileged);
    bot.assert_no_unexpected_calls();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_in_an_allowed_channel_is_answered_and_other_channels_are_not() {
    let bot = RunningBot::start(
        &[("ALLOWED_CHANNEL_IDS", &GENERAL.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    bot.discord
        .send_message(UserMessage::mention(BOB, RANDOM, "not here"));
    let id = bot
        .discord
        .send_message(UserMessage::mention(BOB, GENERAL, "what's new?"));

    let log = bot
        .discord
        .wait_until("the reply in #general", |log| {
            !posts(log, GENERAL).is_empty()
        })
        .await;
    let reply = &posts(&log, GENERAL)[0];
    assert_eq!(
        reply.content(),
        Some("turn 1: what's new?"),
        "the mention is stripped"
    );
    assert_eq!(
        reply.body["message_reference"],
        json!({"type": 0, "message_id": id.to_string(), "channel_id": GENERAL.to_string(), "fail_if_not_exists": false, "guild_id": null})
    );

    barrier(&bot, "barrier").await;
    let log = bot.discord.requests();
    assert!(
        posts(&log, RANDOM).is_empty(),
        "no reply in a channel that is not allowed"
    );
    assert_eq!(
        count(&log, "POST", &format!("/channels/{RANDOM}/typing")),
        0
    );
    assert!(bot.pipeline.received().iter().all(|m| m.text != "not here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unaddressed_messages_bots_and_webhooks_get_no_reply() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    bot.discord
        .send_message(UserMessage::guild(BOB, GENERAL, "just chatting"));
    bot.discord
        .send_message(UserMessage::mention(OTHER_BOT, GENERAL, "bot talk"));
    bot.discord.send_message(UserMessage {
        webhook: true,
        ..UserMessage::mention(BOB, GENERAL, "from a webhook")
    });
    barrier(&bot, "barrier").await;

    let received: Vec<String> = bot
        .pipeline
        .received()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(received, vec!["barrier"]);
    assert!(posts(&bot.discord.requests(), GENERAL).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_the_bots_message_continues_the_conversation_without_a_mention() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "my name is Alice"));
    let log = bot
        .discord
        .wait_until("the first reply", |log| !posts(log, GENERAL).is_empty())
        .await;
    let first_reply = bot
        .discord
        .sent_message(posts(&log, GENERAL)[0].message_id());

    bot.discord.send_message(UserMessage {
        replying_to: Some(first_reply),
        ..UserMessage::guild(ALICE, GENERAL, "what is my name?")
    });
    let log = bot
        .discord
        .wait_until("the second reply", |log| posts(log, GENERAL).len() == 2)
        .await;
    assert_eq!(
        posts(&log, GENERAL)[1].content(),
        Some("turn 2: what is my name? (after: my name is Alice)")
    );
    let received = bot.pipeline.received();
    assert_eq!(received[0].channel_id, received[1].channel_id);
    assert_eq!(received[0].user_id, received[1].user_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_comes_first_and_a_long_answer_arrives_in_parts() {
    let code: String = (0..120)
        .map(|i| format!("let value_{i} = compute({i});\n"))
        .collect();
    let answer = format!(
        "Here is the program:\n```rust\n{code}```\nAnd {}",
        "more words ".repeat(60)
    );
    assert!(answer.chars().count() > 4000);
    let script_answer = answer.clone();
    let pipeline = ScriptedConversations::new(move |_, _| Scripted::Answer(script_answer.clone()));
    let bot = RunningBot::start(&[], pipeline).await;
    let expected = split_for_discord(&answer, DISCORD_MESSAGE_LIMIT);

    let id = bot
        .discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "write code"));
    let log = bot
        .discord
        .wait_until("every part", |log| {
            posts(log, GENERAL).len() == expected.len()
        })
        .await;

    let typing = log
        .iter()
        .position(|r| r.is("POST", &format!("/channels/{GENERAL}/typing")))
        .expect("typing was triggered");
    let first = log
        .iter()
        .position(|r| r.is("POST", &messages_to(GENERAL)))
        .unwrap();
    assert!(typing < first, "typing arrives before the reply");

    let parts = posts(&log, GENERAL);
    let contents: Vec<&str> = parts.iter().filter_map(Recorded::content).collect();
    assert!(contents.len() >= 3);
    assert_eq!(contents, expected);
    assert!(
        contents
            .iter()
            .all(|c| c.chars().count() <= DISCORD_MESSAGE_LIMIT)
    );
    assert_eq!(
        parts[0].body["message_reference"]["message_id"],
        json!(id.to_string())
    );
    assert!(
        parts[1..]
            .iter()
            .all(|p| p.body.get("message_reference").is_none())
    );
    assert!(
        parts
            .iter()
            .all(|p| p.body["allowed_mentions"]["parse"] == json!([]))
    );
    bot.assert_no_unexpected_calls();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_say_everyone_ping_nobody_and_hide_link_previews() {
    let pipeline = ScriptedConversations::new(|_, _| {
        Scripted::Answer("@everyone <@502> see https://example.com".into())
    });
    let bot = RunningBot::start(&[], pipeline).await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "announce it"));

    let log = bot
        .discord
        .wait_until("the reply", |log| !posts(log, GENERAL).is_empty())
        .await;
    let reply = &posts(&log, GENERAL)[0];
    assert_eq!(
        reply.body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": [], "replied_user": false})
    );
    assert_eq!(reply.body["flags"], json!(4), "SUPPRESS_EMBEDS for links");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_replies_are_edited_no_faster_than_the_interval() {
    let parts: Vec<String> = (0..10).map(|i| format!("chunk{i} ")).collect();
    let full = parts.concat().trim_end().to_string();
    let script_parts = parts.clone();
    let pipeline = ScriptedConversations::new(move |_, _| Scripted::Stream {
        parts: script_parts.clone(),
        every: Duration::from_millis(60),
    });
    let bot = RunningBot::start(
        &[
            ("STREAM_REPLIES", "true"),
            ("STREAM_EDIT_INTERVAL_MS", "200"),
        ],
        pipeline,
    )
    .await;
    bot.discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, "stream please"));

    let expected = full.clone();
    let log = bot
        .discord
        .wait_until("the final edit", |log| {
            log.iter()
                .rev()
                .find(|r| r.path.starts_with(&messages_to(DM_ALICE)))
                .is_some_and(|r| r.content() == Some(expected.as_str()))
        })
        .await;
    let writes: Vec<&Recorded> = log
        .iter()
        .filter(|r| r.path.starts_with(&messages_to(DM_ALICE)))
        .collect();
    assert_eq!(
        writes[0].method, "POST",
        "the reply appears after the first tokens"
    );
    assert_ne!(
        writes[0].content(),
        Some(full.as_str()),
        "…before the answer is complete"
    );
    assert!(
        writes.len() >= 2,
        "the reply is edited as tokens arrive: {writes:#?}"
    );
    assert!(writes[1..].iter().all(|w| w.method == "PATCH"));
    assert!(
        writes
            .iter()
            .all(|w| w.body["allowed_mentions"]["parse"] == json!([]))
    );
    // Server-side arrival times; a little tolerance for request latency jitter.
    let least = Duration::from_millis(200 - 40);
    for pair in writes.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= least, "two writes {gap:?} apart: {writes:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_reaches_the_user_and_others_are_still_answered() {
    let pipeline = ScriptedConversations::new(|message, _| {
        if message.user_id == ALICE.id.to_string() {
            Scripted::Notice(
                "The AI service is unavailable right now. Please try again later.".into(),
            )
        } else {
            Scripted::Echo
        }
    });
    let bot = RunningBot::start(&[], pipeline).await;
    let id = bot
        .discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "hello?"));
    let log = bot
        .discord
        .wait_until("the notice", |log| !posts(log, GENERAL).is_empty())
        .await;
    let notice = &posts(&log, GENERAL)[0];
    assert!(
        notice
            .content()
            .unwrap()
            .starts_with("The AI service is unavailable")
    );
    assert_eq!(
        notice.body["message_reference"]["message_id"],
        json!(id.to_string())
    );

    bot.discord
        .send_message(UserMessage::mention(BOB, GENERAL, "still there?"));
    let log = bot
        .discord
        .wait_until("Bob's answer", |log| posts(log, GENERAL).len() == 2)
        .await;
    assert_eq!(
        posts(&log, GENERAL)[1].content(),
        Some("turn 1: still there?")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_errors_are_survived() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    bot.discord.fail(
        axum::http::Method::POST,
        &messages_to(RANDOM),
        axum::http::StatusCode::FORBIDDEN,
        json!({"code": 50013, "message": "Missing Permissions"}),
    );
    // @everyone may not send in #announcements: the fake refuses like Discord.
    bot.discord
        .send_message(UserMessage::mention(BOB, READ_ONLY, "here?"));
    // Discord itself refuses in #random.
    bot.discord
        .send_message(UserMessage::mention(BOB, RANDOM, "and here?"));
    bot.pipeline.wait_received(2).await;
    bot.discord
        .wait_until("the refused sends", |log| {
            posts(log, RANDOM).iter().any(|r| r.status == 403)
                && posts(log, READ_ONLY).iter().any(|r| r.status == 403)
        })
        .await;

    barrier(&bot, "still alive").await;
    let read_only = posts(&bot.discord.requests(), READ_ONLY);
    assert!(read_only.iter().all(|r| r.status == 403), "{read_only:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_of_an_allowed_channel_are_answered() {
    let bot = RunningBot::start(
        &[("ALLOWED_CHANNEL_IDS", &GENERAL.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, THREAD, "in a thread"));
    let log = bot
        .discord
        .wait_until("the reply in the thread", |log| {
            !posts(log, THREAD).is_empty()
        })
        .await;
    assert_eq!(
        posts(&log, THREAD)[0].content(),
        Some("turn 1: in a thread")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_missing_from_the_cache_is_looked_up_once() {
    let bot = RunningBot::start(
        &[("ALLOWED_CHANNEL_IDS", &GENERAL.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    bot.discord
        .send_message(UserMessage::mention(ALICE, NEW_THREAD, "new thread"));
    let log = bot
        .discord
        .wait_until("the reply in the new thread", |log| {
            !posts(log, NEW_THREAD).is_empty()
        })
        .await;
    assert_eq!(count(&log, "GET", &format!("/channels/{NEW_THREAD}")), 1);
    assert_eq!(
        count(&log, "GET", &format!("/channels/{GENERAL}")),
        0,
        "cached"
    );
    bot.assert_no_unexpected_calls();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_allowlist_applies_to_the_next_message() {
    let bot = RunningBot::start(
        &[("ALLOWED_CHANNEL_IDS", &GENERAL.to_string())],
        ScriptedConversations::echo(),
    )
    .await;
    bot.discord
        .send_message(UserMessage::mention(BOB, RANDOM, "first try"));
    barrier(&bot, "one").await;
    assert!(posts(&bot.discord.requests(), RANDOM).is_empty());
    assert!(
        bot.pipeline
            .received()
            .iter()
            .all(|m| m.text != "first try")
    );

    bot.reconfigure(&[("ALLOWED_CHANNEL_IDS", &RANDOM.to_string())]);
    bot.discord
        .send_message(UserMessage::mention(BOB, RANDOM, "second try"));
    let log = bot
        .discord
        .wait_until("the reply after the reload", |log| {
            !posts(log, RANDOM).is_empty()
        })
        .await;
    assert_eq!(posts(&log, RANDOM)[0].content(), Some("turn 1: second try"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_mention_gets_a_hint_without_calling_the_pipeline() {
    let bot = RunningBot::start(&[], ScriptedConversations::echo()).await;
    bot.discord
        .send_message(UserMessage::mention(BOB, GENERAL, ""));
    let log = bot
        .discord
        .wait_until("the hint", |log| !posts(log, GENERAL).is_empty())
        .await;
    assert_eq!(posts(&log, GENERAL)[0].content(), Some(EMPTY_MENTION_HINT));
    assert!(bot.pipeline.received().is_empty());
}
