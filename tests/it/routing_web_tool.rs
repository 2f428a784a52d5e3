//! The `search_web` tool for undecided messages (`[Routing] WEB_TOOL`),
//! against the mock LLM over real sockets: the mock's chat model calls the
//! tool when the message holds [`CALL_SEARCH_WEB`], so these tests show the
//! plumbing, not how well a real model decides.

use duet::chat::{Answer, ConversationKey, Conversations, Incoming, Outcome, messages};
use duet::config::{MemoryScope, WebTool};
use duet::providers::{AnswerPlan, Progress, ProviderKind, Providers};
use duet_testkit::clients::{ask, providers};
use duet_testkit::mock_llm::{
    ALPHA_URL, CALL_SEARCH_WEB, Fault, MockLlm, Route, last_user_message, openai_text,
};

use crate::chat_pipeline::{Bot, bot};
use crate::providers_failover::NO_RETRIES;

const OPENAI: ProviderKind = ProviderKind::OpenAi;
const PERPLEXITY: ProviderKind = ProviderKind::Perplexity;

async fn send(bot: &Bot, text: &str) -> Answer {
    let incoming = Incoming {
        user_id: "ann".to_string(),
        user_name: "ann".to_string(),
        channel_id: "general".to_string(),
        guild_id: None,
        settings: None,
        text: text.to_string(),
        forced: None,
        privileged: false,
        attachments: Default::default(),
    };
    match bot.service.handle(incoming, None).await {
        Outcome::Answer(answer) => answer,
        other => panic!("expected an answer, got {other:?}"),
    }
}

async fn stored_providers(bot: &Bot) -> Vec<ProviderKind> {
    let key = ConversationKey::new(MemoryScope::UserChannel, "ann", "general");
    let turns = bot.service.memory().load(&key).await.unwrap();
    turns.iter().map(|turn| turn.provider).collect()
}

/// For each OpenAI request, whether it offered the tool.
fn tools_offered(mock: &MockLlm) -> Vec<bool> {
    mock.requests_on(Route::OpenAiChat)
        .iter()
        .map(|r| r.body["tools"][0]["function"]["name"] == "search_web")
        .collect()
}

#[tokio::test]
async fn when_the_model_calls_search_web_the_web_answers_with_sources_and_is_stored_as_web() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let reply = send(&bot, &format!("why is the sky blue {CALL_SEARCH_WEB}")).await;
    assert_eq!(reply.provider, PERPLEXITY);
    assert!(
        reply.text.contains("About why is the sky blue:"),
        "{}",
        reply.text
    );
    assert!(
        reply.sources.iter().any(|s| s.url == ALPHA_URL),
        "{:?}",
        reply.sources
    );
    assert_eq!(reply.note, None);
    assert_eq!(tools_offered(&mock), [true]);
    let searched = mock.requests_on(Route::Agent);
    assert_eq!(searched.len(), 1);
    assert_eq!(last_user_message(&searched[0].body), "why is the sky blue");
    assert_eq!(stored_providers(&bot).await, [PERPLEXITY]);
}

#[tokio::test]
async fn when_the_model_answers_itself_the_chat_answer_stands() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let reply = send(&bot, "why is the sky blue").await;
    assert_eq!(reply.provider, OPENAI);
    assert_eq!(reply.text, openai_text("why is the sky blue"));
    assert_eq!(tools_offered(&mock), [true]);
    assert!(mock.requests_on(Route::Agent).is_empty());
    assert_eq!(stored_providers(&bot).await, [OPENAI]);
}

#[tokio::test]
async fn strong_signals_route_directly_without_offering_the_tool() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[]).await;
    let web = send(&bot, &format!("weather in Paris today {CALL_SEARCH_WEB}")).await;
    assert_eq!(web.provider, PERPLEXITY);
    assert!(
        mock.requests_on(Route::OpenAiChat).is_empty(),
        "no extra round trip"
    );
    let chat = send(&bot, &format!("write a poem about cats {CALL_SEARCH_WEB}")).await;
    assert_eq!(chat.provider, OPENAI);
    assert_eq!(tools_offered(&mock), [false]);
}

#[tokio::test]
async fn web_tool_off_never_offers_the_tool_and_the_heuristic_decides() {
    let mock = MockLlm::start().await;
    let bot = bot(&mock, &[("WEB_TOOL", "off")]).await;
    let reply = send(&bot, &format!("why is the sky blue {CALL_SEARCH_WEB}")).await;
    assert_eq!(reply.provider, OPENAI);
    assert_eq!(tools_offered(&mock), [false]);
}

