//! Images, text files and reply context, end to end: the real serenity
//! client ↔ the fake Discord (whose CDN serves the attachment bytes) ↔
//! the real pipeline ↔ the mock LLM, which records the image parts and
//! text it was sent. Bad downloads are refused with one line each while
//! the rest of the message is answered, and nothing outside Discord's
//! hosts is ever fetched (a second listener counts every connection).

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use duet::chat::attachments::problems::{Problem, ProblemKind};
use duet::chat::{ConversationKey, Turn, messages};
use duet_testkit::fake_discord::bot::MockPipeline;
use duet_testkit::fake_discord::fixtures::{ALICE, BOB, GENERAL};
use duet_testkit::fake_discord::{Recorded, Served, UserMessage, WAIT, attachment_json};
use duet_testkit::mock_llm::{Route, images_in, last_user_message};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A GIF with two frames (animated).
fn animated_gif() -> Vec<u8> {
    let mut bytes = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    for _ in 0..2 {
        bytes.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]);
        bytes.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        bytes.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
    }
    bytes.push(0x3B);
    bytes
}

struct Stack(MockPipeline);

impl Deref for Stack {
    type Target = MockPipeline;
    fn deref(&self) -> &MockPipeline {
        &self.0
    }
}

impl Stack {
    async fn start(extra: &[(&str, &str)]) -> Self {
        Self(MockPipeline::start(extra).await)
    }

    async fn stored(&self, user: u64) -> Arc<[Turn]> {
        let service = &self.bot.pipeline;
        let scope = service.config().memory.scope;
        let key = ConversationKey::new(scope, &user.to_string(), &GENERAL.to_string());
        service.memory().load(&key).await.expect("memory")
    }

