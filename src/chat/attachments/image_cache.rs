//! Recent images in RAM, so follow-ups within `IMAGE_MEMORY_TURNS` can
//! show them to the model again: memory stores only the `[image: name]`
//! marker. Bounded by a byte budget (`IMAGE_CACHE_BYTES`); when it is
//! full the least recently used turn's images go first. One process's
//! cache: a follow-up served by another process sees the marker only.
//!
//! An entry is a turn's images, keyed by a hash of the conversation and
//! the stored turn (user, question, time), so a turn that memory trimmed
//! or a conversation that was reset simply never asks for it again.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use crate::chat::types::{ConversationKey, Turn};
use crate::metric_names as names;
use crate::providers::ImageInput;

/// Identifies one stored turn's images.
pub type TurnImagesKey = u64;

/// The key of `turn`'s images in conversation `key`.
pub fn turn_key(key: &ConversationKey, turn: &Turn) -> TurnImagesKey {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (key.as_str(), &turn.user_id, &turn.question, turn.at).hash(&mut hasher);
    hasher.finish()
}

/// A least-recently-used cache of images with a byte budget.
pub struct ImageCache {
    budget: u64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<TurnImagesKey, Entry>,
    /// Last use → key; the first is the least recently used.
    by_use: BTreeMap<u64, TurnImagesKey>,
    clock: u64,
    bytes: u64,
}

struct Entry {
    images: Vec<ImageInput>,
    bytes: u64,
    used: u64,
}

impl ImageCache {
    /// A cache holding at most `budget` bytes of images (0 keeps nothing).
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `images` under `key`, evicting the least recently used
    /// entries to stay within the budget. Images larger than the whole
    /// budget are not kept.
    pub fn insert(&self, key: TurnImagesKey, images: Vec<ImageInput>) {
        let bytes: u64 = images.iter().map(|i| i.bytes.len() as u64).sum();
        if images.is_empty() || bytes > self.budget {
            return;
        }
        let mut inner = self.lock();
        inner.remove(key);
        while inner.bytes + bytes > self.budget {
            let Some((_, oldest)) = inner.by_use.pop_first() else {
                break;
            };
            inner.remove(oldest);
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.by_use.insert(used, key);
        inner.bytes += bytes;
        inner.entries.insert(
            key,
            Entry {
                images,
                bytes,
                used,
            },
        );
        metrics::gauge!(names::IMAGE_CACHE_BYTES).set(inner.bytes as f64);
    }

    /// The images under `key`, marking them as just used.
    pub fn get(&self, key: TurnImagesKey) -> Option<Vec<ImageInput>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(&key)?;
        let previous = std::mem::replace(&mut entry.used, now);
        let images = entry.images.clone();
        inner.by_use.remove(&previous);
        inner.by_use.insert(now, key);
        Some(images)
    }

    /// Bytes of images held now.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// Turns whose images are held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Inner {
    fn remove(&mut self, key: TurnImagesKey) {
        if let Some(entry) = self.entries.remove(&key) {
            self.by_use.remove(&entry.used);
            self.bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn images(bytes: usize) -> Vec<ImageInput> {
        vec![ImageInput {
            media_type: "image/png",
            bytes: bytes::Bytes::from(vec![0u8; bytes]),
        }]
    }

    #[test]
    fn the_least_recently_used_images_go_first() {
        let cache = ImageCache::new(300);
        cache.insert(1, images(100));
        cache.insert(2, images(100));
        cache.insert(3, images(100));
        assert!(cache.get(1).is_some(), "1 is now the most recent");
        cache.insert(4, images(100));
        assert!(cache.get(2).is_none(), "2 was the least recently used");
        assert!(cache.get(1).is_some() && cache.get(3).is_some() && cache.get(4).is_some());
        assert_eq!(cache.bytes(), 300);
    }

    #[test]
    fn images_larger_than_the_budget_are_not_kept_and_zero_keeps_nothing() {
        let cache = ImageCache::new(100);
        cache.insert(1, images(101));
        assert!(cache.is_empty());
        let none = ImageCache::new(0);
        none.insert(1, images(1));
        assert!(none.get(1).is_none());
    }

    #[test]
    fn inserting_a_key_again_replaces_it() {
        let cache = ImageCache::new(1000);
        cache.insert(1, images(100));
        cache.insert(1, images(200));
        assert_eq!((cache.len(), cache.bytes()), (1, 200));
    }

    proptest! {
        #[test]
        fn the_budget_always_holds(ops in proptest::collection::vec((0u64..20, 0usize..400, any::<bool>()), 0..200)) {
            let cache = ImageCache::new(1000);
            for (key, size, read) in ops {
                if read {
                    let _ = cache.get(key);
                } else {
                    cache.insert(key, images(size));
                }
                prop_assert!(cache.bytes() <= 1000);
                let inner = cache.lock();
                prop_assert_eq!(inner.entries.len(), inner.by_use.len());
                prop_assert_eq!(inner.bytes, inner.entries.values().map(|e| e.bytes).sum::<u64>());
            }
        }
    }
}
