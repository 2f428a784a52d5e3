//! Layering on the `config` crate: defaults from the key specs, then the INI
//! file, then the environment, merged by `config::ConfigBuilder`. Each value
//! carries its origin in `config::Value::origin` (`config.ini:42`,
//! `env OPENAI_RPM`, `default`), which becomes a [`ValueSource`].
//!
//! Custom sources feed it, because the crate's own ones lose what duet
//! needs. Its INI format (the `ini` feature, left off) gives every value the
//! file name as origin with no line, keeps names case-sensitive and lets a
//! repeated key win silently (`src/file/format/ini.rs` in config 0.15). Its
//! `Environment` source puts `OPENAI_RPM` at the root instead of under
//! `[ConnectionPool]`, so it never overrides the file, names no variable in
//! the origin (a test below shows both), and on a non-UTF-8 value returns an
//! error that prints the value, which may be a secret: the environment is
//! read by `env.rs` instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use config::{ConfigError, Map, Source, Value, ValueKind};

use super::ini::IniFile;
use super::issue::{ConfigErrors, ConfigIssue, ValueSource};
use super::reader::{Resolved, ResolvedValues};
use super::schema::{self, KEYS, KeySpec};

const DEFAULT_ORIGIN: &str = "default";
const ENV_ORIGIN: &str = "env ";

fn string_value(origin: &str, value: &str) -> Value {
    Value::new(
        Some(&origin.to_string()),
        ValueKind::String(value.to_string()),
    )
}

/// `(spec, value)` pairs as `config` tables, one per section: nested maps
/// merge without parsing a path per key.
fn tables<'a>(values: impl Iterator<Item = (&'a KeySpec, Value)>) -> Map<String, Value> {
    let mut sections: Map<String, Map<String, Value>> = Map::new();
    for (spec, value) in values {
        sections
            .entry(spec.section.to_ascii_lowercase())
            .or_default()
            .insert(spec.key.to_ascii_lowercase(), value);
    }
    sections
        .into_iter()
        .map(|(name, table)| (name, Value::new(None, ValueKind::Table(table))))
        .collect()
}

/// Every key's default from its spec, the lowest layer.
#[derive(Debug, Clone)]
pub struct DefaultsSource;

impl Source for DefaultsSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        Ok(tables(KEYS.iter().map(|spec| {
            (spec, string_value(DEFAULT_ORIGIN, spec.default))
        })))
    }
}

/// The known keys of a parsed INI file, each with `file:line` as its origin.
#[derive(Debug, Clone)]
pub struct IniSource {
    file: Arc<IniFile>,
}

impl IniSource {
    pub fn new(file: Arc<IniFile>) -> Self {
        Self { file }
    }
}

impl Source for IniSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        let path = self.file.path.display();
        Ok(tables(self.file.entries.iter().filter_map(|entry| {
            let spec = schema::find(&entry.section, &entry.key)?;
            let origin = format!("{path}:{}", entry.line);
            Some((spec, string_value(&origin, &entry.value)))
        })))
    }
}

/// Environment variables named like a key (or one of its aliases), each
/// placed under the key's section; the key's own name wins over an alias.
#[derive(Debug, Clone)]
pub struct EnvSource {
    env: Arc<HashMap<String, String>>,
}

impl EnvSource {
    pub fn new(env: &HashMap<String, String>) -> Self {
        let known = env
            .iter()
            .filter(|(name, _)| schema::find_env(name).is_some())
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Self {
            env: Arc::new(known),
        }
    }
}

impl Source for EnvSource {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, ConfigError> {
        Ok(tables(KEYS.iter().filter_map(|spec| {
            let (name, value) = spec
                .env_names()
                .find_map(|name| self.env.get(name).map(|value| (name, value)))?;
            let origin = format!("{ENV_ORIGIN}{name}");
            Some((spec, string_value(&origin, value)))
        })))
    }
}

