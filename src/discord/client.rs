//! Starting and stopping the serenity client: the REST client (optionally
//! through `[Discord] API_BASE_URL`), the shard plan, intents, presence,
//! slash commands, and the shutdown sequence.

use std::sync::Arc;

use serenity::all::{BotGateway, ClientBuilder, GatewayIntents, Http, HttpBuilder};
use serenity::cache::Settings as CacheSettings;
use tracing::{info, warn};

use super::commands;
use super::directory::DirectoryHandler;
use super::gateway_status::DiscordStatus;
use super::handler::{Handler, Shared};
use super::identify::{IdentifyPacer, LocalPacer};
use super::shard_start::run_shards;
use super::startup::DiscordError;
use crate::chat::Conversations;
use crate::chat::live::LiveReceiver;
use crate::config::{ShardCount, ShardIds, ShardPlan, ShardSettings};
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

/// [`run_paced`] with shards paced inside this process only.
pub async fn run(
    live: LiveReceiver,
    conversations: Arc<dyn Conversations>,
    shutdown: Shutdown,
    status: Arc<DiscordStatus>,
) -> Result<(), DiscordError> {
    let pacer = Arc::new(LocalPacer::new());
    run_paced(live, conversations, shutdown, status, pacer).await
}

/// Connects this process's shards (`SHARD_COUNT`, `SHARD_IDS`; each one
/// after `pacer` grants its identify bucket), registers the slash commands
/// when it runs shard 0 (globally, or in `COMMAND_GUILD_IDS`), sets the
/// presence and answers until shutdown is requested. Then it closes the
/// shards and returns; replies still being delivered are registered with
/// `shutdown`, whose drain waits for them.
///
/// `live` is read for every message, so reloads apply to the next one.
/// `status` is filled while the client runs (for the health endpoint).
pub async fn run_paced(
    live: LiveReceiver,
    conversations: Arc<dyn Conversations>,
    shutdown: Shutdown,
    status: Arc<DiscordStatus>,
    pacer: Arc<dyn IdentifyPacer>,
) -> Result<(), DiscordError> {
    let current = live.borrow().config.clone();
    let discord = &current.discord;
    let token = discord.token.as_ref().ok_or(DiscordError::MissingToken)?;
    let http = http_client(token, discord.api_base_url.as_ref());
    let work = shutdown.clone();
    // Starting asks Discord for the gateway and application; a shutdown
    // signal must not wait for a Discord that never answers.
    let mut shutdown = std::pin::pin!(shutdown.requested_owned());
    let gateway = tokio::select! {
        gateway = http.get_bot_gateway() => gateway.map_err(|error| DiscordError::Gateway(Box::new(error)))?,
        () = &mut shutdown => {
            info!("shutdown requested while connecting to Discord");
            return Ok(());
        }
    };
    let plan = plan_shards(&discord.shards, &gateway)?;
    let max_concurrency = u32::try_from(gateway.session_start_limit.max_concurrency)
        .unwrap_or(u32::MAX)
        .max(1);
    let shared = Arc::new(Shared::new(live, conversations, work));
    let (online, activity) = shared.identified_presence.clone();
    let mut builder = ClientBuilder::new_with_http(http, intents())
        .cache_settings(slim_cache())
        .event_handler(Handler::new(Arc::clone(&shared)))
        .event_handler(DirectoryHandler(Arc::clone(&shared.directory)))
        .framework(commands::framework(
            Arc::clone(&shared),
            discord.command_guild_ids.clone(),
            plan.runs_shard_zero(),
        ))
        .status(online);
    if let Some(activity) = activity {
        builder = builder.activity(activity);
    }
    let mut client = tokio::select! {
        built = builder => built.map_err(|error| DiscordError::Start(Box::new(error)))?,
        () = &mut shutdown => {
            info!("shutdown requested while connecting to Discord");
            return Ok(());
        }
    };
    status.attach(
        Arc::clone(&client.shard_manager),
        Arc::clone(&shared.directory),
        plan,
    );
    let shards = Arc::clone(&client.shard_manager);

    let result = tokio::select! {
        result = run_shards(&mut client, plan, max_concurrency, pacer) => result.map_err(|error| DiscordError::Gateway(Box::new(error))),
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

/// serenity's cache keeps only the bot's own user: duet's [`super::directory`]
/// holds the little it reads of guilds, and messages are never looked up.
fn slim_cache() -> CacheSettings {
    let mut settings = CacheSettings::default();
    settings.cache_guilds = false;
    settings.cache_channels = false;
    settings.cache_users = false;
    settings.max_messages = 0;
    settings
}

/// The shards this process runs, checked against Discord's recommendation.
fn plan_shards(settings: &ShardSettings, gateway: &BotGateway) -> Result<ShardPlan, DiscordError> {
    let plan = settings.plan(gateway.shards)?;
    info!(
        first = plan.first,
        last = plan.last,
        total = plan.total,
        recommended = gateway.shards,
        max_concurrency = gateway.session_start_limit.max_concurrency,
        "shard plan"
    );
    if settings.ids != ShardIds::All && settings.count == ShardCount::Auto {
        warn!(
            "SHARD_IDS names a part of the shards but SHARD_COUNT = auto: every process must use the same count, so set SHARD_COUNT"
        );
    }
    if !plan.runs_shard_zero() {
        info!("shard 0 runs elsewhere: DMs and slash command registration are that process's");
    }
    Ok(plan)
}
