//! Converts each key's resolved raw value into its typed value through the
//! key's spec (its kind and range live there), collecting every problem
//! instead of stopping at the first. A bad value records an error and yields
//! the default, so reading goes on and reports everything at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::issue::{ConfigIssue, Severity, ValueSource};
use super::parse::{
    parse_bool, parse_duration, parse_host, parse_http_url, parse_ids, parse_uint, split_list,
};
use super::redact::shown_in_error;
use super::spec::{KeySpec, Kind, format_duration};
use super::suggest::closest;
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
    /// Every key a section read, so a test can check none is forgotten.
    pub read: BTreeSet<(&'static str, &'static str)>,
}

impl Reader {
    pub fn new(values: ResolvedValues) -> Self {
        Reader {
            values,
            issues: Vec::new(),
            read: BTreeSet::new(),
        }
    }

    fn raw(&mut self, spec: &'static KeySpec) -> Resolved {
        self.read.insert((spec.section, spec.key));
        self.values
            .get(&(spec.section, spec.key))
            .cloned()
            .unwrap_or_else(|| Resolved {
                value: spec.default.to_string(),
                source: ValueSource::Default,
            })
    }

    /// Records a problem with `spec` at the place its value came from.
    pub fn error(&mut self, spec: &'static KeySpec, message: String) {
        let resolved = self.raw(spec);
        self.issues.push(ConfigIssue {
            severity: Severity::Error,
            source: Some(resolved.source),
            key: Some((spec.section.to_string(), spec.key.to_string())),
            value: None,
            message,
        });
    }

    /// Records a warning about `spec` at the place its value came from.
    pub fn warn(&mut self, spec: &'static KeySpec, message: String) {
        let resolved = self.raw(spec);
        self.issues.push(ConfigIssue {
            severity: Severity::Warning,
            source: Some(resolved.source),
            key: Some((spec.section.to_string(), spec.key.to_string())),
            value: None,
            message,
        });
    }

    /// Records a value `spec` does not accept.
    fn reject(&mut self, spec: &'static KeySpec, resolved: Resolved) {
        let mut message = format!("expected {}", expected(spec.kind));
        if let Kind::Choice(names) | Kind::OptChoice(names) = spec.kind {
            let wanted = resolved.value.trim().to_ascii_lowercase();
            if let Some(name) = closest(&wanted, names.iter().map(|n| (*n, *n))) {
                message.push_str(&format!("; did you mean {name}?"));
            }
        }
        self.issues.push(ConfigIssue {
            severity: Severity::Error,
            value: Some(shown_in_error(spec, &resolved.value)),
            source: Some(resolved.source),
            key: Some((spec.section.to_string(), spec.key.to_string())),
            message,
        });
    }

    /// `parse`d value of `spec`, or `fallback` after recording the problem.
    fn typed<T>(
        &mut self,
        spec: &'static KeySpec,
        parse: impl Fn(&str) -> Option<T>,
        fallback: impl FnOnce() -> T,
    ) -> T {
        let resolved = self.raw(spec);
        match parse(&resolved.value) {
            Some(value) => value,
            None => {
                self.reject(spec, resolved);
                fallback()
            }
        }
    }

    /// The value as written (multi-line values keep their line breaks).
    pub fn text(&mut self, spec: &'static KeySpec) -> String {
        self.raw(spec).value
    }

