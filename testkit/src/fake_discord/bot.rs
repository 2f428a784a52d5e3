//! Runs duet's Discord frontend (the real serenity client) against a
//! [`FakeDiscord`], with any pipeline behind it: the scripted double, or
//! the real `ChatService` built by `App::build`.

use std::collections::HashMap;
use std::sync::Arc;

use duet::app::{App, Role};
use duet::chat::live::{Live, LiveSender};
use duet::chat::{ChatService, Conversations};
use duet::config::Config;
use duet::discord::{self, DiscordError, DiscordStatus};
use duet::providers::Providers;
use duet::shutdown::Shutdown;
use tokio::task::JoinHandle;

use crate::mock_llm::MockLlm;

use super::conversations::ScriptedConversations;
use super::{FakeDiscord, Recorded, WAIT};

pub struct RunningBot<C = ScriptedConversations> {
    pub discord: FakeDiscord,
    pub pipeline: Arc<C>,
    pub status: Arc<DiscordStatus>,
    pub live: LiveSender,
    pub shutdown: Shutdown,
    task: Option<JoinHandle<Result<(), DiscordError>>>,
}

impl<C: Conversations> RunningBot<C> {
    /// Starts the bot with `env` as configuration (plus the token and the
    /// fake's URL) and waits until it registered its slash commands, which
    /// happens once it is connected.
    pub async fn start(env: &[(&str, &str)], pipeline: Arc<C>) -> Self {
        init_tracing();
        let discord = FakeDiscord::start().await;
        let config = Arc::new(config_for(&discord, env));
        let providers = Arc::new(Providers::from_config(&config).expect("providers"));
        let (live, _) = Live::first(config, providers).channel();
        Self::run(discord, live, Shutdown::new(), pipeline).await
    }

    async fn run(
        discord: FakeDiscord,
        live: LiveSender,
        shutdown: Shutdown,
        pipeline: Arc<C>,
    ) -> Self {
        let status = DiscordStatus::new();
        let conversations: Arc<dyn Conversations> = pipeline.clone();
        let task = tokio::spawn(discord::run(
            live.subscribe(),
            conversations,
            shutdown.clone(),
            status.clone(),
        ));
        discord.wait_for_commands().await;
        Self {
            discord,
            pipeline,
            status,
            live,
            shutdown,
            task: Some(task),
        }
    }

    /// Publishes a new configuration, as a reload would (the providers stay).
    pub fn reconfigure(&self, env: &[(&str, &str)]) {
        let config = Arc::new(config_for(&self.discord, env));
        let current = self.live.borrow().clone();
        let next = current.next(config, current.providers.clone());
        self.live.send_replace(Arc::new(next));
    }

    /// Shuts down as `duet run` does (request, the frontend returns, then
    /// the one drain) and returns what `run` returned (the fake stays up).
    pub async fn stop(&mut self) -> Result<(), DiscordError> {
        self.shutdown.request();
        let task = self.task.take().expect("running");
        let result = tokio::time::timeout(WAIT, task)
            .await
            .expect("run returns after shutdown")
            .expect("run does not panic");
        let grace = self.live.borrow().config.orchestrator.shutdown_grace;
        self.shutdown.drain(grace).await;
        result
    }

    /// Fails when the bot called a route the fake does not know.
    pub fn assert_no_unexpected_calls(&self) {
        let unexpected: Vec<Recorded> = self
            .discord
            .requests()
            .into_iter()
            .filter(|r| r.is_rest() && r.status == 404)
            .collect();
        assert!(unexpected.is_empty(), "unexpected calls: {unexpected:#?}");
    }
}

impl RunningBot<ChatService> {
    /// The real application (`App::build`, as `duet run` builds it) on `env`
    /// plus the fake's token and URL: one configuration, one shutdown.
    pub async fn start_app(env: &[(&str, &str)]) -> (Self, App) {
        init_tracing();
        let discord = FakeDiscord::start().await;
        let config = Arc::new(config_for(&discord, env));
        let app = App::build(config, Role::Terminal)
            .await
            .expect("the application starts");
        let pipeline = Arc::new(app.service.clone());
        let bot = Self::run(discord, app.live.clone(), app.shutdown.clone(), pipeline).await;
        (bot, app)
    }
}

/// The real pipeline on the mock LLM behind the real serenity client: the
/// mock's providers (models `mock-gpt` / `mock-sonar`, no retries), a SQLite
/// database in a temporary directory, then the test's own keys on top.
pub struct MockPipeline {
    pub bot: RunningBot<ChatService>,
    pub mock: MockLlm,
    _app: App,
    _dir: tempfile::TempDir,
}

impl MockPipeline {
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let mock = MockLlm::start().await;
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut env = mock.config_env();
        let database = dir.path().join("duet.db").display().to_string();
        for (key, value) in [
            ("DATABASE_PATH", database.as_str()),
            ("OPENAI_MAX_RETRIES", "0"),
            ("PERPLEXITY_MAX_RETRIES", "0"),
            ("GPT_MODEL", "mock-gpt"),
            ("PERPLEXITY_MODEL", "mock-sonar"),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        {
            env.insert(key.to_string(), value.to_string());
        }
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (bot, app) = RunningBot::start_app(&pairs).await;
        Self {
            bot,
            mock,
            _app: app,
            _dir: dir,
        }
    }
}

impl<C> Drop for RunningBot<C> {
    fn drop(&mut self) {
        // serenity reconnects forever to a vanished gateway; end it with the test.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The bot's configuration: the fake's URL and token, replies not streamed,
/// then `env` on top.
pub fn config_for(discord: &FakeDiscord, env: &[(&str, &str)]) -> Config {
    let mut values: HashMap<String, String> = HashMap::from([
        ("DISCORD_TOKEN".to_string(), "fake-token".to_string()),
        ("API_BASE_URL".to_string(), discord.base_url()),
        ("STREAM_REPLIES".to_string(), "false".to_string()),
        ("SHUTDOWN_GRACE_SECS".to_string(), "5".to_string()),
    ]);
    values.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_env(&values).expect("test configuration is valid")
}

/// Logs to the test output when RUST_LOG is set (e.g. `serenity=debug,duet=debug`).
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
