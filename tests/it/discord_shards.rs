//! Shards across processes: two real `duet run` processes share one bot's
//! two shards (`SHARD_IDS = 0-0`, and `auto` from a StatefulSet-style host
//! name), against a fake Discord that routes each guild's events to its
//! shard and DMs to shard 0. Every message is answered exactly once, the
//! slash commands are registered once (by shard 0's process), and each
//! `/health` lists its own shards. Shard settings that cannot work stop the
//! process with exit 2 and say why. In one process, shards start one at a
//! time, each after the identify pacer grants its bucket.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use duet::chat::live::Live;
use duet::discord::{self, DiscordStatus, IDENTIFY_INTERVAL, IdentifyPacer, SharedPacer};
use duet::providers::Providers;
use duet::shutdown::Shutdown;
use duet_testkit::duet_process::{DuetProcess, PROCESS_WAIT, run_env, run_to_exit};
use duet_testkit::fake_discord::bot::{config_for, init_tracing};
use duet_testkit::fake_discord::conversations::ScriptedConversations;
use duet_testkit::fake_discord::fixtures::{ALICE, BOB, DM_ALICE, GENERAL};
use duet_testkit::fake_discord::realistic::general_channel;
use duet_testkit::fake_discord::shards::{guild_on_shard, shard_of};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage, count};
use duet_testkit::mock_llm::MockLlm;
use duet_testkit::test_redis::TestRedis;
use serde_json::Value;

use crate::coord_limits::coordinator;

const COMMANDS_PATH: &str = "/applications/901/commands";

/// Bot messages posted in `channel`.
fn posts(log: &[Recorded], channel: u64) -> usize {
    count(log, "POST", &format!("/channels/{channel}/messages"))
}

fn env_for(
    discord: &FakeDiscord,
    mock: &MockLlm,
    dir: &Path,
    extra: &[(&str, &str)],
) -> HashMap<String, String> {
    let mut env = run_env(discord, mock, dir);
    env.insert("MEMORY_BACKEND".into(), "memory".into());
    env.insert("SHARD_COUNT".into(), "2".into());
    for (key, value) in extra {
        env.insert(key.to_string(), value.to_string());
    }
    env
}

/// A guild message mentioning the bot in `channel` of `guild`.
fn mention_in(guild: u64, channel: u64, text: &str) -> UserMessage {
    UserMessage {
        guild: Some(guild),
        ..UserMessage::mention(BOB, channel, text)
    }
}

