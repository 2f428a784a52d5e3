//! Scale-out end to end: two real `duet run` processes serve one bot on one
//! fake Discord with two shards (process A runs shard 0, which also gets the
//! DMs; process B runs shard 1), sharing one mock LLM, one PostgreSQL schema
//! (DUET_TEST_DATABASE_URL) and one Redis key prefix (DUET_TEST_REDIS_URL).
//! Every message is answered exactly once; memory, `/forget` and a user's
//! rate limit hold across the processes; and a process killed mid-traffic
//! and restarted loses no acknowledged turn: every reply a user saw whole
//! has its turn in PostgreSQL (streamed or not).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use duet::chat::messages::TURN_NOT_STORED;
use duet_testkit::duet_process::{DuetProcess, PROCESS_WAIT, log_message, run_env};
use duet_testkit::fake_discord::fixtures::{
    ALICE, APPLICATION_ID, BOB, DM_ALICE, FakeUser, GENERAL, GUILD_ID, RANDOM,
};
use duet_testkit::fake_discord::realistic::general_channel;
use duet_testkit::fake_discord::shards::{guild_on_shard, shard_of};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage};
use duet_testkit::mock_llm::{Fault, MockLlm, Route, openai_text};
use duet_testkit::postgres::TestSchema;
use duet_testkit::tcp_proxy::TcpProxy;
use duet_testkit::test_redis::TestRedis;
use serde_json::{Value, json};
use tempfile::TempDir;

/// What the bot answers a message it rate-limits.
const RATE_LIMITED: &str = "You're sending messages quickly";

/// Two processes, each with its shard, on shared stores (the fields drop
/// in order: the processes go before their stores are cleaned up).
struct Cluster {
    /// Runs shard 0 (the fixture guild, `guild_a` and the DMs).
    a: DuetProcess,
    /// Runs shard 1 (`guild_b`, `guild_c`).
    b: DuetProcess,
    schema: TestSchema,
    _redis: TestRedis,
    mock: MockLlm,
    discord: FakeDiscord,
    env_b: HashMap<String, String>,
    dir_b: TempDir,
    _dir_a: TempDir,
    /// A second guild on shard 0.
    guild_a: u64,
    /// Guilds on shard 1.
    guild_b: u64,
    guild_c: u64,
}

impl Cluster {
    /// Both processes connected and serving, or `None` (after printing
    /// why) when the test PostgreSQL or Redis is not configured.
    async fn start(label: &str, extra: &[(&str, &str)]) -> Option<Cluster> {
        let schema = TestSchema::create(label).await?;
        let redis = TestRedis::from_env(label)?;
        let mock = MockLlm::start().await;
        let discord = FakeDiscord::start().await;
        discord.set_shards(2, 1);
        let (guild_a, guild_b) = (guild_on_shard(0, 2, 1), guild_on_shard(1, 2, 1));
        let guild_c = guild_on_shard(1, 2, 2);
        for guild in [guild_a, guild_b, guild_c] {
            discord.add_guild(guild);
        }
        assert_eq!(shard_of(GUILD_ID, 2), 0);

        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let env = |dir: &Path, shard: &str| {
            let mut env = run_env(&discord, &mock, dir);
            // OpenAI answers everything: "You said: <question>".
            env.remove("PERPLEXITY_API_KEY");
            env.remove("PERPLEXITY_API_URL");
            for (key, value) in [
                ("MEMORY_BACKEND", "postgres"),
                ("DATABASE_URL", schema.url.as_str()),
                ("REDIS_URL", redis.url.as_str()),
                ("REDIS_KEY_PREFIX", redis.prefix.as_str()),
                ("SHARD_COUNT", "2"),
                ("SHARD_IDS", shard),
                ("RATE_LIMIT", "100000"),
                ("MAX_QUEUED_PER_CONVERSATION", "100"),
            ] {
                env.insert(key.into(), value.into());
            }
            for (key, value) in extra {
                env.insert((*key).into(), (*value).into());
            }
            env
        };
        let (env_a, env_b) = (env(dir_a.path(), "0-0"), env(dir_b.path(), "1-1"));
        let a = DuetProcess::start(&env_a, None, dir_a.path()).await;
        let b = DuetProcess::start(&env_b, None, dir_b.path()).await;
        discord.wait_for_live_shards(&[0, 1]).await;
        discord.wait_for_commands().await;
        for process in [&a, &b] {
            process
                .wait_for_health("its shard connected", |h| {
                    h["discord"]["shards_connected"] == 1
                })
                .await;
        }
        Some(Cluster {
            a,
            b,
            schema,
            _redis: redis,
            mock,
            discord,
            env_b,
            dir_b,
            _dir_a: dir_a,
            guild_a,
            guild_b,
            guild_c,
        })
    }

