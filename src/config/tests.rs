//! Tests of loading, precedence and error reporting.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::*;

const LEGACY: &str = "\
[Discord]
DISCORD_TOKEN=discord-secret-token
ALLOWED_CHANNELS=general, bots
ALLOWED_CHANNEL_IDS=111,222
BOT_PRESENCE=idle
ACTIVITY_TYPE=watching
ACTIVITY_STATUS=the web

[Default]
OPENAI_API_KEY=sk-test-openai
OPENAI_API_URL=https://example.test/v1
GPT_MODEL=gpt-test
PERPLEXITY_API_KEY=pplx-test
PERPLEXITY_API_URL=https://pplx.example.test
PERPLEXITY_MODEL=perplexity/sonar
INPUT_TOKENS=1000
OUTPUT_TOKENS=200
CONTEXT_WINDOW=4000
SYSTEM_MESSAGE=You are 100% sure

[Limits]
RATE_LIMIT=5
RATE_LIMIT_PER=30

[ConnectionPool]
OPENAI_MAX_CONNECTIONS=40
OPENAI_MAX_KEEPALIVE=8
PERPLEXITY_MAX_CONNECTIONS=20
PERPLEXITY_MAX_KEEPALIVE=4

[Orchestrator]
LOOKBACK_MESSAGES_FOR_CONSISTENCY=4
MAX_HISTORY_PER_USER=30
USER_LOCK_CLEANUP_INTERVAL=1800
ENTITY_DETECTION_MIN_WORDS=7

[Logging]
LOG_FILE=duet.log
LOG_LEVEL=DEBUG

[Health]
HEALTH_ENABLED=false
HEALTH_HOST=0.0.0.0
HEALTH_PORT=9090
";

fn no_env() -> HashMap<String, String> {
    HashMap::new()
}

fn parse(text: &str, env: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
    Config::parse(text, Path::new("config.ini"), env)
}

#[test]
fn the_legacy_key_set_lands_in_the_typed_config() {
    let c = parse(LEGACY, &no_env()).expect("valid");
    assert_eq!(
        c.discord.token.as_ref().unwrap().expose(),
        "discord-secret-token"
    );
    assert_eq!(c.discord.allowed_channels, vec!["general", "bots"]);
    assert_eq!(c.discord.allowed_channel_ids, vec![111, 222]);
    assert_eq!(c.discord.presence, Presence::Idle);
    assert_eq!(c.discord.activity_type, ActivityKind::Watching);
    assert_eq!(c.discord.activity_status.as_deref(), Some("the web"));
    assert_eq!(
        c.openai.api_key.as_ref().unwrap().expose(),
        "sk-test-openai"
    );
    assert_eq!(c.openai.base_url.as_str(), "https://example.test/v1");
    assert_eq!(c.openai.model, "gpt-test");
    assert_eq!(c.perplexity.api_key.as_ref().unwrap().expose(), "pplx-test");
    assert_eq!(c.perplexity.base_url.as_str(), "https://pplx.example.test/");
    assert_eq!(c.perplexity.model, "perplexity/sonar");
    assert_eq!(
        (
            c.prompt.input_tokens,
            c.prompt.output_tokens,
            c.prompt.context_window
        ),
        (1000, 200, 4000)
    );
    assert_eq!(c.prompt.system_message, "You are 100% sure");
    assert_eq!(c.limits.rate_limit, 5);
    assert_eq!(c.limits.rate_limit_per, Duration::from_secs(30));
    assert_eq!(
        (c.openai.pool.max_connections, c.openai.pool.max_keepalive),
        (40, 8)
    );
    assert_eq!(
        (
            c.perplexity.pool.max_connections,
            c.perplexity.pool.max_keepalive
        ),
        (20, 4)
    );
    assert_eq!(c.orchestrator.lookback_messages, 4);
    assert_eq!(c.orchestrator.max_history, 30);
    assert_eq!(c.orchestrator.cleanup_interval, Duration::from_secs(1800));
    assert_eq!(c.orchestrator.entity_min_words, 7);
    assert_eq!(c.logging.file.as_deref(), Some(Path::new("duet.log")));
    assert_eq!(c.logging.level, "debug");
    assert!(!c.health.enabled);
    assert_eq!((c.health.host.as_str(), c.health.port), ("0.0.0.0", 9090));
    assert_eq!(c.mode(), Some(Mode::Hybrid));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn section_and_key_names_are_case_insensitive() {
    let c = parse(
        "[connectionpool]\nopenai_max_connections = 7\n[LIMITS]\nRate_Limit=3\n",
        &no_env(),
    )
    .unwrap();
    assert_eq!(c.openai.pool.max_connections, 7);
    assert_eq!(c.limits.rate_limit, 3);
}

#[test]
fn environment_beats_file_beats_default_per_key() {
    let env = HashMap::from([("OPENAI_MAX_CONNECTIONS".to_string(), "80".to_string())]);
    let text = "[ConnectionPool]\nOPENAI_MAX_CONNECTIONS=40\nOPENAI_MAX_KEEPALIVE=8\n";
    let c = parse(text, &env).unwrap();
    assert_eq!(c.openai.pool.max_connections, 80, "env wins over the file");
    assert_eq!(
        c.openai.pool.max_keepalive, 8,
        "the file wins over the default"
    );
    assert_eq!(c.perplexity.pool.max_connections, 30, "the default stays");
    let source = |key| c.resolved[&("ConnectionPool", key)].source.clone();
    assert_eq!(
        source("OPENAI_MAX_CONNECTIONS"),
        ValueSource::Env {
            name: "OPENAI_MAX_CONNECTIONS".into()
        }
    );
    assert_eq!(
        source("OPENAI_MAX_KEEPALIVE"),
        ValueSource::File {
            path: "config.ini".into(),
            line: 3
        }
    );
    assert_eq!(source("PERPLEXITY_MAX_CONNECTIONS"), ValueSource::Default);
}

#[test]
fn the_discord_api_base_url_also_comes_from_its_env_alias() {
    let env = HashMap::from([(
        "DISCORD_API_BASE_URL".to_string(),
        "http://127.0.0.1:9".to_string(),
    )]);
    let c = Config::from_env(&env).unwrap();
    assert_eq!(
        c.discord.api_base_url.unwrap().as_str(),
        "http://127.0.0.1:9/"
    );
}

#[test]
fn several_bad_values_give_several_errors_with_line_numbers() {
    let text = "[ConnectionPool]\nOPENAI_MAX_CONNECTIONS=fifty\n[Limits]\nRATE_LIMIT=0\n[Discord]\nALLOW_DMS=maybe\n";
    let errors = parse(text, &no_env()).expect_err("invalid").0;
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines.contains(&"config.ini:2 [ConnectionPool] OPENAI_MAX_CONNECTIONS = \"fifty\": expected a whole number from 1 to 10000".to_string()), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("config.ini:4 [Limits] RATE_LIMIT = \"0\"")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("config.ini:6 [Discord] ALLOW_DMS = \"maybe\": expected true or false")),
        "{lines:#?}"
    );
}

