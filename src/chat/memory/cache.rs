//! [`ConversationTable`]: conversations held in RAM, keyed by conversation.
//! Bounded, it is the SQLite store's hot cache and evicts the least recently
//! used conversation; unbounded, it is the whole `memory` backend.
//!
//! Recency is a tick per entry plus a tick-ordered `BTreeMap`, so a touch and an
//! eviction are O(log n) however large MEMORY_CACHE_CONVERSATIONS is.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::packed::{ModelTable, TooLarge, TurnLog};
use crate::chat::types::Turn;

#[derive(Debug)]
struct Slot {
    log: TurnLog,
    tick: u64,
}

#[derive(Debug)]
pub(super) struct ConversationTable {
    /// `None`: unbounded, no recency kept.
    capacity: Option<usize>,
    max_turns: usize,
    entries: HashMap<Arc<str>, Slot>,
    recency: BTreeMap<u64, Arc<str>>,
    clock: u64,
    models: ModelTable,
}

impl ConversationTable {
    /// At most `capacity` conversations (at least one), least recently used evicted first.
    pub(super) fn bounded(capacity: usize, max_turns: usize) -> Self {
        Self::new(Some(capacity.max(1)), max_turns)
    }

    pub(super) fn unbounded(max_turns: usize) -> Self {
        Self::new(None, max_turns)
    }

