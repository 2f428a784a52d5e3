//! The providers the bot can use, each a [`ProviderClient`]: a wire format
//! (any [`WireFormat`]) over its own [`PooledClient`]. Built once from the
//! configuration and shared by cheap clones; the HTTP client and its
//! connections close when the last clone is dropped. Failover between them
//! is in `failover.rs`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::sync::mpsc::UnboundedSender;

use super::error::{ProviderError, ProviderSetupError};
use super::transport::{Call, PoolStats, PooledClient, load_roots};
use super::types::{Completion, CompletionRequest, ProviderKind};
use super::wire::{WireFormat, openai_format, perplexity_format, read_events};
use crate::config::Config;

#[derive(Debug)]
struct Inner {
    kind: ProviderKind,
    wire: Box<dyn WireFormat>,
    pool: PooledClient,
    warm_up: bool,
}

/// One provider behind its pooled client. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    inner: Arc<Inner>,
}

impl ProviderClient {
    pub fn kind(&self) -> ProviderKind {
        self.inner.kind
    }

    /// The configured model (or preset) name.
    pub fn model(&self) -> &str {
        self.inner.wire.model()
    }

    pub fn stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    fn call(&self, request: &CompletionRequest, stream: bool) -> Call {
        Call {
            url: self.inner.wire.endpoint().clone(),
            body: self.inner.wire.body(request, stream),
            stream,
        }
    }

    /// One question, one whole answer.
    pub async fn complete(&self, request: &CompletionRequest) -> Result<Completion, ProviderError> {
        let Inner { wire, pool, .. } = &*self.inner;
        let fetched = pool.fetch(&self.call(request, false)).await?;
        let parsed = wire.parse(&fetched.body, pool.redactor());
        if let Err(error) = &parsed {
            // The request id is what the provider's support asks for.
            tracing::warn!(
                provider = %self.kind(),
                request_id = fetched.request_id.as_deref(),
                kind = %error.kind(),
                "the response could not be used"
            );
        }
        self.record(parsed)
    }

    /// Streams: every text fragment is sent on `deltas` as it arrives; the
    /// returned [`Completion`]'s text equals the concatenated deltas.
    /// Failures before the first byte are retried like [`Self::complete`];
    /// a stream cut midway is an error (fragments already sent stay sent).
    pub async fn stream(
        &self,
        request: &CompletionRequest,
        deltas: UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        let Inner { wire, pool, .. } = &*self.inner;
        // Send-path failures are counted there; only what follows is recorded here.
        let mut open = pool.open_stream(&self.call(request, true)).await?;
        let mut decoder = wire.stream_decoder(pool.redactor());
        let result = match read_events(&mut open, decoder.as_mut(), &deltas).await {
            Ok(ended) => decoder.finish(ended, &deltas),
            Err(error) => Err(error),
        };
        self.record(result)
    }

    /// Counts failures found after the send path handed over (bad bodies, cut streams).
    fn record(
        &self,
        result: Result<Completion, ProviderError>,
    ) -> Result<Completion, ProviderError> {
        match &result {
            Ok(_) => self.inner.pool.record_success(),
            Err(error) => self.inner.pool.record_failure(error.kind()),
        }
        result
    }

    async fn warm_up(&self) {
        if self.inner.warm_up {
            self.inner.pool.warm_up(self.inner.wire.warm_up_url()).await;
        }
    }
}

/// Every usable provider, each with its own pool.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    clients: Vec<ProviderClient>,
    /// The chat server refused the `search_web` tool (see `web_tool`).
    pub(super) tools_refused: Arc<AtomicBool>,
}

