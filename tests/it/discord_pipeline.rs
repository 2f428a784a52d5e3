//! End to end with the real pipeline: the real serenity client ↔ the fake
//! Discord ↔ the real `ChatService` (routing, memory, fallbacks, rendering)
//! ↔ the mock LLM server. What a Discord user actually sees.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use duet::chat::{ChatService, ConversationKey, messages};
use duet::discord::render::{DISCORD_MESSAGE_LIMIT, render_answer, split_for_discord};
use duet::providers::Source;
use duet_testkit::fake_discord::bot::MockPipeline;
use duet_testkit::fake_discord::fixtures::{
    ALICE, APPLICATION_ID, BOB, DM_ALICE, GENERAL, GUILD_ID,
};
use duet_testkit::fake_discord::{Recorded, UserMessage, WAIT};
use duet_testkit::mock_llm::{
    ALPHA_URL, BETA_URL, Fault, Route, openai_text, perplexity_raw_text, search_query,
};
use serde_json::json;

const SUPPRESS_EMBEDS: u64 = 1 << 2;
const EPHEMERAL: u64 = 1 << 6;

/// The bot on the real pipeline with the mock behind it (testkit's `MockPipeline`).
struct Stack(MockPipeline);

impl Deref for Stack {
    type Target = MockPipeline;
    fn deref(&self) -> &MockPipeline {
        &self.0
    }
}

impl Stack {
    async fn start(extra: &[(&str, &str)]) -> Self {
        Self(MockPipeline::start(extra).await)
    }

    fn service(&self) -> &ChatService {
        &self.bot.pipeline
    }

    /// The stored turns of `user` in `channel`.
    async fn stored(&self, user: u64, channel: u64) -> Arc<[duet::chat::Turn]> {
        let scope = self.service().config().memory.scope;
        let key = ConversationKey::new(scope, &user.to_string(), &channel.to_string());
        self.service().memory().load(&key).await.expect("memory")
    }

