//! Unit tests of [`route`]: policy, prefixes, the order of the rules,
//! follow-up windows, and how reasons are shown.

use std::collections::HashMap;
use std::path::Path;

use super::*;
use ProviderKind::{OpenAi, Perplexity};

fn smart() -> RouterConfig {
    RouterConfig::new(Mode::Hybrid, 2026)
}

/// A stored turn that `provider` answered (shared with the submodules' tests).
pub(super) fn turn(question: &str, provider: ProviderKind) -> Turn {
    Turn {
        user_id: "u".into(),
        question: question.into(),
        answer: "an answer".into(),
        provider,
        model: "m".into(),
        at: 0,
    }
}

fn reasons(text: &str, config: &RouterConfig) -> Vec<String> {
    route(text, &[], config)
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn one_usable_provider_answers_everything() {
    let only_openai = RouterConfig::new(Mode::OpenAiOnly, 2026);
    let decision = route("latest news today", &[], &only_openai);
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(decision.reasons, [Reason::OnlyProvider(OpenAi)]);
    let only_perplexity = RouterConfig::new(Mode::PerplexityOnly, 2026);
    assert_eq!(
        route("write a poem", &[], &only_perplexity).provider,
        Perplexity
    );
}

#[test]
fn a_prefix_for_the_missing_provider_says_it_is_unavailable() {
    let only_openai = RouterConfig::new(Mode::OpenAiOnly, 2026);
    let decision = route("search: rust news", &[], &only_openai);
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(
        decision.reasons,
        [
            Reason::Unavailable(Perplexity),
            Reason::OnlyProvider(OpenAi)
        ]
    );
    assert_eq!(decision.question, "rust news");
}

#[test]
fn mode_forces_a_provider_even_over_a_prefix() {
    let forced = smart().with_mode(RoutingMode::OpenAi);
    let decision = route("search: weather today", &[], &forced);
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(decision.reasons, [Reason::Forced(OpenAi)]);
    assert_eq!(decision.question, "weather today");
    let forced = smart().with_mode(RoutingMode::Perplexity);
    assert_eq!(route("write a poem", &[], &forced).provider, Perplexity);
}

#[test]
fn a_forced_provider_that_is_not_configured_yields_to_the_usable_one() {
    let config = RouterConfig::new(Mode::OpenAiOnly, 2026).with_mode(RoutingMode::Perplexity);
    let decision = route("weather today", &[], &config);
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(
        decision.reasons,
        [
            Reason::Unavailable(Perplexity),
            Reason::OnlyProvider(OpenAi)
        ]
    );
    let agreeing = RouterConfig::new(Mode::OpenAiOnly, 2026).with_mode(RoutingMode::OpenAi);
    assert_eq!(
        route("hi", &[], &agreeing).reasons,
        [Reason::OnlyProvider(OpenAi)]
    );
}

#[test]
fn explicit_prefixes_beat_every_inferred_rule() {
    let decision = route("chat: what's the latest news today?", &[], &smart());
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(decision.reasons, [Reason::Explicit("chat:".into())]);
    assert_eq!(decision.question, "what's the latest news today?");
    let decision = route("WEB: write a poem", &[], &smart());
    assert_eq!(decision.provider, Perplexity);
    assert_eq!(decision.reasons, [Reason::Explicit("web:".into())]);
    assert_eq!(decision.question, "write a poem");
}

#[test]
fn without_a_prefix_the_question_is_the_trimmed_message() {
    assert_eq!(
        route("  <@1> hi there \n", &[], &smart()).question,
        "<@1> hi there"
    );
}

#[test]
fn markup_never_triggers_a_rule() {
    // The ids look like years and the emoji is named after a live topic.
    let decision = route("<@2026> <:weather:2027> <t:2028:R> hi", &[], &smart());
    assert_eq!(decision.provider, OpenAi);
    assert_eq!(decision.reasons, [Reason::DefaultConversation]);
    assert_eq!(
        route("<@1> <#2>", &[], &smart()).reasons,
        [Reason::DefaultConversation]
    );
}

#[test]
fn empty_messages_are_conversation() {
    for text in ["", "   ", "\n\t"] {
        let decision = route(text, &[], &smart());
        assert_eq!(decision.provider, OpenAi);
        assert_eq!(decision.reasons, [Reason::DefaultConversation]);
        assert_eq!(decision.question, "");
    }
}

#[test]
fn conversation_intent_beats_time_and_topic_but_not_a_link() {
    assert_eq!(
        reasons("write a poem about today's weather", &smart()),
        ["chat_intent(\"write a poem\")"]
    );
    assert_eq!(
        reasons("write a poem about example.com", &smart()),
        ["url(\"example.com\")"]
    );
}

#[test]
fn configured_keywords_add_to_the_built_in_rules() {
    let config = smart()
        .with_search_keywords(["Patch Notes"])
        .with_chat_keywords(["lore"]);
    assert_eq!(
        route("patch notes for the game", &[], &config).provider,
        Perplexity
    );
    assert_eq!(
        route("the lore of today's episode", &[], &config).provider,
        OpenAi
    );
    assert_eq!(
        route("the lore of today's episode", &[], &smart()).provider,
        Perplexity
    );
    assert_eq!(route("latest news", &[], &config).provider, Perplexity);
}

#[test]
fn follow_ups_stay_with_the_last_provider() {
    let history = [turn("who won the match today?", Perplexity)];
    let decision = route("why?", &history, &smart());
    assert_eq!(decision.provider, Perplexity);
    assert_eq!(
        decision.reasons,
        [Reason::FollowUp {
            provider: Perplexity
        }]
    );
    let history = [turn("write a poem", OpenAi)];
    assert_eq!(
        route("and another one?", &history, &smart()).provider,
        OpenAi
    );
}

#[test]
fn follow_ups_without_history_are_conversation() {
    assert_eq!(
        route("tell me more", &[], &smart()).reasons,
        [Reason::DefaultConversation]
    );
}

#[test]
fn the_lookback_window_counts_two_messages_per_turn() {
    let history = [
        turn("latest news on rust?", Perplexity),
        turn("thanks", OpenAi),
        turn("ok", OpenAi),
    ];
    let with = |messages| {
        route(
            "tell me more",
            &history,
            &smart().with_lookback_messages(messages),
        )
    };
    assert_eq!(with(6).provider, Perplexity, "3 turns fit in 6 messages");
    assert_eq!(
        with(5).reasons,
        [Reason::DefaultConversation],
        "the third turn does not fit whole"
    );
    assert_eq!(
        with(0).reasons,
        [Reason::DefaultConversation],
        "0 turns the rule off"
    );
}

#[test]
fn a_follow_up_with_a_web_signal_goes_to_the_web() {
    let history = [turn("write a poem", OpenAi)];
    assert_eq!(
        route("and what about today's news?", &history, &smart()).provider,
        Perplexity
    );
}

#[test]
fn entity_questions_go_to_the_web_unless_disabled() {
    let decision = route("Who is Sam Altman?", &[], &smart());
    assert_eq!(decision.provider, Perplexity);
    assert_eq!(decision.reasons, [Reason::Entity("Sam Altman".into())]);
    let disabled = smart().with_entity_min_words(0);
    assert_eq!(
        route("Who is Sam Altman?", &[], &disabled).reasons,
        [Reason::OpenQuestion]
    );
    let strict = smart().with_entity_min_words(4);
    assert_eq!(
        route("Who is Sam Altman?", &[], &strict).provider,
        OpenAi,
        "4 words is not fewer than 4"
    );
}

#[test]
fn reasons_are_shown_as_rule_and_detail() {
    let decision = route("what's the weather today?", &[], &smart());
    assert_eq!(
        decision.to_string(),
        "perplexity  reasons: time_sensitive(\"today\"), live_topic(\"weather\")"
    );
    let follow = Reason::FollowUp {
        provider: Perplexity,
    };
    assert_eq!(follow.to_string(), "follow_up(perplexity)");
    assert_eq!(
        Reason::DefaultConversation.to_string(),
        "default_conversation"
    );
    assert_eq!(
        Reason::Url("example.com".into()).to_string(),
        "url(\"example.com\")"
    );
}

#[test]
fn routes_serialize_with_rule_and_detail_fields() {
    let decision = route("search: nvda", &[], &smart());
    let json = serde_json::to_value(&decision).expect("a route serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "outcome": "web",
            "provider": "perplexity",
            "reasons": [{"rule": "explicit", "detail": "search:"}],
            "question": "nvda",
        })
    );
    let json = serde_json::to_value([
        Reason::FollowUp { provider: OpenAi },
        Reason::DefaultConversation,
    ])
    .expect("reasons serialize");
    assert_eq!(
        json,
        serde_json::json!([
            {"rule": "follow_up", "detail": {"provider": "openai"}},
            {"rule": "default_conversation"},
        ])
    );
}

