//! What loading tells the operator besides errors: warnings for unknown
//! names (linear in the file's size, listed up to a limit) and for values
//! shaped like a credential in a key that is not secret (never printing them).

use super::ini::{IniFile, LISTED_PROBLEMS, cap};
use super::issue::{ConfigIssue, Severity, ValueSource};
use super::reader::ResolvedValues;
use super::redact::secret_shape;
use super::schema::{self, KEYS};

fn warning(source: ValueSource, key: Option<(String, String)>, message: String) -> ConfigIssue {
    ConfigIssue {
        severity: Severity::Warning,
        source: Some(source),
        key,
        value: None,
        message,
    }
}

/// Warnings for unknown sections and for unknown keys in known sections,
/// with a suggestion for the first few.
pub fn unknown_names(file: &IniFile) -> Vec<ConfigIssue> {
    let at = |line| ValueSource::File {
        path: file.path.clone(),
        line,
    };
    let mut issues: Vec<ConfigIssue> = file
        .sections
        .iter()
        .filter(|(section, _)| schema::canonical_section(section).is_none())
        .map(|(section, line)| {
            warning(
                at(*line),
                None,
                format!("unknown section [{section}] is ignored"),
            )
        })
        .collect();
    let unknown_keys = file.entries.iter().filter(|entry| {
        schema::canonical_section(&entry.section).is_some()
            && schema::find(&entry.section, &entry.key).is_none()
    });
    for (n, entry) in unknown_keys.enumerate() {
        // Suggestions cost an edit distance per known key; only listed warnings get one.
        let suggestion = (n < LISTED_PROBLEMS)
            .then(|| schema::suggest(&entry.key))
            .flatten();
        let message = match suggestion {
            Some(spec) => format!(
                "unknown key is ignored; did you mean [{}] {}?",
                spec.section, spec.key
            ),
            None => "unknown key is ignored".to_string(),
        };
        let key = Some((entry.section.clone(), entry.key.clone()));
        issues.push(warning(at(entry.line), key, message));
    }
    issues.sort_by_key(|issue| issue.line());
    cap(issues, &file.path)
}

/// Warnings for plain keys whose value looks like a token or API key.
pub fn secret_shaped_values(values: &ResolvedValues) -> Vec<ConfigIssue> {
    KEYS.iter()
        .filter(|spec| !spec.secret)
        .filter_map(|spec| {
            let resolved = values.get(&(spec.section, spec.key))?;
            let what = secret_shape(&resolved.value)?;
            Some(warning(
                resolved.source.clone(),
                Some((spec.section.to_string(), spec.key.to_string())),
                format!(
                    "the value looks like {what}; it is not shown. Keep credentials in \
                     DISCORD_TOKEN, OPENAI_API_KEY or PERPLEXITY_API_KEY (better: the environment)"
                ),
            ))
        })
        .collect()
}
