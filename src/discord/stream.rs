//! Delivering a reply, streamed or not: the messages on screen are made to
//! match the split of the latest text, creating, editing and deleting
//! messages through a [`ReplySink`], never editing one message more often
//! than the configured interval. The final state equals the split of the
//! final text exactly.
//!
//! The logic only talks to the [`ReplySink`] trait, so it is tested here with
//! a recording sink and paused time.

use std::future::Future;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::{Duration, Instant, sleep_until};

use super::render::{DISCORD_MESSAGE_LIMIT, render_partial, split_for_discord};
use crate::chat::Partial;

/// Identifies a message a sink created, for later edits.
pub type SentId = u64;

/// A send that did not go through (the sink has already logged the detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailed {
    /// Later sends would fail too (missing permissions, unknown channel).
    Fatal,
    /// Worth retrying later (rate limited, Discord error).
    Transient,
}

/// Where a reply's messages go: a channel, or an interaction's responses.
#[async_trait]
pub trait ReplySink: Send {
    /// Posts a message; the first one is the answer to the user.
    async fn create(&mut self, content: &str) -> Result<SentId, SendFailed>;
    async fn edit(&mut self, id: SentId, content: &str) -> Result<(), SendFailed>;
    async fn delete(&mut self, id: SentId) -> Result<(), SendFailed>;
    /// Replaces message `id` with `content` and the file `name` holding `body`.
    async fn attach_file(
        &mut self,
        id: SentId,
        content: &str,
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), SendFailed>;
}

/// One change that brings the screen closer to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Create(String),
    Edit {
        index: usize,
        content: String,
    },
    /// Emitted last and from the highest index down, so indices stay valid.
    Delete {
        index: usize,
    },
}

/// The steps that turn the messages `shown` into `target`.
pub fn plan(shown: &[&str], target: &[String]) -> Vec<Step> {
    let mut steps = Vec::new();
    for (index, content) in target.iter().enumerate() {
        match shown.get(index) {
            Some(current) if current == content => {}
            Some(_) => steps.push(Step::Edit {
                index,
                content: content.clone(),
            }),
            None => steps.push(Step::Create(content.clone())),
        }
    }
    steps.extend(
        (target.len()..shown.len())
            .rev()
            .map(|index| Step::Delete { index }),
    );
    steps
}

struct Shown {
    id: SentId,
    content: String,
    written_at: Instant,
}

/// The reply being delivered for one turn.
pub struct StreamedReply<S> {
    sink: S,
    interval: Duration,
    shown: Vec<Shown>,
    stopped: bool,
}

impl<S: ReplySink> StreamedReply<S> {
    /// `interval` is the least time between two writes of the same message.
    pub fn new(sink: S, interval: Duration) -> Self {
        Self {
            sink,
            interval,
            shown: Vec::new(),
            stopped: false,
        }
    }

    /// How many messages are on screen.
    #[cfg(test)]
    pub fn shown(&self) -> usize {
        self.shown.len()
    }

    /// Shows the text published on `progress` (the whole rendered text so
    /// far) as it grows, until `done` resolves or the sender is dropped.
    /// `done` is only looked at between Discord calls, so no message is left
    /// half-sent when the pipeline finishes.
    pub async fn follow(
        &mut self,
        mut progress: watch::Receiver<Partial>,
        done: impl Future<Output = ()>,
    ) {
        tokio::pin!(done);
        let mut pending: Option<Vec<String>> = None;
        loop {
            let due = pending.as_ref().and_then(|target| self.next_due(target));
            tokio::select! {
                () = &mut done => return,
                // Once stopped, keep the receiver open (the pipeline's sends
                // must not fail) but show nothing more.
                changed = progress.changed(), if !self.stopped => {
                    if changed.is_err() {
                        return;
                    }
                    let rendered = render_partial(&progress.borrow_and_update());
                    pending = Some(split_for_discord(&rendered, DISCORD_MESSAGE_LIMIT));
                }
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() && !self.stopped => {}
            }
            if let Some(target) = pending.take()
                && !self.apply_ready(&target).await
            {
                pending = Some(target);
            }
        }
    }