    /// Sends `message` and waits until the reply to it is shown whole;
    /// returns its text.
    async fn ask(&self, message: UserMessage) -> String {
        let id = self.discord.send_message(message);
        let log = self
            .discord
            .wait_until("a whole reply", |log| {
                shown(log, id).is_some_and(|text| is_whole(&text))
            })
            .await;
        shown(&log, id).unwrap_or_default()
    }

    /// `/forget` (confirmed) run by `user` in #general of the fixture guild
    /// (shard 0: process A); waits for its answer and returns it.
    async fn forget(&self, user: &FakeUser) -> String {
        let confirm = json!([{"name": "confirm", "type": 5, "value": true}]);
        let token = self
            .discord
            .run_command("forget", confirm, user, GENERAL, Some(GUILD_ID));
        let edit = format!("/webhooks/{APPLICATION_ID}/{token}/messages/@original");
        let answered = |r: &&Recorded| r.is("PATCH", &edit) && r.content().is_some();
        let log = self
            .discord
            .wait_until("the answer to /forget", |log| {
                log.iter().any(|r| answered(&r))
            })
            .await;
        let answer = log.iter().find(answered).and_then(Recorded::content);
        answer.unwrap_or_default().to_string()
    }

    /// Every stored question, oldest first.
    async fn stored_questions(&self) -> Vec<String> {
        let rows = self
            .schema
            .client()
            .await
            .query("SELECT question FROM turns ORDER BY id", &[])
            .await
            .expect("read the turns");
        rows.iter().map(|row| row.get(0)).collect()
    }
}

/// A mention of the bot in `channel` of `guild`.
fn mention(user: &FakeUser, guild: u64, channel: u64, text: &str) -> UserMessage {
    UserMessage {
        guild: Some(guild),
        ..UserMessage::mention(user.clone(), channel, text)
    }
}

/// A whole answer of the mock (not a streamed part, not a notice).
fn is_whole(text: &str) -> bool {
    (text.starts_with("You said: ") && text.ends_with(" end")) || text.contains(RATE_LIMITED)
}

/// The bot's messages that reply to the user's message `id`.
fn replies(log: &[Recorded], id: u64) -> Vec<&Recorded> {
    log.iter().filter(|r| r.replies_to() == Some(id)).collect()
}

/// What the reply to message `id` shows now: its first message's latest
/// content (created, then maybe edited while streaming).
fn shown(log: &[Recorded], id: u64) -> Option<String> {
    let reply = *replies(log, id).first()?;
    let edited = format!("{}/{}", reply.path, reply.message_id());
    let latest = log
        .iter()
        .rfind(|r| r.is("PATCH", &edited) && r.content().is_some())
        .unwrap_or(reply);
    latest.content().map(str::to_string)
}

