//! Configuration problems, each naming where it is and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Default,
    File { path: PathBuf, line: usize },
    Env { name: String },
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Default => f.write_str("default"),
            ValueSource::File { path, line } => write!(f, "{}:{line}", display_name(path)),
            ValueSource::Env { name } => write!(f, "env {name}"),
        }
    }
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub severity: Severity,
    pub source: Option<ValueSource>,
    /// `[Section] KEY`, when the problem is about one key.
    pub key: Option<(String, String)>,
    /// The offending value, already redacted when it is a secret.
    pub value: Option<String>,
    pub message: String,
}

impl ConfigIssue {
    pub fn syntax(path: &Path, line: usize, message: String) -> Self {
        Self {
            severity: Severity::Error,
            source: Some(ValueSource::File {
                path: path.to_path_buf(),
                line,
            }),
            key: None,
            value: None,
            message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The file line the problem is on, when it comes from the file.
    pub fn line(&self) -> Option<usize> {
        match &self.source {
            Some(ValueSource::File { line, .. }) => Some(*line),
            _ => None,
        }
    }

    /// A problem with no single place, such as a file that cannot be read.
    pub fn general(message: String) -> Self {
        Self {
            severity: Severity::Error,
            source: None,
            key: None,
            value: None,
            message,
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        match &self.source {
            Some(ValueSource::Default) | None => {}
            Some(source) => write!(f, "{source} ")?,
        }
        if let Some((section, key)) = &self.key {
            write!(f, "[{section}] {key}")?;
            if let Some(value) = &self.value {
                write!(f, " = {value:?}")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// All the problems found while loading; the error of [`super::Config::load`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", render_issues(.0))]
pub struct ConfigErrors(pub Vec<ConfigIssue>);

fn render_issues(issues: &[ConfigIssue]) -> String {
    let count = issues.iter().filter(|i| i.is_error()).count();
    let mut out = format!(
        "the configuration has {count} problem{}:",
        if count == 1 { "" } else { "s" }
    );
    for issue in issues.iter().filter(|i| i.is_error()) {
        out.push_str("\n  ");
        out.push_str(&issue.to_string());
    }
    out
}
