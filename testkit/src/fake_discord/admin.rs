//! Interactions with the invoker's member permissions (what `/settings`
//! checks), `channel` options resolved as Discord resolves them, and
//! autocomplete requests.

use serde_json::{Value, json};

use super::FakeDiscord;
use super::fixtures::{self, FakeUser};

/// `MANAGE_GUILD` (Manage Server).
pub const MANAGE_GUILD: u64 = 1 << 5;

impl FakeDiscord {
    /// Like [`FakeDiscord::run_command`] in a guild, with `permissions` as the
    /// member's permissions in the channel; returns the interaction token.
    pub fn run_command_with_permissions(
        &self,
        name: &str,
        options: Value,
        invoker: &FakeUser,
        channel: u64,
        guild: u64,
        permissions: u64,
    ) -> String {
        let id = self.shared.next_id();
        let token = format!("token-{id}");
        let interaction = with_permissions(
            id,
            &token,
            name,
            options,
            invoker,
            channel,
            guild,
            permissions,
        );
        self.dispatch("INTERACTION_CREATE", interaction);
        token
    }

    /// Dispatches an APPLICATION_COMMAND_AUTOCOMPLETE interaction for `/name
    /// options` (one option carries `"focused": true`); returns its token.
    pub fn autocomplete(
        &self,
        name: &str,
        options: Value,
        invoker: &FakeUser,
        channel: u64,
        guild: u64,
    ) -> String {
        let id = self.shared.next_id();
        let token = format!("token-{id}");
        let mut interaction =
            with_permissions(id, &token, name, options, invoker, channel, guild, 0);
        interaction["type"] = json!(4);
        self.dispatch("INTERACTION_CREATE", interaction);
        token
    }
}

#[expect(clippy::too_many_arguments, reason = "one interaction's parts")]
fn with_permissions(
    id: u64,
    token: &str,
    name: &str,
    options: Value,
    invoker: &FakeUser,
    channel: u64,
    guild: u64,
    permissions: u64,
) -> Value {
    let mut channels = serde_json::Map::new();
    collect_channels(&options, &mut channels);
    let mut interaction =
        fixtures::command_interaction(id, token, name, options, invoker, channel, Some(guild));
    interaction["member"]["permissions"] = json!(permissions.to_string());
    if !channels.is_empty() {
        interaction["data"]["resolved"] = json!({ "channels": channels });
    }
    interaction
}

/// Every channel option (type 7), nested in subcommands too, as a partial
/// channel in `resolved.channels`.
fn collect_channels(options: &Value, out: &mut serde_json::Map<String, Value>) {
    for option in options.as_array().into_iter().flatten() {
        if option["type"] == json!(7)
            && let Some(id) = option["value"].as_str()
        {
            let known = id.parse().ok().and_then(fixtures::channel);
            let name = known
                .as_ref()
                .and_then(|c| c["name"].as_str().map(str::to_string))
                .unwrap_or_else(|| "elsewhere".to_string());
            out.insert(
                id.to_string(),
                json!({"id": id, "name": name, "type": 0, "permissions": "0"}),
            );
        }
        collect_channels(&option["options"], out);
    }
}
