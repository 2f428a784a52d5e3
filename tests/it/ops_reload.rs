//! Live reload of a real `duet run` process: editing the INI file (and
//! SIGHUP) changes the OpenAI pool's connection cap and the per-user rate
//! limit without a restart and without failing the turns in flight; an
//! invalid edit keeps the running configuration and logs where it is wrong.

use std::collections::HashMap;

use duet_testkit::duet_process::{ConfigFile, DuetProcess, log_message, run_env};
use duet_testkit::fake_discord::fixtures::{ALICE, BOB, DM_ALICE, FakeUser, GENERAL, RANDOM};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage};
use duet_testkit::mock_llm::MockLlm;
use serde_json::Value;

const RATE_LIMITED: &str = "⏱️ You're sending messages quickly";

/// The INI file of this test; `max_connections` is written verbatim (so it
/// can be invalid). OPENAI_MAX_CONNECTIONS is on line 7.
fn ini(max_connections: &str, rate_limit: u32) -> String {
    format!(
        "[Limits]\n\
         RATE_LIMIT = {rate_limit}\n\
         RATE_LIMIT_PER = 3600\n\
         \n\
         [ConnectionPool]\n\
         # requests wait for a slot rather than fail while the mock holds answers\n\
         OPENAI_MAX_CONNECTIONS = {max_connections}\n\
         OPENAI_POOL_TIMEOUT = 30\n"
    )
}
const MAX_CONNECTIONS_LINE: usize = 7;

fn replies(log: &[Recorded]) -> Vec<String> {
    log.iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .filter_map(|r| r.content().map(str::to_string))
        .collect()
}

/// Sends each `(author, channel, text)` as a DM or a mention.
fn send(discord: &FakeDiscord, messages: &[(FakeUser, u64, &str)]) {
    for (author, channel, text) in messages {
        let message = if *channel == DM_ALICE {
            UserMessage::dm(author.clone(), *channel, text)
        } else {
            UserMessage::mention(author.clone(), *channel, text)
        };
        discord.send_message(message);
    }
}

/// Waits until every text in `texts` has been answered by OpenAI.
async fn wait_for_answers(discord: &FakeDiscord, texts: &[(FakeUser, u64, &str)]) {
    discord
        .wait_until("the answers", |log| {
            let sent = replies(log);
            texts
                .iter()
                .all(|(_, _, t)| sent.contains(&format!("You said: {t}")))
        })
        .await;
}

/// The Prometheus connection counters keep counting across the swap of
/// clients: created + reused = every request the mock saw, created = every
/// connection it accepted.
async fn assert_connection_counters_span_both_pools(duet: &DuetProcess, mock: &MockLlm) {
    let (_, metrics) = duet.get("/metrics").await;
    let counter = |name: &str| -> u64 {
        let prefix = format!("{name}{{provider=\"openai\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{metrics}"))
    };
    let created = counter("duet_pool_connections_created_total");
    let reused = counter("duet_pool_connections_reused_total");
    assert_eq!(created, mock.connections(), "{metrics}");
    assert_eq!(created + reused, mock.requests().len() as u64, "{metrics}");
}

