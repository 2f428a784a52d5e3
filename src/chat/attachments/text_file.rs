//! Which attachments are text, and their text: by media type (`text/*`,
//! JSON, YAML, TOML, XML, scripts) or by extension (txt, md, log, csv,
//! json, yaml, toml and common source files). UTF-8 (a BOM is dropped) and
//! UTF-16 with a byte-order mark are read; anything else is refused, and so
//! is text with NUL characters (a binary file with a text name).

use super::input::TextAttachment;
use super::problems::ProblemKind;

/// Extensions read as text (lowercase, without the dot).
const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "text",
    "md",
    "markdown",
    "rst",
    "log",
    "csv",
    "tsv",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "rs",
    "py",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "java",
    "kt",
    "kts",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "cs",
    "rb",
    "php",
    "swift",
    "scala",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "sql",
    "lua",
    "pl",
    "r",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "vue",
    "svelte",
    "gradle",
    "properties",
    "diff",
    "patch",
    "srt",
    "vtt",
    "tex",
    "proto",
    "graphql",
    "dockerfile",
    "makefile",
    "gitignore",
    "lock",
];

/// Media types read as text besides `text/*`.
const TEXT_MEDIA_TYPES: &[&str] = &[
    "application/json",
    "application/x-ndjson",
    "application/xml",
    "application/yaml",
    "application/x-yaml",
    "application/toml",
    "application/javascript",
    "application/x-javascript",
    "application/typescript",
    "application/x-sh",
    "application/x-shellscript",
    "application/sql",
    "application/x-python",
];

/// Whether an attachment called `name` with media type `media_type` (as
/// the sender says) is a text file.
pub fn is_text_file(name: &str, media_type: Option<&str>) -> bool {
    if let Some(media_type) = media_type {
        let essence = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence.starts_with("text/") || TEXT_MEDIA_TYPES.contains(&essence.as_str()) {
            return true;
        }
    }
    let lower = name.to_ascii_lowercase();
    let extension = lower
        .rsplit_once('.')
        .map_or(lower.as_str(), |(_, ext)| ext);
    TEXT_EXTENSIONS.contains(&extension)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not UTF-8 or UTF-16 text")]
pub struct NotText;

/// The text of `bytes`: UTF-8 (with or without a BOM), or UTF-16 LE/BE
/// after its byte-order mark.
pub fn decode_text(bytes: &[u8]) -> Result<String, NotText> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        std::str::from_utf8(rest).map_err(|_| NotText)?.to_string()
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, u16::from_be_bytes)?
    } else {
        std::str::from_utf8(bytes).map_err(|_| NotText)?.to_string()
    };
    if text.contains('\0') {
        return Err(NotText);
    }
    Ok(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, NotText> {
    if !bytes.len().is_multiple_of(2) {
        return Err(NotText);
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| NotText)
}

/// Decodes `bytes` as the text file `name`, at most `max_chars` characters.
pub fn text_attachment(
    name: &str,
    bytes: &[u8],
    max_chars: usize,
) -> Result<TextAttachment, ProblemKind> {
    let text = decode_text(bytes).map_err(|NotText| ProblemKind::NotText)?;
    if text.chars().count() > max_chars {
        return Err(ProblemKind::TooLong {
            limit_chars: max_chars,
        });
    }
    Ok(TextAttachment {
        name: name.to_string(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    fn utf16be(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        bytes
    }

    #[test]
    fn text_files_are_known_by_media_type_or_extension() {
        assert!(is_text_file("notes", Some("text/plain; charset=utf-8")));
        assert!(is_text_file("data.bin", Some("application/json")));
        assert!(is_text_file("main.RS", None));
        assert!(is_text_file("server.log", Some("application/octet-stream")));
        assert!(!is_text_file("cat.png", Some("image/png")));
        assert!(!is_text_file("archive.zip", None));
        assert!(!is_text_file("", None));
    }

    #[test]
    fn utf8_utf16_and_boms_are_decoded() {
        assert_eq!(decode_text("héllo".as_bytes()).as_deref(), Ok("héllo"));
        assert_eq!(decode_text(b"\xEF\xBB\xBFbom").as_deref(), Ok("bom"));
        assert_eq!(decode_text(&utf16le("héllo 🦀")).as_deref(), Ok("héllo 🦀"));
        assert_eq!(decode_text(&utf16be("héllo 🦀")).as_deref(), Ok("héllo 🦀"));
    }

    #[test]
    fn other_encodings_and_binary_are_refused() {
        assert_eq!(decode_text(b"caf\xE9"), Err(NotText)); // Latin-1
        assert_eq!(decode_text(b"\x7fELF\0\0"), Err(NotText));
        assert_eq!(decode_text(&[0xFF, 0xFE, 0x41]), Err(NotText)); // odd length
        assert_eq!(decode_text(&[0xFF, 0xFE, 0x00, 0xD8]), Err(NotText)); // lone surrogate
    }

    #[test]
    fn a_file_past_the_limit_is_refused_with_the_limit() {
        assert_eq!(
            text_attachment("a.txt", "ééé".as_bytes(), 3).map(|t| t.text),
            Ok("ééé".to_string())
        );
        assert_eq!(
            text_attachment("a.txt", b"abcd", 3),
            Err(ProblemKind::TooLong { limit_chars: 3 })
        );
        assert_eq!(
            text_attachment("a.txt", b"\xFF\xFF", 3),
            Err(ProblemKind::NotText)
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_text(&bytes);
        }

        #[test]
        fn any_text_survives_utf16_in_both_byte_orders(text in "[^\u{0}]*") {
            prop_assert_eq!(decode_text(&utf16le(&text)), Ok(text.clone()));
            prop_assert_eq!(decode_text(&utf16be(&text)), Ok(text));
        }

        #[test]
        fn any_name_and_media_type_are_classified_without_panicking(name in any::<String>(), media in proptest::option::of(any::<String>())) {
            let _ = is_text_file(&name, media.as_deref());
        }
    }
}
