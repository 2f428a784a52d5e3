//! A small INI reader that keeps line numbers, so every configuration error
//! can point at the line to fix. It follows the dialect of Python's
//! `configparser` that the older bot used: `key = value` or `key: value`,
//! `#`/`;` comment lines, indented continuation lines, case-insensitive names,
//! and values taken literally (a `%` is just a percent sign).

use std::path::{Path, PathBuf};

use super::issue::ConfigIssue;

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
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if let Some(last) = file.entries.last_mut().filter(|_| indented) {
                // A continuation line of a multi-line value.
                last.value.push('\n');
                last.value.push_str(trimmed);
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                let name = name.trim().to_string();
                file.sections.push((name.clone(), line_no));
                section = Some(name);
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                issues.push(ConfigIssue::syntax(
                    path,
                    line_no,
                    format!("expected `KEY = value` or `[Section]`, found {trimmed:?}"),
                ));
                continue;
            };
            let key = trimmed[..split].trim().to_string();
            let value = trimmed[split + 1..].trim().to_string();
            let Some(current) = section.clone() else {
                issues.push(ConfigIssue::syntax(
                    path,
                    line_no,
                    format!("key {key:?} appears before any [Section] header"),
                ));
                continue;
            };
            if let Some(previous) = file.entries.iter().find(|e| {
                e.section.eq_ignore_ascii_case(&current) && e.key.eq_ignore_ascii_case(&key)
            }) {
                issues.push(ConfigIssue::syntax(
                    path,
                    line_no,
                    format!(
                        "[{current}] {key} is set twice (first on line {}); keep one",
                        previous.line
                    ),
                ));
                continue;
            }
            file.entries.push(IniEntry {
                section: current,
                key,
                value,
                line: line_no,
            });
        }
        if issues.is_empty() {
            Ok(file)
        } else {
            Err(issues)
        }
    }

    /// The entry for `section`/`key`, compared case-insensitively.
    pub fn get(&self, section: &str, key: &str) -> Option<&IniEntry> {
        self.entries
            .iter()
            .find(|e| e.section.eq_ignore_ascii_case(section) && e.key.eq_ignore_ascii_case(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> IniFile {
        IniFile::parse(text, Path::new("config.ini")).expect("valid ini")
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
    fn reports_every_syntax_error_with_its_line() {
        let issues = IniFile::parse("KEY=1\n[A]\nnot a pair\nx=1\nX=2\n", Path::new("c.ini"))
            .expect_err("invalid");
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        assert_eq!(issues.len(), 3, "{text:?}");
        assert!(text[0].starts_with("c.ini:1"), "{text:?}");
        assert!(text[1].starts_with("c.ini:3"), "{text:?}");
        assert!(text[2].contains("set twice (first on line 4)"), "{text:?}");
    }
}
