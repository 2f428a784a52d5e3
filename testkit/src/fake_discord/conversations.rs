//! A [`Conversations`] double for driving the Discord frontend: it records
//! every call and answers by a script. The default script echoes with a
//! per-conversation turn counter, so tests can see that two messages
//! reached the same conversation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use duet::chat::{Answer, Conversations, Incoming, Outcome, Partial, ProviderStatus, StatusReport};
use duet::providers::ProviderKind;
use serde_json::json;
use tokio::sync::watch;

use super::lock;

/// What the double answers to one message.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// `turn N: <text>`, plus `(after: <previous question>)` from turn 2 on.
    Echo,
    Answer(String),
    Notice(String),
    Silent,
    /// Publishes the parts cumulatively on the progress channel, one every
    /// `every`, then answers with all of them.
    Stream {
        parts: Vec<String>,
        every: Duration,
    },
    /// Never answers (for shutdown tests).
    Hang,
}

type Script = Box<dyn Fn(&Incoming, usize) -> Scripted + Send + Sync>;

pub struct ScriptedConversations {
    script: Script,
    received: Mutex<Vec<Incoming>>,
    /// `reset`, `forget` and `status` calls, as `"reset <user> <channel>"` etc.
    calls: Mutex<Vec<String>>,
    /// Questions so far per (user, channel).
    history: Mutex<HashMap<(String, String), Vec<String>>>,
    changed: watch::Sender<usize>,
}

impl ScriptedConversations {
    /// Answers with `script(message, turn number in its conversation)`.
    pub fn new(script: impl Fn(&Incoming, usize) -> Scripted + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            script: Box::new(script),
            received: Mutex::default(),
            calls: Mutex::default(),
            history: Mutex::default(),
            changed: watch::channel(0).0,
        })
    }

    /// Echoes every message (see [`Scripted::Echo`]).
    pub fn echo() -> Arc<Self> {
        Self::new(|_, _| Scripted::Echo)
    }

    pub fn received(&self) -> Vec<Incoming> {
        lock(&self.received).clone()
    }

    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }

    /// Waits until `n` messages reached the pipeline.
    pub async fn wait_received(&self, n: usize) -> Vec<Incoming> {
        let mut changed = self.changed.subscribe();
        let waited = tokio::time::timeout(
            super::WAIT,
            changed.wait_for(|_| lock(&self.received).len() >= n),
        )
        .await;
        assert!(
            waited.is_ok(),
            "timed out waiting for {n} messages; got {:?}",
            self.received()
        );
        self.received()
    }

    /// Records the message and returns its turn number and the previous question.
    fn remember(&self, message: &Incoming) -> (usize, Option<String>) {
        lock(&self.received).push(message.clone());
        let key = (message.user_id.clone(), message.channel_id.clone());
        let mut history = lock(&self.history);
        let questions = history.entry(key).or_default();
        let previous = questions.last().cloned();
        questions.push(message.text.clone());
        let turn = questions.len();
        drop(history);
        self.changed.send_modify(|n| *n += 1);
        (turn, previous)
    }

    fn note(&self, call: String) {
        lock(&self.calls).push(call);
        self.changed.send_modify(|n| *n += 1);
    }
}

fn answer(text: String) -> Outcome {
    Outcome::Answer(Answer {
        text,
        sources: Vec::new(),
        note: None,
        provider: ProviderKind::OpenAi,
        model: "test-model".into(),
        reasons: vec!["scripted".into()],
    })
}

#[async_trait]
impl Conversations for ScriptedConversations {
    async fn handle(&self, message: Incoming, progress: Option<watch::Sender<Partial>>) -> Outcome {
        let (turn, previous) = self.remember(&message);
        match (self.script)(&message, turn) {
            Scripted::Echo => {
                let after = previous
                    .map(|p| format!(" (after: {p})"))
                    .unwrap_or_default();
                answer(format!("turn {turn}: {}{after}", message.text))
            }
            Scripted::Answer(text) => answer(text),
            Scripted::Notice(text) => Outcome::Notice(text),
            Scripted::Silent => Outcome::Silent,
            Scripted::Stream { parts, every } => {
                let mut text = String::new();
                for part in &parts {
                    text.push_str(part);
                    if let Some(progress) = &progress {
                        progress.send_replace(Partial {
                            text: text.clone(),
                            ..Partial::default()
                        });
                    }
                    tokio::time::sleep(every).await;
                }
                answer(text)
            }
            Scripted::Hang => std::future::pending().await,
        }
    }

    async fn reset(&self, user_id: &str, channel_id: &str) -> Outcome {
        lock(&self.history).remove(&(user_id.to_string(), channel_id.to_string()));
        self.note(format!("reset {user_id} {channel_id}"));
        Outcome::Notice("Conversation reset.".into())
    }

    async fn forget(&self, user_id: &str) -> Outcome {
        lock(&self.history).retain(|(user, _), _| user != user_id);
        self.note(format!("forget {user_id}"));
        Outcome::Notice("I deleted everything I had stored about you.".into())
    }

    async fn export(&self, user_id: &str) -> Outcome {
        self.note(format!("export {user_id}"));
        Outcome::Notice(format!("```json\n{{\"user_id\": \"{user_id}\"}}\n```"))
    }

    async fn status(&self, user_id: &str) -> StatusReport {
        self.note(format!("status {user_id}"));
        StatusReport {
            mode: "hybrid".into(),
            web_provider: Some("perplexity".into()),
            providers: vec![ProviderStatus {
                provider: ProviderKind::OpenAi,
                model: "test-model".into(),
                pool: json!({"requests": 3}),
            }],
            rate_limit_remaining: 4,
            rate_limit: 5,
            rate_limit_window_secs: 60,
            tokens_left_today: None,
        }
    }
}
