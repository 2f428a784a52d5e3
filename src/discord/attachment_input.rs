//! What comes with a Discord message besides its text, made into the
//! pipeline's [`Attachments`]: its own attachments, and for a reply to
//! someone else's message (or a forward) that message's text and
//! attachments as quoted context. Images (png, jpeg, webp, gif) and text
//! files are downloaded through the [`Downloader`]; everything else, and
//! whatever fails, becomes a [`Problem`] the user is told about.
//!
//! A reply whose parent serenity did not include (`referenced_message` is
//! `None` for both "deleted" and "not sent") is fetched by its reference; a
//! deleted or unreadable parent is skipped silently. A reply to the bot's
//! own message continues the conversation and quotes nothing.

use std::collections::HashMap;

use futures::future::join_all;
use serenity::all::{Attachment, Context, Message, MessageReferenceKind, UserId};
use tracing::debug;

use super::download::Downloader;
use super::inbound::display_name;
use super::mentions::clean_content;
use crate::chat::attachments::input::{Attachments, ImageAttachment, Quoted, TextAttachment};
use crate::chat::attachments::problems::{Problem, ProblemKind};
use crate::chat::attachments::sniff::image_attachment;
use crate::chat::attachments::text_file::{is_text_file, text_attachment};
use crate::config::AttachmentsConfig;
use crate::metric_names as names;

/// What an attachment is, by what Discord says about it (the bytes are
/// sniffed again after the download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Image,
    Text,
    Unsupported,
}

/// An image by media type or, without one, by extension; then text; else unsupported.
pub fn declared(name: &str, media_type: Option<&str>) -> Declared {
    const IMAGE_TYPES: [&str; 5] = [
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/webp",
        "image/gif",
    ];
    const IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "webp", "gif"];
    let essence = media_type.map(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some(t) if IMAGE_TYPES.contains(&t) => return Declared::Image,
        Some(t) if t.starts_with("image/") => return Declared::Unsupported,
        _ => {}
    }
    if is_text_file(name, media_type) {
        return Declared::Text;
    }
    let lower = name.to_ascii_lowercase();
    let extension = lower.rsplit_once('.').map(|(_, ext)| ext);
    let untyped = matches!(essence.as_deref(), None | Some("application/octet-stream"));
    if untyped && extension.is_some_and(|ext| IMAGE_EXTENSIONS.contains(&ext)) {
        return Declared::Image;
    }
    Declared::Unsupported
}

/// Downloads and checks attachments under one configuration.
pub struct Gatherer<'a> {
    pub downloader: &'a Downloader,
    pub config: &'a AttachmentsConfig,
}

impl Gatherer<'_> {
    /// `own` (the message's attachments) then `quoted`'s, into one [`Attachments`].
    pub async fn gather(
        &self,
        own: &[Attachment],
        quoted: Option<(Quoted, Vec<Attachment>)>,
    ) -> Attachments {
        let (quoted, quoted_files) = match quoted {
            Some((quoted, files)) => (Some(quoted), files),
            None => (None, Vec::new()),
        };
        let mut out = Attachments {
            quoted,
            ..Attachments::default()
        };
        let all: Vec<&Attachment> = own.iter().chain(quoted_files.iter()).collect();
        let mut images_left = self.config.max_images_per_message;
        let mut wanted = Vec::new();
        for attachment in all {
            let kind = declared(&attachment.filename, attachment.content_type.as_deref());
            match kind {
                Declared::Unsupported => out.problems.push(Problem::new(
                    attachment.filename.clone(),
                    ProblemKind::Unsupported,
                )),
                Declared::Image if images_left == 0 => {
                    let limit = self.config.max_images_per_message;
                    let told = out
                        .problems
                        .iter()
                        .any(|p| matches!(p.kind, ProblemKind::TooManyImages { .. }));
                    if !told {
                        out.problems.push(Problem::new(
                            attachment.filename.clone(),
                            ProblemKind::TooManyImages { limit },
                        ));
                    }
                }
                Declared::Image | Declared::Text => {
                    if kind == Declared::Image {
                        images_left -= 1;
                    }
                    wanted.push((attachment, kind));
                }
            }
        }
        let fetched = join_all(wanted.iter().map(|(a, kind)| self.fetch_one(a, *kind))).await;
        for result in fetched {
            match result {
                Ok(Fetched::Image(image)) => out.images.push(image),
                Ok(Fetched::Text(file)) => out.files.push(file),
                Err(problem) => out.problems.push(problem),
            }
        }
        count(&out);
        out
    }

    async fn fetch_one(&self, attachment: &Attachment, kind: Declared) -> Result<Fetched, Problem> {
        let name = attachment.filename.clone();
        let limit = self.config.max_attachment_bytes;
        let problem = |kind| Problem::new(name.clone(), kind);
        if u64::from(attachment.size) > limit {
            return Err(problem(ProblemKind::TooLarge { limit_bytes: limit }));
        }
        let timeout = self.config.attachment_timeout;
        let bytes = match self.downloader.fetch(&attachment.url, limit, timeout).await {
            Ok(bytes) => bytes,
            Err(error) => {
                debug!(%error, "attachment not used");
                return Err(problem(error.problem(limit)));
            }
        };
        match kind {
            Declared::Image => image_attachment(&name, bytes)
                .map(Fetched::Image)
                .map_err(problem),
            _ => text_attachment(&name, &bytes, self.config.max_text_attachment_chars)
                .map(Fetched::Text)
                .map_err(problem),
        }
    }
}

