//! The `memory` backend stays close to the raw text it holds. A counting
//! global allocator measures the heap the store keeps (malloc's real chunk
//! sizes, headers and rounding included), so the figure is deterministic,
//! unlike RSS. `benches/memory.rs` reports RSS for 10,000 users.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use duet::chat::memory::Memory;
use duet::chat::{ConversationKey, Turn};
use duet::config::{MemoryBackend, MemoryConfig, MemoryScope};
use duet::providers::ProviderKind;

/// Live heap bytes as malloc accounts them: usable size plus the chunk header.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

fn chunk_size(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` was just returned by (or is about to be given back to) the system malloc.
    unsafe { libc::malloc_usable_size(ptr.cast()) + std::mem::size_of::<usize>() }
}

// SAFETY: delegates every call to `System`, only counting around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE.fetch_add(chunk_size(ptr), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(chunk_size(ptr), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let before = chunk_size(ptr);
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(before, Ordering::Relaxed);
            LIVE.fetch_add(chunk_size(new), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const USERS: usize = 2_000;
const TURNS: usize = 20;

/// Text of `len` bytes, mostly ASCII words with some multibyte characters.
fn text(rng: &mut fastrand::Rng, len: usize) -> String {
    const WORDS: [&str; 8] = [
        "the ", "answer ", "is ", "Rust ", "café ", "42 ", "東京 ", "🦀 ",
    ];
    let mut s = String::with_capacity(len + 8);
    while s.len() < len {
        s.push_str(WORDS[rng.usize(..WORDS.len())]);
    }
    s
}

#[tokio::test]
async fn the_ram_backend_holds_turns_in_little_more_than_their_text() {
    let config = MemoryConfig {
        backend: MemoryBackend::Memory,
        database_path: PathBuf::new(),
        database_url: None,
        database_max_connections: 10,
        scope: MemoryScope::UserChannel,
        ttl: Some(Duration::from_secs(7 * 86_400)),
        cache_conversations: 1_000,
    };
    let memory = Memory::open(&config, 50).unwrap();
    let mut rng = fastrand::Rng::with_seed(4);
    let before = LIVE.load(Ordering::Relaxed);
    let mut raw = 0usize;
    for user in 0..USERS {
        let user_id = format!("{}", 100_000_000_000_000_000u64 + user as u64);
        let key = ConversationKey::new(MemoryScope::UserChannel, &user_id, "123456789012345678");
        for i in 0..TURNS {
            let (q_len, a_len) = (rng.usize(30..=200), rng.usize(150..=1_200));
            let (question, answer) = (text(&mut rng, q_len), text(&mut rng, a_len));
            raw += question.len() + answer.len();
            let turn = Turn {
                user_id: user_id.clone(),
                question,
                answer,
                provider: ProviderKind::OpenAi,
                model: "gpt-4o-mini".into(),
                at: i as i64,
            };
            memory.append(&key, turn).await.unwrap();
        }
    }
    let held = LIVE.load(Ordering::Relaxed) - before;
    let ratio = held as f64 / raw as f64;
    eprintln!("raw text {raw} B, heap held {held} B, ratio {ratio:.3}");
    // The target is 1.15x in RSS; the heap alone measures about 1.06x.
    assert!(ratio < 1.10, "ratio {ratio:.3}");
    assert_eq!(memory.conversation_count().await.unwrap(), USERS as u64);
}