    fn new(capacity: Option<usize>, max_turns: usize) -> Self {
        Self {
            capacity,
            max_turns,
            entries: HashMap::new(),
            recency: BTreeMap::new(),
            clock: 0,
            models: ModelTable::default(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The conversation's turns, oldest first, if it is held here.
    pub(super) fn get(&mut self, key: &str) -> Option<Vec<Turn>> {
        self.touch(key);
        let slot = self.entries.get(key)?;
        Some(slot.log.to_turns(&self.models))
    }

    /// Holds `turns` as the whole of the conversation (evicting another if full).
    pub(super) fn insert(&mut self, key: &str, turns: Vec<Turn>) -> Result<(), TooLarge> {
        let mut log = TurnLog::default();
        for turn in turns {
            log.push(turn, &mut self.models, self.max_turns)?;
        }
        self.remove(key);
        self.make_room();
        let key: Arc<str> = Arc::from(key);
        let tick = self.next_tick();
        if self.capacity.is_some() {
            self.recency.insert(tick, Arc::clone(&key));
        }
        self.entries.insert(key, Slot { log, tick });
        Ok(())
    }

    /// Appends to a conversation held here; `Ok(false)` when it is not held.
    pub(super) fn append_if_present(&mut self, key: &str, turn: Turn) -> Result<bool, TooLarge> {
        self.touch(key);
        let Some(slot) = self.entries.get_mut(key) else {
            return Ok(false);
        };
        slot.log.push(turn, &mut self.models, self.max_turns)?;
        Ok(true)
    }

    /// Appends, creating the conversation when needed (the unbounded backend's write).
    pub(super) fn append(&mut self, key: &str, turn: Turn) -> Result<(), TooLarge> {
        if self.max_turns == 0 {
            return Ok(());
        }
        if !self.entries.contains_key(key) {
            self.insert(key, Vec::new())?;
        }
        self.append_if_present(key, turn).map(drop)
    }

    /// Drops the conversation; returns how many turns it held.
    pub(super) fn remove(&mut self, key: &str) -> Option<usize> {
        let slot = self.entries.remove(key)?;
        self.recency.remove(&slot.tick);
        Some(slot.log.len())
    }

    /// Removes `user_id`'s turns from every conversation; conversations left
    /// empty are dropped when `drop_emptied`. Returns the turns removed.
    pub(super) fn remove_user(&mut self, user_id: &str, drop_emptied: bool) -> usize {
        let mut removed = 0;
        let mut emptied = Vec::new();
        for (key, slot) in &mut self.entries {
            let n = slot.log.remove_user(user_id);
            removed += n;
            if n > 0 && slot.log.is_empty() {
                emptied.push(Arc::clone(key));
            }
        }
        if drop_emptied {
            for key in emptied {
                self.remove(&key);
            }
        }
        removed
    }

    /// Drops conversations whose newest turn is older than `cutoff`; returns how many.
    pub(super) fn prune_older_than(&mut self, cutoff: i64) -> usize {
        let idle: Vec<Arc<str>> = self
            .entries
            .iter()
            .filter(|(_, slot)| slot.log.last_active().is_some_and(|t| t < cutoff))
            .map(|(key, _)| Arc::clone(key))
            .collect();
        for key in &idle {
            self.remove(key);
        }
        idle.len()
    }

    /// Every held turn asked by `user_id`, grouped by conversation (in key order).
    pub(super) fn turns_of(&self, user_id: &str) -> Vec<(String, Turn)> {
        let mut keys: Vec<&Arc<str>> = self.entries.keys().collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            let turns = self.entries[key].log.to_turns(&self.models);
            out.extend(
                turns
                    .into_iter()
                    .filter(|t| t.user_id == user_id)
                    .map(|t| (key.to_string(), t)),
            );
        }
        out
    }

    fn touch(&mut self, key: &str) {
        if self.capacity.is_none() {
            return;
        }
        let tick = self.next_tick();
        if let Some(slot) = self.entries.get_mut(key) {
            if let Some(name) = self.recency.remove(&slot.tick) {
                self.recency.insert(tick, name);
            }
            slot.tick = tick;
        }
    }

    fn make_room(&mut self) {
        let Some(capacity) = self.capacity else {
            return;
        };
        while self.entries.len() >= capacity {
            let Some((_, oldest)) = self.recency.pop_first() else {
                return;
            };
            self.entries.remove(&oldest);
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ProviderKind;

    fn turn(user: &str, at: i64) -> Turn {
        Turn {
            user_id: user.into(),
            question: format!("q{at}"),
            answer: format!("a{at}"),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            at,
        }
    }

    #[test]
    fn the_least_recently_used_conversation_is_evicted_first() {
        let mut cache = ConversationTable::bounded(2, 10);
        cache.insert("a", vec![turn("u", 1)]).unwrap();
        cache.insert("b", vec![turn("u", 2)]).unwrap();
        assert!(cache.get("a").is_some(), "touches a");
        cache.insert("c", vec![]).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some());
        assert!(cache.get("c").is_some());
    }

    #[test]
    fn appending_counts_as_use() {
        let mut cache = ConversationTable::bounded(2, 10);
        cache.insert("a", vec![]).unwrap();
        cache.insert("b", vec![]).unwrap();
        assert!(cache.append_if_present("a", turn("u", 1)).unwrap());
        assert!(!cache.append_if_present("zzz", turn("u", 1)).unwrap());
        cache.insert("c", vec![]).unwrap();
        assert_eq!(cache.get("a").map(|t| t.len()), Some(1));
        assert!(cache.get("b").is_none());
    }

    #[test]
    fn reinserting_a_key_replaces_it_without_growing() {
        let mut cache = ConversationTable::bounded(3, 10);
        cache.insert("a", vec![turn("u", 1)]).unwrap();
        cache.insert("a", vec![turn("u", 2), turn("u", 3)]).unwrap();
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.recency.len(), 1);
        assert_eq!(cache.get("a").map(|t| t.len()), Some(2));
    }

    #[test]
    fn an_unbounded_table_keeps_everything_and_no_recency() {
        let mut table = ConversationTable::unbounded(10);
        for i in 0..100 {
            table.append(&format!("k{i}"), turn("u", i)).unwrap();
        }
        assert_eq!(table.len(), 100);
        assert!(table.recency.is_empty());
    }

    #[test]
    fn pruning_drops_only_idle_conversations() {
        let mut table = ConversationTable::unbounded(10);
        table.append("old", turn("u", 10)).unwrap();
        table.append("new", turn("u", 100)).unwrap();
        assert_eq!(table.prune_older_than(50), 1);
        assert!(table.get("old").is_none());
        assert!(table.get("new").is_some());
    }

    #[test]
    fn removing_a_user_can_drop_the_conversations_it_empties() {
        let mut table = ConversationTable::unbounded(10);
        table.append("mine", turn("me", 1)).unwrap();
        table.append("shared", turn("me", 2)).unwrap();
        table.append("shared", turn("you", 3)).unwrap();
        assert_eq!(table.remove_user("me", true), 2);
        assert!(table.get("mine").is_none());
        assert_eq!(table.get("shared").map(|t| t.len()), Some(1));
    }
}
