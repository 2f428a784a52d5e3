//! The plain rows every backend's settings storage reads and writes.

/// `(guild_id, channel_id, user_id)`, `''` for an unused part.
pub(super) type ScopeParts = (String, String, String);

/// One stored setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SettingRow {
    pub scope: ScopeParts,
    pub key: String,
    pub value: String,
}
