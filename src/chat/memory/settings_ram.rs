//! The `memory` backend's settings rows: one map behind its own lock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::poison::lock;
use super::settings_row::{ScopeParts, SettingRow};

/// The RAM backend's settings: one map behind its own lock, never held across an `.await`.
#[derive(Debug, Default)]
pub(super) struct RamSettings {
    rows: Mutex<HashMap<ScopeParts, BTreeMap<String, String>>>,
}

impl RamSettings {
    pub(super) fn rows(&self, scopes: &[ScopeParts]) -> Vec<SettingRow> {
        let rows = lock(&self.rows);
        scopes
            .iter()
            .flat_map(|scope| {
                rows.get(scope)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| SettingRow {
                        scope: scope.clone(),
                        key: k.clone(),
                        value: v.clone(),
                    })
            })
            .collect()
    }

    pub(super) fn put(
        &self,
        scope: ScopeParts,
        key: String,
        value: Option<String>,
    ) -> Option<String> {
        let mut rows = lock(&self.rows);
        let Some(value) = value else {
            let entry = rows.get_mut(&scope)?;
            let old = entry.remove(&key);
            if entry.is_empty() {
                rows.remove(&scope);
            }
            return old;
        };
        rows.entry(scope).or_default().insert(key, value)
    }

    pub(super) fn clear(&self, scope: &ScopeParts) -> usize {
        lock(&self.rows).remove(scope).map_or(0, |m| m.len())
    }

    pub(super) fn remove_guild(&self, guild: &str) -> usize {
        let mut rows = lock(&self.rows);
        let mut removed = 0;
        rows.retain(|scope, values| {
            let gone = scope.0 == guild;
            if gone {
                removed += values.len();
            }
            !gone
        });
        removed
    }
}