    /// Brings the screen to exactly `target`, waiting out the edit interval
    /// where needed. Does nothing once a send failed fatally.
    pub async fn finish(&mut self, target: &[String]) {
        for step in plan(&self.contents(), target) {
            if self.stopped {
                return;
            }
            match step {
                Step::Create(content) => self.create(content).await,
                Step::Edit { index, content } => {
                    sleep_until(self.ready_at(index)).await;
                    if !self.edit(index, &content).await {
                        // One more try after the interval, then give up.
                        sleep_until(self.ready_at(index)).await;
                        self.edit(index, &content).await;
                    }
                }
                Step::Delete { index } => self.delete(index).await,
            }
        }
    }

    /// Ends with one message, `lead`, carrying the file `name` (whatever a
    /// stream showed before is replaced).
    pub async fn finish_with_file(&mut self, lead: &str, name: &str, body: Vec<u8>) {
        self.finish(&[lead.to_string()]).await;
        let Some(first) = self.shown.first().filter(|_| !self.stopped) else {
            return;
        };
        if let Err(SendFailed::Fatal) = self.sink.attach_file(first.id, lead, name, body).await {
            self.stopped = true;
        }
    }

    /// Applies what may be applied now; true when the target is reached
    /// (deletions wait for [`Self::finish`]: a shrinking split mid-stream is temporary).
    async fn apply_ready(&mut self, target: &[String]) -> bool {
        let mut complete = true;
        for step in plan(&self.contents(), target) {
            if self.stopped {
                return true;
            }
            match step {
                Step::Create(content) => self.create(content).await,
                Step::Edit { index, content } if self.ready_at(index) <= Instant::now() => {
                    complete &= self.edit(index, &content).await;
                }
                Step::Edit { .. } | Step::Delete { .. } => complete = false,
            }
        }
        complete
    }

    /// When the earliest edit `target` needs becomes allowed.
    fn next_due(&self, target: &[String]) -> Option<Instant> {
        plan(&self.contents(), target)
            .iter()
            .filter_map(|step| match step {
                Step::Edit { index, .. } => Some(self.ready_at(*index)),
                _ => None,
            })
            .min()
    }

    fn ready_at(&self, index: usize) -> Instant {
        self.shown[index].written_at + self.interval
    }

    fn contents(&self) -> Vec<&str> {
        self.shown.iter().map(|s| s.content.as_str()).collect()
    }

    async fn create(&mut self, content: String) {
        match self.sink.create(&content).await {
            Ok(id) => self.shown.push(Shown {
                id,
                content,
                written_at: Instant::now(),
            }),
            // Without its first part a reply makes no sense; stop.
            Err(_) => self.stopped = true,
        }
    }

    /// True when the edit went through.
    async fn edit(&mut self, index: usize, content: &str) -> bool {
        let result = self.sink.edit(self.shown[index].id, content).await;
        let shown = &mut self.shown[index];
        // A failed attempt counts for pacing too, so retries keep the interval.
        shown.written_at = Instant::now();
        match result {
            Ok(()) => {
                shown.content = content.to_string();
                true
            }
            Err(SendFailed::Fatal) => {
                self.stopped = true;
                false
            }
            Err(SendFailed::Transient) => false,
        }
    }

