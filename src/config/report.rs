//! The effective configuration as INI text, for `duet check-config`, and the
//! one-line diff logged when a reload changes something.

use std::fmt::Write;

use super::schema::{KEYS, SECTIONS};
use super::{Config, ValueSource};

/// Every key in schema order with its effective value and a `# source`
/// comment; secrets print as `[redacted]` (or `[not set]`).
pub fn render_effective(config: &Config) -> String {
    let mut out = String::new();
    for section in SECTIONS {
        let _ = writeln!(out, "[{section}]");
        for spec in KEYS.iter().filter(|k| k.section == *section) {
            let resolved = &config.resolved[&(spec.section, spec.key)];
            let value = if spec.secret {
                if resolved.value.trim().is_empty() {
                    ""
                } else {
                    "[redacted]"
                }
                .to_string()
            } else {
                resolved.value.replace('\n', "\\n")
            };
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
    /// Keys whose value differs from `other`, as `KEY: old -> new`, secrets redacted.
    pub fn changes_from(&self, other: &Config) -> Vec<String> {
        KEYS.iter()
            .filter_map(|spec| {
                let id = (spec.section, spec.key);
                let (old, new) = (&other.resolved[&id].value, &self.resolved[&id].value);
                if old == new {
                    return None;
                }
                Some(if spec.secret {
                    format!("{}: [redacted] -> [redacted]", spec.key)
                } else {
                    format!("{}: {old:?} -> {new:?}", spec.key)
                })
            })
            .collect()
    }
}
