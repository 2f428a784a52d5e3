//! Section "guilds" (`--only guilds`; not part of a default run): resident
//! memory of one `duet run` connected to 10,000 servers, as a bot outgrowing
//! one shard would be. The fake Discord (on the mock's thread) sends each
//! one as a realistic GUILD_CREATE: 50 channels, 30 roles and 5 members. The
//! bot is started twice, with no added server and with all of them; each
//! time it is measured once its `/health` counts every server and it has
//! idled a moment. Per server = (RSS with − RSS without) / servers; the aim
//! is under 10 KiB.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::child::Scratch;
use crate::duet_run::{duet_binary, spawn_run, stop};
use crate::mock_host::MockHost;
use crate::sys::status_bytes;
use duet_testkit::fake_discord::FakeDiscord;

/// Servers in a full run (`--quick`: a few hundred).
const SERVERS: u64 = 10_000;
const QUICK_SERVERS: u64 = 300;
/// The aim per server.
const AIM_KIB: f64 = 10.0;
/// How long the bot may take to receive every server.
const LOAD_WAIT: Duration = Duration::from_secs(600);
/// Idle time before reading the figure (late frees, allocator settling).
const SETTLE: Duration = Duration::from_secs(2);

pub async fn guilds(
    quick: bool,
    host: &MockHost,
    env: &HashMap<String, String>,
) -> anyhow::Result<Value> {
    let Some(exe) = duet_binary() else {
        return Ok(json!({
            "skipped": "the duet binary is not built next to duet-bench (cargo build --release -p duet)"
        }));
    };
    let servers = if quick { QUICK_SERVERS } else { SERVERS };
    let baseline = measure(&exe, host, env, 0).await?;
    let loaded = measure(&exe, host, env, servers).await?;
    let rss = |run: &Value| run["rss_bytes"].as_f64().unwrap_or(0.0);
    let per_server_kib = (rss(&loaded) - rss(&baseline)) / servers as f64 / 1024.0;
    let per_server_kib = (per_server_kib * 100.0).round() / 100.0;
    Ok(json!({
        "servers": servers,
        "channels_roles_members_per_server": [50, 30, 5],
        "baseline": baseline,
        "loaded": loaded,
        "per_server_kib": per_server_kib,
        "aim_kib": AIM_KIB,
        "meets_aim": per_server_kib < AIM_KIB,
    }))
}

/// Starts `duet run` against a fake with `servers` added guilds and reads
/// its memory once every one of them has arrived.
async fn measure(
    exe: &std::path::Path,
    host: &MockHost,
    env: &HashMap<String, String>,
    servers: u64,
) -> anyhow::Result<Value> {
    let discord = host
        .run(async move {
            let discord = FakeDiscord::start().await;
            discord.add_realistic_guilds(servers);
            discord
        })
        .await;
    let scratch = Scratch::new("duet-guilds")?;
    let port = free_port()?;
    let mut env = env.clone();
    for (key, value) in [
        ("DISCORD_TOKEN", "fake-token".to_string()),
        ("DISCORD_API_BASE_URL", discord.base_url()),
        ("MEMORY_BACKEND", "memory".into()),
        ("HEALTH_HOST", "127.0.0.1".into()),
        ("HEALTH_PORT", port.to_string()),
        ("LOG_FILE", scratch.0.join("duet.log").display().to_string()),
        ("LOG_LEVEL", "warn".into()),
    ] {
        env.insert(key.into(), value);
    }
    let started = Instant::now();
    let (mut child, pid) = spawn_run(exe, &env, None)?;
    let pid = pid.to_string();
    // The fixture guild comes on top of the added ones.
    let wanted = servers + 1;
    let deadline = Instant::now() + LOAD_WAIT;
    loop {
        let health = get_health(port).await.unwrap_or(Value::Null);
        if health["discord"]["guilds"].as_u64() == Some(wanted) {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill().await;
            bail!("duet run did not receive {wanted} guilds in time; last /health: {health}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let loaded_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss = status_bytes(&pid, "VmRSS").unwrap_or(0);
    let mib = |bytes: Option<u64>| bytes.map(|b| (b as f64 / 1_048_576.0 * 100.0).round() / 100.0);
    let figures = json!({
        "added_servers": servers,
        "loaded_secs": (loaded_secs * 10.0).round() / 10.0,
        "rss_bytes": rss,
        "rss_mib": mib(Some(rss)),
        "rss_anon_mib": mib(status_bytes(&pid, "RssAnon")),
        "exit": stop(&mut child, &pid).await,
    });
    drop(discord);
    Ok(figures)
}

/// A port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// `GET /health` over a plain HTTP/1.0 connection.
pub async fn get_health(port: u16) -> anyhow::Result<Value> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    Ok(serde_json::from_str(body)?)
}
