//! A small INI reader that keeps line numbers, so every configuration error
//! can point at the line to fix. It follows the dialect of Python's
//! `configparser` that the older bot used: `key = value` or `key: value`,
//! `#`/`;` comment lines, indented continuation lines, case-insensitive names,
//! and values taken literally (a `%` is just a percent sign). Malformed
//! headers (`[]`, `[[Limits]]`) and lines without a key (`= 5`) are errors.
//! Work is linear in the number of lines: duplicates are found with a map.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::issue::ConfigIssue;

/// Most problems of one kind listed one by one; the rest are counted.
pub const LISTED_PROBLEMS: usize = 50;

/// One `key = value` line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// Section name as written in the file.
    pub section: String,
    /// Key name as written in the file.
    pub key: String,
    pub value: String,
    /// 1-based line number of the key.
    pub line: usize,
}

/// A parsed INI file.
#[derive(Debug, Clone, Default)]
pub struct IniFile {
    pub path: PathBuf,
    pub entries: Vec<IniEntry>,
    /// Section headers with their line numbers, as written.
    pub sections: Vec<(String, usize)>,
    /// Lowercase (section, key) to the index of its entry.
    index: HashMap<(String, String), usize>,
}

impl IniFile {
    /// Parses `text`, reporting every syntax problem at once.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Vec<ConfigIssue>> {
        let mut file = IniFile {
            path: path.to_path_buf(),
            ..IniFile::default()
        };
        let mut issues = Vec::new();
        let mut section: Option<String> = None;
        // Whether an indented line continues the last entry (not across a header).
        let mut continuing = false;
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if continuing
                && raw.starts_with([' ', '\t'])
                && let Some(last) = file.entries.last_mut()
            {
                last.value.push('\n');
                last.value.push_str(trimmed);
                continue;
            }
            continuing = false;
            if trimmed.starts_with('[') {
                match section_name(trimmed) {
                    Ok(name) => {
                        file.sections.push((name.to_string(), line_no));
                        section = Some(name.to_string());
                    }
                    Err(message) => issues.push(ConfigIssue::syntax(path, line_no, message)),
                }
                continue;
            }
            match file.entry(trimmed, section.as_deref(), line_no) {
                Ok(()) => continuing = true,
                Err(message) => issues.push(ConfigIssue::syntax(path, line_no, message)),
            }
        }
        if issues.is_empty() {
            Ok(file)
        } else {
            Err(cap(issues, path))
        }
    }

    /// Adds one `KEY = value` line.
    fn entry(&mut self, line: &str, section: Option<&str>, line_no: usize) -> Result<(), String> {
        let Some(split) = line.find(['=', ':']) else {
            return Err(format!(
                "expected `KEY = value` or `[Section]`, found {:?}",
                shorten(line)
            ));
        };
        let key = line[..split].trim();
        let value = line[split + 1..].trim();
        if key.is_empty() {
            return Err("a value without a key: write `KEY = value`".to_string());
        }
        let Some(section) = section else {
            return Err(format!(
                "key {:?} appears before any [Section] header",
                shorten(key)
            ));
        };
        let id = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        if let Some(&previous) = self.index.get(&id) {
            return Err(format!(
                "[{section}] {key} is set twice (first on line {}); keep one",
                self.entries[previous].line
            ));
        }
        self.index.insert(id, self.entries.len());
        self.entries.push(IniEntry {
            section: section.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            line: line_no,
        });
        Ok(())
    }

    /// The entry for `section`/`key`, compared case-insensitively.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        let id = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        self.index.get(&id).and_then(|&i| self.entries.get(i))
    }
}

/// The name inside `[Name]`; empty or nested brackets are errors.
fn section_name(line: &str) -> Result<&str, String> {
    let Some(inner) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) else {
        return Err(format!(
            "a section header must be `[Name]`, found {:?}",
            shorten(line)
        ));
    };
    let name = inner.trim();
    if name.is_empty() {
        return Err("empty section header `[]`: name the section, e.g. [Limits]".to_string());
    }
    if name.contains(['[', ']']) {
        return Err(format!(
            "malformed section header {:?}: write one pair of brackets, e.g. [Limits]",
            shorten(line)
        ));
    }
    Ok(name)
}

/// Keeps the first [`LISTED_PROBLEMS`] issues and counts the rest in one
/// more, which names the line of the first one left out.
pub fn cap(mut issues: Vec<ConfigIssue>, path: &Path) -> Vec<ConfigIssue> {
    if issues.len() <= LISTED_PROBLEMS {
        return issues;
    }
    let rest = issues.split_off(LISTED_PROBLEMS);
    let line = rest.first().and_then(ConfigIssue::line).unwrap_or(1);
    let mut summary = ConfigIssue::syntax(
        path,
        line,
        format!("and {} more problems from this line on", rest.len()),
    );
    summary.severity = rest[0].severity;
    issues.push(summary);
    issues
}

/// At most 80 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> IniFile {
        IniFile::parse(text, Path::new("config.ini")).expect("valid ini")
    }

    fn errors(text: &str) -> Vec<String> {
        IniFile::parse(text, Path::new("c.ini"))
            .expect_err("invalid")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn keeps_percent_signs_and_line_numbers() {
        let file = parse("# comment\n[Default]\nSYSTEM_MESSAGE=You are 100% sure\n");
        let entry = file.get("default", "system_message").unwrap();
        assert_eq!(entry.value, "You are 100% sure");
        assert_eq!(entry.line, 3);
    }

    #[test]
    fn accepts_colon_delimiters_and_continuation_lines() {
        let file = parse("[Default]\nSYSTEM_MESSAGE: Be kind.\n  Be brief.\nGPT_MODEL = a:b\n");
        assert_eq!(
            file.get("Default", "SYSTEM_MESSAGE").unwrap().value,
            "Be kind.\nBe brief."
        );
        assert_eq!(file.get("Default", "GPT_MODEL").unwrap().value, "a:b");
    }

    #[test]
    fn an_indented_line_after_a_header_is_a_key_not_a_continuation() {
        let file = parse("[A]\nx = 1\n[B]\n  y = 2\n");
        assert_eq!(file.get("A", "x").unwrap().value, "1");
        assert_eq!(file.get("B", "y").unwrap().value, "2");
    }

    #[test]
    fn reports_every_syntax_error_with_its_line() {
        let text = errors("KEY=1\n[A]\nnot a pair\nx=1\nX=2\n");
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].starts_with("c.ini:1"), "{text:?}");
        assert!(text[1].starts_with("c.ini:3"), "{text:?}");
        assert!(text[2].contains("set twice (first on line 4)"), "{text:?}");
    }

    #[test]
    fn empty_and_doubled_section_headers_and_keyless_lines_are_errors() {
        let text = errors("[]\n[[Limits]]\n[Limits]\n= 5\n[Limits\n");
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(
            text[0].starts_with("c.ini:1 empty section header"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("c.ini:2 malformed section header"),
            "{text:?}"
        );
        assert!(
            text[2].starts_with("c.ini:4 a value without a key"),
            "{text:?}"
        );
        assert!(
            text[3].starts_with("c.ini:5 a section header must be"),
            "{text:?}"
        );
    }

    #[test]
    fn a_flood_of_errors_is_listed_up_to_a_limit_and_counted() {
        let text = errors(&"nonsense\n".repeat(500));
        assert_eq!(text.len(), LISTED_PROBLEMS + 1);
        assert!(
            text[LISTED_PROBLEMS].starts_with("c.ini:51 and 450 more problems"),
            "{}",
            text[LISTED_PROBLEMS]
        );
    }
}
