//! Plain types every provider speaks: messages in, a [`Completion`] out.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The two upstream providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    OpenAi,
    Perplexity,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 2] = [ProviderKind::OpenAi, ProviderKind::Perplexity];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Perplexity => "perplexity",
        }
    }

    pub fn other(self) -> ProviderKind {
        match self {
            ProviderKind::OpenAi => ProviderKind::Perplexity,
            ProviderKind::Perplexity => ProviderKind::OpenAi,
        }
    }

    pub fn parse(name: &str) -> Option<ProviderKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(ProviderKind::OpenAi),
            "perplexity" => Some(ProviderKind::Perplexity),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Images sent with a user message (chat wire formats only; never stored).
    #[serde(skip)]
    pub images: Vec<ImageInput>,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            images: Vec::new(),
        }
    }
}

/// An image sent inline with a user message, as a `data:` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageInput {
    /// `image/png`, `image/jpeg`, `image/webp` or `image/gif`, sniffed from the bytes.
    pub media_type: &'static str,
    pub bytes: bytes::Bytes,
}

impl ImageInput {
    /// `data:image/png;base64,…`
    pub fn data_url(&self) -> String {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.bytes);
        format!("data:{};base64,{encoded}", self.media_type)
    }
}

/// Never the bytes: a debug print of a request must stay readable.
impl fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ImageInput({}, {} bytes)",
            self.media_type,
            self.bytes.len()
        )
    }
}

/// A web source; the `n`-th source (1-based) matches the `[n]` marker in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// Token usage as reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// A provider's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    /// `sources[n - 1]` is the source of marker `[n]`.
    pub sources: Vec<Source>,
    /// The model that actually answered.
    pub model: String,
    pub usage: Option<Usage>,
    pub provider: ProviderKind,
    /// The chat model called the `search_web` tool with this query instead
    /// of answering (only when the request offered the tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_query: Option<String>,
}

/// What to ask a provider: the whole prompt, system message first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRequest {
    pub messages: Vec<ChatMessage>,
    /// A stable, hashed id of the end user (`safety_identifier`), if any.
    pub user_hash: Option<String>,
    /// Offer the chat model the `search_web(query)` function tool (OpenAI
    /// chat completions only; other wire formats ignore it).
    pub web_tool: bool,
    /// The chat model to ask instead of `GPT_MODEL` (a server's or user's
    /// choice among `CHAT_MODELS`); OpenAI wire formats only, others ignore it.
    pub chat_model: Option<String>,
}