#[test]
fn from_config_reads_routing_and_orchestrator_keys() {
    let text = "[Default]\nPERPLEXITY_API_KEY=pplx\n\
                [Routing]\nMODE=openai\nSEARCH_KEYWORDS=Patch Notes, CVE\nCHAT_KEYWORDS=lore\n\
                [Orchestrator]\nLOOKBACK_MESSAGES_FOR_CONSISTENCY=2\nENTITY_DETECTION_MIN_WORDS=0\n";
    let config = Config::parse(text, Path::new("test.ini"), &HashMap::new()).expect("valid config");
    let router = RouterConfig::from_config(&config, 2030);
    assert_eq!(
        router,
        RouterConfig::new(Mode::PerplexityOnly, 2030)
            .with_mode(RoutingMode::OpenAi)
            .with_search_keywords(["patch notes", "cve"])
            .with_chat_keywords(["lore"])
            .with_lookback_messages(2)
            .with_entity_min_words(0)
    );
}

#[test]
fn defaults_match_the_configuration_schema() {
    let config = Config::from_env(&HashMap::new()).expect("defaults are valid");
    assert_eq!(
        config.orchestrator.lookback_messages,
        DEFAULT_LOOKBACK_MESSAGES
    );
    assert_eq!(
        config.orchestrator.entity_min_words,
        DEFAULT_ENTITY_MIN_WORDS
    );
    let router = RouterConfig::from_config(&config, 2026);
    assert_eq!(
        router.available(),
        Mode::Hybrid,
        "no provider: both shown as available"
    );
    assert_eq!(router, smart());
}

