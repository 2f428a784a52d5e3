//! The question as the model sees it and memory stores it: the quoted
//! message (`> alice: …`), the user's text, each text file as a fenced
//! block headed by its name, and an `[image: name]` marker per image (the
//! bytes themselves are never stored).

use super::input::{Attachments, Quoted};
use super::problems::shown_name;

/// What stands in an image's place in the stored question.
pub fn image_marker(name: &str) -> String {
    format!("[image: {}]", shown_name(name))
}

/// Whether a stored question had an image.
pub fn has_image_marker(question: &str) -> bool {
    question.contains("[image: ")
}

/// The question with everything that came with it, in reading order.
pub fn compose_question(text: &str, attachments: &Attachments) -> String {
    let mut blocks: Vec<String> = Vec::new();
    if let Some(quoted) = &attachments.quoted {
        blocks.push(quote(quoted));
    }
    if !text.trim().is_empty() {
        blocks.push(text.trim().to_string());
    }
    for file in &attachments.files {
        blocks.push(fenced(&file.name, &file.text));
    }
    if !attachments.images.is_empty() {
        let markers: Vec<String> = attachments
            .images
            .iter()
            .map(|image| image_marker(&image.name))
            .collect();
        blocks.push(markers.join(" "));
    }
    blocks.join("\n\n")
}

/// `> alice: first line` and `> ` before every further line.
fn quote(quoted: &Quoted) -> String {
    let author = quoted
        .author
        .as_deref()
        .map_or_else(|| "forwarded".to_string(), shown_name);
    let mut lines = quoted.text.trim().lines();
    let first = lines.next().unwrap_or_default();
    let mut out = format!("> {author}: {first}");
    for line in lines {
        out.push_str("\n> ");
        out.push_str(line);
    }
    out
}

/// `name:` then the text in a fence longer than any backtick run inside it,
/// tagged with the extension so the model knows the language.
pub fn fenced(name: &str, text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let name = shown_name(name);
    let language = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("");
    let body = text.strip_suffix('\n').unwrap_or(text);
    format!("{name}:\n{fence}{language}\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::chat::attachments::input::{ImageAttachment, TextAttachment};
    use crate::providers::ImageInput;

    fn image(name: &str) -> ImageAttachment {
        ImageAttachment {
            name: name.into(),
            image: ImageInput {
                media_type: "image/png",
                bytes: bytes::Bytes::from_static(b"x"),
            },
        }
    }

    #[test]
    fn the_question_reads_quote_text_files_then_markers() {
        let attachments = Attachments {
            images: vec![image("cat.png"), image("dog.jpg")],
            files: vec![TextAttachment {
                name: "main.rs".into(),
                text: "fn main() {}\n".into(),
            }],
            quoted: Some(Quoted {
                author: Some("alice".into()),
                text: "is this right?\nsecond line".into(),
            }),
            problems: Vec::new(),
        };
        assert_eq!(
            compose_question("  what do you think? ", &attachments),
            "> alice: is this right?\n> second line\n\nwhat do you think?\n\n\
             main.rs:\n```rs\nfn main() {}\n```\n\n[image: cat.png] [image: dog.jpg]"
        );
    }

    #[test]
    fn plain_text_stays_as_it_is_and_a_forward_has_no_author() {
        assert_eq!(compose_question("hi", &Attachments::default()), "hi");
        let forward = Attachments {
            quoted: Some(Quoted {
                author: None,
                text: "news".into(),
            }),
            ..Attachments::default()
        };
        assert_eq!(compose_question("", &forward), "> forwarded: news");
    }

    #[test]
    fn a_fence_is_longer_than_any_backticks_inside() {
        let block = fenced("README.md", "```sh\nls\n```");
        assert!(block.starts_with("README.md:\n````md\n"), "{block}");
        assert!(block.ends_with("\n````"), "{block}");
    }

    #[test]
    fn markers_are_found_again() {
        assert!(has_image_marker(&compose_question(
            "x",
            &Attachments {
                images: vec![image("a.png")],
                ..Attachments::default()
            }
        )));
        assert!(!has_image_marker("just text"));
    }

    proptest! {
        #[test]
        fn any_file_text_stays_inside_its_fence(text in any::<String>(), name in any::<String>()) {
            let block = fenced(&name, &text);
            let open = block.lines().nth(1).unwrap_or_default();
            let fence: String = open.chars().take_while(|c| *c == '`').collect();
            prop_assert!(fence.len() >= 3);
            let closing = format!("\n{}", fence);
            prop_assert!(block.ends_with(&closing));
            prop_assert!(!text.contains(fence.as_str()));
        }
    }
}
