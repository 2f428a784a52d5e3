//! Which images a prompt carries: the message's own, and those of the
//! turns within `IMAGE_MEMORY_TURNS` that the cache still holds, each on
//! the user message of its turn. Older turns keep only their marker.

use super::compose::has_image_marker;
use super::image_cache::{ImageCache, turn_key};
use crate::chat::types::{ConversationKey, Turn};
use crate::providers::{ChatMessage, ImageInput, Role};

/// Tokens set aside per image when the prompt is fitted to its budget (a
/// high-detail image of about 1024×1024 costs some 765 tokens at OpenAI).
pub const IMAGE_TOKENS: usize = 800;

/// What an image turn within the window costs at most, for the budget.
pub fn reserved_tokens(history: &[Turn], memory_turns: usize, current_images: usize) -> usize {
    let recent = &history[history.len().saturating_sub(memory_turns)..];
    let remembered = recent
        .iter()
        .filter(|turn| has_image_marker(&turn.question))
        .count();
    (remembered + current_images) * IMAGE_TOKENS
}

/// Puts images on the user messages of `prompt` (system, (user,
/// assistant)*, user, as `build_prompt` makes it from the newest turns of
/// `history`): `current` on the question, cached ones on turns within
/// `memory_turns` of the end.
pub fn attach_images(
    prompt: &mut [ChatMessage],
    history: &[Turn],
    conversation: &ConversationKey,
    cache: &ImageCache,
    memory_turns: usize,
    current: Vec<ImageInput>,
) {
    let Some(question) = prompt.last_mut() else {
        return;
    };
    if question.role == Role::User {
        question.images = current;
    }
    let kept = prompt.len().saturating_sub(2) / 2;
    let first_kept = history.len().saturating_sub(kept);
    let first_remembered = history.len().saturating_sub(memory_turns);
    for (index, turn) in history
        .iter()
        .enumerate()
        .skip(first_kept.max(first_remembered))
    {
        if !has_image_marker(&turn.question) {
            continue;
        }
        let Some(images) = cache.get(turn_key(conversation, turn)) else {
            continue;
        };
        let position = 1 + 2 * (index - first_kept);
        if let Some(message) = prompt.get_mut(position)
            && message.role == Role::User
        {
            message.images = images;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::prompt::build_prompt;
    use crate::config::MemoryScope;
    use crate::providers::ProviderKind;

    fn turn(i: i64, question: &str) -> Turn {
        Turn {
            user_id: "u".into(),
            question: question.into(),
            answer: format!("answer {i}"),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            at: i,
        }
    }

    fn image(byte: u8) -> Vec<ImageInput> {
        vec![ImageInput {
            media_type: "image/png",
            bytes: bytes::Bytes::from(vec![byte; 4]),
        }]
    }

    #[test]
    fn remembered_images_return_to_their_own_turn_within_the_window_only() {
        let key = ConversationKey::new(MemoryScope::UserChannel, "u", "c");
        let cache = ImageCache::new(1 << 20);
        let history = vec![
            turn(1, "old [image: a.png]"),
            turn(2, "plain"),
            turn(3, "recent [image: b.png]"),
            turn(4, "follow-up"),
        ];
        cache.insert(turn_key(&key, &history[0]), image(1));
        cache.insert(turn_key(&key, &history[2]), image(3));
        let mut prompt = build_prompt("sys", &history, "and now?", 100_000);
        attach_images(&mut prompt, &history, &key, &cache, 3, image(9));

        let with_images: Vec<(&str, u8)> = prompt
            .iter()
            .filter(|m| !m.images.is_empty())
            .map(|m| (m.content.as_str(), m.images[0].bytes[0]))
            .collect();
        assert_eq!(
            with_images,
            [("recent [image: b.png]", 3), ("and now?", 9)],
            "the turn 4 back is past a window of 3"
        );
        assert!(
            prompt
                .iter()
                .all(|m| m.role == Role::User || m.images.is_empty())
        );
    }

    #[test]
    fn a_window_of_zero_sends_only_the_messages_own_images() {
        let key = ConversationKey::new(MemoryScope::UserChannel, "u", "c");
        let cache = ImageCache::new(1 << 20);
        let history = vec![turn(1, "x [image: a.png]")];
        cache.insert(turn_key(&key, &history[0]), image(1));
        let mut prompt = build_prompt("sys", &history, "q", 100_000);
        attach_images(&mut prompt, &history, &key, &cache, 0, Vec::new());
        assert!(prompt.iter().all(|m| m.images.is_empty()));
        assert_eq!(reserved_tokens(&history, 0, 2), 2 * IMAGE_TOKENS);
        assert_eq!(reserved_tokens(&history, 3, 0), IMAGE_TOKENS);
    }
}
