//! The process environment as the string map configuration reads. It is read
//! with `vars_os`, so a variable that is not UTF-8 cannot panic: when it sets
//! a key duet knows it is an error naming the variable (never its value,
//! which may be a secret); any other one is left out.

use std::collections::HashMap;
use std::ffi::OsString;

use super::issue::{ConfigErrors, ConfigIssue, Severity, ValueSource};
use super::schema;

/// `vars` as a map of the UTF-8 ones; a non-UTF-8 value of a known key is an error.
pub fn env_from_os(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<HashMap<String, String>, ConfigErrors> {
    let mut env = HashMap::new();
    let mut issues = Vec::new();
    for (name, value) in vars {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => {
                env.insert(name, value);
            }
            Err(_) => {
                if let Some(spec) = schema::find_env(&name) {
                    issues.push(ConfigIssue {
                        severity: Severity::Error,
                        source: Some(ValueSource::Env { name }),
                        key: Some((spec.section.to_string(), spec.key.to_string())),
                        value: None,
                        message: "the value is not valid UTF-8 (it is not shown); \
                                  set the variable again as plain text"
                            .to_string(),
                    });
                }
            }
        }
    }
    if issues.is_empty() {
        Ok(env)
    } else {
        issues.sort_by(|a, b| a.key.cmp(&b.key));
        Err(ConfigErrors(issues))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use super::*;

    fn os(text: &str) -> OsString {
        OsString::from(text)
    }

    fn bytes(raw: &[u8]) -> OsString {
        OsString::from_vec(raw.to_vec())
    }

    #[test]
    fn a_non_utf8_value_of_a_known_key_is_an_error_that_hides_the_value() {
        let vars = [
            (os("OPENAI_API_KEY"), bytes(b"sk-hidden-value\xff")),
            (os("PATH"), os("/bin")),
        ];
        let errors = env_from_os(vars).expect_err("invalid").to_string();
        assert!(
            errors.contains(
                "env OPENAI_API_KEY [Default] OPENAI_API_KEY: the value is not valid UTF-8"
            ),
            "{errors}"
        );
        assert!(!errors.contains("sk-hidden"), "{errors}");
    }

    #[test]
    fn other_non_utf8_variables_are_left_out() {
        let vars = [
            (os("FOO"), bytes(b"\xff")),
            (bytes(b"\xfeNAME"), os("x")),
            (os("RATE_LIMIT"), os("4")),
        ];
        let env = env_from_os(vars).expect("ignored");
        assert_eq!(env.len(), 1);
        assert_eq!(env["RATE_LIMIT"], "4");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

        /// Arbitrary names (known keys among them) with arbitrary bytes: no
        /// panic, and an error never carries the value.
        #[test]
        fn arbitrary_variables_never_panic_or_show_a_value(
            vars in proptest::collection::vec(
                (proptest::prelude::prop_oneof![
                    proptest::prelude::Just("OPENAI_API_KEY".to_string()),
                    proptest::prelude::Just("MEMORY_TTL".to_string()),
                    "[A-Z_]{1,12}",
                ], proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
                0..8,
            )
        ) {
            let os_vars: Vec<(OsString, OsString)> = vars
                .iter()
                .map(|(name, value)| (os(name), bytes(value)))
                .collect();
            if let Err(errors) = env_from_os(os_vars) {
                for issue in &errors.0 {
                    proptest::prop_assert!(issue.value.is_none());
                    let from_env = matches!(issue.source, Some(ValueSource::Env { .. }));
                    proptest::prop_assert!(from_env);
                }
            }
        }
    }

    #[test]
    fn an_alias_counts_as_a_known_key() {
        let vars = [(os("DISCORD_API_BASE_URL"), bytes(b"http://\xff"))];
        let errors = env_from_os(vars).expect_err("invalid").to_string();
        assert!(
            errors.contains("env DISCORD_API_BASE_URL [Discord] API_BASE_URL"),
            "{errors}"
        );
    }
}