    /// Waits until `n` turns of `user` in `channel` are stored: a streamed
    /// reply is on screen before its turn is written, so the screen alone
    /// does not say the turn is done. Polls the store, bounded by `WAIT`.
    async fn wait_stored(&self, user: u64, channel: u64, n: usize) -> Arc<[duet::chat::Turn]> {
        let poll = async {
            loop {
                let turns = self.stored(user, channel).await;
                if turns.len() >= n {
                    return turns;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(WAIT, poll)
            .await
            .unwrap_or_else(|_| panic!("{n} turns were not stored in time"))
    }

    /// Waits until `channel` shows `n` messages from the bot and returns the log.
    async fn wait_posts(&self, what: &str, channel: u64, n: usize) -> Vec<Recorded> {
        self.bot
            .discord
            .wait_until(what, |log| posts(log, channel).len() >= n)
            .await
    }
}

fn messages_to(channel: u64) -> String {
    format!("/channels/{channel}/messages")
}

/// The messages the bot posted in `channel`, in order.
fn posts(log: &[Recorded], channel: u64) -> Vec<Recorded> {
    log.iter()
        .filter(|r| r.is("POST", &messages_to(channel)))
        .cloned()
        .collect()
}

/// Every create, edit and delete of messages in `channel`, in order.
fn writes(log: &[Recorded], channel: u64) -> Vec<Recorded> {
    log.iter()
        .filter(|r| r.path.starts_with(&messages_to(channel)))
        .cloned()
        .collect()
}

/// What `channel` shows once the bot's creates, edits and deletes are applied.
fn screen(log: &[Recorded], channel: u64) -> Vec<String> {
    let mut shown: Vec<(u64, String)> = Vec::new();
    for write in writes(log, channel) {
        let id = || write.path.rsplit('/').next().and_then(|id| id.parse().ok());
        match write.method.as_str() {
            "POST" => shown.push((write.message_id(), content(&write))),
            "PATCH" => {
                if let Some(entry) = shown.iter_mut().find(|(i, _)| Some(*i) == id()) {
                    entry.1 = content(&write);
                }
            }
            "DELETE" => shown.retain(|(i, _)| Some(*i) != id()),
            _ => {}
        }
    }
    shown.into_iter().map(|(_, c)| c).collect()
}

fn content(write: &Recorded) -> String {
    write.content().unwrap_or_default().to_string()
}

/// How duet renders the mock's Perplexity answer to `question`: the mock's
/// result ids 1 and 7 become sources 1 and 2.
fn rendered_perplexity_answer(question: &str) -> Vec<String> {
    let raw = perplexity_raw_text(question).replace("[7]", "[2]");
    let sources = [
        Source {
            title: "Alpha".into(),
            url: ALPHA_URL.into(),
        },
        Source {
            title: "Beta".into(),
            url: BETA_URL.into(),
        },
    ];
    split_for_discord(&render_answer(&raw, &sources), DISCORD_MESSAGE_LIMIT)
}

fn assert_pings_nobody(write: &Recorded) {
    assert_eq!(
        write.body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": [], "replied_user": false}),
        "{write:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_is_answered_by_the_real_pipeline() {
    let stack = Stack::start(&[]).await;
    let id =
        stack
            .bot
            .discord
            .send_message(UserMessage::dm(ALICE, DM_ALICE, "hello, how are you?"));

    let log = stack.wait_posts("the DM reply", DM_ALICE, 1).await;
    let reply = &posts(&log, DM_ALICE)[0];
    assert_eq!(
        reply.content(),
        Some(openai_text("hello, how are you?").as_str())
    );
    assert_eq!(
        reply.body["message_reference"]["message_id"],
        json!(id.to_string())
    );
    assert_pings_nobody(reply);
    assert_eq!(stack.mock.requests_on(Route::OpenAiChat).len(), 1);
    assert_eq!(stack.stored(ALICE.id, DM_ALICE).await.len(), 1);
    stack.bot.assert_no_unexpected_calls();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_the_bot_continues_the_conversation_the_provider_sees() {
    let stack = Stack::start(&[]).await;
    let discord = &stack.bot.discord;
    discord.send_message(UserMessage::mention(ALICE, GENERAL, "my name is Alice"));
    let log = stack.wait_posts("the first reply", GENERAL, 1).await;
    let first_reply = discord.sent_message(posts(&log, GENERAL)[0].message_id());

    discord.send_message(UserMessage {
        replying_to: Some(first_reply),
        ..UserMessage::guild(ALICE, GENERAL, "what is my name?")
    });
    let log = stack.wait_posts("the second reply", GENERAL, 2).await;
    assert_eq!(
        posts(&log, GENERAL)[1].content(),
        Some(openai_text("what is my name?").as_str())
    );

    let requests = stack.mock.requests_on(Route::OpenAiChat);
    assert_eq!(requests.len(), 2);
    let sent: Vec<(&str, &str)> = requests[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default(),
                m["content"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let expected_tail = [
        ("user", "my name is Alice"),
        ("assistant", "You said: my name is Alice"),
        ("user", "what is my name?"),
    ];
    assert!(sent.ends_with(&expected_tail), "{sent:?}");
    assert_eq!(stack.stored(ALICE.id, GENERAL).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_question_is_answered_from_perplexity_with_its_sources() {
    let stack = Stack::start(&[]).await;
    let question = "what's the weather in Paris today?";
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, question));

    let expected = rendered_perplexity_answer(question);
    let log = stack
        .wait_posts("the web answer", DM_ALICE, expected.len())
        .await;
    let sent = posts(&log, DM_ALICE);
    let contents: Vec<String> = sent.iter().map(content).collect();
    assert_eq!(contents, expected);
    let all = contents.concat();
    assert!(all.contains(&format!("<{ALPHA_URL}>")), "{all}");
    assert!(all.contains(&format!("<{BETA_URL}>")), "{all}");
    assert_eq!(sent[0].body["flags"], json!(SUPPRESS_EMBEDS));
    assert!(sent.iter().all(|m| {
        m.content()
            .is_some_and(|c| c.chars().count() <= DISCORD_MESSAGE_LIMIT)
    }));
    assert_eq!(stack.mock.requests_on(Route::Agent).len(), 1);
    assert!(stack.mock.requests_on(Route::OpenAiChat).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_edited_in_and_ends_as_the_plain_rendering() {
    let stack = Stack::start(&[
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ])
    .await;
    // Every SSE event 40 ms apart: the answer takes over a second to arrive.
    stack
        .mock
        .set_fault(Route::Agent, Some(Fault::Drip(Duration::from_millis(40))));
    let question = "what's the weather in Paris today, and will it rain near the river tonight?";
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, question));

    let expected = rendered_perplexity_answer(question);
    let log = stack
        .bot
        .discord
        .wait_until("the final edit", |log| screen(log, DM_ALICE) == expected)
        .await;
    let writes = writes(&log, DM_ALICE);
    assert_eq!(writes[0].method, "POST", "{writes:#?}");
    assert_ne!(
        content(&writes[0]),
        expected[0],
        "the reply appears before the answer is complete"
    );
    assert!(
        writes[1..].iter().any(|w| w.method == "PATCH"),
        "the reply is edited as the answer arrives: {writes:#?}"
    );
    assert!(
        writes
            .iter()
            .all(|w| content(w).chars().count() <= DISCORD_MESSAGE_LIMIT)
    );
    writes.iter().for_each(assert_pings_nobody);
    assert_eq!(
        stack.mock.requests_on(Route::Agent)[0].body["stream"],
        json!(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_down_give_the_friendly_message_and_others_are_answered_after() {
    let stack = Stack::start(&[]).await;
    let discord = &stack.bot.discord;
    stack
        .mock
        .set_fault(Route::OpenAiChat, Some(Fault::Status(500)));
    stack.mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    discord.send_message(UserMessage::mention(ALICE, GENERAL, "write me a haiku"));
    let log = stack.wait_posts("the failure notice", GENERAL, 1).await;
    assert_eq!(posts(&log, GENERAL)[0].content(), Some(messages::BOTH_DOWN));
    assert!(stack.stored(ALICE.id, GENERAL).await.is_empty());

    stack.mock.set_fault(Route::OpenAiChat, None);
    stack.mock.set_fault(Route::Agent, None);
    discord.send_message(UserMessage::mention(BOB, GENERAL, "are you back?"));
    let log = stack.wait_posts("Bob's answer", GENERAL, 2).await;
    assert_eq!(
        posts(&log, GENERAL)[1].content(),
        Some(openai_text("are you back?").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_short_is_replaced_by_the_fallback_answer_and_its_note() {
    let stack = Stack::start(&[
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ])
    .await;
    stack
        .mock
        .set_fault(Route::Agent, Some(Fault::TruncatedStream));
    let question = "search: rust release notes";
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, question));

    let answer = format!(
        "{}\n\n-# {}",
        render_answer(&openai_text("rust release notes"), &[]),
        messages::WEB_SEARCH_UNAVAILABLE_NOTE
    );
    let expected = split_for_discord(&answer, DISCORD_MESSAGE_LIMIT);
    stack
        .bot
        .discord
        .wait_until("the fallback answer on screen", |log| {
            screen(log, DM_ALICE) == expected
        })
        .await;
    assert_eq!(stack.mock.requests_on(Route::Agent).len(), 1);
    assert_eq!(stack.mock.requests_on(Route::OpenAiChat).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_whose_providers_are_down_shows_the_friendly_message() {
    let stack = Stack::start(&[
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ])
    .await;
    stack
        .mock
        .set_fault(Route::OpenAiChat, Some(Fault::Status(500)));
    stack
        .mock
        .set_fault(Route::Agent, Some(Fault::MalformedJson));
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, "write me a haiku"));
    stack
        .bot
        .discord
        .wait_until("the failure notice", |log| {
            screen(log, DM_ALICE) == [messages::BOTH_DOWN]
        })
        .await;
    assert!(stack.stored(ALICE.id, DM_ALICE).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_user_is_told_once_and_then_left_in_peace() {
    let stack = Stack::start(&[("RATE_LIMIT", "1"), ("RATE_LIMIT_PER", "3600")]).await;
    let discord = &stack.bot.discord;
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "one"));
    stack.wait_posts("the answer", DM_ALICE, 1).await;
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "two"));
    let log = stack.wait_posts("the notice", DM_ALICE, 2).await;
    let notice = content(&posts(&log, DM_ALICE)[1]);
    assert!(
        notice.starts_with("⏱️ You're sending messages quickly"),
        "{notice}"
    );

    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "three"));
    discord.send_message(UserMessage::mention(BOB, GENERAL, "my turn"));
    // Alice's third message was dispatched first and its refusal needs no
    // provider round trip, unlike Bob's answer: once that is out, so is she.
    let log = stack.wait_posts("Bob's answer", GENERAL, 1).await;
    assert_eq!(posts(&log, DM_ALICE).len(), 2, "no second notice");
    assert_eq!(stack.mock.requests().len(), 2);
}

/// Runs `/name` in #general as Alice; returns the deferral and the answer.
async fn command(stack: &Stack, name: &str, options: serde_json::Value) -> (Recorded, Recorded) {
    let token = stack
        .bot
        .discord
        .run_command(name, options, &ALICE, GENERAL, Some(GUILD_ID));
    let original = format!("/webhooks/{APPLICATION_ID}/{token}/messages/@original");
    let log = stack
        .bot
        .discord
        .wait_until("the command's answer", |log| {
            log.iter().any(|r| r.is("PATCH", &original))
        })
        .await;
    let calls: Vec<&Recorded> = log
        .iter()
        .filter(|r| r.is_rest() && r.path.contains(&format!("/{token}")))
        .collect();
    assert!(calls[0].path.ends_with("/callback"), "{calls:#?}");
    assert!(calls[1].is("PATCH", &original), "{calls:#?}");
    (calls[0].clone(), calls[1].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_the_command_from_perplexity_with_sources() {
    let stack = Stack::start(&[]).await;
    let options = json!([{"name": "query", "type": 3, "value": "write me a poem"}]);
    let (deferral, answer) = command(&stack, "search", options).await;
    assert_eq!(deferral.body["type"], json!(5));
    assert_eq!(
        answer.content(),
        Some(rendered_perplexity_answer("write me a poem")[0].as_str())
    );
    assert_eq!(answer.body["flags"], json!(SUPPRESS_EMBEDS));
    assert_pings_nobody(&answer);
    assert!(stack.mock.requests_on(Route::OpenAiChat).is_empty());
}

fn ephemeral_deferral(call: &Recorded) -> bool {
    call.body["type"] == json!(5) && call.body["data"]["flags"] == json!(EPHEMERAL)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_empties_the_stored_conversation() {
    let stack = Stack::start(&[]).await;
    stack
        .bot
        .discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "remember 42"));
    stack.wait_posts("the answer", GENERAL, 1).await;
    assert_eq!(stack.stored(ALICE.id, GENERAL).await.len(), 1);

    let (deferral, answer) = command(&stack, "reset", json!([])).await;
    assert!(ephemeral_deferral(&deferral), "{deferral:#?}");
    assert_eq!(answer.content(), Some(messages::RESET_DONE));
    assert!(stack.stored(ALICE.id, GENERAL).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_privately_shows_what_is_stored_about_the_caller() {
    let stack = Stack::start(&[]).await;
    stack
        .bot
        .discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "remember 42"));
    stack.wait_posts("the answer", GENERAL, 1).await;

    let (deferral, answer) = command(&stack, "export", json!([])).await;
    assert!(ephemeral_deferral(&deferral), "{deferral:#?}");
    let text = answer.content().expect("export text");
    assert!(text.starts_with("```json"), "{text}");
    assert!(text.contains("remember 42"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_ephemeral_and_shows_the_mode_and_models() {
    let stack = Stack::start(&[]).await;
    let (deferral, answer) = command(&stack, "status", json!([])).await;
    assert!(ephemeral_deferral(&deferral), "{deferral:#?}");
    let text = answer.content().expect("status text");
    assert!(text.starts_with("**Mode:** hybrid"), "{text}");
    assert!(text.contains("**Web answers:** perplexity"), "{text}");
    assert!(text.contains("`mock-gpt`"), "{text}");
    assert!(text.contains("`mock-sonar`"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_writing_everyone_pings_nobody() {
    let stack = Stack::start(&[]).await;
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, "@everyone wake up"));
    let log = stack.wait_posts("the reply", DM_ALICE, 1).await;
    let reply = &posts(&log, DM_ALICE)[0];
    let text = reply.content().expect("content");
    assert_eq!(
        stack.mock.requests_on(Route::OpenAiChat).len(),
        1,
        "the model's answer repeats @everyone"
    );
    assert!(!text.contains("@everyone"), "{text}");
    assert!(text.contains("everyone wake up"), "{text}");
    assert_pings_nobody(reply);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_turn_is_answered_when_the_organisation_may_not_stream() {
    let stack = Stack::start(&[
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ])
    .await;
    stack
        .mock
        .set_fault(Route::OpenAiChat, Some(Fault::StreamNeedsVerification));
    let discord = &stack.bot.discord;
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "write me a haiku"));
    discord
        .wait_until("the first answer", |log| {
            screen(log, DM_ALICE) == [openai_text("write me a haiku")]
        })
        .await;
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "and another one"));
    discord
        .wait_until("the second answer", |log| {
            screen(log, DM_ALICE)
                == [
                    openai_text("write me a haiku"),
                    openai_text("and another one"),
                ]
        })
        .await;
    let streamed: Vec<bool> = stack
        .mock
        .requests_on(Route::OpenAiChat)
        .iter()
        .map(|r| r.body["stream"] == json!(true))
        .collect();
    assert_eq!(
        streamed,
        [true, false, false],
        "the second turn never streams"
    );
    assert!(stack.mock.requests_on(Route::Agent).is_empty());
    assert_eq!(stack.wait_stored(ALICE.id, DM_ALICE, 2).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_failure_tells_the_user_to_tell_the_admin_not_to_rephrase() {
    let stack = Stack::start(&[]).await;
    stack
        .mock
        .set_fault(Route::OpenAiChat, Some(Fault::Status(404)));
    stack.mock.set_fault(Route::Agent, Some(Fault::Status(401)));
    stack
        .bot
        .discord
        .send_message(UserMessage::mention(ALICE, GENERAL, "write me a haiku"));
    let log = stack.wait_posts("the failure notice", GENERAL, 1).await;
    let notice = content(&posts(&log, GENERAL)[0]);
    assert_eq!(
        notice,
        messages::provider_failed(duet::providers::ErrorKind::Misconfigured)
    );
    assert!(notice.contains("admin"), "{notice}");
    assert!(!notice.contains("rephras"), "{notice}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_web_answer_shows_its_searches_first_and_ends_without_them() {
    let stack = Stack::start(&[
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ])
    .await;
    stack
        .mock
        .set_fault(Route::Agent, Some(Fault::Drip(Duration::from_millis(60))));
    let question = "search: rust 1.90 release notes";
    stack
        .bot
        .discord
        .send_message(UserMessage::dm(ALICE, DM_ALICE, question));

    let expected = rendered_perplexity_answer("rust 1.90 release notes");
    let log = stack
        .bot
        .discord
        .wait_until("the final edit", |log| screen(log, DM_ALICE) == expected)
        .await;
    let writes = writes(&log, DM_ALICE);
    let searching = messages::searching(&[search_query("rust 1.90 release notes")]);
    assert_eq!(
        content(&writes[0]),
        searching,
        "the reply first shows the search: {writes:#?}"
    );
    writes.iter().for_each(assert_pings_nobody);
}
