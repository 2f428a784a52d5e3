//! End to end: `/settings` and `/model` through INTERACTION_CREATE with the
//! member's permissions in the payload, the real pipeline behind the real
//! serenity client, and what reaches the mock LLM afterwards.

use std::ops::Deref;
use std::time::Duration;

use duet::chat::settings::{Layers, SettingKey};
use duet::discord::{FOREIGN_CHANNEL, SETTINGS_REFUSED};
use duet_testkit::duet_process::{DuetProcess, run_env};
use duet_testkit::fake_discord::bot::MockPipeline;
use duet_testkit::fake_discord::fixtures::{
    ALICE, APPLICATION_ID, BOB, DM_ALICE, EVERYONE_PERMISSIONS, GENERAL, GUILD_ID, RANDOM,
};
use duet_testkit::fake_discord::{FakeDiscord, MANAGE_GUILD, Recorded, UserMessage, WAIT};
use duet_testkit::mock_llm::{MockLlm, Route};
use serde_json::{Value, json};

const EPHEMERAL: u64 = 1 << 6;
const DEFAULT_PROMPT: &str = "You are duet";
/// A second server the bot is in (not in the fake's GUILD_CREATE).
const OTHER_GUILD: u64 = 3000;
const OTHER_CHANNEL: u64 = 3001;

struct Stack(MockPipeline);

impl Deref for Stack {
    type Target = MockPipeline;
    fn deref(&self) -> &MockPipeline {
        &self.0
    }
}

impl Stack {
    /// The real pipeline on the mock plus the chooseable `CHAT_MODELS`.
    async fn start(extra: &[(&str, &str)]) -> Self {
        let models = [
            ("CHAT_MODELS", "mock-gpt, mock-b, mock-c"),
            ("USER_MODEL_CHOICE", "true"),
        ];
        let env: Vec<(&str, &str)> = models.into_iter().chain(extra.iter().copied()).collect();
        Self(MockPipeline::start(&env).await)
    }

    fn discord(&self) -> &FakeDiscord {
        &self.bot.discord
    }

    /// Runs `/name options` in #general as `permissions` allow; returns the ephemeral reply.
    async fn command(
        &self,
        name: &str,
        options: Value,
        user: &'static str,
        permissions: u64,
    ) -> String {
        let invoker = if user == "bob" { BOB } else { ALICE };
        let token = self.discord().run_command_with_permissions(
            name,
            options,
            &invoker,
            GENERAL,
            GUILD_ID,
            permissions,
        );
        reply_to(self.discord(), &token).await
    }

    /// `/settings sub options` run by a server manager.
    async fn admin(&self, sub: &str, options: Value) -> String {
        self.command("settings", subcommand(sub, options), "alice", MANAGE_GUILD)
            .await
    }

    /// Sends `message`, waits for the provider request it causes and returns its body.
    async fn ask(&self, message: UserMessage) -> Value {
        let before = self.mock.requests().len();
        self.discord().send_message(message);
        self.mock.wait_for_requests(before + 1).await;
        self.mock.requests()[before].body.clone()
    }

    async fn layers(&self, channel: u64, user: u64) -> Layers {
        self.bot
            .pipeline
            .memory()
            .settings_layers(
                Some(&GUILD_ID.to_string()),
                &channel.to_string(),
                &user.to_string(),
            )
            .await
            .expect("settings")
    }
}

fn subcommand(name: &str, options: Value) -> Value {
    json!([{"name": name, "type": 1, "options": options}])
}

