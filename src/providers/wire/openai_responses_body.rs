//! The Responses API's `Response` object, read whole (a JSON answer) or
//! from a stream's terminal event, and its usage.

use serde::Deserialize;
use serde_json::Value;
use tracing::warn;

use super::url_citations::Citations;
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::{ProviderKind, Usage};

pub(super) const PROVIDER: ProviderKind = ProviderKind::OpenAi;

/// A `Response` object, whole or in a stream's terminal event.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseBody {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    status: Option<String>,
    // Items are read one by one so an unknown item type cannot fail the answer.
    #[serde(default)]
    output: Option<Vec<Value>>,
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    incomplete_details: Option<Value>,
}

impl ResponseBody {
    /// The text of every `output_text` (or `refusal`) part of every
    /// `message` item, with citation markers from their annotations.
    pub fn text(&self, citations: &mut Citations) -> String {
        let mut text = String::new();
        for item in self.output.iter().flatten() {
            if item["type"] != "message" {
                continue;
            }
            for part in item["content"].as_array().into_iter().flatten() {
                match part["type"].as_str() {
                    Some("output_text") => {
                        let raw = part["text"].as_str().unwrap_or_default();
                        text.push_str(&citations.mark(raw, &part["annotations"]));
                    }
                    Some("refusal") => text.push_str(part["refusal"].as_str().unwrap_or_default()),
                    _ => {}
                }
            }
        }
        text
    }

    /// Fails unless the run completed (or stopped early with some text).
    pub fn check(&self, text: &str, redactor: &Redactor) -> Result<(), ProviderError> {
        match self.status.as_deref().unwrap_or("completed") {
            "completed" => Ok(()),
            "incomplete" if !text.is_empty() => {
                let reason = self.incomplete_details.as_ref().map(|d| d["reason"].clone());
                warn!(provider = %PROVIDER, reason = ?reason, "the answer stopped early (status incomplete)");
                Ok(())
            }
            "incomplete" => Err(ProviderError::Malformed {
                provider: PROVIDER,
                detail: "the model returned no text (status incomplete; the OUTPUT_TOKENS budget may have gone to reasoning)".into(),
            }),
            status => Err(run_failed(status, self.error.as_ref(), redactor)),
        }
    }
}

/// A failed run or an `error` event, with the provider's message redacted.
pub(super) fn run_failed(
    status: &str,
    error: Option<&Value>,
    redactor: &Redactor,
) -> ProviderError {
    let message = error
        .filter(|e| !e.is_null())
        .map(|e| {
            e["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string())
        })
        .unwrap_or_else(|| "no error detail".into());
    ProviderError::RunFailed {
        provider: PROVIDER,
        status: status.to_string(),
        message: redactor.clean(&message),
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) struct ResponseUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl From<ResponseUsage> for Usage {
    fn from(usage: ResponseUsage) -> Self {
        Usage {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
        }
    }
}