fn shard_ids(health: &Value) -> Vec<u64> {
    health["discord"]["shard_states"]
        .as_array()
        .map(|states| states.iter().filter_map(|s| s["id"].as_u64()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_split_the_shards_and_answer_every_message_once() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    discord.set_shards(2, 1);
    let (guild_a, guild_b) = (guild_on_shard(0, 2, 1), guild_on_shard(1, 2, 1));
    let guild_c = guild_on_shard(1, 2, 2);
    for guild in [guild_a, guild_b, guild_c] {
        discord.add_guild(guild);
    }
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env_a = env_for(&discord, &mock, dir_a.path(), &[("SHARD_IDS", "0-0")]);
    // As a StatefulSet's second pod: the range comes from the host name.
    let env_b = env_for(
        &discord,
        &mock,
        dir_b.path(),
        &[("SHARD_IDS", "auto"), ("HOSTNAME", "duet-1")],
    );
    let first = DuetProcess::start(&env_a, None, dir_a.path()).await;
    let second = DuetProcess::start(&env_b, None, dir_b.path()).await;
    discord.wait_for_live_shards(&[0, 1]).await;
    discord.wait_for_commands().await;
    second
        .wait_for_log(
            0,
            "slash commands are registered by the process that runs shard 0",
        )
        .await;

    let messages = [
        (fixtures_guild(), GENERAL, "on shard 0, fixture guild"),
        (guild_a, general_channel(guild_a), "on shard 0, guild a"),
        (guild_b, general_channel(guild_b), "on shard 1, guild b"),
        (guild_c, general_channel(guild_c), "on shard 1, guild c"),
    ];
    for (guild, channel, text) in messages {
        discord.send_message(mention_in(guild, channel, text));
    }
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "a DM, on shard 0"));
    let log = discord
        .wait_until("a reply to every message", |log| {
            messages
                .iter()
                .all(|(_, channel, _)| posts(log, *channel) >= 1)
                && posts(log, DM_ALICE) >= 1
        })
        .await;
    // A second round on both shards: once it is answered, any duplicate of
    // the first round would have been posted too.
    discord.send_message(mention_in(guild_a, general_channel(guild_a), "again a"));
    discord.send_message(mention_in(guild_b, general_channel(guild_b), "again b"));
    let log_after = discord
        .wait_until("the second round", |log| {
            posts(log, general_channel(guild_a)) >= 2 && posts(log, general_channel(guild_b)) >= 2
        })
        .await;
    for (_, channel, text) in messages {
        let expected = if channel == general_channel(guild_a) || channel == general_channel(guild_b)
        {
            2
        } else {
            1
        };
        assert_eq!(posts(&log_after, channel), expected, "replies to {text:?}");
    }
    assert_eq!(posts(&log_after, DM_ALICE), 1, "one reply to the DM");
    assert_eq!(
        count(&log, "PUT", COMMANDS_PATH),
        1,
        "commands registered once"
    );
    assert_eq!(count(&log_after, "PUT", COMMANDS_PATH), 1);

    let identified: Vec<Value> = log
        .iter()
        .filter(|r| r.is("WS", "IDENTIFY"))
        .map(|r| r.body["shard"].clone())
        .collect();
    assert_eq!(identified.len(), 2, "{identified:?}");
    assert!(identified.contains(&serde_json::json!([0, 2])));
    assert!(identified.contains(&serde_json::json!([1, 2])));

    for (process, shard, guilds) in [(&first, 0, 2), (&second, 1, 2)] {
        let health = process
            .wait_for_health("its shard connected", |h| {
                h["discord"]["shards_connected"] == 1
            })
            .await;
        assert_eq!(shard_ids(&health), [shard], "{health:#}");
        assert_eq!(health["discord"]["shard_total"], 2, "{health:#}");
        assert_eq!(health["discord"]["shard_states"][0]["stage"], "connected");
        assert_eq!(health["discord"]["guilds"], guilds, "{health:#}");
    }
}

fn fixtures_guild() -> u64 {
    let guild = duet_testkit::fake_discord::fixtures::GUILD_ID;
    assert_eq!(shard_of(guild, 2), 0);
    guild
}