/// The user messages of the mock's request whose last user message is
/// `question` (the history comes first).
fn user_messages_asking(mock: &MockLlm, question: &str) -> Vec<String> {
    let requests = mock.requests_on(Route::OpenAiChat);
    let request = requests
        .iter()
        .rev()
        .find(|r| duet_testkit::mock_llm::last_user_message(&r.body).contains(question))
        .unwrap_or_else(|| panic!("no request asked {question:?}"));
    request.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .map(|m| match &m["content"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_answered_once_and_a_users_memory_spans_both_processes() {
    let Some(cluster) = Cluster::start("scale_once", &[("MEMORY_SCOPE", "user")]).await else {
        return;
    };
    let (guild_a, guild_b) = (cluster.guild_a, cluster.guild_b);
    // Bob tells process A (shard 0) something, then asks process B (shard 1).
    let told = cluster
        .ask(mention(&BOB, GUILD_ID, GENERAL, "my cat is Tom end"))
        .await;
    assert_eq!(told, "You said: my cat is Tom end");
    let asked = cluster
        .ask(mention(
            &BOB,
            guild_b,
            general_channel(guild_b),
            "what is my cat called end",
        ))
        .await;
    assert_eq!(asked, "You said: what is my cat called end");
    let sent = user_messages_asking(&cluster.mock, "what is my cat called");
    assert_eq!(
        sent.len(),
        2,
        "B's request carries the turn A stored: {sent:?}"
    );
    assert!(sent[0].contains("my cat is Tom"), "{sent:?}");

    // A burst over every place: both guilds of shard 0, shard 1, a DM.
    let places = [
        (GUILD_ID, GENERAL),
        (GUILD_ID, RANDOM),
        (guild_a, general_channel(guild_a)),
        (guild_b, general_channel(guild_b)),
    ];
    let mut sent_ids = Vec::new();
    for round in 0..3 {
        for (n, (guild, channel)) in places.iter().enumerate() {
            let text = format!("burst {round} {n} end");
            let user = if n % 2 == 0 { ALICE } else { BOB };
            let id = cluster
                .discord
                .send_message(mention(&user, *guild, *channel, &text));
            sent_ids.push((id, text));
        }
        let text = format!("burst {round} dm end");
        let id = cluster
            .discord
            .send_message(UserMessage::dm(ALICE, DM_ALICE, &text));
        sent_ids.push((id, text));
    }
    cluster
        .discord
        .wait_until("an answer to every message", |log| {
            sent_ids
                .iter()
                .all(|(id, _)| shown(log, *id).is_some_and(|t| is_whole(&t)))
        })
        .await;
    // A last message to each process: once both are answered, a duplicate
    // of anything earlier would have been posted too.
    for (guild, channel) in [(GUILD_ID, GENERAL), (guild_b, general_channel(guild_b))] {
        cluster
            .ask(mention(&ALICE, guild, channel, "last one end"))
            .await;
    }
    let log = cluster.discord.requests();
    for (id, text) in &sent_ids {
        let replies = replies(&log, *id);
        assert_eq!(replies.len(), 1, "one reply to {text:?}: {replies:#?}");
        assert_eq!(shown(&log, *id), Some(openai_text(text)));
    }
    let questions = cluster.stored_questions().await;
    for (_, text) in &sent_ids {
        let stored = questions.iter().filter(|q| q.contains(text.as_str()));
        assert_eq!(stored.count(), 1, "{text:?} stored once: {questions:?}");
    }
    // Both processes answered: each its own shard's messages.
    for (process, name) in [(&cluster.a, "A"), (&cluster.b, "B")] {
        let answered = process
            .logs()
            .iter()
            .filter(|line| log_message(line) == "answered")
            .count();
        assert!(answered >= 4, "process {name} answered {answered}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_through_one_process_is_honoured_by_the_other_at_once() {
    let Some(cluster) = Cluster::start("scale_forget", &[("MEMORY_SCOPE", "user")]).await else {
        return;
    };
    let guild_b = cluster.guild_b;
    let on_b = |text: &str| mention(&BOB, guild_b, general_channel(guild_b), text);
    cluster
        .ask(mention(&BOB, GUILD_ID, GENERAL, "secret one end"))
        .await;
    cluster.ask(on_b("secret two end")).await;
    let sent = user_messages_asking(&cluster.mock, "secret two");
    assert_eq!(sent.len(), 2, "B has read the history: {sent:?}");

    // /forget through A (shard 0), then at once a message through B.
    let forgotten = cluster.forget(&BOB).await;
    assert_eq!(forgotten, duet::chat::messages::FORGET_DONE);
    cluster.ask(on_b("anything left end")).await;
    let sent = user_messages_asking(&cluster.mock, "anything left");
    assert_eq!(sent.len(), 1, "no history after /forget: {sent:?}");
    let questions = cluster.stored_questions().await;
    assert_eq!(questions.len(), 1, "{questions:?}");
    assert!(
        questions[0].contains("anything left end"),
        "only the turn after /forget is stored: {questions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_rate_limit_holds_across_both_processes() {
    let limit = [("RATE_LIMIT", "2"), ("RATE_LIMIT_PER", "3600")];
    let Some(cluster) = Cluster::start("scale_limit", &limit).await else {
        return;
    };
    let guild_b = cluster.guild_b;
    let first = cluster
        .ask(mention(&BOB, GUILD_ID, GENERAL, "one end"))
        .await;
    let second = cluster
        .ask(mention(&BOB, guild_b, general_channel(guild_b), "two end"))
        .await;
    assert_eq!(
        [first.as_str(), second.as_str()],
        ["You said: one end", "You said: two end"]
    );
    let third = cluster
        .ask(mention(
            &BOB,
            guild_b,
            general_channel(guild_b),
            "three end",
        ))
        .await;
    assert!(
        third.contains(RATE_LIMITED),
        "the window is spent, though each process saw one message: {third}"
    );
    assert_eq!(
        cluster.mock.requests_on(Route::OpenAiChat).len(),
        2,
        "the limited message never reached the provider"
    );
    // Alice has a window of her own, in either process.
    let alice = cluster
        .ask(mention(
            &ALICE,
            guild_b,
            general_channel(guild_b),
            "mine end",
        ))
        .await;
    assert_eq!(alice, "You said: mine end");
}

/// One message from each of Alice and Bob in each of `places`; their ids
/// and texts are added to `sent`.
fn send_round(
    discord: &FakeDiscord,
    round: usize,
    places: &[(u64, u64)],
    sent: &mut Vec<(u64, String)>,
) {
    for (n, (guild, channel)) in places.iter().enumerate() {
        for user in [ALICE, BOB] {
            let text = format!("r{round} p{n} u{} end", user.id);
            let id = discord.send_message(mention(&user, *guild, *channel, &text));
            sent.push((id, text));
        }
    }
}

/// Sends bursts over both shards, kills process B (SIGKILL) once some of
/// its replies are shown, keeps sending, restarts B, and checks that every
/// reply the fake shows whole has its turn in PostgreSQL exactly once, and
/// that no message is answered twice. `slow` makes answers take a while,
/// so the kill finds turns in flight.
async fn kill_and_restart_loses_no_acknowledged_turn(
    label: &str,
    extra: &[(&str, &str)],
    slow: Fault,
) {
    let Some(mut cluster) = Cluster::start(label, extra).await else {
        return;
    };
    cluster.mock.set_fault(Route::OpenAiChat, Some(slow));
    let (guild_a, guild_b, guild_c) = (cluster.guild_a, cluster.guild_b, cluster.guild_c);
    // Places 0 and 2 are on shard 1 (B), 1 and 3 on shard 0 (A); B's are
    // one channel twice, so its conversations queue up and the kill finds
    // turns waiting and in flight.
    let before = [
        (guild_b, general_channel(guild_b)),
        (GUILD_ID, GENERAL),
        (guild_b, general_channel(guild_b)),
        (guild_a, general_channel(guild_a)),
    ];
    let mut sent = Vec::new();
    for round in 0..3 {
        send_round(&cluster.discord, round, &before, &mut sent);
    }
    let on_b = |text: &str| text.contains(" p0 ") || text.contains(" p2 ");
    let b_ids: Vec<u64> = sent
        .iter()
        .filter(|(_, t)| on_b(t))
        .map(|(id, _)| *id)
        .collect();
    cluster
        .discord
        .wait_until("some of B's replies", |log| {
            let whole = b_ids
                .iter()
                .filter(|id| shown(log, **id).is_some_and(|t| is_whole(&t)));
            whole.count() >= 2
        })
        .await;
    cluster.b.signal(libc::SIGKILL);
    let killed = cluster.b.wait_for_exit().await;
    assert!(!killed.success(), "{killed:?}");
    cluster.discord.wait_for_live_shards(&[0]).await;
    // Traffic goes on while B is down (shard 1's messages wait in the fake).
    send_round(&cluster.discord, 3, &before, &mut sent);

    cluster.b = DuetProcess::start(&cluster.env_b, None, cluster.dir_b.path()).await;
    cluster.discord.wait_for_live_shards(&[0, 1]).await;
    // Conversations B was in when it died stay locked in Redis until the
    // lock expires; new ones on shard 1 are served at once.
    let after = [(guild_c, general_channel(guild_c)), (GUILD_ID, GENERAL)];
    let mut last = Vec::new();
    send_round(&cluster.discord, 4, &after, &mut last);
    cluster
        .discord
        .wait_until("the answers after the restart and on shard 0", |log| {
            let must = sent.iter().filter(|(_, t)| !on_b(t)).chain(&last);
            must.into_iter()
                .all(|(id, _)| shown(log, *id).is_some_and(|t| is_whole(&t)))
        })
        .await;
    sent.extend(last);

    let log = cluster.discord.requests();
    // Read after the log: a turn shown by then was stored by then.
    let questions = cluster.stored_questions().await;
    let mut acknowledged = 0;
    for (id, text) in &sent {
        let replies = replies(&log, *id);
        assert!(replies.len() <= 1, "{text:?} answered twice: {replies:#?}");
        let stored = questions
            .iter()
            .filter(|q| q.contains(text.as_str()))
            .count();
        assert!(stored <= 1, "{text:?} stored {stored} times");
        if shown(&log, *id) == Some(openai_text(text)) {
            acknowledged += 1;
            assert_eq!(
                stored, 1,
                "{text:?} was answered on screen, so its turn must be stored: {questions:#?}"
            );
        }
    }
    let b_answered = sent
        .iter()
        .filter(|(id, t)| on_b(t) && shown(&log, *id) == Some(openai_text(t)))
        .count();
    assert!(b_answered >= 2, "B's answers before the kill count too");
    if extra.contains(&("STREAM_REPLIES", "true")) {
        let edits = log
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.starts_with("/channels/"));
        assert!(edits.count() > 0, "the replies were streamed");
    }
    assert!(acknowledged >= 8 * 2 + 4, "{acknowledged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_traffic_and_restarted_loses_no_acknowledged_turn() {
    let slow = Fault::Latency(Duration::from_millis(150));
    kill_and_restart_loses_no_acknowledged_turn("scale_kill", &[], slow).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_replies_killed_mid_traffic_lose_no_acknowledged_turn() {
    let streamed = [
        ("STREAM_REPLIES", "true"),
        ("STREAM_EDIT_INTERVAL_MS", "200"),
    ];
    let slow = Fault::Drip(Duration::from_millis(40));
    kill_and_restart_loses_no_acknowledged_turn("scale_kill_stream", &streamed, slow).await;
}

/// Sessions of `schema` waiting for a lock.
async fn waiting_for_a_lock(schema: &TestSchema) -> i64 {
    schema
        .count(
            "SELECT count(*) FROM pg_stat_activity
             WHERE application_name = $1 AND wait_event_type = 'Lock'",
            &schema.name,
        )
        .await
}

/// What the kill tests can only hit by chance, made certain: storing a
/// streamed answer's turn is held up (the test locks the table), and the
/// whole answer stays off the screen until the turn is stored; then the
/// database goes away mid-answer, and the final reply says the turn was not
/// stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_is_shown_whole_only_once_its_turn_is_stored() {
    let Some(schema) = TestSchema::create("scale_store_first").await else {
        return;
    };
    let proxy = TcpProxy::start(schema.server_address()).await;
    let mock = MockLlm::start().await;
    mock.set_fault(
        Route::OpenAiChat,
        Some(Fault::Drip(Duration::from_millis(40))),
    );
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    for (key, value) in [
        ("MEMORY_BACKEND", "postgres".to_string()),
        ("DATABASE_URL", schema.url_via(proxy.addr())),
        ("STREAM_REPLIES", "true".into()),
        ("STREAM_EDIT_INTERVAL_MS", "200".into()),
    ] {
        env.insert(key.into(), value);
    }
    let _duet = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;

    // Held up: the turn waits for the table while the answer is complete.
    let question = "tell me a long story please end";
    let whole = openai_text(question);
    let locker = schema.client().await;
    let id = discord.send_message(UserMessage::dm(ALICE, DM_ALICE, question));
    // The history is loaded before the provider is asked; the store comes after.
    mock.wait_for_requests(1).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE turns IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    while waiting_for_a_lock(&schema).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the store never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The stream has ended: its last part (the mock sends five characters
    // at a time) is all the screen may lack, and it must lack it.
    let log = discord
        .wait_until("the streamed answer but its last part", |log| {
            shown(log, id).is_some_and(|text| {
                text == whole || (whole.starts_with(&text) && text.len() + 5 >= whole.len())
            })
        })
        .await;
    assert_ne!(
        shown(&log, id).unwrap_or_default(),
        whole,
        "the whole answer was shown before its turn was stored"
    );
    let stored = "SELECT count(*) FROM turns WHERE question = $1";
    assert_eq!(schema.count(stored, question).await, 0, "not stored yet");
    locker.batch_execute("COMMIT").await.unwrap();
    discord
        .wait_until("the whole answer once stored", |log| {
            shown(log, id).as_deref() == Some(whole.as_str())
        })
        .await;
    assert_eq!(schema.count(stored, question).await, 1, "stored once shown");

    // Not stored at all: the answer says so.
    let question = "and another story end";
    let id = discord.send_message(UserMessage::dm(ALICE, DM_ALICE, question));
    mock.wait_for_requests(2).await;
    proxy.cut();
    let log = discord
        .wait_until("the final reply with its note", |log| {
            shown(log, id).is_some_and(|text| text.contains(TURN_NOT_STORED))
        })
        .await;
    let final_text = shown(&log, id).unwrap_or_default();
    assert!(
        final_text.starts_with(&openai_text(question)),
        "{final_text}"
    );
}