    /// The trimmed value, `None` when empty.
    pub fn opt_text(&mut self, spec: &'static KeySpec) -> Option<String> {
        Some(self.raw(spec).value.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub fn secret(&mut self, spec: &'static KeySpec) -> Option<Secret> {
        self.opt_text(spec).map(Secret::new)
    }

    pub fn uint(&mut self, spec: &'static KeySpec) -> u64 {
        // A key of another kind gets an empty range, so its default fails loudly in tests.
        let (min, max) = match spec.kind {
            Kind::Uint { min, max } => (min, max),
            _ => (1, 0),
        };
        let in_range = |v: &str| parse_uint(v).filter(|n| (min..=max).contains(n));
        self.typed(spec, in_range, || parse_uint(spec.default).unwrap_or(min))
    }

    pub fn boolean(&mut self, spec: &'static KeySpec) -> bool {
        self.typed(spec, parse_bool, || {
            parse_bool(spec.default).unwrap_or(false)
        })
    }

    pub fn duration(&mut self, spec: &'static KeySpec) -> Duration {
        let (min, max) = match spec.kind {
            Kind::Duration { min, max } => (min, max),
            _ => (Duration::MAX, Duration::ZERO),
        };
        let in_range = |v: &str| parse_duration(v).filter(|d| (min..=max).contains(d));
        self.typed(spec, in_range, || {
            parse_duration(spec.default).unwrap_or(min)
        })
    }

    /// One of `table`'s names (case-insensitive) mapped to its value.
    pub fn choice<T: Copy, const N: usize>(
        &mut self,
        spec: &'static KeySpec,
        table: &[(&str, T); N],
    ) -> T {
        const { assert!(N > 0, "a choice table has entries") };
        let find = |v: &str| {
            let v = v.trim();
            table
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(v))
                .map(|(_, t)| *t)
        };
        let fallback = find(spec.default).unwrap_or(table[0].1);
        self.typed(spec, find, || fallback)
    }

    /// Empty, or one of the spec's names in its canonical spelling.
    pub fn opt_choice(&mut self, spec: &'static KeySpec) -> Option<String> {
        let names = match spec.kind {
            Kind::OptChoice(names) => names,
            _ => &[],
        };
        let find = |v: &str| {
            let v = v.trim();
            if v.is_empty() {
                return Some(None);
            }
            names
                .iter()
                .find(|name| name.eq_ignore_ascii_case(v))
                .map(|name| Some(name.to_string()))
        };
        self.typed(spec, find, || None)
    }

    pub fn list(&mut self, spec: &'static KeySpec) -> Vec<String> {
        split_list(&self.raw(spec).value)
    }

    pub fn ids(&mut self, spec: &'static KeySpec) -> Vec<u64> {
        self.typed(spec, parse_ids, Vec::new)
    }

    pub fn url(&mut self, spec: &'static KeySpec) -> url::Url {
        self.typed(spec, parse_http_url, || {
            parse_http_url(spec.default).unwrap_or_else(placeholder_url)
        })
    }

    pub fn opt_url(&mut self, spec: &'static KeySpec) -> Option<url::Url> {
        let parse = |v: &str| match v.trim() {
            "" => Some(None),
            v => parse_http_url(v).map(Some),
        };
        self.typed(spec, parse, || None)
    }

    pub fn path(&mut self, spec: &'static KeySpec) -> PathBuf {
        let parse = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(PathBuf::from);
        self.typed(spec, parse, || PathBuf::from(spec.default))
    }

    pub fn opt_path(&mut self, spec: &'static KeySpec) -> Option<PathBuf> {
        self.opt_text(spec).map(PathBuf::from)
    }

    pub fn host(&mut self, spec: &'static KeySpec) -> String {
        self.typed(spec, parse_host, || spec.default.to_string())
    }
}

/// A syntactically valid URL, used only while the configuration is being
/// rejected anyway (a bad URL has been recorded as an error).
fn placeholder_url() -> url::Url {
    url::Url::parse("http://invalid.invalid/").expect("a constant URL parses")
}

/// What a key of `kind` accepts, for "expected …" messages.
pub fn expected(kind: Kind) -> String {
    match kind {
        Kind::Uint { min, max } => format!("a whole number from {min} to {max}"),
        Kind::Bool => "true or false (also yes/no, on/off, 1/0)".into(),
        Kind::Duration { min, max } => format!(
            "a duration (30, 0.5, 250ms, 10m, 2h or 7d) from {} to {}",
            format_duration(min),
            format_duration(max)
        ),
        Kind::Choice(names) => format!("one of {}", names.join(", ")),
        Kind::OptChoice(names) => format!("nothing, or one of {}", names.join(", ")),
        Kind::Ids => "comma-separated Discord ids (numbers)".into(),
        Kind::Url => "an http:// or https:// URL".into(),
        Kind::OptUrl => "an http:// or https:// URL, or nothing".into(),
        Kind::Path => "a file path".into(),
        Kind::Host => "an IP address or localhost".into(),
        Kind::Text | Kind::Secret | Kind::List | Kind::OptPath => kind.describe(),
    }
}