proptest::proptest! {
    #[test]
    fn any_text_gets_a_reasoned_route_and_a_question_taken_from_it(
        text in r"(?:<@!?[0-9]{1,3}>|search:|CHAT:|\$[A-Z]{1,3}|20[0-9]{2}|[a-zA-Z]{1,8}\.[a-z]{2,4}|\PC{0,12}|[ ?.`'’])*",
        lookback in 0usize..8,
        entity_words in 0usize..12,
    ) {
        let history = [turn("latest news", Perplexity), turn("thanks", OpenAi)];
        let config = smart()
            .with_lookback_messages(lookback)
            .with_entity_min_words(entity_words);
        let decision = route(&text, &history, &config);
        proptest::prop_assert!(!decision.reasons.is_empty());
        proptest::prop_assert!(text.contains(&decision.question));
    }
}

#[test]
fn a_slash_command_beats_the_content_rules_but_not_a_missing_provider() {
    let hybrid = RouterConfig::new(Mode::Hybrid, 2026);
    let route = forced(ProviderKind::Perplexity, "  write me a poem ", &hybrid);
    assert_eq!(route.provider, ProviderKind::Perplexity);
    assert_eq!(route.reasons, vec![Reason::Explicit("/search".into())]);
    assert_eq!(route.question, "write me a poem");
    let openai_only = RouterConfig::new(Mode::OpenAiOnly, 2026);
    let route = forced(ProviderKind::Perplexity, "news?", &openai_only);
    assert_eq!(route.provider, ProviderKind::OpenAi);
    assert_eq!(
        route.reasons,
        vec![
            Reason::Unavailable(ProviderKind::Perplexity),
            Reason::OnlyProvider(ProviderKind::OpenAi)
        ]
    );
}