#[test]
fn an_unknown_key_is_a_warning_with_a_suggestion() {
    let c = parse("[ConnectionPool]\nOPENAI_MAX_CONECTIONS=5\n", &no_env())
        .expect("warnings are not fatal");
    assert_eq!(c.warnings.len(), 1);
    let warning = c.warnings[0].to_string();
    assert!(warning.starts_with("warning: config.ini:2"), "{warning}");
    assert!(
        warning.contains("did you mean [ConnectionPool] OPENAI_MAX_CONNECTIONS?"),
        "{warning}"
    );
}

#[test]
fn bad_secrets_are_reported_without_their_value() {
    let env = HashMap::from([("OPENAI_API_URL".to_string(), "not a url".to_string())]);
    let errors = parse(LEGACY, &env).expect_err("invalid").to_string();
    assert!(
        errors.contains("env OPENAI_API_URL [Default] OPENAI_API_URL = \"not a url\""),
        "{errors}"
    );
    assert!(!errors.contains("sk-test-openai"));
}

#[test]
fn run_requires_a_token_and_a_provider_and_says_where_to_put_them() {
    let c = Config::from_env(&no_env()).unwrap();
    let message = c
        .require(Purpose::Run)
        .expect_err("nothing set")
        .to_string();
    assert!(
        message.contains("set DISCORD_TOKEN under [Discord]"),
        "{message}"
    );
    assert!(
        message.contains("OPENAI_API_KEY or PERPLEXITY_API_KEY"),
        "{message}"
    );
    let local = HashMap::from([(
        "OPENAI_API_URL".to_string(),
        "http://localhost:11434/v1".to_string(),
    )]);
    let c = Config::from_env(&local).unwrap();
    assert!(
        c.require(Purpose::Terminal).is_ok(),
        "a local server needs no key"
    );
    assert_eq!(c.mode(), Some(Mode::OpenAiOnly));
}

#[test]
fn the_effective_configuration_redacts_secrets_and_names_sources() {
    let env = HashMap::from([(
        "PERPLEXITY_API_KEY".to_string(),
        "pplx-from-env".to_string(),
    )]);
    let c = parse(LEGACY, &env).unwrap();
    let text = render_effective(&c);
    assert!(
        !text.contains("discord-secret-token")
            && !text.contains("sk-test-openai")
            && !text.contains("pplx-")
    );
    assert!(
        text.contains("DISCORD_TOKEN = [redacted]  # config.ini:2"),
        "{text}"
    );
    assert!(
        text.contains("PERPLEXITY_API_KEY = [redacted]  # env"),
        "{text}"
    );
    assert!(text.contains("OPENAI_RPM = 500  # default"), "{text}");
}

#[test]
fn reload_diffs_name_changed_keys_and_redact_secrets() {
    let old = parse(LEGACY, &no_env()).unwrap();
    let new_text = LEGACY
        .replace("OPENAI_MAX_CONNECTIONS=40", "OPENAI_MAX_CONNECTIONS=45")
        .replace("sk-test-openai", "sk-other");
    let new = parse(&new_text, &no_env()).unwrap();
    let changes = new.changes_from(&old);
    assert_eq!(
        changes,
        vec![
            "OPENAI_API_KEY: [redacted] -> [redacted]",
            "OPENAI_MAX_CONNECTIONS: \"40\" -> \"45\""
        ]
    );
}

#[test]
fn every_schema_default_is_valid() {
    Config::from_env(&no_env()).expect("defaults are valid");
}