/// Counts what became of each attachment.
fn count(attachments: &Attachments) {
    let outcome = |label: &'static str, n: usize| {
        metrics::counter!(names::ATTACHMENTS, "outcome" => label).increment(n as u64);
    };
    outcome("image", attachments.images.len());
    outcome("text", attachments.files.len());
    for problem in &attachments.problems {
        outcome(problem.label(), 1);
    }
}

enum Fetched {
    Image(ImageAttachment),
    Text(TextAttachment),
}

/// The message `msg` replies to (someone else's) or forwards, with its
/// attachments; `None` for a reply to the bot or when the parent is gone.
pub async fn reply_context(
    ctx: &Context,
    msg: &Message,
    bot: UserId,
) -> Option<(Quoted, Vec<Attachment>)> {
    let reference = msg.message_reference.as_ref()?;
    if reference.kind == MessageReferenceKind::Forward {
        let snapshot = msg.message_snapshots.first()?;
        let names = names_of(&snapshot.mentions);
        let quoted = Quoted {
            author: None,
            text: clean_content(&snapshot.content, bot.get(), &names),
        };
        return Some((quoted, snapshot.attachments.clone()));
    }
    let parent = match &msg.referenced_message {
        Some(parent) => parent.as_ref().clone(),
        None => {
            let id = reference.message_id?;
            match ctx.http.get_message(reference.channel_id, id).await {
                Ok(parent) => parent,
                Err(error) => {
                    // Deleted, or not readable by the bot: answer without it.
                    debug!(%error, "replied-to message not available");
                    return None;
                }
            }
        }
    };
    if parent.author.id == bot {
        return None;
    }
    let nick = parent.member.as_ref().and_then(|m| m.nick.clone());
    let quoted = Quoted {
        author: Some(display_name(&parent.author, nick)),
        text: clean_content(&parent.content, bot.get(), &names_of(&parent.mentions)),
    };
    Some((quoted, parent.attachments))
}

fn names_of(users: &[serenity::all::User]) -> HashMap<u64, String> {
    users
        .iter()
        .map(|user| {
            let nick = user.member.as_ref().and_then(|m| m.nick.clone());
            (user.id.get(), display_name(user, nick))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn images_are_known_by_media_type_or_extension_and_other_images_are_refused() {
        assert_eq!(declared("x", Some("image/png")), Declared::Image);
        assert_eq!(declared("cat.JPG", None), Declared::Image);
        assert_eq!(
            declared("cat.png", Some("application/octet-stream")),
            Declared::Image
        );
        assert_eq!(
            declared("photo.heic", Some("image/heic")),
            Declared::Unsupported
        );
        assert_eq!(
            declared("drawing.svg", Some("image/svg+xml")),
            Declared::Unsupported
        );
        assert_eq!(
            declared("clip.mp4", Some("video/mp4")),
            Declared::Unsupported
        );
        assert_eq!(
            declared("notes.txt", Some("text/plain; charset=utf-8")),
            Declared::Text
        );
        assert_eq!(declared("trace.log", None), Declared::Text);
        assert_eq!(
            declared("archive.zip", Some("application/zip")),
            Declared::Unsupported
        );
    }

    proptest! {
        #[test]
        fn any_name_and_media_type_are_classified_without_panicking(
            name in any::<String>(),
            media in proptest::option::of(any::<String>()),
        ) {
            let _ = declared(&name, media.as_deref());
        }
    }
}
