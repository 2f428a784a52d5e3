//! The health server of a real `duet run` process: after traffic through the
//! fake Discord to both providers of the mock LLM, `/health` reports both
//! pools and `/metrics` is Prometheus text whose connection counters agree
//! with `/health` and with the connections the mock accepted.

use std::collections::BTreeMap;

use duet_testkit::duet_process::{DuetProcess, run_env};
use duet_testkit::fake_discord::fixtures::{ALICE, BOB, DM_ALICE, GENERAL};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage};
use duet_testkit::mock_llm::MockLlm;

/// One sample line of the Prometheus text format.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text exposition format strictly: every line is a comment or
/// `name{label="value",…} value [timestamp]`; anything else is an error.
fn parse_prometheus(text: &str) -> Result<Vec<Sample>, String> {
    let name = regex::Regex::new(r"^[a-zA-Z_:][a-zA-Z0-9_:]*").unwrap();
    let label = regex::Regex::new(r#"^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)""#).unwrap();
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let bad = |why: &str| format!("{why}: {line:?}");
        let found = name.find(line).ok_or_else(|| bad("no metric name"))?;
        let mut rest = &line[found.end()..];
        let mut labels = BTreeMap::new();
        if let Some(inner) = rest.strip_prefix('{') {
            rest = inner;
            while let Some(pair) = label.captures(rest) {
                labels.insert(pair[1].to_string(), pair[2].to_string());
                rest = &rest[pair[0].len()..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
            rest = rest
                .strip_prefix('}')
                .ok_or_else(|| bad("unclosed labels"))?;
        }
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or_else(|| bad("no space before the value"))?
            .split(' ');
        let value = match fields.next().unwrap_or_default() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().map_err(|_| bad("value is not a float"))?,
        };
        if let Some(timestamp) = fields.next() {
            timestamp
                .parse::<i64>()
                .map_err(|_| bad("timestamp is not an integer"))?;
        }
        if fields.next().is_some() {
            return Err(bad("trailing fields"));
        }
        samples.push(Sample {
            name: line[..found.end()].to_string(),
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The value of `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .unwrap_or_else(|| panic!("no {name}{labels:?} in {samples:#?}"))
        .value
}

fn replies_in(log: &[Recorded], channel: u64) -> Vec<String> {
    let path = format!("/channels/{channel}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .filter_map(|r| r.content().map(str::to_string))
        .collect()
}

#[test]
fn the_prometheus_parser_rejects_what_is_not_exposition_text() {
    let good = "# TYPE a_total counter\na_total{provider=\"openai\",x=\"a b\"} 3\nb 1.5e3 1700000000\nc_bucket{le=\"+Inf\"} +Inf\n";
    let samples = parse_prometheus(good).unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels["x"], "a b");
    assert_eq!(samples[1].value, 1500.0);
    for bad in ["9abc 1", "a{b=\"c\" 1", "a one", "a 1 2 3", "a{b=c} 1", "a"] {
        assert!(parse_prometheus(bad).is_err(), "{bad} accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_both_pools_after_traffic_to_both_providers() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let duet = DuetProcess::start(&run_env(&discord, &mock, dir.path()), None, dir.path()).await;
    discord.wait_for_commands().await;

    // Two turns per provider, one after the other in each conversation, so
    // the second request of each can reuse the first one's connection.
    for (chat, search) in [
        ("hello there", "rust news"),
        ("and again", "tokio releases"),
    ] {
        discord.send_message(UserMessage::dm(ALICE, DM_ALICE, chat));
        discord.send_message(UserMessage::mention(
            BOB,
            GENERAL,
            &format!("search: {search}"),
        ));
        discord
            .wait_until("both replies", |log| {
                replies_in(log, DM_ALICE).iter().any(|r| r.contains(chat))
                    && replies_in(log, GENERAL).iter().any(|r| r.contains(search))
            })
            .await;
    }
    let log = discord.requests();
    assert_eq!(
        replies_in(&log, DM_ALICE),
        ["You said: hello there", "You said: and again"]
    );
    assert!(
        replies_in(&log, GENERAL)
            .iter()
            .all(|r| r.contains("alpha says yes")),
        "Perplexity answered the searches: {:?}",
        replies_in(&log, GENERAL)
    );

    let (status, health) = duet.health_json().await;
    assert_eq!(status, 200, "{health:#}");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["mode"], "hybrid");
    assert_eq!(health["discord"]["running"], true);
    assert_eq!(health["discord"]["shards_connected"], 1);
    assert_eq!(health["discord"]["guilds"], 1);
    for provider in ["openai", "perplexity"] {
        let pool = &health["providers"][provider]["pool"];
        let requests = pool["requests"].as_u64().unwrap();
        let created = pool["connections_created"].as_u64().unwrap();
        assert_eq!(requests, 2, "{provider}: {pool:#}");
        assert!(created >= 1 && created <= requests, "{provider}: {pool:#}");
        let expected_ratio = (requests - created) as f64 / requests as f64;
        assert_eq!(pool["reuse_ratio"].as_f64(), Some(expected_ratio));
        assert_eq!(pool["in_use"], 0);
        assert_eq!(pool["waiting"], 0);
        assert!(pool["http_version"].is_string(), "{provider}: {pool:#}");
    }
    assert_eq!(duet.get("/health/live").await.0, 200);
    assert_eq!(duet.get("/health/ready").await, (200, "ready".to_string()));

    let (status, text) = duet.get("/metrics").await;
    assert_eq!(status, 200);
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        value(&samples, "duet_web_provider", &[("provider", "perplexity")]),
        1.0,
        "the metrics name the web provider"
    );
    let mut dialled = 0.0;
    for provider in ["openai", "perplexity"] {
        let pool = &health["providers"][provider]["pool"];
        let labels = [("provider", provider)];
        let created = value(&samples, "duet_pool_connections_created_total", &labels);
        let reused = value(&samples, "duet_pool_connections_reused_total", &labels);
        assert_eq!(Some(created), pool["connections_created"].as_f64());
        assert_eq!(
            Some(created + reused),
            pool["requests"].as_f64(),
            "{provider}"
        );
        let answered = value(&samples, "duet_messages_answered_total", &labels);
        assert_eq!(answered, 2.0, "{provider}");
        let outcome = if provider == "openai" { "chat" } else { "web" };
        assert_eq!(
            value(
                &samples,
                "duet_route_decisions_total",
                &[("provider", provider), ("outcome", outcome)]
            ),
            2.0
        );
        assert_eq!(
            value(
                &samples,
                "duet_provider_requests_total",
                &[("provider", provider), ("outcome", "ok")]
            ),
            2.0
        );
        dialled += created;
    }
    assert_eq!(
        dialled,
        mock.connections() as f64,
        "every connection the mock accepted was counted"
    );
    assert_eq!(value(&samples, "duet_messages_received_total", &[]), 4.0);
    assert!(
        samples
            .iter()
            .any(|s| s.name == "duet_turn_duration_seconds_count" && s.value == 4.0),
        "turn latency histogram"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_are_unavailable_until_discord_is_connected() {
    // A "Discord" that accepts connections and never answers keeps the bot
    // connecting; the health server is up meanwhile.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("DISCORD_API_BASE_URL".into(), silent_url);
    let duet = DuetProcess::start(&env, None, dir.path()).await;

    let (status, health) = duet.health_json().await;
    assert_eq!(status, 503, "{health:#}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["discord"]["running"], false);
    assert_eq!(health["providers"]["openai"]["pool"]["requests"], 0);
    assert_eq!(
        duet.get("/health/ready").await,
        (503, "not ready".to_string())
    );
    assert_eq!(duet.get("/health/live").await.0, 200);
    assert_eq!(duet.get("/metrics").await.0, 200);
    drop(duet);
    held.abort();
}

/// An address where nothing listens.
fn refusing_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_refusing_connections_make_health_degraded_but_not_unready() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("OPENAI_API_URL".into(), refusing_url());
    env.insert("PERPLEXITY_API_URL".into(), refusing_url());
    env.insert("OPENAI_MAX_RETRIES".into(), "0".into());
    env.insert("PERPLEXITY_MAX_RETRIES".into(), "0".into());
    let duet = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;
    let (status, health) = duet.health_json().await;
    assert_eq!(status, 200, "{health:#}");
    assert_eq!(health["status"], "ok");

    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "hello"));
    discord
        .wait_until("the failure notice", |log| {
            !replies_in(log, DM_ALICE).is_empty()
        })
        .await;
    let health = duet
        .wait_for_health("both providers reported", |h| {
            h["problems"].as_array().is_some_and(|p| p.len() == 2)
        })
        .await;
    assert_eq!(health["status"], "degraded");
    let problems = health["problems"].to_string();
    for provider in ["openai", "perplexity"] {
        assert!(
            problems.contains(&format!("{provider}: unavailable")),
            "{health:#}"
        );
    }
    assert!(problems.contains("connect"), "the reason: {health:#}");
    assert_eq!(duet.get("/health").await.0, 503);
    assert_eq!(
        duet.get("/health/ready").await,
        (200, "ready".to_string()),
        "a provider outage is not a reason to take the bot out"
    );
    assert_eq!(duet.get("/health/live").await.0, 200);

    let (_, text) = duet.get("/metrics").await;
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for provider in ["openai", "perplexity"] {
        assert_eq!(
            value(&samples, "duet_provider_up", &[("provider", provider)]),
            0.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_memory_writes_are_counted_and_shown_until_a_write_succeeds() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = run_env(&discord, &mock, dir.path());
    env.insert("MODE".into(), "openai".into());
    let duet = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;
    let (_, health) = duet.health_json().await;
    assert_eq!(
        health["mode"], "openai_only",
        "MODE=openai forces one provider"
    );

    // A full disk, as SQLite reports it, for every stored turn.
    let outside = rusqlite::Connection::open(dir.path().join("duet.db")).unwrap();
    outside
        .execute_batch(
            "CREATE TRIGGER full_disk BEFORE INSERT ON turns \
             BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
        )
        .unwrap();
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "remember this"));
    let health = duet
        .wait_for_health("the failed write", |h| h["status"] == "degraded")
        .await;
    let problems = health["problems"].to_string();
    assert!(
        problems.contains("memory: storing turns fails (sqlite)"),
        "{health:#}"
    );
    assert_eq!(duet.get("/health/ready").await.0, 200);
    let (_, text) = duet.get("/metrics").await;
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        value(
            &samples,
            "duet_memory_write_failures_total",
            &[("operation", "append"), ("kind", "sqlite")]
        ),
        1.0
    );

    // Space again: the next stored turn clears the problem.
    outside.execute_batch("DROP TRIGGER full_disk;").unwrap();
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "and this"));
    duet.wait_for_health("a successful write", |h| h["status"] == "ok")
        .await;
}
