use proptest::prelude::*;

use super::*;

fn config(env: &[(&str, &str)]) -> Config {
    Config::from_pairs(env)
}

fn layer(pairs: &[(SettingKey, &str)]) -> BTreeMap<SettingKey, String> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

#[test]
fn the_user_beats_the_channel_which_beats_the_server_which_beats_the_ini() {
    let config = config(&[
        ("GPT_MODEL", "base"),
        ("CHAT_MODELS", "a, b, c"),
        ("OPENAI_API_KEY", "sk-test"),
    ]);
    let mut layers = Layers {
        server: layer(&[(SettingKey::Model, "a"), (SettingKey::Prompt, "server")]),
        channel: layer(&[(SettingKey::Model, "b")]),
        user: layer(&[(SettingKey::Model, "c")]),
    };
    let effective = Effective::resolve(&layers, &config, None);
    assert_eq!(effective.model.value, "c");
    assert_eq!(effective.model.source, Source::User);
    assert_eq!(effective.prompt.value, "server");
    assert_eq!(effective.prompt.source, Source::Server);
    layers.user.clear();
    assert_eq!(Effective::resolve(&layers, &config, None).model.value, "b");
    layers.channel.clear();
    assert_eq!(
        Effective::resolve(&layers, &config, None).model.source,
        Source::Server
    );
    let ini = Effective::from_ini(&config, None);
    assert_eq!(
        (ini.model.value.as_str(), ini.model.source),
        ("base", Source::Ini)
    );
}

#[test]
fn a_stored_model_the_ini_no_longer_lists_is_skipped() {
    let config = config(&[("GPT_MODEL", "base"), ("CHAT_MODELS", "a")]);
    let layers = Layers {
        server: layer(&[(SettingKey::Model, "a")]),
        channel: layer(&[(SettingKey::Model, "retired")]),
        ..Layers::default()
    };
    let effective = Effective::resolve(&layers, &config, None);
    assert_eq!(effective.model.value, "a");
    assert_eq!(effective.model.source, Source::Server);
}

#[test]
fn reply_all_comes_from_the_ini_channel_list_unless_a_scope_says_otherwise() {
    let config = config(&[("REPLY_ALL_CHANNEL_IDS", "7")]);
    assert!(Effective::from_ini(&config, Some(7)).replyall.value);
    assert!(!Effective::from_ini(&config, Some(8)).replyall.value);
    let layers = Layers {
        channel: layer(&[(SettingKey::ReplyAll, "true")]),
        ..Layers::default()
    };
    let effective = Effective::resolve(&layers, &config, Some(8));
    assert!(effective.replyall.value);
    assert_eq!(effective.replyall.source, Source::Channel);
}

#[test]
fn prompts_are_checked_against_the_limit_in_characters() {
    assert_eq!(check_prompt(&"é".repeat(MAX_PROMPT_CHARS)), Ok(()));
    assert_eq!(
        check_prompt(&"é".repeat(MAX_PROMPT_CHARS + 1)),
        Err(SettingsError::PromptTooLong(MAX_PROMPT_CHARS + 1))
    );
    assert_eq!(check_prompt("  "), Err(SettingsError::PromptEmpty));
    let shown = SettingsError::PromptTooLong(4001).to_string();
    assert!(shown.contains("4000"), "{shown}");
}

#[test]
fn an_unknown_model_is_refused_with_the_allowed_list() {
    let models = vec!["a".to_string(), "b".to_string()];
    assert_eq!(check_model(" b ", &models), Ok("b".to_string()));
    let error = check_model("z", &models).unwrap_err().to_string();
    assert!(error.contains("Allowed models: a, b"), "{error}");
    assert_eq!(model_suggestions("B", &models), ["b"]);
    assert_eq!(model_suggestions("", &models), ["a", "b"]);
}

#[test]
fn keys_round_trip_through_their_stored_names() {
    for key in SettingKey::ALL {
        assert_eq!(SettingKey::parse(key.as_str()), Some(key));
    }
    assert_eq!(SettingKey::parse("Prompt"), None);
}

proptest! {
    #[test]
    fn a_prompt_is_accepted_exactly_when_it_has_text_within_the_limit(
        text in proptest::collection::vec(any::<char>(), 0..4_100)
            .prop_map(|c| c.into_iter().collect::<String>()),
    ) {
        let chars = text.chars().count();
        let ok = chars <= MAX_PROMPT_CHARS && !text.trim().is_empty();
        prop_assert_eq!(check_prompt(&text).is_ok(), ok);
        // Showing any prompt never panics and stays short.
        prop_assert!(shown_prompt(&text).chars().count() <= 240);
    }

    #[test]
    fn model_checks_never_panic_and_accept_only_listed_names(
        given in ".{0,40}",
        models in proptest::collection::vec("[a-z0-9.-]{1,12}", 1..5),
    ) {
        match check_model(&given, &models) {
            Ok(model) => prop_assert!(models.contains(&model)),
            Err(error) => prop_assert!(error.to_string().contains(&models.join(", "))),
        }
    }
}

#[test]
fn web_search_can_be_switched_off_but_not_on_where_the_ini_has_none() {
    let off = Layers {
        server: layer(&[(SettingKey::Web, "false")]),
        ..Layers::default()
    };
    let on = Layers {
        server: layer(&[(SettingKey::Web, "true")]),
        ..Layers::default()
    };
    let hybrid = config(&[("OPENAI_API_KEY", "sk-a"), ("PERPLEXITY_API_KEY", "pplx-a")]);
    assert!(!Effective::resolve(&off, &hybrid, None).web.value);
    let chat_only = config(&[("OPENAI_API_KEY", "sk-a"), ("MODE", "openai")]);
    assert!(!Effective::resolve(&on, &chat_only, None).web.value);
    let web_only = config(&[("PERPLEXITY_API_KEY", "pplx-a")]);
    assert!(Effective::resolve(&off, &web_only, None).web.value);
}
