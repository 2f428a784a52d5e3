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

// Bad days (issue 11): every one of these exits 2 with a message, never 101.

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit_2(out: &Output) -> String {
    let stderr = stderr_of(out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn overflowing_durations_in_the_file_exit_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let ini = write(
        dir.path(),
        "c.ini",
        "[Memory]\nMEMORY_TTL = 18446744073709551616\n[ConnectionPool]\nOPENAI_READ_TIMEOUT = 213503982334602d\nPERPLEXITY_KEEPALIVE_EXPIRY = 213503982334602d\n",
    );
    let stderr = assert_exit_2(&check_config(dir.path(), &["--config", &ini], &[]));
    for want in [
        "c.ini:2 [Memory] MEMORY_TTL = \"18446744073709551616\": expected a duration",
        "c.ini:4 [ConnectionPool] OPENAI_READ_TIMEOUT = \"213503982334602d\"",
        "c.ini:5 [ConnectionPool] PERPLEXITY_KEEPALIVE_EXPIRY",
    ] {
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
}

#[test]
fn overflowing_durations_in_the_environment_exit_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MEMORY_TTL", "18446744073709551616"),
        ("OPENAI_CONNECT_TIMEOUT", "213503982334602d"),
    ];
    let stderr = assert_exit_2(&check_config(dir.path(), &[], &env));
    assert!(
        stderr.contains("env MEMORY_TTL [Memory] MEMORY_TTL"),
        "{stderr}"
    );
    assert!(
        stderr.contains("env OPENAI_CONNECT_TIMEOUT [ConnectionPool] OPENAI_CONNECT_TIMEOUT"),
        "{stderr}"
    );
}

#[test]
fn a_non_utf8_secret_in_the_environment_exits_2_without_printing_it() {
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("check-config")
        .current_dir(dir.path())
        .env_clear()
        .env(
            "OPENAI_API_KEY",
            std::ffi::OsString::from_vec(b"sk-FAKE-leak\xff".to_vec()),
        )
        .env("UNRELATED", std::ffi::OsString::from_vec(b"\xfe".to_vec()))
        .output()
        .unwrap();
    let stderr = assert_exit_2(&out);
    assert!(
        stderr
            .contains("env OPENAI_API_KEY [Default] OPENAI_API_KEY: the value is not valid UTF-8"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sk-FAKE-leak") && !stderr.contains("UNRELATED"),
        "{stderr}"
    );
}

#[test]
fn an_unrelated_non_utf8_variable_is_ignored() {
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_duet"))
        .arg("check-config")
        .current_dir(dir.path())
        .env_clear()
        .env("DISCORD_TOKEN", FAKE_DISCORD_TOKEN)
        .env("OPENAI_API_KEY", FAKE_OPENAI_KEY)
        .env("FOO", std::ffi::OsString::from_vec(b"\xff".to_vec()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn a_zero_timeout_and_a_bogus_enumeration_exit_2_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("OPENAI_REQUEST_TIMEOUT", "0"),
        ("OPENAI_REASONING_EFFORT", "bogus"),
        ("PERPLEXITY_PRESET", "fats"),
    ];
    let stderr = assert_exit_2(&check_config(dir.path(), &[], &env));
    assert!(
        stderr.contains("OPENAI_REQUEST_TIMEOUT = \"0\": expected a duration (30, 0.5, 250ms, 10m, 2h or 7d) from 1ms to 1h"),
        "{stderr}"
    );
    assert!(
        stderr.contains("OPENAI_REASONING_EFFORT = \"bogus\": expected nothing, or one of none, minimal, low, medium, high, xhigh, max"),
        "{stderr}"
    );
    assert!(
        stderr.contains("PERPLEXITY_PRESET = \"fats\"") && stderr.contains("did you mean fast?"),
        "{stderr}"
    );
}

#[test]
fn malformed_headers_and_a_keyless_line_exit_2_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let ini = write(
        dir.path(),
        "c.ini",
        "[]\nX = 1\n[[Limits]]\n[Limits]\n= 5\n",
    );
    let stderr = assert_exit_2(&check_config(dir.path(), &["--config", &ini], &[]));
    assert!(stderr.contains("c.ini:1 empty section header"), "{stderr}");
    assert!(
        stderr.contains("c.ini:3 malformed section header \"[[Limits]]\""),
        "{stderr}"
    );
    assert!(stderr.contains("c.ini:5 a value without a key"), "{stderr}");
}

#[test]
fn dev_zero_and_a_fifo_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = assert_exit_2(&check_config(dir.path(), &["--config", "/dev/zero"], &[]));
    assert!(
        stderr.contains("not a regular file (it is a character device)"),
        "{stderr}"
    );

    let fifo = dir.path().join("fifo.ini");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    // Nobody ever writes to the FIFO: a reader that opened it would block forever.
    let stderr = assert_exit_2(&check_config(dir.path(), &["--config", "fifo.ini"], &[]));
    assert!(
        stderr.contains("not a regular file (it is a FIFO)"),
        "{stderr}"
    );
}

