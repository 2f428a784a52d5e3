//! Simulated users: the messages they send and the runner that pushes them
//! into the pipeline (directly or through Discord) at a fixed concurrency,
//! timing each one.
//!
//! Each worker owns its users (user `u` belongs to worker `u % concurrency`),
//! so two messages of one user are never in flight at once and the
//! per-conversation queue never serialises the load by accident.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use duet::chat::{Incoming, Outcome};
use duet::providers::ProviderKind;

use crate::mock_host::MockHost;
use crate::pipeline::{Door, Pipeline};
use crate::sys::{Spread, process_cpu};
use duet_testkit::mock_llm::{MockLlm, Route, last_user_message};

/// Questions the router sends to OpenAI.
const CHAT: &[&str] = &[
    "can you explain how recursion works in simple terms",
    "write a short poem about the sea and the stars",
    "how do I read a file line by line in python",
    "what is the difference between a process and a thread",
    "give me three ideas for a birthday party",
    "help me rephrase this sentence so it sounds friendlier",
];

/// Questions the router sends to Perplexity.
const WEB: &[&str] = &[
    "what's the weather in paris today",
    "latest news about the rust programming language",
    "how is $NVDA doing this week",
    "search the web for reviews of the new phone",
];

/// Where the discord-like user ids start.
const USER_BASE: u64 = 100_000_000_000_000_000;
const CHANNEL: &str = "123456789012345678";

/// Serial numbers of messages across the whole run, so every question the
/// mock sees is unique and its requests can be matched to the message.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// What to send.
#[derive(Debug, Clone)]
pub struct Workload {
    pub messages: usize,
    pub users: usize,
    pub concurrency: usize,
    /// Share of messages written to need the web.
    pub web_share: f64,
    /// Added to user numbers, so sections do not share histories.
    pub user_offset: usize,
    /// No new message starts after this much time.
    pub time_limit: Duration,
    /// Workers start spread evenly over this much time (zero: all at once).
    pub ramp: Duration,
}

/// One message's fate.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The question as the upstream sees it (the last user message).
    pub text: String,
    pub elapsed: Duration,
    /// Who answered; `None` when the user got a notice instead.
    pub provider: Option<ProviderKind>,
    pub notice: Option<String>,
}

/// A finished run.
#[derive(Debug, Default)]
pub struct LoadRun {
    pub samples: Vec<Sample>,
    pub wall: Duration,
    pub process_cpu: Duration,
    pub mock_cpu: Duration,
}

impl LoadRun {
    pub fn answered(&self, kind: ProviderKind) -> usize {
        self.samples
            .iter()
            .filter(|s| s.provider == Some(kind))
            .count()
    }

    pub fn failures(&self) -> usize {
        self.samples.iter().filter(|s| s.provider.is_none()).count()
    }

    /// The distinct notices users saw, with counts.
    pub fn notices(&self) -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for notice in self.samples.iter().filter_map(|s| s.notice.clone()) {
            *seen.entry(notice).or_insert(0) += 1;
        }
        seen
    }

    pub fn per_second(&self) -> f64 {
        self.samples.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// CPU the bot used per message: the process minus the mock's thread.
    pub fn bot_cpu_per_message(&self) -> Duration {
        let bot = self.process_cpu.saturating_sub(self.mock_cpu);
        bot / (self.samples.len().max(1) as u32)
    }

    pub fn latency(&self) -> Spread {
        Spread::of(&mut self.samples.iter().map(|s| s.elapsed).collect::<Vec<_>>())
    }

    /// End-to-end time minus the time the mock held each of the message's
    /// requests (arrival to answer, every attempt): what the bot and the
    /// wire add. Messages the mock never saw are left out.
    pub fn overhead(&self, mock: &MockLlm) -> Spread {
        let held = mock_time_per_question(mock);
        let mut overheads: Vec<Duration> = self
            .samples
            .iter()
            .filter(|s| s.provider.is_some())
            .filter_map(|s| held.get(&s.text).map(|h| s.elapsed.saturating_sub(*h)))
            .collect();
        Spread::of(&mut overheads)
    }

    /// How long the mock held requests, per message.
    pub fn mock_latency(&self, mock: &MockLlm) -> Spread {
        let held = mock_time_per_question(mock);
        Spread::of(&mut held.into_values().collect::<Vec<_>>())
    }
}