/// Every key's value and origin: default < file < environment.
pub fn layer(
    file: Option<Arc<IniFile>>,
    env: &HashMap<String, String>,
) -> Result<ResolvedValues, ConfigErrors> {
    let fail = |e: ConfigError| {
        let message = format!("cannot merge the configuration: {e}");
        ConfigErrors(vec![ConfigIssue::general(message)])
    };
    let file_path = file.as_ref().map(|f| f.path.clone());
    let mut builder = config::Config::builder().add_source(DefaultsSource);
    if let Some(file) = file {
        builder = builder.add_source(IniSource::new(file));
    }
    let merged = builder
        .add_source(EnvSource::new(env))
        .build()
        .map_err(fail)?;
    let mut sections = merged.cache.into_table().map_err(fail)?;
    let mut values = ResolvedValues::new();
    for spec in KEYS {
        let value = sections
            .get_mut(&spec.section.to_ascii_lowercase())
            .and_then(|section| match &mut section.kind {
                ValueKind::Table(table) => table.remove(&spec.key.to_ascii_lowercase()),
                _ => None,
            });
        let resolved = match value {
            Some(value) => Resolved {
                source: source_of(value.origin(), file_path.as_deref()),
                value: value.into_string().map_err(fail)?,
            },
            None => Resolved {
                value: spec.default.to_string(),
                source: ValueSource::Default,
            },
        };
        values.insert((spec.section, spec.key), resolved);
    }
    Ok(values)
}

/// Reads back the origin written by the sources above.
fn source_of(origin: Option<&str>, file: Option<&Path>) -> ValueSource {
    let origin = origin.unwrap_or(DEFAULT_ORIGIN);
    if origin == DEFAULT_ORIGIN {
        return ValueSource::Default;
    }
    let file_line = file.and_then(|path| {
        let line = origin.strip_prefix(&format!("{}:", path.display()))?;
        Some((path, line.parse().ok()?))
    });
    if let Some((path, line)) = file_line {
        return ValueSource::File {
            path: PathBuf::from(path),
            line,
        };
    }
    match origin.strip_prefix(ENV_ORIGIN) {
        Some(name) => ValueSource::Env {
            name: name.to_string(),
        },
        None => ValueSource::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ini(text: &str) -> Arc<IniFile> {
        Arc::new(IniFile::parse(text, Path::new("config.ini")).expect("valid"))
    }

    #[test]
    fn the_merge_keeps_each_values_origin() {
        let env = HashMap::from([("OPENAI_RPM".to_string(), "7".to_string())]);
        let file = ini("[connectionpool]\nopenai_rpm = 5\nPERPLEXITY_RPM = 6\n");
        let values = layer(Some(file), &env).unwrap();
        let get = |key| values[&("ConnectionPool", key)].clone();
        assert_eq!(get("OPENAI_RPM").value, "7");
        assert_eq!(
            get("OPENAI_RPM").source,
            ValueSource::Env {
                name: "OPENAI_RPM".into()
            }
        );
        assert_eq!(
            get("PERPLEXITY_RPM").source,
            ValueSource::File {
                path: "config.ini".into(),
                line: 3
            }
        );
        assert_eq!(get("OPENAI_MAX_RETRIES").source, ValueSource::Default);
    }

    #[test]
    fn a_file_named_like_an_environment_origin_is_still_the_file() {
        let file =
            Arc::new(IniFile::parse("[Limits]\nRATE_LIMIT = 2\n", Path::new("env x:1")).unwrap());
        let values = layer(Some(file), &HashMap::new()).unwrap();
        assert_eq!(
            values[&("Limits", "RATE_LIMIT")].source,
            ValueSource::File {
                path: "env x:1".into(),
                line: 2
            }
        );
    }

    /// Why duet has its own environment source: the crate's puts the
    /// variable at the root (so it never overrides the file's
    /// `[ConnectionPool]` value) and its origin names no variable.
    #[test]
    fn the_crates_environment_source_cannot_override_a_sectioned_key() {
        let env = config::Map::from([("OPENAI_RPM".to_string(), "7".to_string())]);
        let merged = config::Config::builder()
            .add_source(IniSource::new(ini("[ConnectionPool]\nOPENAI_RPM = 5\n")))
            .add_source(config::Environment::default().source(Some(env)))
            .build()
            .unwrap();
        assert_eq!(
            merged.get_string("connectionpool.openai_rpm").unwrap(),
            "5",
            "the file's value survives the environment"
        );
        let stray = merged
            .cache
            .clone()
            .into_table()
            .unwrap()
            .remove("openai_rpm");
        let stray = stray.expect("the variable lands at the root, lowercased");
        assert_eq!(stray.origin(), Some("the environment"), "no variable name");
        assert_eq!(stray.into_string().unwrap(), "7");
    }
}