#[test]
fn fifty_thousand_unknown_keys_are_checked_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[Limits]\n");
    for i in 0..50_000 {
        text.push_str(&format!("UNKNOWN_{i} = 1\n"));
    }
    let ini = write(dir.path(), "c.ini", &text);
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
    ];
    let started = std::time::Instant::now();
    let out = check_config(dir.path(), &["--config", &ini], &env);
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert!(
        stderr.contains("and 49950 more problems from this line on"),
        "{stderr}"
    );
    assert!(stderr.lines().count() < 60, "the warnings are bounded");
}

#[test]
fn url_credentials_and_secret_shaped_values_are_redacted_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let ini = write(
        dir.path(),
        "c.ini",
        "[Default]\nOPENAI_API_URL = http://user:hunter2@proxy.example:3128/v1\nGPT_MODEL = sk-FAKE-pasted-0123456789abcdef\n",
    );
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
    ];
    let out = check_config(dir.path(), &["--config", &ini], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("OPENAI_API_URL = http://user:[redacted]@proxy.example:3128/v1  # c.ini:2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("GPT_MODEL = [redacted: looks like an OpenAI API key]  # c.ini:3"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "warning: c.ini:3 [Default] GPT_MODEL: the value looks like an OpenAI API key"
        ),
        "{stderr}"
    );
    for leak in ["hunter2", "sk-FAKE-pasted"] {
        assert!(
            !stdout.contains(leak) && !stderr.contains(leak),
            "{leak} leaked"
        );
    }
}

#[test]
fn a_local_server_without_v1_and_with_openai_defaults_gets_three_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_URL", "http://localhost:11434"),
    ];
    let out = check_config(dir.path(), &[], &env);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "warnings only: {stderr}");
    for expected in [
        "OPENAI_API_URL",
        "most OpenAI-compatible servers serve their API under http://localhost:11434/v1",
        "still gpt-5-mini",
        "set OPENAI_TOKEN_LIMIT_FIELD=max_tokens",
    ] {
        assert!(stderr.contains(expected), "{expected:?} missing: {stderr}");
    }

    let tuned = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_URL", "http://localhost:11434/v1"),
        ("GPT_MODEL", "llama3.2"),
        ("OPENAI_TOKEN_LIMIT_FIELD", "max_tokens"),
    ];
    let out = check_config(dir.path(), &[], &tuned);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr_of(&out).contains("warning"), "{}", stderr_of(&out));
}

#[test]
fn a_reasoning_effort_the_model_family_refuses_exits_2_naming_the_accepted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
        ("GPT_MODEL", "gpt-5.1"),
        ("OPENAI_REASONING_EFFORT", "minimal"),
    ];
    let stderr = assert_exit_2(&check_config(dir.path(), &[], &env));
    assert!(
        stderr.contains(
            "minimal is not accepted by gpt-5.1; this model family takes none, low, medium, high"
        ),
        "{stderr}"
    );
    let pro = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
        ("GPT_MODEL", "gpt-5-pro"),
        ("OPENAI_REASONING_EFFORT", "medium"),
    ];
    let stderr = assert_exit_2(&check_config(dir.path(), &[], &pro));
    assert!(stderr.contains("takes high"), "{stderr}");
}

#[test]
fn a_reasoning_effort_for_an_unknown_model_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", FAKE_DISCORD_TOKEN),
        ("OPENAI_API_KEY", FAKE_OPENAI_KEY),
        ("GPT_MODEL", "my-finetune"),
        ("OPENAI_REASONING_EFFORT", "xhigh"),
    ];
    let out = check_config(dir.path(), &[], &env);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("GPT_MODEL my-finetune is not a model duet knows"),
        "{stderr}"
    );
}
