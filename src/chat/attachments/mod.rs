//! Images and text files that come with a message, frontend-neutral: the
//! frontend downloads the bytes and hands them in through
//! [`input::Attachments`]; this module checks them, writes them into the
//! question, remembers images for a few turns and puts them into the prompt.
//!
//! - `input.rs`: what a frontend hands in (images, text files, the quoted
//!   message, problems found on the way);
//! - `problems.rs`: what went wrong with an attachment, as one line for the user;
//! - `sniff.rs`: an image's format from its first bytes (animated GIFs refused);
//! - `text_file.rs`: which files are text, and their UTF-8 / UTF-16 decoding;
//! - `compose.rs`: the question as stored: quote, text, fenced files, image markers;
//! - `image_cache.rs`: recent images in RAM, least recently used out first;
//! - `prompt_images.rs`: which images go into a prompt, and where;
//! - `steer.rs`: images go to the chat model; the notes after the answer.

pub mod compose;
pub mod image_cache;
pub mod input;
pub mod problems;
pub mod prompt_images;
pub mod sniff;
pub mod steer;
pub mod text_file;
