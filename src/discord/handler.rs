//! Gateway events: incoming messages become turns (when the policy says
//! so), connection events are logged, and the presence follows
//! configuration reloads.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serenity::all::{
    ActivityData, ChannelId, Context, EventHandler, Guild, Message, OnlineStatus, Ready,
    ResumedEvent, UnavailableGuild, UserId,
};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span};

use super::allowed_hosts::AllowedHosts;
use super::attachment_input::{Gatherer, reply_context};
use super::deliver::{TurnSettings, run_turn};
use super::directory::Directory;
use super::download::Downloader;
use super::errors::{Action, report};
use super::inbound::{Author, display_name};
use super::mentions::{clean_content, mentions_user};
use super::outbound::ChannelSink;
use super::place::locate;
use super::policy::{self, Decision, MessageFacts, Place};
use super::presence::presence_for;
use super::settings_here::{effective_here, forget_guild};
use super::stream::StreamedReply;
use super::typing::{TYPING_REFRESH, TypingGuard};
use crate::chat::Conversations;
use crate::chat::live::LiveReceiver;
use crate::config::Config;
use crate::shutdown::Shutdown;

/// The answer to a message that mentions the bot and says nothing else.
pub const EMPTY_MENTION_HINT: &str =
    "Hi! Mention me with a question, reply to one of my messages, or use `/chat`.";

/// What every handler (events and slash commands) shares.
pub struct Shared {
    live: LiveReceiver,
    pub conversations: Arc<dyn Conversations>,
    /// The process's one shutdown; replies register their delivery with it.
    pub shutdown: Shutdown,
    /// Cancelled when the frontend stops; background tasks end with it.
    pub closing: CancellationToken,
    /// Shards whose presence already follows configuration reloads.
    presence_followers: Mutex<HashSet<u32>>,
    /// The presence the shards identify with (the configuration at start).
    pub identified_presence: (OnlineStatus, Option<ActivityData>),
    /// Fetches attachments (its own pool; Discord's hosts and API_BASE_URL only).
    pub downloader: Downloader,
    /// The channels of the guilds this process serves (serenity's cache is off).
    pub directory: Arc<Directory>,
}

impl Shared {
    pub fn new(
        live: LiveReceiver,
        conversations: Arc<dyn Conversations>,
        shutdown: Shutdown,
    ) -> Self {
        let identified_presence = presence_for(&live.borrow().config.discord);
        let hosts = AllowedHosts::new(live.borrow().config.discord.api_base_url.as_ref());
        Self {
            downloader: Downloader::new(hosts),
            live,
            conversations,
            shutdown,
            closing: CancellationToken::new(),
            presence_followers: Mutex::default(),
            identified_presence,
            directory: Directory::new(),
        }
    }

    /// The configuration as of now; read per message so reloads apply at once.
    pub fn config(&self) -> Arc<Config> {
        self.live.borrow().config.clone()
    }
}

/// serenity's event handler for duet.
pub struct Handler {
    shared: Arc<Shared>,
}

impl Handler {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn message(&self, ctx: Context, msg: Message) {
        let span = info_span!(
            "discord_message",
            user = msg.author.id.get(),
            channel = msg.channel_id.get(),
            message_id = msg.id.get(),
        );
        on_message(&self.shared, ctx, msg).instrument(span).await;
    }

    async fn ready(&self, ctx: Context, ready: Ready) {
        info!(
            bot = %ready.user.name,
            guilds = ready.guilds.len(),
            shard = ctx.shard_id.0,
            "connected to the Discord gateway"
        );
        self.follow_presence(ctx);
    }

    async fn resume(&self, ctx: Context, _: ResumedEvent) {
        info!(shard = ctx.shard_id.0, "Discord gateway session resumed");
    }

    /// The bot left a server (not an outage): its settings go.
    async fn guild_delete(&self, _: Context, guild: UnavailableGuild, _: Option<Guild>) {
        forget_guild(self.shared.conversations.as_ref(), guild).await;
    }
}

impl Handler {
    /// Keeps the shard's presence in step with configuration reloads (once per shard).
    fn follow_presence(&self, ctx: Context) {
        let shard = ctx.shard_id.0;
        let first = self
            .shared
            .presence_followers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(shard);
        if !first {
            return;
        }
        let mut live = self.shared.live.clone();
        let closing = self.shared.closing.clone();
        // Start from what the shard identified with, not from the
        // configuration now: a reload between start and READY must count.
        let mut current = self.shared.identified_presence.clone();
        tokio::spawn(async move {
            loop {
                let wanted = presence_for(&live.borrow_and_update().config.discord);
                if wanted != current {
                    ctx.set_presence(wanted.1.clone(), wanted.0);
                    current = wanted;
                }
                tokio::select! {
                    () = closing.cancelled() => return,
                    changed = live.changed() => if changed.is_err() { return },
                }
            }
        });
    }
}

