//! What the `[Default]` OpenAI keys must agree on: the reasoning effort the
//! model family accepts (API_NOTES 2.10; a best-effort table, since new ids
//! appear every few months), and the settings a local OpenAI-compatible
//! server (Ollama, LM Studio, vLLM) needs, as warnings.

use super::providers::{
    GPT_MODEL, OPENAI_API_URL, OPENAI_REASONING_EFFORT, OPENAI_TOKEN_LIMIT_FIELD, OpenAiConfig,
    TokenLimitField, is_local_url,
};
use super::reader::Reader;

/// The `reasoning_effort` values a model family accepts, or `None` when the
/// model is not recognised.
pub fn allowed_efforts(model: &str) -> Option<&'static [&'static str]> {
    const GPT_5: &[&str] = &["minimal", "low", "medium", "high"];
    const GPT_5_1: &[&str] = &["none", "low", "medium", "high"];
    const GPT_5_2: &[&str] = &["none", "low", "medium", "high", "xhigh"];
    const PRO: &[&str] = &["high"];
    const O_SERIES: &[&str] = &["low", "medium", "high"];
    let model = model.trim().to_ascii_lowercase();
    let model = model.strip_prefix("openai/").unwrap_or(&model);
    if model.starts_with("gpt-5-chat") || model.contains("-chat-latest") {
        // Chat models: what they accept is not documented.
        return None;
    }
    if model.starts_with("gpt-5") && model.split('-').any(|part| part == "pro") {
        return Some(PRO);
    }
    if model == "gpt-5" || model.starts_with("gpt-5-") {
        return Some(GPT_5);
    }
    if let Some(rest) = model.strip_prefix("gpt-5.") {
        let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return match minor.parse::<u32>().ok()? {
            1 if rest.starts_with("1-codex-max") => Some(GPT_5_2),
            1 => Some(GPT_5_1),
            0 => None,
            _ => Some(GPT_5_2),
        };
    }
    let o_series = model
        .strip_prefix('o')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    o_series.then_some(O_SERIES)
}

/// Reports an effort the model does not accept (an error), an effort for a
/// model not recognised (a warning), and local-server pitfalls (warnings).
pub(super) fn check(r: &mut Reader, openai: &OpenAiConfig) {
    if let Some(effort) = &openai.reasoning_effort {
        match allowed_efforts(&openai.model) {
            Some(allowed) if !allowed.contains(&effort.as_str()) => r.error(
                &OPENAI_REASONING_EFFORT,
                format!(
                    "{effort} is not accepted by {}; this model family takes {}",
                    openai.model,
                    allowed.join(", ")
                ),
            ),
            Some(_) => {}
            None => r.warn(
                &OPENAI_REASONING_EFFORT,
                format!(
                    "GPT_MODEL {} is not a model duet knows, so reasoning effort {effort} is sent unchecked",
                    openai.model
                ),
            ),
        }
    }
    if is_local_url(&openai.base_url) {
        check_local(r, openai);
    }
}

fn check_local(r: &mut Reader, openai: &OpenAiConfig) {
    let url = &openai.base_url;
    if !url.path_segments().into_iter().flatten().any(|s| s == "v1") {
        let base = url.as_str().trim_end_matches('/');
        r.warn(
            &OPENAI_API_URL,
            format!(
                "{base} has no /v1; most OpenAI-compatible servers serve their API under {base}/v1"
            ),
        );
    }
    if openai.model == GPT_MODEL.default {
        r.warn(
            &GPT_MODEL,
            format!(
                "still {}, OpenAI's model, with a local server; set GPT_MODEL to a model it serves (e.g. from `ollama list`)",
                GPT_MODEL.default
            ),
        );
    }
    if openai.token_limit_field == TokenLimitField::MaxCompletionTokens {
        r.warn(
            &OPENAI_TOKEN_LIMIT_FIELD,
            "local servers (Ollama, vLLM, LM Studio) may ignore max_completion_tokens; set OPENAI_TOKEN_LIMIT_FIELD=max_tokens".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gpt_5_generation_has_its_own_efforts() {
        assert_eq!(
            allowed_efforts("gpt-5-mini"),
            Some(&["minimal", "low", "medium", "high"][..])
        );
        assert!(!allowed_efforts("gpt-5.1").unwrap().contains(&"minimal"));
        assert!(!allowed_efforts("gpt-5.1").unwrap().contains(&"xhigh"));
        assert!(
            allowed_efforts("gpt-5.1-codex-max")
                .unwrap()
                .contains(&"xhigh")
        );
        assert!(allowed_efforts("gpt-5.2").unwrap().contains(&"xhigh"));
        assert!(
            allowed_efforts("openai/gpt-5.4-mini")
                .unwrap()
                .contains(&"none")
        );
        assert_eq!(allowed_efforts("gpt-5-pro"), Some(&["high"][..]));
        assert_eq!(allowed_efforts("gpt-5.2-pro"), Some(&["high"][..]));
        assert_eq!(
            allowed_efforts("o4-mini"),
            Some(&["low", "medium", "high"][..])
        );
        for unknown in ["llama3.2", "gpt-4o", "gpt-5-chat-latest", "omni", ""] {
            assert_eq!(allowed_efforts(unknown), None, "{unknown}");
        }
    }
}
