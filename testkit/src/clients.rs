//! Provider clients pointed at the mock LLM server, for the provider tests.

use std::collections::HashMap;

use duet::config::Config;
use duet::providers::{
    ChatMessage, CompletionRequest, ProviderClient, ProviderKind, Providers, Role,
};

use super::mock_llm::MockLlm;

/// Both providers configured from `env`.
pub fn providers_from(env: HashMap<String, String>) -> Providers {
    Providers::from_config(&Config::from_env(&env).expect("valid config")).expect("clients")
}

/// Both providers pointed at `mock`, with `extra` settings on top.
pub fn providers(mock: &MockLlm, extra: &[(&str, &str)]) -> Providers {
    let mut env = mock.config_env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    providers_from(env)
}

pub fn client(providers: &Providers, kind: ProviderKind) -> ProviderClient {
    providers.get(kind).expect("configured").clone()
}

/// A prompt of one user message.
pub fn ask(question: &str) -> CompletionRequest {
    CompletionRequest {
        messages: vec![ChatMessage::new(Role::User, question)],
        user_hash: None,
        web_tool: false,
        chat_model: None,
    }
}
