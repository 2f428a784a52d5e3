//! Section "images": what images cost. Resident memory while 10,000 users
//! each send an image (image bytes are never stored; only
//! `IMAGE_CACHE_BYTES` of them are kept for follow-ups, so the figure after
//! 10,000 users should match the one after 1,000), then CPU per message
//! carrying one 1 MiB image against the same messages without one (the
//! image is base64-encoded into the request; the mock's own parsing is not
//! counted).

use std::time::{Duration, Instant};

use bytes::Bytes;
use duet::chat::attachments::input::{Attachments, ImageAttachment};
use duet::chat::{Incoming, Outcome};
use duet::providers::ImageInput;
use serde_json::{Value, json};

use crate::args::Args;
use crate::mock_host::MockHost;
use crate::pipeline::{Door, Pipeline, Target};
use crate::sys::{ms, process_cpu, rss_bytes};

const MIB: usize = 1 << 20;
/// The cache budget of the memory run.
const CACHE_BYTES: usize = 32 * MIB;
/// Messages sent between two clearings of the mock's request log (which
/// keeps every body; it shares the process with the bot).
const BATCH: usize = 50;
/// The memory run's users, apart from the CPU run's.
const MEMORY_USER_BASE: usize = 1_000_000;

/// A PNG signature and header, then `size` bytes in all (the rest noise, so
/// nothing compresses it away).
fn image(size: usize, seed: u64) -> Bytes {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x04\0\0\0\x04\0\x08\x06\0\0\0".to_vec();
    let mut state = seed | 1;
    while bytes.len() < size {
        // xorshift: cheap noise.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes.into()
}

fn message(user: usize, image: Option<Bytes>) -> Incoming {
    let images = image
        .map(|bytes| ImageAttachment {
            name: "photo.png".into(),
            image: ImageInput {
                media_type: "image/png",
                bytes,
            },
        })
        .into_iter()
        .collect();
    Incoming {
        user_id: (7_000_000 + user as u64).to_string(),
        user_name: format!("user{user}"),
        channel_id: "4242".into(),
        guild_id: None,
        settings: None,
        text: "what is in this picture?".into(),
        forced: None,
        privileged: false,
        attachments: Attachments {
            images,
            ..Attachments::default()
        },
    }
}

/// Sends `messages` from `concurrency` workers; returns (answered, wall).
async fn send_all(door: &Door, messages: Vec<Incoming>, concurrency: usize) -> (usize, Duration) {
    let started = Instant::now();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(messages));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (door, queue) = (door.clone(), queue.clone());
            tokio::spawn(async move {
                let mut answered = 0;
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some(message) = next else {
                        return answered;
                    };
                    if let (Outcome::Answer(_), _) = door.send(message).await {
                        answered += 1;
                    }
                }
            })
        })
        .collect();
    let mut answered = 0;
    for worker in futures::future::join_all(workers).await {
        answered += worker.unwrap_or(0);
    }
    (answered, started.elapsed())
}

/// CPU of the bot (the process minus the mock's thread) per message.
async fn cpu_per_message(
    door: &Door,
    host: Option<&MockHost>,
    messages: Vec<Incoming>,
) -> (usize, f64) {
    let mock_cpu = || host.map_or(Duration::ZERO, MockHost::cpu);
    let count = messages.len();
    let (cpu0, mock0) = (process_cpu(), mock_cpu());
    let (answered, _) = send_all(door, messages, 4).await;
    let bot = process_cpu()
        .saturating_sub(cpu0)
        .saturating_sub(mock_cpu().saturating_sub(mock0));
    (answered, bot.as_secs_f64() * 1e6 / count.max(1) as f64)
}

pub async fn images(args: &Args, host: Option<&MockHost>) -> anyhow::Result<Value> {
    let target = Target::new(args, host, Duration::ZERO).await;
    let env = target.env_with(
        args.http1,
        &[
            ("VISION", "on".into()),
            ("IMAGE_CACHE_BYTES", CACHE_BYTES.to_string()),
            ("MAX_HISTORY_PER_USER", "2".into()),
        ],
    );
    let pipeline = Pipeline::start(args, host, &env).await?;
    let door = pipeline.door();
    let forget = || {
        if let Some(mock) = &target.mock {
            mock.forget_requests();
        }
    };

    // Memory: users each sending one image; resident memory after the
    // first tenth and after all of them.
    let (users, size) = if args.quick {
        (200, 64 << 10)
    } else {
        (10_000, 256 << 10)
    };
    // First, so the CPU run's larger bodies do not set the allocator's high-water mark.
    let mut rss = vec![rss_bytes()];
    let mut answered = 0;
    let started = Instant::now();
    for (from, to) in [(0, users / 10), (users / 10, users)] {
        let mut next = from;
        while next < to {
            let batch_end = (next + BATCH).min(to);
            let batch: Vec<Incoming> = (next..batch_end)
                .map(|u| message(MEMORY_USER_BASE + u, Some(image(size, u as u64))))
                .collect();
            answered += send_all(&door, batch, 16).await.0;
            forget();
            next = batch_end;
        }
        rss.push(rss_bytes());
    }
    let cache = pipeline.service.image_cache();
    let (cache_held, cache_turns) = (cache.bytes(), cache.len());
    let memory_wall = started.elapsed();

    // CPU: the same messages with and without a 1 MiB image.
    let n = if args.quick { 5 } else { 200 };
    let plain: Vec<Incoming> = (0..n).map(|u| message(u, None)).collect();
    let (plain_answered, plain_us) = cpu_per_message(&door, host, plain).await;
    forget();
    let with_image: Vec<Incoming> = (0..n)
        .map(|u| message(n + u, Some(image(MIB, u as u64))))
        .collect();
    let (image_answered, image_us) = cpu_per_message(&door, host, with_image).await;
    forget();

    Ok(json!({
        "cpu": {
            "messages": n,
            "answered_plain": plain_answered,
            "answered_with_image": image_answered,
            "image_bytes": MIB,
            "cpu_us_per_message_plain": plain_us.round(),
            "cpu_us_per_message_with_image": image_us.round(),
        },
        "memory": {
            "users": users,
            "image_bytes": size,
            "answered": answered,
            "image_cache_budget_mib": CACHE_BYTES / MIB,
            "image_cache_held_mib": cache_held as f64 / MIB as f64,
            "image_cache_turns": cache_turns,
            "rss_mib_before": rss[0] as f64 / MIB as f64,
            "rss_mib_after_first_tenth": rss[1] as f64 / MIB as f64,
            "rss_mib_after_all": rss[2] as f64 / MIB as f64,
            "images_sent_mib": (users * size) as f64 / MIB as f64,
            "wall_ms": ms(memory_wall),
        },
    }))
}
