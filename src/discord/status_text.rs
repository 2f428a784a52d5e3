//! `/status` as Discord text: the pipeline's [`StatusReport`] made readable.

use serde_json::Value;

use crate::chat::messages::ROUTING_OUTCOMES;
use crate::chat::{ProviderStatus, StatusReport};

/// Renders the report as a short Markdown block.
pub fn render_status(report: &StatusReport) -> String {
    let mut lines = vec![format!("**Mode:** {}", report.mode)];
    if let Some(web) = &report.web_provider {
        lines.push(format!("**Web answers:** {web}"));
    }
    // With one provider there is nothing to route.
    if report.mode == "hybrid" {
        lines.push(ROUTING_OUTCOMES.to_string());
    }
    for provider in &report.providers {
        lines.push(provider_line(provider));
    }
    lines.push(format!(
        "**Your rate limit:** {} of {} messages left per {}",
        report.rate_limit_remaining,
        report.rate_limit,
        window(report.rate_limit_window_secs)
    ));
    if let Some(tokens) = report.tokens_left_today {
        lines.push(format!("**Tokens left today:** {tokens}"));
    }
    lines.join("\n")
}

fn provider_line(provider: &ProviderStatus) -> String {
    let mut line = format!("**{}** · `{}`", provider.provider, provider.model);
    let stats = pool_fields(&provider.pool);
    if !stats.is_empty() {
        line.push_str("\n  pool: ");
        line.push_str(&stats.join(", "));
    }
    line
}

/// `key value` pairs from the pool's JSON; nested objects as `outer.inner`.
fn pool_fields(pool: &Value) -> Vec<String> {
    let mut fields = Vec::new();
    collect(pool, "", &mut fields);
    fields
}

fn collect(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.replace('_', " ")
                } else {
                    format!("{prefix}.{}", key.replace('_', " "))
                };
                collect(inner, &name, out);
            }
        }
        Value::Null => {}
        Value::String(text) => out.push(format!("{prefix} {text}")),
        other => out.push(format!("{prefix} {other}")),
    }
}

fn window(secs: u64) -> String {
    match secs {
        60 => "minute".to_string(),
        3600 => "hour".to_string(),
        86_400 => "day".to_string(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::providers::ProviderKind;

    #[test]
    fn status_shows_mode_models_pools_and_the_callers_budget() {
        let report = StatusReport {
            mode: "hybrid".into(),
            web_provider: Some("perplexity".into()),
            providers: vec![
                ProviderStatus {
                    provider: ProviderKind::OpenAi,
                    model: "gpt-4o".into(),
                    pool: json!({"requests": 12, "new_connections": 2, "limits": {"rpm": 500}}),
                },
                ProviderStatus {
                    provider: ProviderKind::Perplexity,
                    model: "sonar-pro".into(),
                    pool: json!(null),
                },
            ],
            rate_limit_remaining: 4,
            rate_limit: 5,
            rate_limit_window_secs: 60,
            tokens_left_today: Some(12_000),
        };
        assert_eq!(
            render_status(&report),
            format!(
                "**Mode:** hybrid\n**Web answers:** perplexity\n{ROUTING_OUTCOMES}\n\
             **openai** · `gpt-4o`\n  pool: limits.rpm 500, new connections 2, requests 12\n\
             **perplexity** · `sonar-pro`\n\
             **Your rate limit:** 4 of 5 messages left per minute\n\
             **Tokens left today:** 12000"
            )
        );
    }

    #[test]
    fn windows_read_naturally() {
        assert_eq!(window(7200), "2 hours");
        assert_eq!(window(300), "5 minutes");
        assert_eq!(window(45), "45 seconds");
    }
}