/// Runs `duet run` against `discord` with `extra` until it exits by itself;
/// asserts exit status 2 (a configuration error) and returns its stderr.
async fn exit_2(discord: &FakeDiscord, extra: &[(&str, &str)]) -> String {
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_for(discord, &mock, dir.path(), extra);
    let (code, _, stderr) = run_to_exit(&["run"], &env, dir.path()).await;
    assert_eq!(code, Some(2), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_range_past_the_count_is_a_config_error_naming_the_key() {
    let discord = FakeDiscord::start().await;
    let stderr = exit_2(&discord, &[("SHARD_IDS", "1-2")]).await;
    assert!(stderr.contains("SHARD_IDS"), "{stderr}");
    assert!(stderr.contains("outside the bot's 2 shard(s)"), "{stderr}");
    assert!(discord.requests().is_empty(), "never reached Discord");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_ids_without_an_ordinal_say_where_the_ordinal_comes_from() {
    let discord = FakeDiscord::start().await;
    let stderr = exit_2(&discord, &[("SHARD_IDS", "auto")]).await;
    assert!(stderr.contains("DUET_ORDINAL"), "{stderr}");
    assert!(stderr.contains("HOSTNAME"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fewer_shards_than_discord_recommends_exit_2_before_identifying() {
    let discord = FakeDiscord::start().await;
    discord.set_shards(4, 1);
    let stderr = exit_2(&discord, &[]).await;
    assert!(
        stderr.contains("SHARD_COUNT = 2 is fewer than the 4 shards Discord recommends"),
        "{stderr}"
    );
    assert_eq!(count(&discord.requests(), "WS", "IDENTIFY"), 0);
}

/// The time between the only two IDENTIFYs `discord` received.
fn identify_gap(discord: &FakeDiscord) -> std::time::Duration {
    let identifies: Vec<_> = discord
        .requests()
        .into_iter()
        .filter(|r| r.is("WS", "IDENTIFY"))
        .collect();
    assert_eq!(identifies.len(), 2);
    identifies[1].at.duration_since(identifies[0].at)
}

/// Grants every turn at once and remembers which buckets were asked for.
#[derive(Default)]
struct RecordingPacer(Mutex<Vec<u32>>);

#[async_trait]
impl IdentifyPacer for RecordingPacer {
    async fn wait_turn(&self, bucket: u32) {
        self.0.lock().unwrap().push(bucket);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_starts_its_shards_one_at_a_time_each_after_the_pacer() {
    init_tracing();
    let discord = FakeDiscord::start().await;
    discord.set_shards(2, 2);
    let guild = guild_on_shard(1, 2, 0);
    discord.add_guild(guild);
    let config = Arc::new(config_for(&discord, &[]));
    let providers = Arc::new(Providers::from_config(&config).expect("providers"));
    let (live, _) = Live::first(config, providers).channel();
    let pacer = Arc::new(RecordingPacer::default());
    let (status, shutdown) = (DiscordStatus::new(), Shutdown::new());
    let run = tokio::spawn(discord::run_paced(
        live.subscribe(),
        ScriptedConversations::echo(),
        shutdown.clone(),
        status.clone(),
        pacer.clone(),
    ));
    discord.wait_for_live_shards(&[0, 1]).await;
    assert_eq!(
        *pacer.0.lock().unwrap(),
        [0, 1],
        "one turn per shard, by bucket"
    );
    let gap = identify_gap(&discord);
    assert!(
        gap >= IDENTIFY_INTERVAL.mul_f64(0.9),
        "shards identified {gap:?} apart"
    );

    discord.send_message(mention_in(guild, general_channel(guild), "on shard 1"));
    discord
        .wait_until("the answer on shard 1", |log| {
            posts(log, general_channel(guild)) == 1
        })
        .await;
    let snapshot = status.snapshot().await;
    assert_eq!(snapshot.shards, 2);
    assert_eq!(snapshot.shards_connected, 2, "{snapshot:?}");
    assert_eq!(snapshot.guilds, 2, "the fixture guild and the added one");
    shutdown.request();
    let stopped = tokio::time::timeout(PROCESS_WAIT, run)
        .await
        .expect("run stops");
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
}

/// Two processes of one bot (here two clients, each with its own connection
/// to one Redis prefix, as `duet run` builds them) start at the same moment
/// on a bot whose `max_concurrency` is 1: the shared identify lock spaces
/// their IDENTIFYs by Discord's 5 s, though neither process knows the other.
#[tokio::test]
async fn processes_starting_together_identify_one_at_a_time_through_redis() {
    let Some(redis) = TestRedis::from_env("identify_pacing") else {
        return;
    };
    init_tracing();
    let discord = FakeDiscord::start().await;
    discord.set_shards(2, 1);
    let shutdown = Shutdown::new();
    let mut runs = Vec::new();
    for shard in ["0", "1"] {
        let config = Arc::new(config_for(
            &discord,
            &[("SHARD_COUNT", "2"), ("SHARD_IDS", shard)],
        ));
        let providers = Arc::new(Providers::from_config(&config).expect("providers"));
        let (live, _) = Live::first(config, providers).channel();
        let coordinator = coordinator(&redis).await;
        runs.push(tokio::spawn(discord::run_paced(
            live.subscribe(),
            ScriptedConversations::echo(),
            shutdown.clone(),
            DiscordStatus::new(),
            Arc::new(SharedPacer::new(Some(coordinator))),
        )));
    }
    discord.wait_for_live_shards(&[0, 1]).await;
    let gap = identify_gap(&discord);
    assert!(
        gap >= IDENTIFY_INTERVAL.mul_f64(0.9),
        "the two processes identified {gap:?} apart"
    );
    shutdown.request();
    for run in runs {
        let stopped = tokio::time::timeout(PROCESS_WAIT, run)
            .await
            .expect("run stops");
        assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
    }
}
