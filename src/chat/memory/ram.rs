//! The `memory` backend: everything in RAM, lost on restart. Every operation is
//! a short critical section on one mutex, never held across an `.await`.

use std::collections::HashMap;
use std::sync::Mutex;

use super::cache::ConversationTable;
use super::error::MemoryError;
use super::export::UserExport;
use super::poison::{add_capped, lock};
use super::settings_ram::RamSettings;
use crate::chat::types::ConversationKey;
use crate::chat::types::Turn;

#[derive(Debug)]
pub(super) struct RamStore {
    state: Mutex<State>,
    /// Server, channel and user settings (their own lock).
    pub(super) settings: RamSettings,
}

#[derive(Debug)]
struct State {
    conversations: ConversationTable,
    /// user id -> day -> tokens.
    usage: HashMap<Box<str>, HashMap<Box<str>, u64>>,
}

impl RamStore {
    pub(super) fn new(max_turns: usize) -> Self {
        Self {
            state: Mutex::new(State {
                conversations: ConversationTable::unbounded(max_turns),
                usage: HashMap::new(),
            }),
            settings: RamSettings::default(),
        }
    }

    pub(super) fn load(&self, key: &ConversationKey) -> Vec<Turn> {
        let mut state = lock(&self.state);
        state.conversations.get(key.as_str()).unwrap_or_default()
    }

    pub(super) fn append(&self, key: &ConversationKey, turn: Turn) -> Result<(), MemoryError> {
        let mut state = lock(&self.state);
        state
            .conversations
            .append(key.as_str(), turn)
            .map_err(|_| MemoryError::TooLarge)
    }

    pub(super) fn reset(&self, key: &ConversationKey) -> usize {
        let mut state = lock(&self.state);
        state.conversations.remove(key.as_str()).unwrap_or(0)
    }

    pub(super) fn forget_user(&self, user_id: &str) -> usize {
        let mut state = lock(&self.state);
        state.usage.remove(user_id);
        state.conversations.remove_user(user_id, true)
    }

    pub(super) fn export_user(&self, user_id: &str) -> Result<String, MemoryError> {
        let state = lock(&self.state);
        let mut export = UserExport::new(user_id);
        for (key, turn) in state.conversations.turns_of(user_id) {
            export.push_turn(&key, turn);
        }
        if let Some(days) = state.usage.get(user_id) {
            let mut days: Vec<(&str, u64)> = days.iter().map(|(d, t)| (&**d, *t)).collect();
            days.sort_unstable();
            for (day, tokens) in days {
                export.push_usage(day, tokens);
            }
        }
        drop(state);
        export.to_json()
    }

    /// Deletes conversations idle since before `cutoff` and token counts of days before `oldest_day`.
    pub(super) fn prune(&self, cutoff: i64, oldest_day: Option<&str>) -> usize {
        let mut state = lock(&self.state);
        if let Some(oldest) = oldest_day {
            for days in state.usage.values_mut() {
                days.retain(|day, _| &**day >= oldest);
            }
            state.usage.retain(|_, days| !days.is_empty());
        }
        state.conversations.prune_older_than(cutoff)
    }

    pub(super) fn add_tokens(&self, user_id: &str, day: &str, tokens: u64) -> u64 {
        let mut state = lock(&self.state);
        let days = state.usage.entry(user_id.into()).or_default();
        let total = days.entry(day.into()).or_insert(0);
        *total = add_capped(*total, tokens);
        *total
    }

    pub(super) fn tokens_used(&self, user_id: &str, day: &str) -> u64 {
        let state = lock(&self.state);
        state
            .usage
            .get(user_id)
            .and_then(|days| days.get(day))
            .copied()
            .unwrap_or(0)
    }

    pub(super) fn conversation_count(&self) -> usize {
        lock(&self.state).conversations.len()
    }
}
