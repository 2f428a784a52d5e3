//! Regression tests for the configuration faults an adversarial pass found
//! (issue 11): overflowing durations, zero timeouts, unchecked enumerations,
//! malformed lines, floods of unknown keys, credentials in the wrong place.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use super::reader::Reader;
use super::schema::{KEYS, Kind};
use super::*;

fn parse(text: &str, env: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
    Config::parse(text, Path::new("config.ini"), env)
}

fn errors_of(text: &str, env: &HashMap<String, String>) -> Vec<String> {
    parse(text, env)
        .expect_err("invalid")
        .0
        .iter()
        .filter(|i| i.is_error())
        .map(ToString::to_string)
        .collect()
}

fn one_var(name: &str, value: &str) -> HashMap<String, String> {
    HashMap::from([(name.to_string(), value.to_string())])
}

fn duration_keys() -> impl Iterator<Item = &'static KeySpec> {
    KEYS.iter()
        .filter(|spec| matches!(spec.kind, Kind::Duration { .. }))
}

#[test]
fn every_duration_key_rejects_overflowing_values_from_the_file_with_its_line() {
    let keys: Vec<_> = duration_keys().collect();
    assert_eq!(
        keys.len(),
        14,
        "12 pool durations, MEMORY_TTL and ATTACHMENT_TIMEOUT"
    );
    for huge in [
        "18446744073709551616",
        "213503982334602d",
        "1e400",
        "99999999999999999999h",
    ] {
        for spec in &keys {
            let text = format!("[{}]\n{} = {huge}\n", spec.section, spec.key);
            let errors = errors_of(&text, &HashMap::new());
            let want = format!(
                "config.ini:2 [{}] {} = \"{huge}\": expected a duration",
                spec.section, spec.key
            );
            assert!(
                errors.len() == 1 && errors[0].starts_with(&want),
                "{errors:?}"
            );
        }
    }
}

#[test]
fn every_duration_key_rejects_overflowing_values_from_the_environment_by_name() {
    for spec in duration_keys() {
        let errors = errors_of("", &one_var(spec.key, "213503982334602d"));
        let want = format!("env {} [{}] {}", spec.key, spec.section, spec.key);
        assert!(
            errors.len() == 1 && errors[0].starts_with(&want),
            "{errors:?}"
        );
    }
}

#[test]
fn zero_timeouts_are_rejected_and_keepalives_may_be_off() {
    let errors = errors_of("", &one_var("OPENAI_REQUEST_TIMEOUT", "0"));
    assert!(
        errors[0].contains("expected a duration (30, 0.5, 250ms, 10m, 2h or 7d) from 1ms to 1h"),
        "{errors:?}"
    );
    for key in [
        "PERPLEXITY_CONNECT_TIMEOUT",
        "OPENAI_READ_TIMEOUT",
        "OPENAI_POOL_TIMEOUT",
    ] {
        assert!(Config::from_env(&one_var(key, "0ms")).is_err(), "{key}");
        assert!(
            Config::from_env(&one_var(key, "2h")).is_err(),
            "{key} above 1h"
        );
    }
    let c = Config::from_env(&one_var("OPENAI_TCP_KEEPALIVE", "0")).expect("0 = off");
    assert_eq!(c.openai.pool.tcp_keepalive, Duration::ZERO);
}

