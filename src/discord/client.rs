//! Starting and stopping the serenity client: the REST client (optionally
//! through `[Discord] API_BASE_URL`), intents, presence, slash commands,
//! and the shutdown sequence.

use std::sync::Arc;

use serenity::all::{ClientBuilder, GatewayIntents, Http, HttpBuilder};
use tracing::{info, warn};

use super::commands;
use super::gateway_status::DiscordStatus;
use super::handler::{Handler, Shared};
use super::startup::DiscordError;
use crate::chat::Conversations;
use crate::chat::live::LiveReceiver;
use crate::secret::Secret;
use crate::shutdown::Shutdown;

/// Guild messages, DMs, their text (privileged: enable "Message Content
/// Intent" in the developer portal) and guilds (channel names, threads).
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// The REST client. With a base URL every call goes there; serenity's own
/// rate limiter is then off, because it would bypass the base URL (it
/// builds its requests itself) and because a REST proxy limits for us.
fn http_client(token: &Secret, base: Option<&url::Url>) -> Http {
    let builder = HttpBuilder::new(token.expose());
    match base {
        Some(base) => builder
            .proxy(base.as_str().trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build(),
        None => builder.build(),
    }
}

/// Connects to Discord, registers the slash commands (globally, or in
/// `COMMAND_GUILD_IDS`), sets the presence and answers until shutdown is
/// requested. Then it closes the shards and returns; replies still being
/// delivered are registered with `shutdown`, whose drain waits for them.
///
/// `live` is read for every message, so reloads apply to the next one.
/// `status` is filled while the client runs (for the health endpoint).
pub async fn run(
    live: LiveReceiver,
    conversations: Arc<dyn Conversations>,
    shutdown: Shutdown,
    status: Arc<DiscordStatus>,
) -> Result<(), DiscordError> {
    let current = live.borrow().config.clone();
    let discord = &current.discord;
    let token = discord.token.as_ref().ok_or(DiscordError::MissingToken)?;
    let shared = Arc::new(Shared::new(live, conversations, shutdown.clone()));
    let (online, activity) = shared.identified_presence.clone();
    let mut builder =
        ClientBuilder::new_with_http(http_client(token, discord.api_base_url.as_ref()), intents())
            .event_handler(Handler::new(Arc::clone(&shared)))
            .framework(commands::framework(
                Arc::clone(&shared),
                discord.command_guild_ids.clone(),
            ))
            .status(online);
    if let Some(activity) = activity {
        builder = builder.activity(activity);
    }
    // Starting asks Discord for the application and gateway; a shutdown
    // signal must not wait for a Discord that never answers.
    let mut shutdown = std::pin::pin!(shutdown.requested_owned());
    let mut client = tokio::select! {
        built = builder => built.map_err(|error| DiscordError::Start(Box::new(error)))?,
        () = &mut shutdown => {
            info!("shutdown requested while connecting to Discord");
            return Ok(());
        }
    };
    status.attach(Arc::clone(&client.shard_manager), Arc::clone(&client.cache));
    let shards = Arc::clone(&client.shard_manager);

    let result = tokio::select! {
        result = client.start_autosharded() => result.map_err(|error| DiscordError::Gateway(Box::new(error))),
        () = &mut shutdown => Ok(()),
    };
    match &result {
        Ok(()) => {
            info!("closing Discord shards");
            shards.shutdown_all().await;
        }
        // The failed shard is gone already (shutting it down would only time
        // out) and the process is about to exit.
        Err(error) => warn!(%error, "Discord client stopped"),
    }
    shared.closing.cancel();
    status.detach();
    info!("Discord frontend stopped");
    result
}
