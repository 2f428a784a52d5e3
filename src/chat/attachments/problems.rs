//! Why an attachment was left out, and the one line that tells the user.
//! The rest of the message is still answered; the lines follow the answer.

use std::fmt;

/// One attachment that was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The attachment's file name as the user gave it.
    pub name: String,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Larger than `MAX_ATTACHMENT_BYTES`.
    TooLarge { limit_bytes: u64 },
    /// Neither a supported image nor a text file.
    Unsupported,
    /// Said to be an image, but its bytes are not one duet can send.
    Corrupt,
    /// An animated GIF (models take still images only).
    Animated,
    /// The download failed (an error status, a dropped connection).
    DownloadFailed,
    /// The download took longer than `ATTACHMENT_TIMEOUT`.
    Timeout,
    /// Its URL (or a redirect) points outside Discord's hosts.
    NotAllowed,
    /// More images than `MAX_IMAGES_PER_MESSAGE`; the first ones were used.
    TooManyImages { limit: usize },
    /// A text file that is neither UTF-8 nor UTF-16 with a byte-order mark.
    NotText,
    /// A text file longer than `MAX_TEXT_ATTACHMENT_CHARS`.
    TooLong { limit_chars: usize },
}

impl Problem {
    pub fn new(name: impl Into<String>, kind: ProblemKind) -> Self {
        Self {
            name: name.into(),
            kind,
        }
    }

    /// The `outcome` label of the attachments metric.
    pub fn label(&self) -> &'static str {
        match self.kind {
            ProblemKind::TooLarge { .. } => "too_large",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Animated => "animated",
            ProblemKind::DownloadFailed => "download_failed",
            ProblemKind::Timeout => "timeout",
            ProblemKind::NotAllowed => "not_allowed",
            ProblemKind::TooManyImages { .. } => "too_many_images",
            ProblemKind::NotText => "not_text",
            ProblemKind::TooLong { .. } => "too_long",
        }
    }

    /// The line shown to the user, e.g. "📎 cat.png is larger than 8 MiB, so I left it out."
    pub fn user_line(&self) -> String {
        let name = shown_name(&self.name);
        match self.kind {
            ProblemKind::TooLarge { limit_bytes } => format!(
                "📎 {name} is larger than {}, so I left it out.",
                Size(limit_bytes)
            ),
            ProblemKind::Unsupported => format!(
                "📎 I can't read {name}: I take PNG, JPEG, WebP and GIF images and text files."
            ),
            ProblemKind::Corrupt => {
                format!("📎 {name} looks damaged, so I left it out — try saving it again.")
            }
            ProblemKind::Animated => {
                format!("📎 {name} is an animated GIF — please send a still image instead.")
            }
            ProblemKind::DownloadFailed => {
                format!("📎 I couldn't download {name} — please try sending it again.")
            }
            ProblemKind::Timeout => {
                format!("📎 Downloading {name} took too long — please try sending it again.")
            }
            ProblemKind::NotAllowed => {
                format!("📎 I only open files stored on Discord, so I skipped {name}.")
            }
            ProblemKind::TooManyImages { limit: 0 } => {
                "📎 Images are turned off here, so I left them out.".to_string()
            }
            ProblemKind::TooManyImages { limit } => {
                format!("📎 I looked at the first {limit} images only.")
            }
            ProblemKind::NotText => {
                format!("📎 {name} isn't UTF-8 or UTF-16 text, so I left it out.")
            }
            ProblemKind::TooLong { limit_chars } => {
                format!("📎 {name} is longer than {limit_chars} characters, so I left it out.")
            }
        }
    }
}

/// A file name as shown in a line: no markup or line breaks, at most 60 characters.
pub fn shown_name(name: &str) -> String {
    const MOST_CHARS: usize = 60;
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '`' | '*' | '_' | '~' | '|' | '<' | '>' | '@'))
        .collect();
    let clean = clean.trim();
    if clean.is_empty() {
        return "a file".to_string();
    }
    if clean.chars().count() <= MOST_CHARS {
        return clean.to_string();
    }
    let cut: String = clean.chars().take(MOST_CHARS - 1).collect();
    format!("{cut}…")
}

/// Bytes as the user reads them: "8 MiB", "512 KiB".
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        if self.0 >= MIB && self.0.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.0 / MIB)
        } else if self.0 >= MIB {
            write!(f, "{:.1} MiB", self.0 as f64 / MIB as f64)
        } else {
            write!(f, "{} KiB", self.0.div_ceil(1024))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALL: [ProblemKind; 11] = [
        ProblemKind::TooLarge {
            limit_bytes: 8 << 20,
        },
        ProblemKind::Unsupported,
        ProblemKind::Corrupt,
        ProblemKind::Animated,
        ProblemKind::DownloadFailed,
        ProblemKind::Timeout,
        ProblemKind::NotAllowed,
        ProblemKind::TooManyImages { limit: 4 },
        ProblemKind::TooManyImages { limit: 0 },
        ProblemKind::NotText,
        ProblemKind::TooLong {
            limit_chars: 100_000,
        },
    ];

    #[test]
    fn each_line_is_short_has_one_emoji_and_names_the_file() {
        for kind in ALL {
            let line = Problem::new("cat.png", kind).user_line();
            assert!(line.chars().count() <= 120, "{line}");
            let emoji = line.chars().filter(|c| *c as u32 >= 0x1F000).count();
            assert_eq!(emoji, 1, "{line}");
            if !matches!(kind, ProblemKind::TooManyImages { .. }) {
                assert!(line.contains("cat.png"), "{line}");
            }
        }
    }

    #[test]
    fn sizes_read_naturally() {
        let line =
            |limit_bytes| Problem::new("a.png", ProblemKind::TooLarge { limit_bytes }).user_line();
        assert_eq!(
            line(8 << 20),
            "📎 a.png is larger than 8 MiB, so I left it out."
        );
        assert!(line(1536 << 10).contains("1.5 MiB"));
        assert!(line(2048).contains("2 KiB"));
    }

    #[test]
    fn names_lose_markup_and_long_ones_are_cut() {
        assert_eq!(shown_name("**evil**`\n@everyone.png"), "evileveryone.png");
        assert_eq!(shown_name(""), "a file");
        assert_eq!(shown_name(&"é".repeat(100)).chars().count(), 60);
    }

    proptest! {
        #[test]
        fn any_name_gives_a_short_single_line(name in any::<String>()) {
            let line = Problem::new(name, ProblemKind::Corrupt).user_line();
            prop_assert!(!line.contains('\n'));
            prop_assert!(line.chars().count() <= 140);
        }
    }
}
