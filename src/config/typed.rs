//! [`Config`]: the typed configuration, loaded from defaults, the INI file
//! and the environment, and what a command requires of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::attachments::AttachmentsConfig;
use super::discord::DiscordConfig;
use super::health::HealthConfig;
use super::ini::IniFile;
use super::issue::{ConfigErrors, ConfigIssue};
use super::limits::LimitsConfig;
use super::logging::LoggingConfig;
use super::memory::MemoryConfig;
use super::orchestrator::OrchestratorConfig;
use super::providers::{OpenAiConfig, PerplexityConfig, PromptConfig};
use super::reader::{Reader, ResolvedValues};
use super::routing::{RoutingConfig, RoutingMode, WebBackend, WebProviderChoice};
use super::settings::SettingsConfig;
use super::{file, openai_models, pool, source, warnings};

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
    /// `[Default] VISION`, `VISION_MODELS` and `[Attachments]`.
    pub attachments: AttachmentsConfig,
    pub logging: LoggingConfig,
    pub health: HealthConfig,
    /// `CHAT_MODELS`, `USER_MODEL_CHOICE`, `ALLOW_GUILD_SETTINGS`: what `/settings` may change.
    pub settings: SettingsConfig,
    /// `[ConnectionPool] TLS_CA_FILE`: extra PEM roots for both providers.
    pub tls_ca_file: Option<PathBuf>,
    /// The file this came from, if any.
    pub file: Option<PathBuf>,
    /// Every key's raw value and source, for `check-config` and reload diffs.
    pub resolved: ResolvedValues,
    /// Unknown keys and sections, secret-shaped values in plain keys (not fatal).
    pub warnings: Vec<ConfigIssue>,
}

impl Config {
    /// Loads `path` (or `./config.ini` when `path` is `None` and it exists)
    /// with `env` overriding the file. A given path that does not exist is an
    /// error, and so is anything but a regular file of at most 1 MiB.
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
        let bytes = file::read_config_file(&path)?;
        Config::parse_bytes(&bytes, &path, env)
    }

    /// Parses file content that may not even be text, as if read from `path`.
    pub fn parse_bytes(
        bytes: &[u8],
        path: &Path,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigErrors> {
        let text = file::decode(bytes, path)?;
        Config::parse(text, path, env)
    }

    /// Parses INI `text` as if read from `path`.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigErrors> {
        let file = IniFile::parse(text, path).map_err(ConfigErrors)?;
        Config::build(Some(file), env)
    }

    /// Defaults and environment only.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
        Config::build(None, env)
    }

    /// Unit tests' configuration: defaults and these key/value pairs.
    #[cfg(test)]
    pub(crate) fn from_pairs(env: &[(&str, &str)]) -> Config {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(&env).expect("test config")
    }

    fn build(file: Option<IniFile>, env: &HashMap<String, String>) -> Result<Config, ConfigErrors> {
        let file = file.map(Arc::new);
        let values = source::layer(file.clone(), env)?;
        let mut r = Reader::new(values);
        let mut config = Config::read(&mut r, file.as_ref().map(|f| f.path.clone()));
        config.discord.shards.find_ordinal(&mut r, env);
        let mut issues = r.issues;
        if let Some(file) = &file {
            issues.extend(warnings::unknown_names(file));
        }
        issues.extend(warnings::secret_shaped_values(&config.resolved));
        let (errors, warnings): (Vec<_>, Vec<_>) =
            issues.into_iter().partition(ConfigIssue::is_error);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors.into_iter().chain(warnings).collect()));
        }
        Ok(Config { warnings, ..config })
    }

    /// Every section through its keys' specs.
    pub(super) fn read(r: &mut Reader, file: Option<PathBuf>) -> Config {
        let openai = OpenAiConfig::read(r);
        let config = Config {
            discord: DiscordConfig::read(r),
            settings: SettingsConfig::read(r, &openai.model),
            openai,
            perplexity: PerplexityConfig::read(r),
            prompt: PromptConfig::read(r),
            limits: LimitsConfig::read(r),
            orchestrator: OrchestratorConfig::read(r),
            memory: MemoryConfig::read(r),
            routing: RoutingConfig::read(r),
            attachments: AttachmentsConfig::read(r),
            logging: LoggingConfig::read(r),
            health: HealthConfig::read(r),
            tls_ca_file: r.opt_path(&pool::TLS_CA_FILE),
            file,
            resolved: r.values.clone(),
            warnings: Vec::new(),
        };
        openai_models::check(r, &config.openai);
        if let Some(ca) = config.tls_ca_file.as_ref().filter(|ca| !ca.is_file()) {
            r.error(
                &pool::TLS_CA_FILE,
                format!("file {} does not exist", ca.display()),
            );
        }
        config
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
            missing.into_iter().map(ConfigIssue::general).collect(),
        ))
    }

    /// Who answers web questions (`[Routing] WEB_PROVIDER` resolved), if anyone.
    pub fn web_backend(&self) -> Option<WebBackend> {
        let perplexity = self
            .perplexity
            .is_usable()
            .then_some(WebBackend::Perplexity);
        let openai = self
            .openai
            .is_usable()
            .then_some(WebBackend::OpenAiWebSearch);
        match self.routing.web_provider {
            WebProviderChoice::Perplexity => perplexity,
            WebProviderChoice::OpenAi => openai,
            WebProviderChoice::Auto => {
                perplexity
                    .or(openai
                        .filter(|_| self.openai.uses_responses() && self.openai.is_openai_host()))
            }
        }
    }

    /// Which providers can be used, from keys and URLs; `None` when neither.
    /// The web side counts when someone answers web questions.
    pub fn mode(&self) -> Option<Mode> {
        match (self.openai.is_usable(), self.web_backend().is_some()) {
            (true, true) => Some(Mode::Hybrid),
            (true, false) => Some(Mode::OpenAiOnly),
            (false, true) => Some(Mode::PerplexityOnly),
            (false, false) => None,
        }
    }

    /// Which providers answer: those configured, narrowed by `[Routing] MODE`.
    pub fn effective_mode(&self) -> &'static str {
        match (self.mode(), self.routing.mode) {
            (None, _) => "none",
            (Some(Mode::Hybrid), RoutingMode::OpenAi) => Mode::OpenAiOnly.as_str(),
            (Some(Mode::Hybrid), RoutingMode::Perplexity) => Mode::PerplexityOnly.as_str(),
            (Some(mode), _) => mode.as_str(),
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
