//! `--discord`: the load goes through duet's real Discord frontend
//! (serenity gateway, policy, typing, reply sending). A fake Discord, the
//! tests' gateway + REST double, runs on the mock's thread so its CPU is not
//! counted as the bot's. Each simulated message is a MESSAGE_CREATE that
//! mentions the bot in a guild channel; it is done when the bot's reply
//! reaches the fake's REST side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use duet::app::App;
use duet::chat::{ChatService, Conversations, Incoming, Outcome, Partial, StatusReport};
use duet::discord::{self, DiscordStatus};
use duet::shutdown::Shutdown;
use tokio::sync::watch;

use crate::mock_host::MockHost;
use duet_testkit::fake_discord::fixtures::{FakeUser, GENERAL};
use duet_testkit::fake_discord::{FakeDiscord, UserMessage};

/// How long a message may wait for its reply before it counts as unanswered.
const REPLY_WAIT: Duration = Duration::from_secs(60);

/// How long the bot may take to connect and register its commands (less
/// than the fake's own wait, which panics).
pub const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// What a message that got no reply reports.
pub const NO_REPLY: &str = "(no reply from the bot)";

/// The fake Discord and the frontend connected to it.
pub struct DiscordFront {
    fake: FakeDiscord,
    outcomes: Arc<Recording>,
    /// Names of simulated users, leaked once each (the fake's users are
    /// `'static`; a run has a few thousand at most).
    names: Mutex<HashMap<String, &'static str>>,
    shutdown: Shutdown,
}

impl DiscordFront {
    /// Starts the fake Discord on the mock's thread; its settings go into
    /// `env` before the configuration is built from it.
    pub async fn fake(host: &MockHost, env: &mut HashMap<String, String>) -> FakeDiscord {
        let fake = host.run(FakeDiscord::start()).await;
        env.insert("DISCORD_TOKEN".into(), "fake-token".into());
        env.insert("API_BASE_URL".into(), fake.base_url());
        // One reply message per answer: the reply's arrival is the end.
        env.insert("STREAM_REPLIES".into(), "false".into());
        fake
    }

    /// Runs the frontend (as `duet run` does) over `service` and waits until
    /// it is connected and has registered its commands.
    pub async fn start(fake: FakeDiscord, app: &App) -> anyhow::Result<DiscordFront> {
        let outcomes = Arc::new(Recording {
            service: app.service.clone(),
            outcomes: Mutex::default(),
        });
        let conversations: Arc<dyn Conversations> = outcomes.clone();
        let shutdown = app.shutdown.clone();
        let run = discord::run(
            app.subscribe(),
            conversations,
            shutdown.clone(),
            DiscordStatus::new(),
        );
        tokio::spawn(async move {
            if let Err(error) = run.await {
                eprintln!("duet-bench: the Discord frontend stopped: {error}");
            }
        });
        tokio::time::timeout(CONNECT_WAIT, fake.wait_for_commands())
            .await
            .map_err(|_| anyhow::anyhow!("the Discord frontend did not connect to the fake"))?;
        Ok(DiscordFront {
            fake,
            outcomes,
            names: Mutex::default(),
            shutdown,
        })
    }

    /// Sends `message` as a mention and waits for the reply: the pipeline's
    /// outcome and the time from dispatch to the reply reaching Discord.
    pub async fn send(&self, message: Incoming) -> (Outcome, Duration) {
        let author = FakeUser {
            id: message.user_id.parse().unwrap_or(1),
            name: self.name(&message.user_name),
            bot: false,
        };
        let started = Instant::now();
        let reply =
            self.fake
                .send_awaiting_reply(UserMessage::mention(author, GENERAL, &message.text));
        match tokio::time::timeout(REPLY_WAIT, reply).await {
            Ok(Ok(reply)) => {
                let outcome = self.outcomes.take(&message.text);
                (outcome, reply.at.saturating_duration_since(started))
            }
            _ => (Outcome::Notice(NO_REPLY.into()), started.elapsed()),
        }
    }

    fn name(&self, name: &str) -> &'static str {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names
            .entry(name.to_string())
            .or_insert_with(|| Box::leak(name.to_string().into_boxed_str()))
    }
}

impl Drop for DiscordFront {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}

/// The pipeline, remembering each message's outcome until the harness
/// reads it (Discord only shows the reply's text).
struct Recording {
    service: ChatService,
    outcomes: Mutex<HashMap<String, Outcome>>,
}

impl Recording {
    fn take(&self, text: &str) -> Outcome {
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(text)
            .unwrap_or(Outcome::Notice("(a reply without a turn)".into()))
    }
}

#[async_trait]
impl Conversations for Recording {
    async fn handle(&self, message: Incoming, progress: Option<watch::Sender<Partial>>) -> Outcome {
        let text = message.text.clone();
        let outcome = self.service.handle(message, progress).await;
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(text, outcome.clone());
        outcome
    }

    async fn reset(&self, user_id: &str, channel_id: &str) -> Outcome {
        self.service.reset(user_id, channel_id).await
    }

    async fn forget(&self, user_id: &str) -> Outcome {
        self.service.forget(user_id).await
    }

    async fn export(&self, user_id: &str) -> Outcome {
        self.service.export(user_id).await
    }

    async fn status(&self, user_id: &str) -> StatusReport {
        self.service.status(user_id).await
    }
}
