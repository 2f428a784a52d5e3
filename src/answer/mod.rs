//! What a model's answer text is made of, for every frontend: Markdown code
//! regions (so rewriting never touches code) and the reasoning traces some
//! models put before their answer. Discord's rendering (`discord::render`)
//! and the terminal's (`cli::plain`) both build on it.

pub mod markdown;
pub mod reasoning;

pub use reasoning::strip_reasoning;