#[tokio::test]
async fn a_failing_web_provider_after_a_tool_call_gives_the_chat_answer_with_a_note() {
    let mock = MockLlm::start().await;
    mock.set_fault(Route::Agent, Some(Fault::Status(503)));
    let bot = bot(&mock, &[]).await;
    let reply = send(&bot, &format!("why is the sky blue {CALL_SEARCH_WEB}")).await;
    assert_eq!(reply.provider, OPENAI);
    assert!(
        reply.text.starts_with("You said: why is the sky blue"),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.note.as_deref(),
        Some(messages::WEB_SEARCH_UNAVAILABLE_NOTE)
    );
    assert_eq!(
        tools_offered(&mock),
        [true, false],
        "asked again without the tool"
    );
    assert_eq!(stored_providers(&bot).await, [OPENAI]);
}

async fn answered_by(providers: &Providers, plan: AnswerPlan, question: &str) -> ProviderKind {
    providers
        .answer(plan, &ask(question), None)
        .await
        .expect("an answer")
        .completion
        .provider
}

#[tokio::test]
async fn a_server_refusing_tools_gets_the_heuristic_decision_and_auto_remembers_it() {
    let mock = MockLlm::start().await;
    mock.refuse_tools(true);
    let providers = providers(&mock, NO_RETRIES);
    let guess_web = AnswerPlan::routed(PERPLEXITY, true).with_web_tool(WebTool::Auto);
    let guess_chat = AnswerPlan::routed(OPENAI, true).with_web_tool(WebTool::Auto);
    let question = format!("Who is Sam Altman? {CALL_SEARCH_WEB}");
    assert_eq!(
        answered_by(&providers, guess_web, &question).await,
        PERPLEXITY
    );
    assert_eq!(tools_offered(&mock), [true], "refused with a 400");
    assert_eq!(
        answered_by(&providers, guess_chat, "why is the sky blue").await,
        OPENAI
    );
    assert_eq!(tools_offered(&mock), [true, false], "not offered again");

    let always = AnswerPlan::routed(OPENAI, true).with_web_tool(WebTool::On);
    assert_eq!(
        answered_by(&providers, always, "why is the sky blue").await,
        OPENAI
    );
    assert_eq!(
        tools_offered(&mock),
        [true, false, true, false],
        "on offers every time"
    );
}

#[tokio::test]
async fn a_streamed_tool_call_switches_to_the_web_answer_without_showing_chat_text() {
    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let plan = AnswerPlan::routed(OPENAI, true).with_web_tool(WebTool::Auto);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let question = format!("when do the shops close {CALL_SEARCH_WEB}");
    let answered = providers
        .answer(plan, &ask(&question), Some(tx))
        .await
        .expect("an answer");
    let mut events = Vec::new();
    while let Some(event) = rx.recv().await {
        events.push(event);
    }
    assert_eq!(answered.completion.provider, PERPLEXITY);
    assert_eq!(
        events.first(),
        Some(&Progress::Restart {
            provider: PERPLEXITY
        }),
        "no chat text before the switch: {events:?}"
    );
    let shown: String = events
        .iter()
        .filter_map(|e| match e {
            Progress::Delta(d) => Some(d.as_str()),
            Progress::Restart { .. } | Progress::Searching { .. } => None,
        })
        .collect();
    assert!(
        shown.starts_with("About when do the shops close:"),
        "{shown}"
    );
    assert!(mock.requests_on(Route::OpenAiChat)[0].body["stream"] == true);
}

/// The held-out set through the real tool plumbing, with the mock playing a
/// model that calls `search_web` exactly for the web-labelled messages: an
/// upper bound for the tool path (a real model decides worse), recorded in
/// the README next to the heuristic's own figure.
#[tokio::test]
async fn heuristic_plus_tool_on_the_held_out_set_reaches_the_recorded_figure() {
    use duet::chat::router::{self, RouterConfig, eval};
    use duet::config::Mode;

    let mock = MockLlm::start().await;
    let providers = providers(&mock, NO_RETRIES);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/routing_heldout.tsv"
    );
    let set = eval::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let config = RouterConfig::new(Mode::Hybrid, 2026);
    let mut correct = 0;
    for labelled in &set {
        let route = router::route(&labelled.text, &[], &config);
        let answered = if route.outcome == router::Outcome::Undecided {
            let scripted = match labelled.expected {
                PERPLEXITY => format!("{} {CALL_SEARCH_WEB}", route.question),
                OPENAI => route.question.clone(),
            };
            let plan = AnswerPlan::routed(route.provider, false).with_web_tool(WebTool::Auto);
            answered_by(&providers, plan, &scripted).await
        } else {
            route.provider
        };
        correct += usize::from(answered == labelled.expected);
    }
    let accuracy = correct as f64 * 100.0 / set.len() as f64;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    const MARK: &str = "with the tool against the mock: **";
    let at = readme.find(MARK).expect("the README records the figure") + MARK.len();
    let recorded: f64 = readme[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect::<String>()
        .parse()
        .unwrap();
    assert!(
        accuracy + 0.05 >= recorded,
        "{accuracy:.1}% ({correct} of {}), README records {recorded}%",
        set.len()
    );
}
