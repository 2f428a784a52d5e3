//! What duet keeps of the guilds it is in: each channel's name, its guild
//! and, for threads, the parent channel. That is all the policy reads
//! (`ALLOWED_CHANNELS` names, threads of allowed channels).
//!
//! serenity's cache of guilds, channels and users stays off: it keeps every
//! channel, role and member in full, tens of KiB for a community server,
//! which a bot in 10,000 servers cannot afford. Without it serenity also
//! skips its permission pre-check before sending; Discord's refusal (50013)
//! is handled the same way. Categories are left out: nothing is written in
//! them and no thread hangs from them.

use std::sync::Arc;

use dashmap::DashMap;
use serenity::all::{
    ChannelType, Context, EventHandler, Guild, GuildChannel, PartialGuildChannel,
    ThreadListSyncEvent, UnavailableGuild,
};

use super::policy::{ChannelRef, Place};

/// One channel or thread, as small as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    guild: u64,
    name: Box<str>,
    /// Threads only: the channel the thread belongs to.
    thread_parent: Option<u64>,
}

/// Channels of every guild this process's shards serve.
#[derive(Debug, Default)]
pub struct Directory {
    channels: DashMap<u64, Entry>,
    guilds: DashMap<u64, ()>,
}

impl Directory {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Guilds known (created and not deleted since).
    pub fn guild_count(&self) -> usize {
        self.guilds.len()
    }

    /// Remembers a channel or thread of `guild` (categories are skipped).
    pub fn insert(&self, guild: u64, id: u64, kind: ChannelType, name: &str, parent: Option<u64>) {
        if kind == ChannelType::Category {
            return;
        }
        let is_thread = matches!(
            kind,
            ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
        );
        let entry = Entry {
            guild,
            name: name.into(),
            // A text channel's parent is its category, which does not count.
            thread_parent: parent.filter(|_| is_thread),
        };
        self.channels.insert(id, entry);
    }

    pub fn remove(&self, id: u64) {
        self.channels.remove(&id);
    }

    fn insert_channel(&self, channel: &GuildChannel) {
        self.insert(
            channel.guild_id.get(),
            channel.id.get(),
            channel.kind,
            &channel.name,
            channel.parent_id.map(|p| p.get()),
        );
    }

    fn insert_guild(&self, guild: &Guild) {
        self.guilds.insert(guild.id.get(), ());
        for channel in guild.channels.values().chain(guild.threads.iter()) {
            self.insert(
                guild.id.get(),
                channel.id.get(),
                channel.kind,
                &channel.name,
                channel.parent_id.map(|p| p.get()),
            );
        }
    }

    pub fn remove_guild(&self, guild: u64) {
        self.guilds.remove(&guild);
        self.channels.retain(|_, entry| entry.guild != guild);
    }

    /// Where `channel` of `guild` is, if known.
    pub fn place(&self, guild: u64, channel: u64) -> Option<Place> {
        let (name, parent) = {
            let entry = self.channels.get(&channel).filter(|e| e.guild == guild)?;
            (entry.name.to_string(), entry.thread_parent)
        };
        Some(Place::Guild {
            channel: ChannelRef {
                id: channel,
                name: Some(name),
            },
            parent: parent.map(|id| ChannelRef {
                id,
                name: self.name(guild, id),
            }),
        })
    }

    /// The name of `channel` of `guild`, if known.
    pub fn name(&self, guild: u64, channel: u64) -> Option<String> {
        let entry = self.channels.get(&channel).filter(|e| e.guild == guild)?;
        Some(entry.name.to_string())
    }
}

/// Keeps a [`Directory`] up to date from gateway events.
pub struct DirectoryHandler(pub Arc<Directory>);

#[serenity::async_trait]
impl EventHandler for DirectoryHandler {
    async fn guild_create(&self, _: Context, guild: Guild, _: Option<bool>) {
        self.0.insert_guild(&guild);
    }

    async fn guild_delete(&self, _: Context, gone: UnavailableGuild, _: Option<Guild>) {
        self.0.remove_guild(gone.id.get());
    }

    async fn channel_create(&self, _: Context, channel: GuildChannel) {
        self.0.insert_channel(&channel);
    }

    async fn channel_update(&self, _: Context, _: Option<GuildChannel>, new: GuildChannel) {
        self.0.insert_channel(&new);
    }

    async fn channel_delete(
        &self,
        _: Context,
        channel: GuildChannel,
        _: Option<Vec<serenity::all::Message>>,
    ) {
        self.0.remove(channel.id.get());
    }

    async fn thread_create(&self, _: Context, thread: GuildChannel) {
        self.0.insert_channel(&thread);
    }

    async fn thread_update(&self, _: Context, _: Option<GuildChannel>, new: GuildChannel) {
        self.0.insert_channel(&new);
    }

    async fn thread_delete(
        &self,
        _: Context,
        thread: PartialGuildChannel,
        _: Option<GuildChannel>,
    ) {
        self.0.remove(thread.id.get());
    }

    async fn thread_list_sync(&self, _: Context, sync: ThreadListSyncEvent) {
        for thread in &sync.threads {
            self.0.insert_channel(thread);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_names_its_parent_and_a_channel_does_not_name_its_category() {
        let directory = Directory::new();
        directory.insert(1, 10, ChannelType::Category, "Topics", None);
        directory.insert(1, 11, ChannelType::Text, "general", Some(10));
        directory.insert(1, 12, ChannelType::PublicThread, "a question", Some(11));
        assert_eq!(
            directory.place(1, 11),
            Some(Place::Guild {
                channel: ChannelRef {
                    id: 11,
                    name: Some("general".into())
                },
                parent: None
            })
        );
        let Some(Place::Guild { parent, .. }) = directory.place(1, 12) else {
            panic!("a known thread");
        };
        assert_eq!(
            parent,
            Some(ChannelRef {
                id: 11,
                name: Some("general".into())
            })
        );
        assert_eq!(directory.place(1, 10), None, "categories are not kept");
    }

    #[test]
    fn a_channel_of_another_guild_is_unknown_and_a_deleted_guild_is_forgotten() {
        let directory = Directory::new();
        directory.guilds.insert(1, ());
        directory.insert(1, 11, ChannelType::Text, "general", None);
        assert_eq!(directory.place(2, 11), None);
        directory.remove_guild(1);
        assert_eq!(directory.place(1, 11), None);
        assert_eq!(directory.guild_count(), 0);
    }
}
