//! The effective configuration as `duet check-config` prints it: every key
//! with its value (secrets redacted) and where it came from.

use std::fmt::Write;

use super::issue::ValueSource;
use super::redact::shown_value;
use super::schema::{KEYS, SECTIONS};
use super::typed::Config;

/// Every key in schema order with its effective value and a `# source`
/// comment; secrets print as `[redacted]` (or nothing when unset), URL
/// passwords and secret-shaped values are redacted too.
pub fn render_effective(config: &Config) -> String {
    let mut out = String::new();
    for section in SECTIONS {
        let _ = writeln!(out, "[{section}]");
        for spec in KEYS.iter().filter(|k| k.section == *section) {
            let Some(resolved) = config.resolved.get(&(spec.section, spec.key)) else {
                continue;
            };
            let value = shown_value(spec, &resolved.value).replace('\n', "\\n");
            let source = match &resolved.source {
                ValueSource::Default => "default".to_string(),
                ValueSource::File { path, line } => format!("{}:{line}", path.display()),
                ValueSource::Env { name } if name == spec.key => "env".to_string(),
                ValueSource::Env { name } => format!("env {name}"),
            };
            let _ = writeln!(out, "{} = {value}  # {source}", spec.key);
        }
        out.push('\n');
    }
    out
}

impl Config {
    /// Keys whose value differs from `other`, as `KEY: old -> new`, shown as
    /// `check-config` would show them (secrets redacted).
    pub fn changes_from(&self, other: &Config) -> Vec<String> {
        KEYS.iter()
            .filter_map(|spec| {
                let id = (spec.section, spec.key);
                let old = other.resolved.get(&id).map_or("", |r| r.value.as_str());
                let new = self.resolved.get(&id).map_or("", |r| r.value.as_str());
                if old == new {
                    return None;
                }
                Some(if spec.secret {
                    format!("{}: [redacted] -> [redacted]", spec.key)
                } else {
                    format!(
                        "{}: {:?} -> {:?}",
                        spec.key,
                        shown_value(spec, old),
                        shown_value(spec, new)
                    )
                })
            })
            .collect()
    }
}