async fn on_message(shared: &Shared, ctx: Context, msg: Message) {
    let bot = ctx.cache.current_user().id;
    if msg.author.id == bot {
        return;
    }
    if msg.author.bot {
        debug!("from a bot");
        return;
    }
    let config = shared.config();
    let author = Author::of_message(&msg);
    let mut facts = facts_of(&msg, &author, bot, Place::DirectMessage);
    let (layers, here) = effective_here(
        shared.conversations.as_ref(),
        &config,
        msg.guild_id,
        msg.channel_id,
        author.id,
    )
    .await;
    facts.reply_all = Some(here.replyall.value);
    if msg.guild_id.is_some() {
        // Most guild messages are not for the bot: skip the channel lookup for them.
        if !might_be_addressed(&facts) {
            debug!("not addressed to the bot");
            return;
        }
        facts.place = locate(&ctx, &shared.directory, msg.guild_id, msg.channel_id).await;
    }
    match policy::decide(&facts, &config.discord) {
        Decision::Answer { .. } => {}
        Decision::Ignore(reason) => {
            debug!(?reason, "not answering");
            return;
        }
    };
    let Some(work) = shared.shutdown.begin() else {
        debug!("shutting down; not answering");
        return;
    };
    let text = clean_content(&msg.content, bot.get(), &mention_names(&msg));
    if config.logging.message_content {
        debug!(content = %text, "message text");
    }
    let may_carry_more = !msg.attachments.is_empty() || msg.message_reference.is_some();
    if text.is_empty() && !may_carry_more {
        show_hint(&ctx, &msg, &config).await;
        return;
    }
    let typing = start_typing(&ctx, msg.channel_id);
    // Someone else's message is quoted only when the bot is asked about it.
    let quoting = facts.mentions_bot || facts.place == Place::DirectMessage;
    let quoted = if quoting {
        reply_context(&ctx, &msg, bot).await
    } else {
        None
    };
    let gatherer = Gatherer {
        downloader: &shared.downloader,
        config: &config.attachments,
    };
    let attachments = gatherer.gather(&msg.attachments, quoted).await;
    if text.is_empty() && !attachments.has_content() && attachments.problems.is_empty() {
        typing.stop().await;
        show_hint(&ctx, &msg, &config).await;
        return;
    }
    let sink = ChannelSink::new(ctx.clone(), msg.channel_id, msg.id, Some(typing));
    let mut incoming = author.incoming(
        msg.guild_id,
        msg.channel_id,
        text,
        None,
        attachments,
        &config.discord,
    );
    incoming.settings = Some(layers);
    let settings = TurnSettings {
        stream: here.streaming.value,
        ..TurnSettings::from_config(&config.discord)
    };
    run_turn(
        shared.conversations.as_ref(),
        incoming,
        sink,
        settings,
        work,
    )
    .await;
}

/// Tells a user who mentioned the bot with nothing else how to ask.
async fn show_hint(ctx: &Context, msg: &Message, config: &Config) {
    let sink = ChannelSink::new(ctx.clone(), msg.channel_id, msg.id, None);
    let mut reply = StreamedReply::new(sink, config.discord.stream_edit_interval);
    reply.finish(&[EMPTY_MENTION_HINT.to_string()]).await;
}

/// The facts the policy decides on.
fn facts_of(msg: &Message, author: &Author, bot: UserId, place: Place) -> MessageFacts {
    MessageFacts {
        author_id: author.id,
        author_is_bot: msg.author.bot,
        from_webhook: msg.webhook_id.is_some(),
        place,
        role_ids: author.roles.clone(),
        mentions_bot: msg.mentions.iter().any(|u| u.id == bot)
            || mentions_user(&msg.content, bot.get()),
        replies_to_bot: msg
            .referenced_message
            .as_ref()
            .is_some_and(|original| original.author.id == bot),
        reply_all: None,
    }
}

/// A cheap pre-check before looking the channel up; [`policy::decide`] has the final word.
fn might_be_addressed(facts: &MessageFacts) -> bool {
    facts.mentions_bot || facts.replies_to_bot || facts.reply_all == Some(true)
}

/// Readable names for the users a message mentions (nickname, display name, username).
fn mention_names(msg: &Message) -> HashMap<u64, String> {
    msg.mentions
        .iter()
        .map(|user| {
            let nick = user.member.as_ref().and_then(|m| m.nick.clone());
            (user.id.get(), display_name(user, nick))
        })
        .collect()
}

fn start_typing(ctx: &Context, channel: ChannelId) -> TypingGuard {
    let http = ctx.http.clone();
    TypingGuard::start(TYPING_REFRESH, move || {
        let http = http.clone();
        async move {
            if let Err(error) = channel.broadcast_typing(&http).await {
                report(Action::Typing, channel.get(), &error);
            }
        }
    })
}