fn openai_pool(health: &Value) -> &Value {
    &health["providers"]["openai"]["pool"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_ini_retunes_pools_and_rate_limits_without_failing_turns_in_flight() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let file = ConfigFile::new(&ini("1", 100));
    let env: HashMap<String, String> = run_env(&discord, &mock, file.dir.path());
    let duet = DuetProcess::start(&env, Some(&file.path), file.dir.path()).await;
    discord.wait_for_commands().await;

    // Three turns on a pool of one connection: one at the mock, two queued.
    mock.hold();
    let before = [
        (ALICE, DM_ALICE, "hello one"),
        (ALICE, GENERAL, "hello two"),
        (BOB, GENERAL, "hello three"),
    ];
    send(&discord, &before);
    mock.wait_for_requests(1).await;
    duet.wait_for_health("two turns queued for the one connection", |h| {
        openai_pool(h)["waiting"] == 2
    })
    .await;

    let mark = duet.log_mark();
    file.write(&ini("3", 2));
    let (_, reloaded) = duet.wait_for_log(mark, "configuration reloaded").await;
    let changes = reloaded["changes"].as_str().unwrap_or_default();
    assert!(
        changes.contains(r#"OPENAI_MAX_CONNECTIONS: "1" -> "3""#)
            && changes.contains(r#"RATE_LIMIT: "100" -> "2""#),
        "{reloaded}"
    );
    let (_, health) = duet.health_json().await;
    assert_eq!(
        openai_pool(&health)["total"],
        3,
        "new clients serve new turns"
    );

    // The turns in flight finish on the old pool, one connection at a time.
    mock.release();
    wait_for_answers(&discord, &before).await;
    assert_eq!(mock.peak_in_flight(), 1);

    // New turns get the new cap: three at the mock at once, the fourth waits.
    mock.hold();
    let after = [
        (ALICE, DM_ALICE, "hello four"),
        (ALICE, RANDOM, "hello five"),
        (BOB, GENERAL, "hello six"),
        (BOB, RANDOM, "hello seven"),
    ];
    send(&discord, &after);
    mock.wait_for_requests(before.len() + 3).await;
    duet.wait_for_health("one turn queued for the three connections", |h| {
        openai_pool(h)["waiting"] == 1
    })
    .await;
    assert_eq!(mock.peak_in_flight(), 3);
    mock.release();
    wait_for_answers(&discord, &after).await;
    assert!(
        mock.requests().iter().all(|r| r.status == Some(200)),
        "no request failed"
    );

    // RATE_LIMIT is now 2 per hour: Alice's third message since the reload is refused.
    send(&discord, &[(ALICE, DM_ALICE, "hello eight")]);
    discord
        .wait_until("the rate-limit notice", |log| {
            replies(log).iter().any(|r| r.starts_with(RATE_LIMITED))
        })
        .await;
    assert_eq!(mock.requests().len(), before.len() + after.len());
    let sent = replies(&discord.requests());
    assert_eq!(sent.len(), before.len() + after.len() + 1, "{sent:#?}");
    assert!(
        sent.iter()
            .all(|r| r.starts_with("You said: ") || r.starts_with(RATE_LIMITED))
    );
    assert_connection_counters_span_both_pools(&duet, &mock).await;

    // An invalid edit is rejected with its file and line; the pool keeps 3 connections.
    let mark = duet.log_mark();
    file.write(&ini("lots", 2));
    let (rejected, _) = duet.wait_for_log(mark, "config reload rejected").await;
    let (_, error) = duet
        .wait_for_log(
            rejected,
            &format!("config.ini:{MAX_CONNECTIONS_LINE} [ConnectionPool] OPENAI_MAX_CONNECTIONS"),
        )
        .await;
    assert!(log_message(&error).contains("lots"), "{error}");
    assert_eq!(error["level"], "ERROR");
    let (_, health) = duet.health_json().await;
    assert_eq!(openai_pool(&health)["total"], 3);

    // SIGHUP re-reads the file too: the same rejection again.
    let mark = duet.log_mark();
    duet.signal(libc::SIGHUP);
    duet.wait_for_log(mark, "config reload rejected").await;
    let (_, health) = duet.health_json().await;
    assert_eq!(health["status"], "ok");
    assert_eq!(openai_pool(&health)["total"], 3);

    // Fixing the file applies it.
    let mark = duet.log_mark();
    file.write(&ini("2", 2));
    duet.wait_for_log(mark, "configuration reloaded").await;
    let (_, health) = duet.health_json().await;
    assert_eq!(openai_pool(&health)["total"], 2);
}

/// Writes `text` the way the kubelet updates a mounted ConfigMap: a new
/// timestamped directory, then the `..data` symlink swapped atomically;
/// `config.ini` itself is a symlink through `..data` and never changes.
fn write_like_a_configmap(dir: &std::path::Path, version: &str, text: &str) {
    let versioned = dir.join(format!("..{version}"));
    std::fs::create_dir(&versioned).unwrap();
    std::fs::write(versioned.join("config.ini"), text).unwrap();
    let staged = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{version}"), &staged).unwrap();
    std::fs::rename(&staged, dir.join("..data")).unwrap();
    if !dir.join("config.ini").exists() {
        std::os::unix::fs::symlink("..data/config.ini", dir.join("config.ini")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubernetes_configmap_update_is_reloaded() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let config_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    write_like_a_configmap(config_dir.path(), "v1", &ini("1", 100));
    let env = run_env(&discord, &mock, data_dir.path());
    let config = config_dir.path().join("config.ini");
    let duet = DuetProcess::start(&env, Some(&config), data_dir.path()).await;
    let (_, health) = duet.health_json().await;
    assert_eq!(openai_pool(&health)["total"], 1);

    let mark = duet.log_mark();
    write_like_a_configmap(config_dir.path(), "v2", &ini("3", 100));
    duet.wait_for_log(mark, "configuration reloaded").await;
    let (_, health) = duet.health_json().await;
    assert_eq!(openai_pool(&health)["total"], 3);
}

/// Issue 11: values too large for a duration used to panic inside the
/// reloader, after which no reload was applied and SIGTERM was ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflowing_durations_are_rejected_on_reload_and_the_bot_still_reloads_and_stops() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let file = ConfigFile::new(&ini("1", 100));
    let env = run_env(&discord, &mock, file.dir.path());
    let mut duet = DuetProcess::start(&env, Some(&file.path), file.dir.path()).await;

    for (bad, line) in [
        (
            "[Memory]\nMEMORY_TTL = 18446744073709551616\n",
            "config.ini:2 [Memory] MEMORY_TTL",
        ),
        (
            "[ConnectionPool]\nOPENAI_READ_TIMEOUT = 213503982334602d\n",
            "config.ini:2 [ConnectionPool] OPENAI_READ_TIMEOUT",
        ),
    ] {
        let mark = duet.log_mark();
        file.write(bad);
        let (rejected, _) = duet.wait_for_log(mark, "config reload rejected").await;
        duet.wait_for_log(rejected, line).await;
    }

    let mark = duet.log_mark();
    file.write(&ini("3", 100));
    duet.wait_for_log(mark, "configuration reloaded").await;
    let (_, health) = duet.health_json().await;
    assert_eq!(
        openai_pool(&health)["total"],
        3,
        "a valid edit still applies"
    );

    duet.signal(libc::SIGTERM);
    let status = duet.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "SIGTERM still stops the bot");
}
