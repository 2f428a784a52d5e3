//! [`ChatService`]'s side of settings: storage through [`super::memory::Memory`]
//! for the frontends, and what applies to one turn.

use tracing::warn;

use super::frontend::Incoming;
use super::service::ChatService;
use super::settings::{Effective, Layers, Scope, SettingKey, SettingsError};
use crate::config::Config;

impl ChatService {
    pub(super) async fn service_layers(
        &self,
        guild: Option<&str>,
        channel: &str,
        user: &str,
    ) -> Result<Layers, SettingsError> {
        self.memory()
            .settings_layers(guild, channel, user)
            .await
            .map_err(|error| {
                warn!(%error, "could not read settings");
                SettingsError::Storage
            })
    }

    pub(super) async fn service_change(
        &self,
        scope: &Scope,
        key: SettingKey,
        value: Option<&str>,
    ) -> Result<Option<String>, SettingsError> {
        self.memory()
            .change_setting(scope, key, value)
            .await
            .map_err(|error| {
                warn!(%error, key = key.as_str(), "could not change a setting");
                SettingsError::Storage
            })
    }

    pub(super) async fn service_clear(&self, scope: &Scope) -> Result<usize, SettingsError> {
        self.memory().clear_settings(scope).await.map_err(|error| {
            warn!(%error, "could not clear settings");
            SettingsError::Storage
        })
    }

    pub(super) async fn service_remove_guild(&self, guild: &str) -> Result<usize, SettingsError> {
        self.memory()
            .remove_guild_settings(guild)
            .await
            .map_err(|error| {
                warn!(%error, guild, "could not remove a server's settings");
                SettingsError::Storage
            })
    }

    /// What applies to this message; the INI alone when storage fails (the
    /// turn still gets an answer).
    pub(super) async fn turn_settings(&self, message: &Incoming, config: &Config) -> Effective {
        let read;
        let layers = match &message.settings {
            Some(layers) => layers,
            None => {
                read = self
                    .service_layers(
                        message.guild_id.as_deref(),
                        &message.channel_id,
                        &message.user_id,
                    )
                    .await
                    .unwrap_or_default();
                &read
            }
        };
        let channel = message.channel_id.parse().ok();
        Effective::resolve(layers, config, channel)
    }
}
