//! `duet route` run as a process: the line format, `--json`, and how the
//! configuration (keys, MODE) changes the decision.

use std::io::Write;
use std::process::{Command, Output};

use serde_json::{Value, json};
use tempfile::NamedTempFile;

const BOTH_KEYS: &str = "[Default]\nOPENAI_API_KEY=sk-test\nPERPLEXITY_API_KEY=pplx-test\n";

fn config_file(text: &str) -> NamedTempFile {
    let mut file = NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write config");
    file
}

/// Runs `duet --config <file> route <args>` with an empty environment, so no
/// variable of the developer's shell overrides the file.
fn duet_route(config: &str, args: &[&str]) -> Output {
    let file = config_file(config);
    Command::new(env!("CARGO_BIN_EXE_duet"))
        .env_clear()
        .arg("--config")
        .arg(file.path())
        .arg("route")
        .args(args)
        .output()
        .expect("duet runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

#[test]
fn prints_the_provider_and_the_reasons_on_one_line() {
    let output = duet_route(BOTH_KEYS, &["what's the weather today?"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "perplexity  reasons: time_sensitive(\"today\"), live_topic(\"weather\")\n"
    );
    assert_eq!(stderr(&output), "", "no note when providers are configured");
}

#[test]
fn several_words_are_routed_as_one_message() {
    let output = duet_route(BOTH_KEYS, &["borrow", "checking", "is", "neat"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "openai  reasons: default_conversation\n");
}

#[test]
fn json_output_has_provider_reasons_and_the_question_without_prefix() {
    let output = duet_route(BOTH_KEYS, &["--json", "search: who is Sam Altman"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
    assert_eq!(
        value,
        json!({
            "outcome": "web",
            "provider": "perplexity",
            "reasons": [{"rule": "explicit", "detail": "search:"}],
            "question": "who is Sam Altman",
        })
    );
}

#[test]
fn without_keys_the_smart_decision_is_shown_with_a_note() {
    let output = duet_route("", &["--json", "Who is Sam Altman?"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: Value = serde_json::from_str(&stdout(&output)).expect("one JSON object");
    assert_eq!(value["provider"], "perplexity");
    assert_eq!(
        value["reasons"],
        json!([{"rule": "entity", "detail": "Sam Altman"}])
    );
    assert!(
        stderr(&output).contains(duet::cli::NO_PROVIDER_NOTE),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_single_configured_provider_answers_everything() {
    let output = duet_route(
        "[Default]\nOPENAI_API_KEY=sk-test\nOPENAI_API=chat\n",
        &["explain borrow checking"],
    );
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "openai  (only provider; would go to chat: chat_intent(\"explain\"))\n"
    );
}

#[test]
fn a_single_provider_shows_where_a_web_question_would_go_and_why() {
    // On chat completions OpenAI has no web search (WEB_PROVIDER=auto finds none).
    let output = duet_route(
        "[Default]\nOPENAI_API_KEY=sk-test\nOPENAI_API=chat\n",
        &["what's on today?"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "openai  (only provider; would go to web: time_sensitive(\"today\"))\n"
    );
    let json = duet_route(
        "[Default]\nPERPLEXITY_API_KEY=pplx-test\n",
        &["--json", "write a poem"],
    );
    let value: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["provider"], "perplexity");
}

#[test]
fn routing_mode_forces_a_provider() {
    let config = format!("{BOTH_KEYS}[Routing]\nMODE=perplexity\n");
    let output = duet_route(&config, &["write a poem"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "perplexity  reasons: forced(perplexity)\n");
}

#[test]
fn configured_chat_keywords_are_honoured() {
    let config = format!("{BOTH_KEYS}[Routing]\nCHAT_KEYWORDS=Lore, campaign\n");
    let output = duet_route(&config, &["the lore behind today's episode"]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), "openai  reasons: chat_keyword(\"lore\")\n");
}

#[test]
fn an_invalid_configuration_exits_2_and_says_why() {
    let config = format!("{BOTH_KEYS}[Routing]\nMODE=sometimes\n");
    let output = duet_route(&config, &["hi"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("MODE"), "{}", stderr(&output));
}

#[test]
fn a_message_is_required() {
    let output = duet_route(BOTH_KEYS, &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("<TEXT>"), "{}", stderr(&output));
}

#[test]
fn a_question_with_no_signal_either_way_is_shown_as_undecided_with_its_fallback() {
    let output = duet_route(BOTH_KEYS, &["why is the sky blue"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "undecided (fallback openai)  reasons: open_question\n"
    );
}

#[test]
fn eval_prints_accuracy_the_confusion_matrix_and_every_miss() {
    let mut set = NamedTempFile::new().expect("temp file");
    set.write_all(b"# a comment\nweb\tweather in paris today\nchat\twrite a poem\nweb\twhy is the sky blue?\n")
        .expect("write set");
    let path = set.path().to_str().expect("utf-8 path");
    let output = duet_route(BOTH_KEYS, &["--eval", path]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = format!(
        "accuracy: 66.7% (2 of 3, heuristic alone: undecided scored as its fallback)\n\
         undecided: 1 of 3 (the chat model would be offered search_web)\n\
         confusion (rows expected, columns routed):\n\
         \x20         web   chat\n\
         \x20 web        1      1\n\
         \x20 chat       0      1\n\
         misses: 1\n\
         \x20 line 4: expected web, got undecided (fallback openai)  reasons: open_question: {:?}\n",
        "why is the sky blue?"
    );
    assert_eq!(stdout(&output), expected);
}

#[test]
fn eval_rejects_a_set_with_bad_lines_and_names_each() {
    let mut set = NamedTempFile::new().expect("temp file");
    set.write_all(b"web weather\nchat\thi\nmaybe\tx\n")
        .expect("write set");
    let path = set.path().to_str().expect("utf-8 path");
    let output = duet_route(BOTH_KEYS, &["--eval", path]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("line 1:") && err.contains("line 3:"), "{err}");
    assert!(!err.contains("line 2:"), "{err}");
}
