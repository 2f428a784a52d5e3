//! What a real `duet run` writes to its log at TRACE level: an idle bot's
//! log next to its config file stays still (the config watcher once logged
//! every write of the log file, which is itself a write: an endless loop);
//! no line holds a message's text without `LOG_MESSAGE_CONTENT=true`; no
//! line holds a key a provider echoed back lowercased or percent-encoded;
//! the log file is created 0600.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use duet_testkit::duet_process::{ConfigFile, DuetProcess, run_env};
use duet_testkit::fake_discord::fixtures::{ALICE, BOB, DM_ALICE, GENERAL};
use duet_testkit::fake_discord::{FakeDiscord, Recorded, UserMessage, count};
use duet_testkit::mock_llm::{Fault, MockLlm, Route};

/// Mixed case, so a lowercased echo differs from the key.
const OPENAI_KEY: &str = "sk-CANARY-Mixed-Key-7f3a";

/// `duet run` logging at TRACE to `duet.log` beside its `config.ini`.
async fn start_tracing_bot(
    discord: &FakeDiscord,
    mock: &MockLlm,
    file: &ConfigFile,
) -> (DuetProcess, PathBuf) {
    let log = file.dir.path().join("duet.log");
    let mut env: HashMap<String, String> = run_env(discord, mock, file.dir.path());
    env.insert("LOG_LEVEL".into(), "trace".into());
    env.insert("LOG_FILE".into(), log.display().to_string());
    env.insert("OPENAI_API_KEY".into(), OPENAI_KEY.into());
    let duet = DuetProcess::start(&env, Some(&file.path), file.dir.path()).await;
    discord.wait_for_commands().await;
    (duet, log)
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).expect("the log file exists").len()
}

fn replies_in(log: &[Recorded], channel: u64) -> Vec<String> {
    let path = format!("/channels/{channel}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .filter_map(|r| r.content().map(str::to_string))
        .collect()
}

/// Everything the bot logged: its stderr lines and its log file.
fn everything_logged(duet: &DuetProcess, file: &Path) -> String {
    let stderr: Vec<String> = duet.logs().iter().map(|line| line.to_string()).collect();
    format!(
        "{}\n{}",
        stderr.join("\n"),
        std::fs::read_to_string(file).expect("read the log file")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_bot_logging_trace_beside_its_config_file_does_not_feed_itself() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let file = ConfigFile::new("[Limits]\nRATE_LIMIT = 5\n");
    let (duet, log) = start_tracing_bot(&discord, &mock, &file).await;

    // The gateway's heartbeats pace the test: between two of them the bot
    // has nothing to do. A log that feeds itself grows by megabytes there.
    let beats = |log: &[Recorded]| count(log, "WS", "HEARTBEAT");
    let seen = beats(&discord.requests());
    discord
        .wait_until("a heartbeat", |log| beats(log) > seen)
        .await;
    let before = size(&log);
    discord
        .wait_until("the next heartbeat", |log| beats(log) > seen + 1)
        .await;
    let grown = size(&log) - before;
    assert!(
        grown < 16 * 1024,
        "an idle bot wrote {grown} bytes of log between two heartbeats"
    );

    // The watcher still sees the config file itself.
    let mark = duet.log_mark();
    file.write("[Limits]\nRATE_LIMIT = 6\n");
    duet.wait_for_log(mark, "configuration reloaded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_holds_message_text_or_an_echoed_key_and_the_file_is_private() {
    let mock = MockLlm::start().await;
    let discord = FakeDiscord::start().await;
    let file = ConfigFile::new("[Limits]\nRATE_LIMIT = 50\n");
    let (duet, log) = start_tracing_bot(&discord, &mock, &file).await;
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "LOG_FILE mode {mode:o}");

    // A guild mention once logged its whole text at WARN (poise's prefix
    // framework: "Recognized prefix ..., but didn't recognize command name").
    discord.send_message(UserMessage::mention(BOB, GENERAL, "zebra quartz tangerine"));
    discord
        .wait_until("the mention's answer", |log| {
            replies_in(log, GENERAL)
                .iter()
                .any(|r| r.contains("zebra quartz tangerine"))
        })
        .await;

    // OpenAI rejects the key and echoes it back mangled; Perplexity answers.
    mock.push_fault(Route::OpenAiChat, Fault::UnauthorizedEchoingKeyMangled);
    let mark = duet.log_mark();
    discord.send_message(UserMessage::dm(ALICE, DM_ALICE, "chat: hello"));
    let (_, failed) = duet
        .wait_for_log(mark, "provider failed; falling back")
        .await;
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("API key was rejected") && error.contains("[redacted]"),
        "{failed}"
    );
    discord
        .wait_until("the DM's answer", |log| {
            !replies_in(log, DM_ALICE).is_empty()
        })
        .await;

    let logged = everything_logged(&duet, &log);
    let encoded: String = OPENAI_KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    for leak in [
        "zebra quartz".to_string(),
        OPENAI_KEY.to_string(),
        OPENAI_KEY.to_lowercase(),
        encoded.clone(),
        encoded.to_lowercase(),
        "CANARY".to_string(),
        "canary".to_string(),
    ] {
        assert!(!logged.contains(&leak), "the log holds {leak:?}");
    }
}