    async fn delete(&mut self, index: usize) {
        match self.sink.delete(self.shown[index].id).await {
            Ok(()) => {
                self.shown.remove(index);
            }
            Err(SendFailed::Fatal) => self.stopped = true,
            Err(SendFailed::Transient) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Call {
        Create(SentId, String),
        Edit(SentId, String),
        Delete(SentId),
    }

    /// Records every call with its (paused-clock) time; optionally fails creates.
    #[derive(Clone, Default)]
    struct RecordingSink {
        calls: Arc<Mutex<Vec<(Instant, Call)>>>,
        fail_creates: bool,
    }

    impl RecordingSink {
        fn calls(&self) -> Vec<(Instant, Call)> {
            self.calls.lock().unwrap().clone()
        }

        /// The content of each message as it ends up.
        fn screen(&self) -> Vec<String> {
            let mut screen: Vec<(SentId, String)> = Vec::new();
            for (_, call) in self.calls() {
                match call {
                    Call::Create(id, c) => screen.push((id, c)),
                    Call::Edit(id, c) => {
                        screen.iter_mut().find(|(i, _)| *i == id).unwrap().1 = c;
                    }
                    Call::Delete(id) => screen.retain(|(i, _)| *i != id),
                }
            }
            screen.into_iter().map(|(_, c)| c).collect()
        }

        fn record(&self, call: Call) {
            self.calls.lock().unwrap().push((Instant::now(), call));
        }
    }

    #[async_trait]
    impl ReplySink for RecordingSink {
        async fn create(&mut self, content: &str) -> Result<SentId, SendFailed> {
            if self.fail_creates {
                return Err(SendFailed::Fatal);
            }
            let id = self.calls.lock().unwrap().len() as SentId + 1;
            self.record(Call::Create(id, content.to_string()));
            Ok(id)
        }
        async fn edit(&mut self, id: SentId, content: &str) -> Result<(), SendFailed> {
            self.record(Call::Edit(id, content.to_string()));
            Ok(())
        }
        async fn delete(&mut self, id: SentId) -> Result<(), SendFailed> {
            self.record(Call::Delete(id));
            Ok(())
        }
        async fn attach_file(
            &mut self,
            id: SentId,
            content: &str,
            name: &str,
            body: Vec<u8>,
        ) -> Result<(), SendFailed> {
            let shown = format!("{content} [{name}: {} bytes]", body.len());
            self.record(Call::Edit(id, shown));
            Ok(())
        }
    }

    const INTERVAL: Duration = Duration::from_millis(1200);

    fn split(text: &str) -> Vec<String> {
        split_for_discord(text, DISCORD_MESSAGE_LIMIT)
    }

    /// Publishes `parts` cumulatively, one every `every`, then the final outcome.
    async fn stream(sink: RecordingSink, parts: &[String], every: Duration) -> String {
        let (tx, rx) = watch::channel(Partial::default());
        let mut reply = StreamedReply::new(sink, INTERVAL);
        let full = parts.concat();
        let (finished, done) = tokio::sync::oneshot::channel::<()>();
        let publisher = async move {
            let mut text = String::new();
            for part in parts {
                text.push_str(part);
                tx.send_replace(Partial {
                    text: text.clone(),
                    ..Partial::default()
                });
                tokio::time::sleep(every).await;
            }
            let _ = finished.send(());
        };
        tokio::join!(
            publisher,
            reply.follow(rx, async {
                let _ = done.await;
            })
        );
        reply.finish(&split(&full)).await;
        full
    }

    #[test]
    fn plan_creates_edits_and_deletes_only_what_differs() {
        let target = vec!["a".to_string(), "b2".into(), "c".into()];
        assert_eq!(
            plan(&["a", "b"], &target),
            vec![
                Step::Edit {
                    index: 1,
                    content: "b2".into()
                },
                Step::Create("c".into())
            ]
        );
        assert_eq!(plan(&["a", "b2", "c"], &target), vec![]);
        assert_eq!(
            plan(&["a", "x", "y"], &target[..1]),
            vec![Step::Delete { index: 2 }, Step::Delete { index: 1 }]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn edits_one_message_no_more_often_than_the_interval() {
        let sink = RecordingSink::default();
        let parts: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
        let full = stream(sink.clone(), &parts, Duration::from_millis(100)).await;

        let calls = sink.calls();
        assert!(
            matches!(calls[0].1, Call::Create(..)),
            "the first tokens appear at once"
        );
        let writes: Vec<Instant> = calls.iter().map(|(at, _)| *at).collect();
        assert!(
            writes.len() >= 3,
            "the reply grows while streaming: {calls:?}"
        );
        assert!(writes.len() < 40, "updates are coalesced");
        for pair in writes.windows(2) {
            assert!(pair[1] - pair[0] >= INTERVAL, "writes too close: {calls:?}");
        }
        assert_eq!(sink.screen(), split(&full));
    }

    #[tokio::test(start_paused = true)]
    async fn continues_in_a_new_message_past_the_limit() {
        let sink = RecordingSink::default();
        let parts: Vec<String> = (0..50).map(|i| format!("{:099}\n", i)).collect();
        let full = stream(sink.clone(), &parts, Duration::from_millis(300)).await;

        let screen = sink.screen();
        assert_eq!(screen, split(&full));
        assert_eq!(screen.len(), 3, "5,000 characters need three messages");
        assert!(
            screen
                .iter()
                .all(|m| m.chars().count() <= DISCORD_MESSAGE_LIMIT)
        );
        let creates = sink
            .calls()
            .iter()
            .filter(|(_, c)| matches!(c, Call::Create(..)))
            .count();
        assert_eq!(creates, 3, "each message is created once, then edited");
    }

    #[tokio::test(start_paused = true)]
    async fn a_streamed_answer_sent_as_a_file_ends_as_one_message_with_the_file() {
        let sink = RecordingSink::default();
        let parts: Vec<String> = (0..50).map(|i| format!("{:099}\n", i)).collect();
        let (tx, rx) = watch::channel(Partial::default());
        let mut reply = StreamedReply::new(sink.clone(), INTERVAL);
        let publisher = async move {
            tx.send_replace(Partial {
                text: parts.concat(),
                ..Partial::default()
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        reply.follow(rx, publisher).await;
        assert!(reply.shown() > 1, "the stream showed several messages");

        reply
            .finish_with_file("lead", "answer.md", b"the answer".to_vec())
            .await;
        assert_eq!(sink.screen(), ["lead [answer.md: 10 bytes]"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_answer_different_from_the_stream_replaces_it() {
        let sink = RecordingSink::default();
        let (tx, rx) = watch::channel(Partial::default());
        let mut reply = StreamedReply::new(sink.clone(), INTERVAL);
        let publisher = async move {
            tx.send_replace(Partial {
                text: "x".repeat(2500),
                ..Partial::default()
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        tokio::join!(publisher, reply.follow(rx, std::future::pending()));
        assert_eq!(reply.shown(), 2);
        reply
            .finish(&["Sorry, the provider is down.".to_string()])
            .await;

        assert_eq!(sink.screen(), vec!["Sorry, the provider is down."]);
        let calls = sink.calls();
        let (created_at, _) = calls[0];
        let (edited_at, _) = calls
            .iter()
            .find(|(_, c)| matches!(c, Call::Edit(..)))
            .expect("the first message is edited");
        assert!(
            *edited_at - created_at >= INTERVAL,
            "even the final edit waits"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_streaming_finish_sends_every_part_at_once() {
        let sink = RecordingSink::default();
        let mut reply = StreamedReply::new(sink.clone(), INTERVAL);
        let parts = split(&"line\n".repeat(1000));
        let started = Instant::now();
        reply.finish(&parts).await;
        assert_eq!(sink.screen(), parts);
        assert!(sink.calls().iter().all(|(at, _)| *at == started));
    }

    #[tokio::test(start_paused = true)]
    async fn following_ends_with_the_answer_even_if_the_sender_lives_on() {
        let sink = RecordingSink::default();
        let (tx, rx) = watch::channel(Partial::default());
        let mut reply = StreamedReply::new(sink.clone(), INTERVAL);
        tx.send_replace(Partial {
            text: "partial".into(),
            ..Partial::default()
        });
        let (finished, done) = tokio::sync::oneshot::channel::<()>();
        let answer = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = finished.send(());
        };
        tokio::join!(
            answer,
            reply.follow(rx, async {
                let _ = done.await;
            })
        );
        assert_eq!(sink.screen(), vec!["partial"]);
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_first_message_stops_the_reply_but_not_the_pipeline() {
        let sink = RecordingSink {
            fail_creates: true,
            ..RecordingSink::default()
        };
        let parts: Vec<String> = (0..5).map(|i| format!("part {i} ")).collect();
        let full = stream(sink.clone(), &parts, Duration::from_millis(100)).await;
        assert!(!full.is_empty());
        assert!(sink.calls().is_empty());
    }
}
