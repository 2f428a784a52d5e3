//! `duet check-config` run as a real process.

use std::path::Path;
use std::process::{Command, Output};

const FAKE_OPENAI_KEY: &str = "sk-FAKE-recognisable-0123456789";
const FAKE_DISCORD_TOKEN: &str = "discord-FAKE-token-abcdef";

fn check_config(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("check-config")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("duet runs")
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config.ini.example")
        .display()
        .to_string()
}

#[test]
fn the_example_config_passes_once_secrets_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
    ];
    let out = check_config(dir.path(), &["--config", &example()], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("OPENAI_API_KEY = [redacted]  # env"),
        "{stdout}"
    );
    assert!(stdout.contains("[ConnectionPool]"), "{stdout}");
    for secret in [FAKE_OPENAI_KEY, FAKE_DISCORD_TOKEN] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret leaked"
        );
    }
}

#[test]
fn an_invalid_file_exits_2_and_lists_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let ini = dir.path().join("bad.ini");
    std::fs::write(
        &ini,
        "[Default]\nOPENAI_API_KEY = sk-FAKE-recognisable-0123456789\n[ConnectionPool]\nOPENAI_MAX_CONNECTIONS = fifty\nOPENAI_HTTP2 = sometimes\n",
    )
    .unwrap();
    let out = check_config(dir.path(), &["--conf", "bad.ini"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.ini:4 [ConnectionPool] OPENAI_MAX_CONNECTIONS = \"fifty\""),
        "{stderr}"
    );
    assert!(stderr.contains("bad.ini:5 [ConnectionPool] OPENAI_HTTP2 = \"sometimes\": expected one of auto, always, never"), "{stderr}");
    assert!(
        !stderr.contains(FAKE_OPENAI_KEY)
            && !String::from_utf8_lossy(&out.stdout).contains(FAKE_OPENAI_KEY)
    );
}

#[test]
fn a_missing_token_exits_2_and_says_where_to_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_config(dir.path(), &[], &[("OPENAI_API_KEY", FAKE_OPENAI_KEY)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("set DISCORD_TOKEN under [Discord]"),
        "{stderr}"
    );
}

#[test]
fn a_config_path_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_config(dir.path(), &["--config", "nope.ini"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read config file nope.ini"),
        "{stderr}"
    );
}

#[test]
fn without_config_flag_the_local_config_ini_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.ini"), "[Limits]\nRATE_LIMIT = 4\n").unwrap();
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
    ];
    let out = check_config(dir.path(), &[], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("RATE_LIMIT = 4  # config.ini:2"),
        "{stdout}"
    );
}