    /// Sends `message` and waits until its turn is stored and the bot's
    /// `posts`-th message in #general is up; returns that message's text.
    async fn turn(&self, message: UserMessage, turns: usize, posts: usize) -> String {
        let user = message.author.id;
        self.bot.discord.send_message(message);
        let poll = async {
            while self.stored(user).await.len() < turns {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(WAIT, poll)
            .await
            .unwrap_or_else(|_| panic!("turn {turns} was not stored in time"));
        self.post(posts).await
    }

    /// The text of the bot's `n`-th message in #general, once it is there.
    async fn post(&self, n: usize) -> String {
        let log = self
            .bot
            .discord
            .wait_until("the bot's reply", |log| posts(log).len() >= n)
            .await;
        posts(&log)[n - 1].content().unwrap_or_default().to_string()
    }

    fn chat_requests(&self) -> Vec<Value> {
        self.mock
            .requests_on(Route::OpenAiChat)
            .into_iter()
            .map(|r| r.body)
            .collect()
    }

    fn image(&self, name: &str, bytes: &[u8]) -> Value {
        self.bot.discord.attachment(
            name,
            Some("image/png"),
            Served::Bytes(Bytes::copy_from_slice(bytes)),
        )
    }
}

fn posts(log: &[Recorded]) -> Vec<Recorded> {
    let path = format!("/channels/{GENERAL}/messages");
    log.iter()
        .filter(|r| r.is("POST", &path))
        .cloned()
        .collect()
}

fn with(attachments: Vec<Value>, message: UserMessage) -> UserMessage {
    UserMessage {
        attachments,
        ..message
    }
}

fn ask(text: &str) -> UserMessage {
    UserMessage::mention(ALICE, GENERAL, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_reaches_the_chat_model_as_an_image_part_and_memory_keeps_only_a_marker() {
    let stack = Stack::start(&[("VISION", "on")]).await;
    let image = stack.image("cat.png", PNG);
    stack
        .turn(with(vec![image], ask("what is this?")), 1, 1)
        .await;

    let request = &stack.chat_requests()[0];
    let images = images_in(request);
    assert_eq!(images.len(), 1, "{request}");
    assert_eq!(images[0].media_type, "image/png");
    assert_eq!(images[0].bytes, PNG);
    assert_eq!(images[0].detail, "auto");
    assert_eq!(images[0].message_text, "what is this?\n\n[image: cat.png]");
    let stored = stack.stored(ALICE.id).await;
    assert_eq!(stored[0].question, "what is this?\n\n[image: cat.png]");
    assert_eq!(stack.bot.discord.cdn_hits().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_within_the_window_resend_the_image_and_later_ones_see_the_marker() {
    let stack = Stack::start(&[("VISION", "on"), ("IMAGE_MEMORY_TURNS", "2")]).await;
    let image = stack.image("chart.png", PNG);
    stack.turn(with(vec![image], ask("read this")), 1, 1).await;
    for (n, text) in [
        "and the axis?",
        "and the title?",
        "thanks, and the colours?",
    ]
    .into_iter()
    .enumerate()
    {
        stack.turn(ask(text), n + 2, n + 2).await;
    }

    let requests = stack.chat_requests();
    let seen: Vec<Vec<String>> = requests
        .iter()
        .map(|r| images_in(r).into_iter().map(|i| i.message_text).collect())
        .collect();
    let on_first_turn = vec!["read this\n\n[image: chart.png]".to_string()];
    assert_eq!(seen[1], on_first_turn, "the first follow-up sees it again");
    assert_eq!(seen[2], on_first_turn, "the second too (window of 2)");
    assert!(seen[3].is_empty(), "the third sees only the marker");
    let last_history = requests[3]["messages"][1]["content"].clone();
    assert_eq!(last_history, json!("read this\n\n[image: chart.png]"));
    assert_eq!(
        stack.bot.discord.cdn_hits().len(),
        1,
        "re-sent from RAM, not downloaded again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_files_arrive_as_fenced_blocks_headed_by_their_names() {
    let stack = Stack::start(&[]).await;
    let notes = stack.bot.discord.attachment(
        "notes.txt",
        Some("text/plain; charset=utf-8"),
        Served::Bytes(Bytes::from_static(b"line one\nline two\n")),
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "héllo from Windows"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let log = stack
        .bot
        .discord
        .attachment("server.log", None, Served::Bytes(utf16.into()));
    stack
        .turn(with(vec![notes, log], ask("summarise these")), 1, 1)
        .await;

    let sent = last_user_message(&stack.chat_requests()[0]);
    assert_eq!(
        sent,
        "summarise these\n\nnotes.txt:\n```txt\nline one\nline two\n```\n\n\
         server.log:\n```log\nhéllo from Windows\n```"
    );
    assert_eq!(stack.stored(ALICE.id).await[0].question, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_another_users_message_carries_it_as_quoted_context() {
    let stack = Stack::start(&[]).await;
    let discord = &stack.bot.discord;
    let original = discord.send_message(UserMessage::guild(
        BOB,
        GENERAL,
        "cargo says E0502 on line 4",
    ));
    let parent = discord.user_message(original);
    stack
        .turn(
            UserMessage {
                replying_to: Some(parent.clone()),
                ..ask("what does that mean?")
            },
            1,
            1,
        )
        .await;
    assert_eq!(
        last_user_message(&stack.chat_requests()[0]),
        "> bob: cargo says E0502 on line 4\n\nwhat does that mean?"
    );

    // Discord may leave the parent out: it is fetched by its reference.
    stack
        .turn(
            UserMessage {
                replying_to: Some(parent),
                reference_only: true,
                ..ask("and how do I fix it?")
            },
            2,
            2,
        )
        .await;
    assert_eq!(
        last_user_message(&stack.chat_requests()[1]),
        "> bob: cargo says E0502 on line 4\n\nand how do I fix it?"
    );
    assert_eq!(
        discord
            .calls("GET", &format!("/channels/{GENERAL}/messages/{original}"))
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_parent_is_skipped_and_a_forward_is_quoted_without_an_author() {
    let stack = Stack::start(&[]).await;
    let gone = json!({"id": "424242", "channel_id": GENERAL.to_string()});
    stack
        .turn(
            UserMessage {
                replying_to: Some(gone),
                reference_only: true,
                ..ask("what about this?")
            },
            1,
            1,
        )
        .await;
    assert_eq!(
        last_user_message(&stack.chat_requests()[0]),
        "what about this?"
    );

    let news = stack.bot.discord.send_message(UserMessage::guild(
        BOB,
        GENERAL,
        "the release moved to Friday",
    ));
    let forwarded = stack.bot.discord.user_message(news);
    stack
        .turn(
            UserMessage {
                forwarding: Some(forwarded),
                ..ask("is that true?")
            },
            2,
            2,
        )
        .await;
    assert_eq!(
        last_user_message(&stack.chat_requests()[1]),
        "> forwarded: the release moved to Friday\n\nis that true?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_vision_off_the_text_is_answered_and_the_user_is_told_once() {
    // mock-gpt is not a vision model, so VISION = auto is off.
    let stack = Stack::start(&[]).await;
    let first = stack.image("cat.png", PNG);
    let reply = stack
        .turn(with(vec![first], ask("what breed?")), 1, 1)
        .await;
    assert!(reply.contains("You said: what breed?"), "{reply}");
    assert!(reply.contains(messages::IMAGES_NOT_SUPPORTED), "{reply}");
    assert!(images_in(&stack.chat_requests()[0]).is_empty());

    let second = stack.image("dog.png", PNG);
    let reply = stack
        .turn(with(vec![second], ask("and this one?")), 2, 2)
        .await;
    assert!(!reply.contains(messages::IMAGES_NOT_SUPPORTED), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_keeps_a_web_looking_question_with_the_chat_model_unless_the_web_is_asked_for() {
    let stack = Stack::start(&[("VISION", "on")]).await;
    let image = stack.image("score.png", PNG);
    stack
        .turn(
            with(vec![image], ask("what is the latest score today?")),
            1,
            1,
        )
        .await;
    assert_eq!(images_in(&stack.chat_requests()[0]).len(), 1);
    assert!(stack.mock.requests_on(Route::Agent).is_empty());

    let image = stack.image("score.png", PNG);
    let reply = stack
        .turn(with(vec![image], ask("search: latest score")), 2, 2)
        .await;
    assert!(reply.contains(messages::WEB_SEES_NO_IMAGES), "{reply}");
    let web = stack.mock.requests_on(Route::Agent);
    assert_eq!(web.len(), 1);
    assert!(!web[0].body.to_string().contains("data:image"));
}

/// A listener that counts the connections it accepts (and answers none).
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (base, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_attachment_gets_one_line_and_the_rest_is_answered() {
    let stack = Stack::start(&[
        ("VISION", "on"),
        ("MAX_ATTACHMENT_BYTES", "2048"),
        ("MAX_IMAGES_PER_MESSAGE", "20"),
        ("MAX_TEXT_ATTACHMENT_CHARS", "50"),
    ])
    .await;
    let (outside, outside_hits) = counting_listener().await;
    let discord = &stack.bot.discord;
    let png = Some("image/png");
    let big = Bytes::from(vec![0u8; 4096]);
    let mut liar = discord.attachment("liar.png", png, Served::Bytes(big.clone()));
    liar["size"] = json!(10); // the size cap holds while streaming
    let attachments = vec![
        discord.attachment("huge.png", png, Served::Bytes(big)),
        liar,
        discord.attachment("broken.png", png, Served::Status(500)),
        discord.attachment(
            "damaged.png",
            png,
            Served::Bytes(Bytes::from_static(b"hello")),
        ),
        discord.attachment(
            "party.gif",
            Some("image/gif"),
            Served::Bytes(animated_gif().into()),
        ),
        discord.attachment(
            "clip.mp4",
            Some("video/mp4"),
            Served::Bytes(Bytes::from_static(b"x")),
        ),
        discord.attachment(
            "moved.png",
            png,
            Served::Redirect(format!("{outside}/elsewhere.png")),
        ),
        attachment_json(7, &format!("{outside}/inside.png"), "inside.png", png, 100),
        discord.attachment(
            "latin1.txt",
            Some("text/plain"),
            Served::Bytes(Bytes::from_static(b"caf\xE9")),
        ),
        discord.attachment(
            "long.txt",
            Some("text/plain"),
            Served::Bytes(Bytes::from("x".repeat(60))),
        ),
        stack.image("good.png", PNG),
    ];
    let reply = stack
        .turn(with(attachments, ask("look at these")), 1, 1)
        .await;

    let expected = [
        ("huge.png", ProblemKind::TooLarge { limit_bytes: 2048 }),
        ("liar.png", ProblemKind::TooLarge { limit_bytes: 2048 }),
        ("broken.png", ProblemKind::DownloadFailed),
        ("damaged.png", ProblemKind::Corrupt),
        ("party.gif", ProblemKind::Animated),
        ("clip.mp4", ProblemKind::Unsupported),
        ("moved.png", ProblemKind::NotAllowed),
        ("inside.png", ProblemKind::NotAllowed),
        ("latin1.txt", ProblemKind::NotText),
        ("long.txt", ProblemKind::TooLong { limit_chars: 50 }),
    ];
    for (name, kind) in expected {
        let line = Problem::new(name, kind).user_line();
        assert_eq!(reply.matches(&line).count(), 1, "{line} in {reply}");
    }
    assert!(reply.starts_with("You said: look at these"), "{reply}");
    let images = images_in(&stack.chat_requests()[0]);
    assert_eq!(images.len(), 1, "only the good image is sent");
    assert_eq!(images[0].message_text, "look at these\n\n[image: good.png]");
    assert_eq!(
        outside_hits.load(Ordering::SeqCst),
        0,
        "nothing outside the allowed hosts is ever requested"
    );
    let hits = discord.cdn_hits();
    assert!(
        !hits.iter().any(|path| path.ends_with("/huge.png")),
        "a declared size past the limit is not downloaded: {hits:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_stalls_times_out_and_the_text_is_still_answered() {
    // Alone in its message, so no download that works races the short deadline.
    let stack = Stack::start(&[("ATTACHMENT_TIMEOUT", "1s")]).await;
    let slow = stack
        .bot
        .discord
        .attachment("slow.png", Some("image/png"), Served::Stall);
    let reply = stack
        .turn(with(vec![slow], ask("still there?")), 1, 1)
        .await;
    assert_eq!(
        reply,
        format!(
            "You said: still there?\n\n-# {}",
            Problem::new("slow.png", ProblemKind::Timeout).user_line()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_past_the_limit_are_left_out_with_one_line_and_nothing_usable_says_why() {
    let stack = Stack::start(&[("VISION", "on"), ("MAX_IMAGES_PER_MESSAGE", "2")]).await;
    let images: Vec<Value> = ["a.png", "b.png", "c.png", "d.png"]
        .iter()
        .map(|name| stack.image(name, PNG))
        .collect();
    let reply = stack.turn(with(images, ask("compare")), 1, 1).await;
    let line = Problem::new("c.png", ProblemKind::TooManyImages { limit: 2 }).user_line();
    assert_eq!(reply.matches(&line).count(), 1, "{reply}");
    assert_eq!(images_in(&stack.chat_requests()[0]).len(), 2);

    // Only an attachment that cannot be used, and no text: just the reason.
    let broken = stack
        .bot
        .discord
        .attachment("broken.png", Some("image/png"), Served::Status(404));
    stack
        .bot
        .discord
        .send_message(with(vec![broken], UserMessage::mention(ALICE, GENERAL, "")));
    let reply = stack.post(2).await;
    assert_eq!(
        reply,
        Problem::new("broken.png", ProblemKind::DownloadFailed).user_line()
    );
    assert_eq!(stack.chat_requests().len(), 1, "nothing was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_attach_long_answers_chars_comes_as_answer_md_under_a_lead() {
    let stack = Stack::start(&[("ATTACH_LONG_ANSWERS_CHARS", "60")]).await;
    let short = stack.turn(ask("hi"), 1, 1).await;
    assert_eq!(short, "You said: hi");

    let question = "tell me everything about the borrow checker, at length please";
    let lead = stack.turn(ask(question), 2, 2).await;
    assert_eq!(lead, duet::discord::LONG_ANSWER_LEAD);
    let posted = posts(&stack.bot.discord.requests())[1].message_id();
    let path = format!("/channels/{GENERAL}/messages/{posted}");
    let log = stack
        .bot
        .discord
        .wait_until("the file upload", |log| {
            log.iter().any(|r| r.is("PATCH", &path))
        })
        .await;
    let upload = log
        .iter()
        .find(|r| r.is("PATCH", &path))
        .expect("an upload");
    assert_eq!(upload.content(), Some(duet::discord::LONG_ANSWER_LEAD));
    let files = upload.body["_files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["filename"], duet::discord::ANSWER_FILE_NAME);
    assert_eq!(files[0]["content"], format!("You said: {question}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_takes_an_image_option() {
    let stack = Stack::start(&[("VISION", "on")]).await;
    let discord = &stack.bot.discord;
    let image = stack.image("plot.png", PNG);
    let message = json!({"name": "message", "type": 3, "value": "what does this show?"});
    let token = discord.run_command_with_attachment("chat", vec![message], "image", image, &ALICE);
    let edit = format!(
        "/webhooks/{}/{token}/messages/@original",
        duet_testkit::fake_discord::fixtures::APPLICATION_ID
    );
    let log = discord
        .wait_until("the command's answer", |log| {
            log.iter().any(|r| r.is("PATCH", &edit))
        })
        .await;
    let answer = log
        .iter()
        .find(|r| r.is("PATCH", &edit))
        .expect("an answer");
    assert_eq!(
        answer.content(),
        Some("You said: what does this show?\n\n[image: plot.png]")
    );
    let images = images_in(&stack.chat_requests()[0]);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].bytes, PNG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_slash_command_answer_is_attached_to_its_response() {
    let stack = Stack::start(&[("ATTACH_LONG_ANSWERS_CHARS", "30")]).await;
    let discord = &stack.bot.discord;
    let question = "a question long enough for a file";
    let options = json!([{"name": "message", "type": 3, "value": question}]);
    let token = discord.run_command(
        "chat",
        options,
        &ALICE,
        GENERAL,
        Some(duet_testkit::fake_discord::fixtures::GUILD_ID),
    );
    let edit = format!(
        "/webhooks/{}/{token}/messages/@original",
        duet_testkit::fake_discord::fixtures::APPLICATION_ID
    );
    let uploaded = |r: &Recorded| r.is("PATCH", &edit) && r.body["_files"].is_array();
    let log = discord
        .wait_until("the response with the file", |log| log.iter().any(uploaded))
        .await;
    let upload = log.iter().find(|r| uploaded(r)).expect("an upload");
    assert_eq!(upload.content(), Some(duet::discord::LONG_ANSWER_LEAD));
    assert_eq!(
        upload.body["_files"][0]["content"],
        format!("You said: {question}")
    );
}
