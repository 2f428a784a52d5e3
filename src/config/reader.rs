//! Resolves each key (environment > file > default) and converts it to a
//! typed value, collecting every problem instead of stopping at the first.

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::time::Duration;

use super::ini::IniFile;
use super::issue::{ConfigIssue, Severity, ValueSource};
use super::schema::{self, KeySpec};
use crate::secret::Secret;

/// A key's effective raw value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub value: String,
    pub source: ValueSource,
}

/// Every key's resolved value, keyed by (section, key) in schema spelling.
pub type ResolvedValues = BTreeMap<(&'static str, &'static str), Resolved>;

pub(super) struct Reader {
    pub values: ResolvedValues,
    pub issues: Vec<ConfigIssue>,
}

impl Reader {
    pub fn new(file: Option<&IniFile>, env: &HashMap<String, String>) -> Self {
        let mut reader = Reader {
            values: BTreeMap::new(),
            issues: Vec::new(),
        };
        for spec in schema::KEYS {
            reader
                .values
                .insert((spec.section, spec.key), resolve(spec, file, env));
        }
        if let Some(file) = file {
            reader.warn_unknown(file);
        }
        reader
    }

    fn warn_unknown(&mut self, file: &IniFile) {
        for (section, line) in &file.sections {
            if schema::canonical_section(section).is_none() {
                self.issues.push(ConfigIssue {
                    severity: Severity::Warning,
                    source: Some(ValueSource::File {
                        path: file.path.clone(),
                        line: *line,
                    }),
                    key: None,
                    value: None,
                    message: format!("unknown section [{section}] is ignored"),
                });
            }
        }
        for entry in &file.entries {
            if schema::canonical_section(&entry.section).is_none()
                || schema::find(&entry.section, &entry.key).is_some()
            {
                continue;
            }
            let message = match schema::suggest(&entry.key) {
                Some(spec) => format!(
                    "unknown key is ignored; did you mean [{}] {}?",
                    spec.section, spec.key
                ),
                None => "unknown key is ignored".to_string(),
            };
            self.issues.push(ConfigIssue {
                severity: Severity::Warning,
                source: Some(ValueSource::File {
                    path: file.path.clone(),
                    line: entry.line,
                }),
                key: Some((entry.section.clone(), entry.key.clone())),
                value: None,
                message,
            });
        }
    }

    fn raw(&self, section: &'static str, key: &'static str) -> &Resolved {
        self.values
            .get(&(section, key))
            .unwrap_or_else(|| panic!("[{section}] {key} is not in the schema"))
    }

    /// Records a bad value and returns the parsed default instead.
    fn invalid<T>(
        &mut self,
        section: &'static str,
        key: &'static str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        let resolved = self.raw(section, key).clone();
        let spec = schema::find(section, key).expect("schema key");
        self.issues.push(ConfigIssue {
            severity: Severity::Error,
            source: Some(resolved.source),
            key: Some((section.to_string(), key.to_string())),
            value: Some(if spec.secret {
                "[redacted]".to_string()
            } else {
                resolved.value
            }),
            message: format!("expected {expected}"),
        });
        parse(spec.default).expect("schema defaults parse")
    }

    fn typed<T>(
        &mut self,
        section: &'static str,
        key: &'static str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> T {
        match parse(self.raw(section, key).value.trim()) {
            Some(value) => value,
            None => self.invalid(section, key, expected, parse),
        }
    }

    /// Records a problem that spans a key but is not about its syntax.
    pub fn error(&mut self, section: &'static str, key: &'static str, message: String) {
        let resolved = self.raw(section, key).clone();
        self.issues.push(ConfigIssue {
            severity: Severity::Error,
            source: Some(resolved.source),
            key: Some((section.to_string(), key.to_string())),
            value: None,
            message,
        });
    }

    pub fn string(&mut self, section: &'static str, key: &'static str) -> String {
        self.raw(section, key).value.clone()
    }