impl Providers {
    /// Builds one pooled client per usable provider (a key, or a local URL).
    /// No network is used yet.
    pub fn from_config(config: &Config) -> Result<Providers, ProviderSetupError> {
        let roots = load_roots(config.tls_ca_file.as_deref())?;
        let output_tokens = config.prompt.output_tokens;
        let mut clients = Vec::new();
        if config.openai.is_usable() {
            let openai = &config.openai;
            let pool = PooledClient::new(
                ProviderKind::OpenAi,
                &openai.pool,
                openai.api_key.as_ref(),
                &roots,
            )?;
            clients.push(client(
                ProviderKind::OpenAi,
                openai_format(openai, output_tokens),
                pool,
                openai.pool.warmup,
            ));
        }
        if config.perplexity.is_usable() {
            let perplexity = &config.perplexity;
            let pool = PooledClient::new(
                ProviderKind::Perplexity,
                &perplexity.pool,
                perplexity.api_key.as_ref(),
                &roots,
            )?;
            clients.push(client(
                ProviderKind::Perplexity,
                perplexity_format(perplexity, output_tokens),
                pool,
                perplexity.pool.warmup,
            ));
        }
        Ok(Providers {
            clients,
            tools_refused: Arc::default(),
        })
    }

    /// One warm-up request per provider whose `<PREFIX>_WARMUP` is on, all at
    /// once; failures are logged, not fatal.
    pub async fn warm_up(&self) {
        futures::future::join_all(self.clients.iter().map(ProviderClient::warm_up)).await;
    }

    /// `None` when the provider is not configured.
    pub fn get(&self, kind: ProviderKind) -> Option<&ProviderClient> {
        self.clients.iter().find(|client| client.kind() == kind)
    }

    pub fn available(&self) -> Vec<ProviderKind> {
        self.clients.iter().map(ProviderClient::kind).collect()
    }

    /// Every provider's pool snapshot, for the health endpoint.
    pub fn stats(&self) -> Vec<PoolStats> {
        self.clients.iter().map(ProviderClient::stats).collect()
    }
}

fn client(
    kind: ProviderKind,
    wire: Box<dyn WireFormat>,
    pool: PooledClient,
    warm_up: bool,
) -> ProviderClient {
    ProviderClient {
        inner: Arc::new(Inner {
            kind,
            wire,
            pool,
            warm_up,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn providers(env: &[(&str, &str)]) -> Providers {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Providers::from_config(&Config::from_env(&env).unwrap()).unwrap()
    }

    #[test]
    fn only_usable_providers_get_a_client() {
        let none = providers(&[]);
        assert!(none.available().is_empty());
        let local = providers(&[("OPENAI_API_URL", "http://localhost:11434/v1")]);
        assert_eq!(local.available(), vec![ProviderKind::OpenAi]);
        assert!(local.get(ProviderKind::Perplexity).is_none());
        let both = providers(&[("OPENAI_API_KEY", "sk-a"), ("PERPLEXITY_API_KEY", "pplx-b")]);
        assert_eq!(both.available(), ProviderKind::ALL.to_vec());
        assert_eq!(
            both.get(ProviderKind::Perplexity).unwrap().model(),
            "perplexity/sonar"
        );
    }

    #[test]
    fn perplexity_api_picks_the_wire_format() {
        let agent = providers(&[("PERPLEXITY_API_KEY", "pplx-b")]);
        let sonar = providers(&[
            ("PERPLEXITY_API_KEY", "pplx-b"),
            ("PERPLEXITY_API", "sonar"),
        ]);
        let model = |p: &Providers| p.get(ProviderKind::Perplexity).unwrap().model().to_string();
        assert_eq!(model(&agent), "perplexity/sonar");
        // Legacy Sonar takes the model name without the Agent API's vendor prefix.
        assert_eq!(model(&sonar), "sonar");
    }

    #[test]
    fn debug_output_never_contains_the_keys() {
        let both = providers(&[
            ("OPENAI_API_KEY", "sk-debug-KEY"),
            ("PERPLEXITY_API_KEY", "pplx-debug-KEY"),
        ]);
        let text = format!("{both:?}");
        assert!(!text.contains("debug-KEY"), "{text}");
    }

    #[test]
    fn a_fresh_pool_reports_its_size_and_no_traffic() {
        let both = providers(&[("OPENAI_API_KEY", "sk-a"), ("OPENAI_MAX_CONNECTIONS", "7")]);
        let stats = both.get(ProviderKind::OpenAi).unwrap().stats();
        assert_eq!((stats.total, stats.available, stats.requests), (7, 7, 0));
        assert_eq!(stats.http_version, None);
    }
}
