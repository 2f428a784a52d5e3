//! Per-server settings (`/settings`, `/model`): the keys that bound what
//! server admins and users may choose from Discord. `CHAT_MODELS` and
//! `USER_MODEL_CHOICE` sit in `[Default]`, `ALLOW_GUILD_SETTINGS` in
//! `[Discord]`; they are listed with their sections' keys.

use super::reader::Reader;
use super::spec::{KeySpec, Kind, ReloadClass};

pub const CHAT_MODELS: KeySpec = KeySpec::new(
    "Default",
    "CHAT_MODELS",
    "",
    Kind::List,
    "Chat models servers (`/settings model`) and users (`/model`) may pick, comma-separated; GPT_MODEL is always one of them; empty = just GPT_MODEL.",
);
pub const USER_MODEL_CHOICE: KeySpec = KeySpec::new(
    "Default",
    "USER_MODEL_CHOICE",
    "false",
    Kind::Bool,
    "Register `/model`, which lets each user pick their own chat model among CHAT_MODELS.",
)
.reload(ReloadClass::Restart);
pub const ALLOW_GUILD_SETTINGS: KeySpec = KeySpec::new(
    "Discord",
    "ALLOW_GUILD_SETTINGS",
    "true",
    Kind::Bool,
    "Register `/settings`, with which server managers set a prompt, model, web search, reply-all and streaming per server or channel; false = the INI alone decides.",
)
.reload(ReloadClass::Restart);

/// What servers and users may change from Discord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsConfig {
    /// The models one may pick; `GPT_MODEL` first, no duplicates, never empty.
    pub chat_models: Vec<String>,
    pub user_model_choice: bool,
    pub allow_guild_settings: bool,
}

impl SettingsConfig {
    pub(super) fn read(r: &mut Reader, gpt_model: &str) -> Self {
        Self {
            chat_models: chat_models(&r.list(&CHAT_MODELS), gpt_model),
            user_model_choice: r.boolean(&USER_MODEL_CHOICE),
            allow_guild_settings: r.boolean(&ALLOW_GUILD_SETTINGS),
        }
    }
}

/// `GPT_MODEL` then the listed models, trimmed, without empties or repeats.
pub fn chat_models(listed: &[String], gpt_model: &str) -> Vec<String> {
    let mut models: Vec<String> = Vec::with_capacity(listed.len() + 1);
    for model in std::iter::once(gpt_model).chain(listed.iter().map(String::as_str)) {
        let model = model.trim();
        if !model.is_empty() && !models.iter().any(|m| m == model) {
            models.push(model.to_string());
        }
    }
    models
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn gpt_model_comes_first_and_repeats_go() {
        let listed = vec![" b ".to_string(), "a".into(), "".into(), "b".into()];
        assert_eq!(chat_models(&listed, "a"), ["a", "b"]);
        assert_eq!(chat_models(&[], "gpt"), ["gpt"]);
    }

    proptest! {
        #[test]
        fn the_list_is_never_empty_has_no_repeats_and_keeps_every_model(
            listed in proptest::collection::vec(".{0,12}", 0..8),
            gpt in "[a-z0-9.-]{1,10}",
        ) {
            let models = chat_models(&listed, &gpt);
            prop_assert_eq!(&models[0], &gpt);
            for (i, m) in models.iter().enumerate() {
                prop_assert!(!m.is_empty());
                prop_assert_eq!(m.trim(), m.as_str());
                prop_assert!(!models[..i].contains(m));
            }
            for m in &listed {
                prop_assert!(m.trim().is_empty() || models.iter().any(|x| x == m.trim()));
            }
        }
    }
}
