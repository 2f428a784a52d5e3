//! What duet does with images and files people attach: `[Default] VISION`
//! and `VISION_MODELS` (whether the chat model is sent images; declared
//! here, listed in `[Default]`), and the `[Attachments]` section (download
//! size and time limits, how many images, how long an image is
//! remembered, how much text a file may add).

use std::time::Duration;

use super::parse::to_usize;
use super::reader::Reader;
use super::spec::SectionSpec;
use super::spec::{KeySpec, Kind, ReloadClass, names};

const S: &str = "Attachments";
const MIB: u64 = 1 << 20;

/// `[Default] VISION`: whether images go to the chat model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vision {
    /// On for OpenAI's vision families and the models in `VISION_MODELS`.
    Auto,
    On,
    Off,
}

impl Vision {
    const CHOICES: [(&'static str, Self); 3] =
        [("auto", Self::Auto), ("on", Self::On), ("off", Self::Off)];
    const NAMES: [&'static str; 3] = names(&Self::CHOICES);
}

pub const VISION: KeySpec = KeySpec::new(
    "Default",
    "VISION",
    "auto",
    Kind::Choice(&Vision::NAMES),
    "Send attached images to the chat model: on, off, or auto (on for gpt-4o, gpt-4.1, gpt-5 and the VISION_MODELS).",
);
pub const VISION_MODELS: KeySpec = KeySpec::new(
    "Default",
    "VISION_MODELS",
    "",
    Kind::List,
    "More models that take images when VISION = auto (e.g. llava, qwen2.5vl), comma-separated.",
);

pub const MAX_ATTACHMENT_BYTES: KeySpec = KeySpec::new(
    S,
    "MAX_ATTACHMENT_BYTES",
    "8388608",
    Kind::Uint {
        min: 1024,
        max: 100 * MIB,
    },
    "Largest attachment duet downloads, in bytes (8388608 = 8 MiB); larger ones are refused with a note.",
);
pub const MAX_IMAGES_PER_MESSAGE: KeySpec = KeySpec::new(
    S,
    "MAX_IMAGES_PER_MESSAGE",
    "4",
    Kind::Uint { min: 0, max: 20 },
    "Images used from one message (with the message it replies to); 0 = images are left out with a note.",
);
pub const IMAGE_MEMORY_TURNS: KeySpec = KeySpec::new(
    S,
    "IMAGE_MEMORY_TURNS",
    "3",
    Kind::Uint { min: 0, max: 100 },
    "Follow-up turns that still see an image (re-sent from RAM); later ones see only its [image: name] marker.",
);
pub const IMAGE_CACHE_BYTES: KeySpec = KeySpec::new(
    S,
    "IMAGE_CACHE_BYTES",
    "67108864",
    Kind::Uint {
        min: 0,
        max: 16 * 1024 * MIB,
    },
    "RAM for remembered images, in bytes (67108864 = 64 MiB); the least recently used go first; 0 = none kept.",
)
.reload(ReloadClass::Restart);
pub const MAX_TEXT_ATTACHMENT_CHARS: KeySpec = KeySpec::new(
    S,
    "MAX_TEXT_ATTACHMENT_CHARS",
    "100000",
    Kind::Uint {
        min: 0,
        max: 10_000_000,
    },
    "Most characters a text file (txt, md, log, csv, json, source code…) adds to a message; longer files are refused.",
);
pub const ATTACHMENT_TIMEOUT: KeySpec = KeySpec::new(
    S,
    "ATTACHMENT_TIMEOUT",
    "20",
    Kind::Duration {
        min: Duration::from_millis(1),
        max: Duration::from_secs(3600),
    },
    "Time allowed to download one attachment.",
);

pub const SECTION: SectionSpec = SectionSpec {
    name: S,
    doc: "Images and text files people attach (downloaded only from Discord's CDN and the origin of API_BASE_URL).",
    keys: &[
        MAX_ATTACHMENT_BYTES,
        MAX_IMAGES_PER_MESSAGE,
        IMAGE_MEMORY_TURNS,
        IMAGE_CACHE_BYTES,
        MAX_TEXT_ATTACHMENT_CHARS,
        ATTACHMENT_TIMEOUT,
    ],
};

/// `[Default] VISION`, `VISION_MODELS` and `[Attachments]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentsConfig {
    pub vision: Vision,
    /// Lowercased model names.
    pub vision_models: Vec<String>,
    pub max_attachment_bytes: u64,
    pub max_images_per_message: usize,
    pub image_memory_turns: usize,
    pub image_cache_bytes: u64,
    pub max_text_attachment_chars: usize,
    pub attachment_timeout: Duration,
}

impl AttachmentsConfig {
    pub(super) fn read(r: &mut Reader) -> Self {
        Self {
            vision: r.choice(&VISION, &Vision::CHOICES),
            vision_models: r
                .list(&VISION_MODELS)
                .iter()
                .map(|m| m.trim().to_ascii_lowercase())
                .filter(|m| !m.is_empty())
                .collect(),
            max_attachment_bytes: r.uint(&MAX_ATTACHMENT_BYTES),
            max_images_per_message: to_usize(r.uint(&MAX_IMAGES_PER_MESSAGE)),
            image_memory_turns: to_usize(r.uint(&IMAGE_MEMORY_TURNS)),
            image_cache_bytes: r.uint(&IMAGE_CACHE_BYTES),
            max_text_attachment_chars: to_usize(r.uint(&MAX_TEXT_ATTACHMENT_CHARS)),
            attachment_timeout: r.duration(&ATTACHMENT_TIMEOUT),
        }
    }

    /// Whether `model` (the chat model, `GPT_MODEL`) is sent images.
    pub fn vision_for(&self, model: &str) -> bool {
        match self.vision {
            Vision::On => true,
            Vision::Off => false,
            Vision::Auto => {
                let model = model.trim().to_ascii_lowercase();
                if self.vision_models.contains(&model) {
                    return true;
                }
                let bare = model.strip_prefix("openai/").unwrap_or(&model);
                ["gpt-4o", "gpt-4.1", "gpt-5"]
                    .iter()
                    .any(|family| bare.starts_with(family))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vision: Vision, models: &[&str]) -> AttachmentsConfig {
        AttachmentsConfig {
            vision,
            vision_models: models.iter().map(|m| m.to_string()).collect(),
            max_attachment_bytes: 8 * MIB,
            max_images_per_message: 4,
            image_memory_turns: 3,
            image_cache_bytes: 64 * MIB,
            max_text_attachment_chars: 100_000,
            attachment_timeout: Duration::from_secs(20),
        }
    }

    #[test]
    fn auto_vision_covers_openais_vision_families_and_the_listed_models() {
        let auto = config(Vision::Auto, &["llava"]);
        for model in [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1-nano",
            "gpt-5-mini",
            "gpt-5.2",
            "openai/gpt-4o",
            "LLaVA",
        ] {
            assert!(auto.vision_for(model), "{model}");
        }
        for model in ["gpt-3.5-turbo", "llama3.2", "o3-mini", "mock-gpt", ""] {
            assert!(!auto.vision_for(model), "{model}");
        }
    }

    #[test]
    fn on_and_off_ignore_the_model() {
        assert!(config(Vision::On, &[]).vision_for("llama3.2"));
        assert!(!config(Vision::Off, &[]).vision_for("gpt-4o"));
    }
}
