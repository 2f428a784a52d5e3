//! Configuration: one INI file (compatible with the older Python bot's keys),
//! overridden per key by environment variables of the same name, turned into
//! a typed [`Config`] that remembers where every value came from.

mod ini;
mod issue;
mod reader;
mod report;
pub mod schema;
mod sections;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use ini::{IniEntry, IniFile};
pub use issue::{ConfigErrors, ConfigIssue, Severity, ValueSource};
pub use reader::{Resolved, ResolvedValues, parse_bool, parse_duration};
pub use report::render_effective;
pub use sections::*;

use reader::Reader;

/// The file read when no `--config` is given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "config.ini";

/// What the configuration must provide for the command about to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The Discord bot: a token and at least one provider.
    Run,
    /// Terminal frontends: at least one provider.
    Terminal,
}

/// The typed configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub discord: DiscordConfig,
    pub openai: OpenAiConfig,
    pub perplexity: PerplexityConfig,
    pub prompt: PromptConfig,
    pub limits: LimitsConfig,
    pub orchestrator: OrchestratorConfig,
    pub memory: MemoryConfig,
    pub routing: RoutingConfig,
    pub logging: LoggingConfig,
    pub health: HealthConfig,
    /// `[ConnectionPool] TLS_CA_FILE`: extra PEM roots for both providers.
    pub tls_ca_file: Option<PathBuf>,
    /// The file this came from, if any.
    pub file: Option<PathBuf>,
    /// Every key's raw value and source, for `check-config` and reload diffs.
    pub resolved: ResolvedValues,
    /// Unknown keys and sections (not fatal).
    pub warnings: Vec<ConfigIssue>,
}

impl Config {
    /// Loads `path` (or `./config.ini` when `path` is `None` and it exists)
    /// with `env` overriding the file. A given path that does not exist is an error.
    pub fn load(
        path: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigErrors> {
        let path = match path {
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.exists()),
        };
        let Some(path) = path else {
            return Config::build(None, env);
        };
        let text = std::fs::read_to_string(&path).map_err(|error| {
            ConfigErrors(vec![ConfigIssue {
                severity: Severity::Error,
                source: None,
                key: None,
                value: None,
                message: format!("cannot read config file {}: {error}", path.display()),
            }])
        })?;
        Config::parse(&text, &path, env)
    }

    /// Parses INI `text` as if read from `path`.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigErrors> {
        let file = IniFile::parse(text, path).map_err(ConfigErrors)?;
        Config::build(Some(&file), env)
    }

    /// Defaults and environment only.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
        Config::build(None, env)
    }

    fn build(
        file: Option<&IniFile>,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigErrors> {
        let mut r = Reader::new(file, env);
        let config = Config {
            discord: DiscordConfig::read(&mut r),
            openai: OpenAiConfig::read(&mut r),
            perplexity: PerplexityConfig::read(&mut r),
            prompt: PromptConfig::read(&mut r),
            limits: LimitsConfig::read(&mut r),
            orchestrator: OrchestratorConfig::read(&mut r),
            memory: MemoryConfig::read(&mut r),
            routing: RoutingConfig::read(&mut r),
            logging: LoggingConfig::read(&mut r),
            health: HealthConfig::read(&mut r),
            tls_ca_file: r
                .opt_string("ConnectionPool", "TLS_CA_FILE")
                .map(PathBuf::from),
            file: file.map(|f| f.path.clone()),
            resolved: r.values.clone(),
            warnings: Vec::new(),
        };
        if let Some(ca) = config.tls_ca_file.as_ref().filter(|ca| !ca.exists()) {
            r.error(
                "ConnectionPool",
                "TLS_CA_FILE",
                format!("file {} does not exist", ca.display()),
            );
        }
        if config.prompt.output_tokens >= config.prompt.context_window {
            r.error(
                "Default",
                "OUTPUT_TOKENS",
                format!(
                    "must be smaller than CONTEXT_WINDOW ({}) so the prompt has room",
                    config.prompt.context_window
                ),
            );
        }
        let (errors, warnings): (Vec<_>, Vec<_>) =
            r.issues.into_iter().partition(ConfigIssue::is_error);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors.into_iter().chain(warnings).collect()));
        }
        Ok(Config { warnings, ..config })
    }

    /// Checks the values a command cannot start without, saying where to put them.
    pub fn require(&self, purpose: Purpose) -> Result<(), ConfigErrors> {
        let mut missing = Vec::new();
        let place = match &self.file {
            Some(path) => format!("in {}", path.display()),
            None => format!("in {DEFAULT_CONFIG_FILE} (or pass --config PATH)"),
        };
        if purpose == Purpose::Run && self.discord.token.is_none() {
            missing.push(format!(
                "no Discord token: set DISCORD_TOKEN under [Discord] {place}, or the DISCORD_TOKEN environment variable"
            ));
        }
        if self.mode().is_none() {
            missing.push(format!(
                "no provider is usable: set OPENAI_API_KEY or PERPLEXITY_API_KEY under [Default] {place} or in the environment \
                 (a local OPENAI_API_URL such as http://localhost:11434/v1 needs no key)"
            ));
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(ConfigErrors(
            missing
                .into_iter()
                .map(|message| ConfigIssue {
                    severity: Severity::Error,
                    source: None,
                    key: None,
                    value: None,
                    message,
                })
                .collect(),
        ))
    }

    /// Which providers can be used, from keys and URLs; `None` when neither.
    pub fn mode(&self) -> Option<Mode> {
        match (self.openai.is_usable(), self.perplexity.is_usable()) {
            (true, true) => Some(Mode::Hybrid),
            (true, false) => Some(Mode::OpenAiOnly),
            (false, true) => Some(Mode::PerplexityOnly),
            (false, false) => None,
        }
    }
}

/// Which providers the bot runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Hybrid,
    OpenAiOnly,
    PerplexityOnly,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::OpenAiOnly => "openai_only",
            Mode::PerplexityOnly => "perplexity_only",
        }
    }
}

#[cfg(test)]
mod tests;