fn text(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

fn flag(name: &str, value: bool) -> Value {
    json!({"name": name, "type": 5, "value": value})
}

fn channel(id: u64) -> Value {
    json!({"name": "channel", "type": 7, "value": id.to_string()})
}

/// The interaction's callback with content (an ephemeral message); its text.
async fn reply_to(discord: &FakeDiscord, token: &str) -> String {
    let path = format!("/{token}/callback");
    let log = discord
        .wait_until("the command's reply", |log| {
            log.iter()
                .any(|r| r.path.ends_with(&path) && r.body["data"]["content"].is_string())
        })
        .await;
    let reply = log
        .iter()
        .find(|r| r.path.ends_with(&path) && r.body["data"]["content"].is_string())
        .expect("a reply");
    assert_eq!(
        reply.body["data"]["flags"].as_u64(),
        Some(EPHEMERAL),
        "{reply:#?}"
    );
    reply.body["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The content of a deferred command's `@original` response.
async fn deferred_reply(discord: &FakeDiscord, token: &str) -> String {
    let path = format!("/webhooks/{APPLICATION_ID}/{token}/messages/@original");
    let log = discord
        .wait_until("the deferred reply", |log| {
            log.iter().any(|r| r.is("PATCH", &path))
        })
        .await;
    let reply = log.iter().find(|r| r.is("PATCH", &path)).expect("a reply");
    reply.content().unwrap_or_default().to_string()
}

fn system_prompt(body: &Value) -> String {
    body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn other_server(text: &str) -> UserMessage {
    UserMessage {
        guild: Some(OTHER_GUILD),
        ..UserMessage::mention(ALICE, OTHER_CHANNEL, text)
    }
}

fn posts(log: &[Recorded], channel: u64) -> usize {
    let path = format!("/channels/{channel}/messages");
    log.iter().filter(|r| r.is("POST", &path)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_manage_server_is_refused_and_nothing_changes() {
    let stack = Stack::start(&[]).await;
    let options = subcommand("prompt", json!([text("text", "Talk like a pirate.")]));
    let reply = stack
        .command("settings", options, "bob", EVERYONE_PERMISSIONS)
        .await;
    assert_eq!(reply, SETTINGS_REFUSED);
    assert_eq!(stack.layers(GENERAL, BOB.id).await, Layers::default());
    let body = stack.ask(UserMessage::mention(BOB, GENERAL, "hello")).await;
    assert!(system_prompt(&body).starts_with(DEFAULT_PROMPT), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_user_ids_may_change_settings_without_the_permission() {
    let stack = Stack::start(&[("ADMIN_USER_IDS", &BOB.id.to_string())]).await;
    let options = subcommand("web", json!([flag("enabled", false)]));
    let reply = stack.command("settings", options, "bob", 0).await;
    assert!(
        reply.contains("**web** for this server is now `off`"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_server_prompt_reaches_the_provider_for_that_server_only() {
    let stack = Stack::start(&[]).await;
    let reply = stack
        .admin(
            "prompt",
            json!([text("text", "Talk like a pirate. Today is {date}.")]),
        )
        .await;
    assert!(
        reply.contains("**prompt** for this server is set"),
        "{reply}"
    );

    let here = stack
        .ask(UserMessage::mention(ALICE, GENERAL, "hello"))
        .await;
    let prompt = system_prompt(&here);
    assert!(
        prompt.starts_with("Talk like a pirate. Today is "),
        "{prompt}"
    );
    assert!(!prompt.contains("{date}"), "{prompt}");

    let elsewhere = stack.ask(other_server("hello")).await;
    assert!(system_prompt(&elsewhere).starts_with(DEFAULT_PROMPT));
    let dm = stack.ask(UserMessage::dm(ALICE, DM_ALICE, "hello")).await;
    assert!(system_prompt(&dm).starts_with(DEFAULT_PROMPT));

    let cleared = stack.admin("prompt-clear", json!([])).await;
    assert!(cleared.contains("back to the default"), "{cleared}");
    let after = stack
        .ask(UserMessage::mention(ALICE, GENERAL, "again"))
        .await;
    assert!(system_prompt(&after).starts_with(DEFAULT_PROMPT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_setting_beats_the_servers_and_a_users_model_beats_the_channels() {
    let stack = Stack::start(&[]).await;
    stack.admin("model", json!([text("name", "mock-b")])).await;
    stack
        .admin("model", json!([text("name", "mock-c"), channel(GENERAL)]))
        .await;
    stack
        .admin(
            "prompt",
            json!([text("text", "Channel persona."), channel(GENERAL)]),
        )
        .await;
    stack
        .admin("prompt", json!([text("text", "Server persona.")]))
        .await;

    let general = stack.ask(UserMessage::mention(BOB, GENERAL, "one")).await;
    assert_eq!(general["model"], "mock-c");
    assert_eq!(system_prompt(&general), "Channel persona.");
    let random = stack.ask(UserMessage::mention(BOB, RANDOM, "two")).await;
    assert_eq!(random["model"], "mock-b");
    assert_eq!(system_prompt(&random), "Server persona.");

    let chosen = stack
        .command("model", json!([text("name", "mock-gpt")]), "alice", 0)
        .await;
    assert!(
        chosen.contains("**model** for you is now `mock-gpt`"),
        "{chosen}"
    );
    let alice = stack
        .ask(UserMessage::mention(ALICE, GENERAL, "three"))
        .await;
    assert_eq!(alice["model"], "mock-gpt");
    let bob = stack.ask(UserMessage::mention(BOB, GENERAL, "four")).await;
    assert_eq!(bob["model"], "mock-c");

    let shown = stack.admin("show", json!([])).await;
    assert!(
        shown.contains("**model**: mock-gpt · your choice"),
        "{shown}"
    );
    assert!(
        shown.contains("**prompt**: \"Channel persona.\" · channel setting"),
        "{shown}"
    );
    assert!(shown.contains("**web**: on · INI"), "{shown}");
    let random_shown = stack.admin("show", json!([channel(RANDOM)])).await;
    assert!(random_shown.contains("**prompt**: \"Server persona.\" · server setting"));

    let token = stack.discord().run_command_with_permissions(
        "status",
        json!([]),
        &BOB,
        GENERAL,
        GUILD_ID,
        0,
    );
    let status = deferred_reply(stack.discord(), &token).await;
    assert!(
        status.contains("**model**: mock-c · channel setting"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replyall_answers_an_unmentioned_message_in_that_channel_only() {
    let stack = Stack::start(&[]).await;
    let reply = stack
        .admin("replyall", json!([flag("enabled", true), channel(GENERAL)]))
        .await;
    assert!(
        reply.contains("**replyall** for <#1001> is now `on`"),
        "{reply}"
    );

    stack
        .discord()
        .send_message(UserMessage::guild(ALICE, RANDOM, "nobody asked you"));
    stack
        .discord()
        .send_message(UserMessage::guild(ALICE, GENERAL, "no mention here"));
    stack
        .discord()
        .send_message(UserMessage::mention(BOB, RANDOM, "but this one asks"));
    let log = stack
        .discord()
        .wait_until("both answers", |log| {
            posts(log, GENERAL) == 1 && posts(log, RANDOM) == 1
        })
        .await;
    let questions: Vec<String> = stack
        .mock
        .requests()
        .iter()
        .map(|r| {
            r.body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .map(|m| m["content"].to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(questions.len(), 2, "{questions:?}");
    assert!(
        !questions.iter().any(|q| q.contains("nobody asked you")),
        "{questions:?}"
    );
    assert_eq!(posts(&log, RANDOM), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_off_keeps_a_web_question_in_chat() {
    let stack = Stack::start(&[]).await;
    let question = "what's the weather in Paris today?";
    stack
        .ask(UserMessage::mention(ALICE, GENERAL, question))
        .await;
    assert_eq!(
        stack.mock.requests_on(Route::Agent).len(),
        1,
        "routed to the web first"
    );

    stack
        .admin("web", json!([flag("enabled", false), channel(GENERAL)]))
        .await;
    let body = stack
        .ask(UserMessage::mention(ALICE, GENERAL, question))
        .await;
    assert_eq!(body["model"], "mock-gpt");
    assert_eq!(stack.mock.requests_on(Route::OpenAiChat).len(), 1);
    assert_eq!(stack.mock.requests_on(Route::Agent).len(), 1);
    // Other channels still search the web.
    stack
        .ask(UserMessage::mention(ALICE, RANDOM, question))
        .await;
    assert_eq!(stack.mock.requests_on(Route::Agent).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_follows_the_channel_setting() {
    let stack = Stack::start(&[]).await;
    stack
        .admin(
            "streaming",
            json!([flag("enabled", true), channel(GENERAL)]),
        )
        .await;
    stack
        .ask(UserMessage::mention(ALICE, GENERAL, "stream me"))
        .await;
    let streamed = stack.mock.requests_on(Route::OpenAiChat);
    assert_eq!(streamed[0].body["stream"], json!(true));
    stack
        .ask(UserMessage::mention(ALICE, RANDOM, "do not"))
        .await;
    let requests = stack.mock.requests_on(Route::OpenAiChat);
    assert_ne!(requests[1].body["stream"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_gets_an_ephemeral_error_and_changes_nothing() {
    let stack = Stack::start(&[]).await;
    let long = "p".repeat(4_001);
    let reply = stack.admin("prompt", json!([text("text", &long)])).await;
    assert!(
        reply.contains("4001 characters") && reply.contains("limit is 4000"),
        "{reply}"
    );

    let reply = stack
        .admin("model", json!([text("name", "gpt-9000")]))
        .await;
    assert!(
        reply.contains("Allowed models: mock-gpt, mock-b, mock-c"),
        "{reply}"
    );
    let reply = stack
        .command("model", json!([text("name", "gpt-9000")]), "alice", 0)
        .await;
    assert!(
        reply.contains("Allowed models: mock-gpt, mock-b, mock-c"),
        "{reply}"
    );

    // A channel Discord knows in another server, and one nobody knows.
    let foreign = json!({"id": "5555", "type": 0, "guild_id": OTHER_GUILD.to_string(),
        "name": "theirs", "position": 0, "permission_overwrites": [], "nsfw": false,
        "parent_id": null, "flags": 0, "last_message_id": null, "rate_limit_per_user": 0,
        "topic": null});
    stack.discord().fail(
        axum::http::Method::GET,
        "/channels/5555",
        axum::http::StatusCode::OK,
        foreign,
    );
    for id in [5555, 9999] {
        let reply = stack
            .admin("replyall", json!([flag("enabled", true), channel(id)]))
            .await;
        assert_eq!(reply, FOREIGN_CHANNEL);
    }
    assert_eq!(stack.layers(GENERAL, ALICE.id).await, Layers::default());
    let stored = stack
        .bot
        .pipeline
        .memory()
        .settings_layers(Some(&OTHER_GUILD.to_string()), "5555", "0")
        .await
        .expect("settings");
    assert_eq!(stored, Layers::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_delete_removes_the_servers_settings_but_an_outage_keeps_them() {
    let stack = Stack::start(&[]).await;
    stack
        .admin("prompt", json!([text("text", "Persona.")]))
        .await;
    stack
        .admin("web", json!([flag("enabled", false), channel(GENERAL)]))
        .await;
    stack
        .command("model", json!([text("name", "mock-b")]), "alice", 0)
        .await;

    stack.discord().dispatch(
        "GUILD_DELETE",
        json!({"id": GUILD_ID.to_string(), "unavailable": true}),
    );
    // An outage changes nothing; the next message still sees the settings.
    let body = stack
        .ask(UserMessage::mention(ALICE, GENERAL, "still there?"))
        .await;
    assert_eq!(system_prompt(&body), "Persona.");

    stack
        .discord()
        .dispatch("GUILD_DELETE", json!({"id": GUILD_ID.to_string()}));
    let gone = async {
        loop {
            let layers = stack.layers(GENERAL, ALICE.id).await;
            if layers.server.is_empty() && layers.channel.is_empty() {
                return layers;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let layers = tokio::time::timeout(WAIT, gone)
        .await
        .expect("settings removed");
    assert_eq!(
        layers.user.get(&SettingKey::Model).map(String::as_str),
        Some("mock-b")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_survive_a_restart_of_the_duet_process() {
    let discord = FakeDiscord::start().await;
    let mock = MockLlm::start().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let env = run_env(&discord, &mock, dir.path());
    let mut first = DuetProcess::start(&env, None, dir.path()).await;
    discord.wait_for_commands().await;
    let token = discord.run_command_with_permissions(
        "settings",
        subcommand("prompt", json!([text("text", "Remember me.")])),
        &ALICE,
        GENERAL,
        GUILD_ID,
        MANAGE_GUILD,
    );
    assert!(reply_to(&discord, &token).await.contains("is set"));
    let (_, logged) = first.wait_for_log(0, "setting changed").await;
    assert_eq!(logged["user"], ALICE.id);
    assert_eq!(logged["guild"], GUILD_ID.to_string());
    assert_eq!(logged["key"], "prompt");
    assert_eq!(
        (logged["old"].as_str(), logged["new"].as_str()),
        (Some("(unset)"), Some("(12 characters)"))
    );
    let everything = serde_json::to_string(&first.logs()).unwrap_or_default();
    assert!(
        !everything.contains("Remember me."),
        "the prompt's text is not logged"
    );
    first.signal(libc::SIGTERM);
    first.wait_for_exit().await;

    let _second = DuetProcess::start(&env, None, dir.path()).await;
    discord
        .wait_until("the second registration", |log| {
            log.iter()
                .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
                .count()
                >= 2
        })
        .await;
    discord.send_message(UserMessage::mention(ALICE, GENERAL, "who am I?"));
    mock.wait_for_requests(1).await;
    assert_eq!(system_prompt(&mock.requests()[0].body), "Remember me.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_registers_for_managers_only_and_the_ini_decides_what_is_registered() {
    let stack = Stack::start(&[]).await;
    let path = format!("/applications/{APPLICATION_ID}/commands");
    let registered = &stack.discord().calls("PUT", &path)[0].body;
    let settings = registered
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "settings"))
        .expect("/settings is registered");
    assert_eq!(settings["default_member_permissions"], "32");
    assert_eq!(settings["contexts"], json!([0]), "servers only");
    let subcommands: Vec<&str> = settings["options"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(
        subcommands,
        [
            "show",
            "prompt",
            "prompt-clear",
            "model",
            "web",
            "replyall",
            "streaming",
            "reset"
        ]
    );
    assert!(
        registered
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["name"] == "model"))
    );

    let token = stack.discord().autocomplete(
        "model",
        json!([{"name": "name", "type": 3, "value": "mock-", "focused": true}]),
        &ALICE,
        GENERAL,
        GUILD_ID,
    );
    let callback = format!("/{token}/callback");
    let log = stack
        .discord()
        .wait_until("the suggestions", |log| {
            log.iter().any(|r| r.path.ends_with(&callback))
        })
        .await;
    let answer = log
        .iter()
        .find(|r| r.path.ends_with(&callback))
        .expect("answer");
    assert_eq!(answer.body["type"], 8);
    let names: Vec<&str> = answer.body["data"]["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["mock-gpt", "mock-b", "mock-c"]);

    let off = Stack::start(&[
        ("ALLOW_GUILD_SETTINGS", "false"),
        ("USER_MODEL_CHOICE", "false"),
    ])
    .await;
    let registered = &off.discord().calls("PUT", &path)[0].body;
    let names: Vec<&str> = registered
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["chat", "search", "reset", "forget", "export", "status"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_model_is_in_their_export_and_goes_with_forget() {
    let stack = Stack::start(&[]).await;
    stack
        .command("model", json!([text("name", "mock-c")]), "alice", 0)
        .await;
    let memory = stack.bot.pipeline.memory();
    let json = memory
        .export_user(&ALICE.id.to_string())
        .await
        .expect("export");
    assert!(json.contains("\"model\": \"mock-c\""), "{json}");
    memory
        .forget_user(&ALICE.id.to_string())
        .await
        .expect("forget");
    assert_eq!(stack.layers(GENERAL, ALICE.id).await, Layers::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_cannot_open_a_channel_the_ini_closes() {
    let stack = Stack::start(&[("ALLOWED_CHANNEL_IDS", &RANDOM.to_string())]).await;
    let reply = stack
        .admin("replyall", json!([flag("enabled", true), channel(GENERAL)]))
        .await;
    assert!(reply.contains("is now `on`"), "{reply}");
    stack
        .discord()
        .send_message(UserMessage::guild(ALICE, GENERAL, "closed here"));
    stack
        .discord()
        .send_message(UserMessage::mention(ALICE, GENERAL, "closed here too"));
    let body = stack
        .ask(UserMessage::mention(ALICE, RANDOM, "open here"))
        .await;
    assert!(body.to_string().contains("open here"));
    stack
        .discord()
        .wait_until("the answer in the open channel", |log| {
            posts(log, RANDOM) == 1
        })
        .await;
    assert_eq!(stack.mock.requests().len(), 1);
    assert_eq!(posts(&stack.discord().requests(), GENERAL), 0);
}