#[test]
fn bogus_enumerated_values_are_errors_with_a_suggestion() {
    let cases = [
        ("OPENAI_REASONING_EFFORT", "bogus", None),
        ("OPENAI_REASONING_EFFORT", "hihg", Some("high")),
        ("PERPLEXITY_PRESET", "bogus", None),
        ("PERPLEXITY_PRESET", "fats", Some("fast")),
        ("MODE", "smrt", Some("smart")),
        ("LOG_LEVEL", "inf0", Some("info")),
        ("MEMORY_SCOPE", "chanel", Some("channel")),
        ("OPENAI_HTTP2", "sometimes", None),
    ];
    for (key, value, suggestion) in cases {
        let errors = errors_of("", &one_var(key, value));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("expected"), "{errors:?}");
        match suggestion {
            Some(name) => assert!(
                errors[0].ends_with(&format!("; did you mean {name}?")),
                "{errors:?}"
            ),
            None => assert!(!errors[0].contains("did you mean"), "{errors:?}"),
        }
    }
    let c = Config::from_env(&one_var("PERPLEXITY_PRESET", "Pro-Search")).unwrap();
    assert_eq!(c.perplexity.preset.as_deref(), Some("pro-search"));
    let c = Config::from_env(&one_var("OPENAI_REASONING_EFFORT", "")).unwrap();
    assert_eq!(c.openai.reasoning_effort, None);
}

#[test]
fn malformed_headers_and_keyless_lines_fail_the_load_with_their_lines() {
    let errors = errors_of("[]\n[[Limits]]\n[Limits]\n= 5\n", &HashMap::new());
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("config.ini:1 "), "{errors:?}");
    assert!(errors[1].starts_with("config.ini:2 "), "{errors:?}");
    assert!(errors[2].starts_with("config.ini:4 "), "{errors:?}");
}

#[test]
fn fifty_thousand_unknown_keys_load_quickly_with_a_bounded_warning_list() {
    let mut text = String::from("[Limits]\n");
    for i in 0..50_000 {
        text.push_str(&format!("UNKNOWN_KEY_{i} = {i}\n"));
    }
    let started = Instant::now();
    let c = parse(&text, &HashMap::new()).expect("unknown keys are warnings");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(c.warnings.len(), ini::LISTED_PROBLEMS + 1);
    let last = c.warnings.last().unwrap().to_string();
    assert!(
        last.contains("and 49950 more problems from this line on"),
        "{last}"
    );
}

#[test]
fn a_secret_pasted_into_a_plain_key_warns_without_showing_it() {
    let key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX";
    let c = parse(&format!("[Default]\nGPT_MODEL = {key}\n"), &HashMap::new()).unwrap();
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "warning: config.ini:2 [Default] GPT_MODEL: the value looks like an OpenAI API key"
        ),
        "{warnings:?}"
    );
    let shown = render_effective(&c);
    assert!(
        !shown.contains(key) && !warnings[0].contains(key),
        "{shown}"
    );
    assert!(
        shown.contains("GPT_MODEL = [redacted: looks like an OpenAI API key]  # config.ini:2"),
        "{shown}"
    );
}

#[test]
fn url_passwords_are_redacted_in_the_effective_configuration_and_errors() {
    let c = Config::from_env(&one_var(
        "OPENAI_API_URL",
        "http://user:hunter2@proxy:8080/v1",
    ))
    .unwrap();
    let shown = render_effective(&c);
    assert!(
        shown.contains("OPENAI_API_URL = http://user:[redacted]@proxy:8080/v1  # env"),
        "{shown}"
    );
    let errors = errors_of("", &one_var("API_BASE_URL", "ftp://user:hunter2@proxy"));
    assert!(!errors[0].contains("hunter2"), "{errors:?}");
    assert!(
        errors[0].contains("ftp://user:[redacted]@proxy"),
        "{errors:?}"
    );
}

#[test]
fn every_key_is_read_by_its_section_and_nothing_else_is() {
    let mut r = Reader::new(source::layer(None, &HashMap::new()).unwrap());
    Config::read(&mut r, None);
    let registered: BTreeSet<_> = KEYS.iter().map(|s| (s.section, s.key)).collect();
    assert_eq!(r.read, registered);
    assert!(r.issues.is_empty(), "{:?}", r.issues);
}

#[test]
fn every_key_describes_what_it_accepts() {
    for spec in KEYS {
        assert!(!spec.kind.describe().is_empty(), "{}", spec.key);
        assert!(!spec.doc.is_empty(), "{}", spec.key);
        if let Kind::Uint { min, max } = spec.kind {
            assert!(min <= max, "{}", spec.key);
        }
    }
}
