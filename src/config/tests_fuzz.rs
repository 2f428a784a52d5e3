//! Property tests: no input to the INI reader, the environment overrides or
//! validation panics, and every error names the line (or the environment
//! variable) it is about. Case counts are fixed so a run tries
//! `BYTES_CASES + TEXT_CASES + WELL_FORMED_CASES + ENV_CASES` inputs (3,500).

use std::collections::HashMap;
use std::path::Path;

use proptest::prelude::*;

use super::schema::{KEYS, SECTIONS};
use super::*;

const BYTES_CASES: u32 = 1000;
const TEXT_CASES: u32 = 1000;
const WELL_FORMED_CASES: u32 = 1000;
const ENV_CASES: u32 = 500;

/// Every error names a file line, or the environment variable it came from.
fn assert_located(result: Result<Config, ConfigErrors>) -> Result<(), TestCaseError> {
    let Err(errors) = result else {
        return Ok(());
    };
    for issue in errors.0.iter().filter(|i| i.is_error()) {
        let located = matches!(
            issue.source,
            Some(ValueSource::File { .. }) | Some(ValueSource::Env { .. })
        );
        prop_assert!(located, "an error without a place: {issue}");
        prop_assert!(
            issue.to_string().starts_with("config.ini:") || issue.to_string().starts_with("env ")
        );
    }
    Ok(())
}

/// Values that probe the parsers: numbers at and past the limits, units,
/// signs, URLs, lists and arbitrary text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,25}(\\.[0-9]{0,25})?(ms|s|m|h|d|x)?",
        Just("18446744073709551616".to_string()),
        Just("213503982334602d".to_string()),
        Just("-1".to_string()),
        "(https?|ftp)://[a-z:@.%/]{0,30}",
        "[0-9, ]{0,40}",
        "(true|false|yes|maybe|on|OFF)",
        "(smart|openai|none|high|fast|auto|never|json|trace|sqlite|user|0|1)",
    ]
}

/// A known key (any case, `=` or `:`) with a probing value.
fn known_key_line() -> impl Strategy<Value = String> {
    (0..KEYS.len(), value(), any::<bool>()).prop_map(|(i, v, colon)| {
        let spec = &KEYS[i];
        let v = v.replace(['\n', '\r'], " ");
        format!(
            "{} {} {v}",
            spec.key.to_lowercase(),
            if colon { ':' } else { '=' }
        )
    })
}

/// One line of an INI-shaped file: headers (known, odd or broken), known and
/// unknown keys with probing values, comments, continuations and garbage.
fn line() -> impl Strategy<Value = String> {
    let known_key = known_key_line();
    let header = (0..SECTIONS.len()).prop_map(|i| format!("[{}]", SECTIONS[i].to_uppercase()));
    prop_oneof![
        3 => known_key,
        2 => header,
        1 => "\\[{0,3}[A-Za-z ]{0,8}\\]{0,3}",
        1 => "[A-Z_]{0,12} ?[=:]? ?[^\n]{0,20}",
        1 => "[ \t]+[^\n]{0,20}",
        1 => "[#;][^\n]{0,20}",
        1 => "[^\n]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: BYTES_CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_name_a_line(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        assert_located(Config::parse_bytes(&bytes, Path::new("config.ini"), &HashMap::new()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: TEXT_CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_ini_shaped_text_never_panics_and_errors_name_a_line(
        lines in proptest::collection::vec(line(), 0..40),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        assert_located(Config::parse(&text, Path::new("config.ini"), &HashMap::new()))?;
    }
}

/// A syntactically valid file: every key under its own section's header,
/// so validation (not the INI reader) sees every value.
fn well_formed_file() -> impl Strategy<Value = String> {
    proptest::collection::vec((0..KEYS.len(), value()), 0..30).prop_map(|keys| {
        keys.into_iter()
            .map(|(i, v)| {
                let spec = &KEYS[i];
                let v = v.replace(['\n', '\r'], " ");
                format!("[{}]\n{} = {v}\n", spec.section, spec.key)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: WELL_FORMED_CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_values_in_a_well_formed_file_never_panic_and_errors_name_a_line(text in well_formed_file()) {
        assert_located(Config::parse(&text, Path::new("config.ini"), &HashMap::new()))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: ENV_CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_environment_overrides_never_panic_and_errors_name_the_variable(
        vars in proptest::collection::vec((0..KEYS.len(), value()), 0..12),
    ) {
        let env: HashMap<String, String> = vars
            .into_iter()
            .map(|(i, v)| (KEYS[i].key.to_string(), v))
            .collect();
        let result = Config::parse("[Limits]\nRATE_LIMIT = 3\n", Path::new("config.ini"), &env);
        assert_located(result)?;
    }
}
