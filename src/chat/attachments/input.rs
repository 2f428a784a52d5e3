//! What a frontend hands the pipeline besides the text: images as bytes
//! (format already sniffed), text files already decoded, the message the
//! user replied to or forwarded, and the attachments it could not use.

use super::problems::Problem;
use crate::providers::ImageInput;

/// Everything that came with one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachments {
    /// Images, those of the quoted message included, at most `MAX_IMAGES_PER_MESSAGE`.
    pub images: Vec<ImageAttachment>,
    /// Text files, those of the quoted message included.
    pub files: Vec<TextAttachment>,
    /// The message replied to (someone else's) or forwarded.
    pub quoted: Option<Quoted>,
    /// Attachments left out, each told to the user in one line.
    pub problems: Vec<Problem>,
}

impl Attachments {
    /// True when there is something to answer besides the text.
    pub fn has_content(&self) -> bool {
        !self.images.is_empty()
            || !self.files.is_empty()
            || self
                .quoted
                .as_ref()
                .is_some_and(|q| !q.text.trim().is_empty())
    }
}

/// An image to show the chat model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAttachment {
    /// The file name the user gave it (shown in the `[image: name]` marker).
    pub name: String,
    pub image: ImageInput,
}

/// A text file, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextAttachment {
    pub name: String,
    pub text: String,
}

/// The message a user replied to or forwarded, shown as `> alice: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    /// Who wrote it; `None` for a forward (Discord does not say).
    pub author: Option<String>,
    pub text: String,
}