    pub fn opt_string(&mut self, section: &'static str, key: &'static str) -> Option<String> {
        Some(self.raw(section, key).value.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub fn secret(&mut self, section: &'static str, key: &'static str) -> Option<Secret> {
        self.opt_string(section, key).map(Secret::new)
    }

    pub fn uint(
        &mut self,
        section: &'static str,
        key: &'static str,
        range: RangeInclusive<u64>,
    ) -> u64 {
        let expected = format!("a whole number from {} to {}", range.start(), range.end());
        self.typed(section, key, &expected, |v| {
            v.parse::<u64>().ok().filter(|n| range.contains(n))
        })
    }

    pub fn boolean(&mut self, section: &'static str, key: &'static str) -> bool {
        self.typed(
            section,
            key,
            "true or false (also yes/no, on/off, 1/0)",
            parse_bool,
        )
    }

    /// A duration: plain seconds (`90`, `0.5`) or with a unit (`250ms`, `5s`, `10m`, `2h`, `7d`).
    pub fn duration(
        &mut self,
        section: &'static str,
        key: &'static str,
        max: Duration,
    ) -> Duration {
        let expected = format!(
            "a duration such as 30, 0.5, 250ms, 10m, 2h or 7d, at most {}s",
            max.as_secs()
        );
        self.typed(section, key, &expected, |v| {
            parse_duration(v).filter(|d| *d <= max)
        })
    }

    pub fn choice<T: Copy>(
        &mut self,
        section: &'static str,
        key: &'static str,
        options: &[(&str, T)],
    ) -> T {
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let expected = format!("one of {}", names.join(", "));
        self.typed(section, key, &expected, |v| {
            options
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(v))
                .map(|(_, t)| *t)
        })
    }

    pub fn list(&mut self, section: &'static str, key: &'static str) -> Vec<String> {
        split_list(&self.raw(section, key).value)
    }

    pub fn ids(&mut self, section: &'static str, key: &'static str) -> Vec<u64> {
        self.typed(section, key, "comma-separated Discord ids (numbers)", |v| {
            split_list(v)
                .iter()
                .map(|id| id.parse::<u64>().ok())
                .collect()
        })
    }

    pub fn url(&mut self, section: &'static str, key: &'static str) -> url::Url {
        self.typed(section, key, "an http:// or https:// URL", parse_http_url)
    }

    pub fn opt_url(&mut self, section: &'static str, key: &'static str) -> Option<url::Url> {
        let value = self.opt_string(section, key)?;
        match parse_http_url(&value) {
            Some(url) => Some(url),
            None => {
                self.invalid(
                    section,
                    key,
                    "an http:// or https:// URL, or nothing",
                    |_| Some(()),
                );
                None
            }
        }
    }
}

fn resolve(spec: &KeySpec, file: Option<&IniFile>, env: &HashMap<String, String>) -> Resolved {
    let env_names = std::iter::once(spec.key).chain(spec.env_aliases.iter().copied());
    for name in env_names {
        if let Some(value) = env.get(name) {
            return Resolved {
                value: value.clone(),
                source: ValueSource::Env {
                    name: name.to_string(),
                },
            };
        }
    }
    if let Some(entry) = file.and_then(|f| f.get(spec.section, spec.key)) {
        return Resolved {
            value: entry.value.clone(),
            source: ValueSource::File {
                path: file.expect("entry came from a file").path.clone(),
                line: entry.line,
            },
        };
    }
    Resolved {
        value: spec.default.to_string(),
        source: ValueSource::Default,
    }
}

pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86_400.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_http_url(value: &str) -> Option<url::Url> {
    url::Url::parse(value.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_plain_seconds_and_units() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        for yes in ["true", "YES", "on", "1"] {
            assert_eq!(parse_bool(yes), Some(true));
        }
        for no in ["False", "no", "OFF", "0"] {
            assert_eq!(parse_bool(no), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn lists_trim_spaces_and_skip_empty_items() {
        assert_eq!(split_list(" general , bots,, "), vec!["general", "bots"]);
        assert!(split_list("").is_empty());
    }
}