/// Time between arrival and answer at the mock, summed per question.
fn mock_time_per_question(mock: &MockLlm) -> HashMap<String, Duration> {
    let mut held: HashMap<String, Duration> = HashMap::new();
    for request in mock.requests() {
        if request.route == Route::Models {
            continue;
        }
        if let Some(answered) = request.answered {
            *held.entry(last_user_message(&request.body)).or_default() +=
                answered.duration_since(request.arrived);
        }
    }
    held
}

impl Workload {
    /// The message number `i` of this workload: a template plus a tag unique
    /// in the run (letters only, so it never looks like a year or a ticker
    /// to the router).
    pub fn text(&self, i: usize) -> String {
        let web = (i as f64 * self.web_share).floor() < ((i + 1) as f64 * self.web_share).floor();
        let template = if web {
            WEB[i % WEB.len()]
        } else {
            CHAT[i % CHAT.len()]
        };
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        format!("{template} (ref {})", letters(serial))
    }

    fn incoming(&self, i: usize, user: usize) -> Incoming {
        let user_id = (USER_BASE + (self.user_offset + user) as u64).to_string();
        Incoming {
            user_name: format!("user{user}"),
            user_id,
            channel_id: CHANNEL.into(),
            guild_id: None,
            settings: None,
            text: self.text(i),
            forced: None,
            privileged: false,
            attachments: Default::default(),
        }
    }

    /// Each worker's messages, in order.
    fn plan(&self) -> Vec<Vec<Incoming>> {
        let workers = self.concurrency.max(1);
        let users = self.users.max(workers);
        let mut plan: Vec<Vec<Incoming>> = vec![Vec::new(); workers];
        let mut next_user = vec![0usize; workers];
        for i in 0..self.messages {
            let w = i % workers;
            let owned = (users - w).div_ceil(workers);
            let user = w + workers * (next_user[w] % owned);
            next_user[w] += 1;
            plan[w].push(self.incoming(i, user));
        }
        plan
    }

    /// Sends every message into `pipeline` and waits for all answers.
    pub async fn run(&self, pipeline: &Pipeline, host: Option<&MockHost>) -> LoadRun {
        let plan = self.plan();
        let mock_cpu = || host.map_or(Duration::ZERO, MockHost::cpu);
        let (cpu0, mock0, started) = (process_cpu(), mock_cpu(), Instant::now());
        let stop_at = started + self.time_limit;
        let step = self.ramp / (plan.len().max(1) as u32);
        let workers: Vec<_> = plan
            .into_iter()
            .enumerate()
            .map(|(w, messages)| {
                let start_at = started + step * (w as u32);
                tokio::spawn(worker(pipeline.door(), messages, start_at, stop_at))
            })
            .collect();
        let mut samples = Vec::with_capacity(self.messages);
        for worker in futures::future::join_all(workers).await {
            samples.extend(worker.unwrap_or_default());
        }
        LoadRun {
            samples,
            wall: started.elapsed(),
            process_cpu: process_cpu().saturating_sub(cpu0),
            mock_cpu: mock_cpu().saturating_sub(mock0),
        }
    }
}

async fn worker(
    door: Door,
    messages: Vec<Incoming>,
    start_at: Instant,
    stop_at: Instant,
) -> Vec<Sample> {
    tokio::time::sleep_until(start_at.into()).await;
    let mut samples = Vec::with_capacity(messages.len());
    for message in messages {
        if Instant::now() >= stop_at {
            break;
        }
        let text = message.text.clone();
        let (outcome, elapsed) = door.send(message).await;
        let (provider, notice) = match outcome {
            Outcome::Answer(answer) => (Some(answer.provider), None),
            Outcome::Notice(notice) => (None, Some(notice)),
            Outcome::Silent => (None, Some("(silent)".into())),
        };
        samples.push(Sample {
            text,
            elapsed,
            provider,
            notice,
        });
    }
    samples
}

/// 0 → "a", 25 → "z", 26 → "ba", …
fn letters(mut n: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
