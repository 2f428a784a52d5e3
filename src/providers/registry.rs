//! The providers the bot can use, each a [`ProviderClient`]: a wire format
//! (any [`WireFormat`]) over its own [`PooledClient`]. Built once from the
//! configuration and shared by cheap clones; the HTTP client and its
//! connections close when the last clone is dropped. Failover between them
//! is in `failover.rs`.
//!
//! The [`ProviderKind::Perplexity`] slot is the web side: Perplexity, or,
//! with `[Routing] WEB_PROVIDER` resolving to OpenAI, OpenAI's Responses API
//! with the `web_search` tool over the OpenAI pool (one pool per provider,
//! so a 429 pauses OpenAI's chat and web requests alike).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;

use super::error::{ProviderError, ProviderSetupError};
use super::transport::{Call, PoolStats, PooledClient, load_roots};
use super::types::{Completion, CompletionRequest, ProviderKind};
use super::wire::{WireFormat, openai_format, openai_web_format, perplexity_format, read_events};
use crate::config::{Config, WebBackend};
use crate::coord::Coordinator;

#[derive(Debug)]
struct Inner {
    kind: ProviderKind,
    /// What `/health` and `duet route` call it.
    label: &'static str,
    wire: Box<dyn WireFormat>,
    pool: Arc<PooledClient>,
    warm_up: bool,
    /// Set once the server refused `stream: true` for this model; from then
    /// on every answer is asked for whole (for the life of this client).
    stream_refused: AtomicBool,
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

    /// `openai`, `perplexity` or `openai_web_search`.
    pub fn label(&self) -> &'static str {
        self.inner.label
    }

    /// The configured model (or preset) name.
    /// Whether the client can offer the chat model the `search_web` tool.
    pub fn offers_web_tool(&self) -> bool {
        self.inner.wire.offers_web_tool()
    }

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
    /// When the server refuses `stream: true` (a 400 about `stream`, e.g.
    /// OpenAI's unverified organisations), the same request is asked whole at
    /// once and its text sent as one fragment; the client remembers, logs
    /// once, and asks whole from then on.
    pub async fn stream(
        &self,
        request: &CompletionRequest,
        deltas: UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        self.stream_reporting(request, deltas, None).await
    }

    /// [`Self::stream`], also passing on the web search queries the
    /// provider announces before its text (Perplexity's Agent API) to `searching`.
    pub async fn stream_reporting(
        &self,
        request: &CompletionRequest,
        deltas: UnboundedSender<String>,
        searching: Option<UnboundedSender<Vec<String>>>,
    ) -> Result<Completion, ProviderError> {
        if self.inner.stream_refused.load(Ordering::Relaxed) {
            return self.complete_as_one_delta(request, &deltas).await;
        }
        let Inner { wire, pool, .. } = &*self.inner;
        // Send-path failures are counted there; only what follows is recorded here.
        let mut open = match pool.open_stream(&self.call(request, true)).await {
            Ok(open) => open,
            Err(ProviderError::StreamRefused { message, .. }) => {
                self.remember_stream_refused(&message);
                return self.complete_as_one_delta(request, &deltas).await;
            }
            Err(error) => return Err(error),
        };
        let mut decoder = wire.stream_decoder(pool.redactor());
        let result =
            match read_events(&mut open, decoder.as_mut(), &deltas, searching.as_ref()).await {
                Ok(ended) => decoder.finish(ended, &deltas),
                Err(error) => Err(error),
            };
        self.record(result)
    }

    /// Whether this client has learnt that its server refuses streaming.
    pub fn streaming_refused(&self) -> bool {
        self.inner.stream_refused.load(Ordering::Relaxed)
    }

    /// The whole answer, sent on `deltas` as one fragment once it is complete.
    async fn complete_as_one_delta(
        &self,
        request: &CompletionRequest,
        deltas: &UnboundedSender<String>,
    ) -> Result<Completion, ProviderError> {
        let completion = self.complete(request).await?;
        let _ = deltas.send(completion.text.clone());
        Ok(completion)
    }

    /// Logs once what the operator can do about a refused stream.
    fn remember_stream_refused(&self, message: &str) {
        if !self.inner.stream_refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                provider = %self.kind(),
                model = self.model(),
                detail = message,
                "the server refused to stream this model; answers are now asked for whole. \
                 For OpenAI, verify the organization (platform.openai.com, Settings, Organization), \
                 or set STREAM_REPLIES=false to stop trying"
            );
        }
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
    /// Shares each provider's requests per minute and 429 pause across processes.
    coordinator: Option<Coordinator>,
}

impl Providers {
    /// [`Self::from_config`] with limits shared through `coordinator`.
    pub fn from_config_coordinated(
        config: &Config,
        coordinator: Option<Coordinator>,
    ) -> Result<Providers, ProviderSetupError> {
        Self::build(config, coordinator)
    }

    /// The coordinator the pools share limits through, if any.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// Builds one pooled client per usable provider (a key, or a local URL).
    /// No network is used yet.
    pub fn from_config(config: &Config) -> Result<Providers, ProviderSetupError> {
        Self::build(config, None)
    }

    fn build(
        config: &Config,
        coordinator: Option<Coordinator>,
    ) -> Result<Providers, ProviderSetupError> {
        let roots = load_roots(config.tls_ca_file.as_deref())?;
        let output_tokens = config.prompt.output_tokens;
        let mut clients = Vec::new();
        let web = config.web_backend();
        if config.openai.is_usable() {
            let openai = &config.openai;
            let pool = Arc::new(
                PooledClient::new(
                    ProviderKind::OpenAi,
                    &openai.pool,
                    openai.api_key.as_ref(),
                    &roots,
                )?
                .coordinated(coordinator.clone()),
            );
            clients.push(client(
                (ProviderKind::OpenAi, "openai"),
                openai_format(openai, output_tokens),
                pool.clone(),
                openai.pool.warmup,
            ));
            if web == Some(WebBackend::OpenAiWebSearch) {
                clients.push(client(
                    (
                        ProviderKind::Perplexity,
                        WebBackend::OpenAiWebSearch.as_str(),
                    ),
                    openai_web_format(openai, output_tokens),
                    pool,
                    false,
                ));
            }
        }
        if web == Some(WebBackend::Perplexity) {
            let perplexity = &config.perplexity;
            let pool = Arc::new(
                PooledClient::new(
                    ProviderKind::Perplexity,
                    &perplexity.pool,
                    perplexity.api_key.as_ref(),
                    &roots,
                )?
                .coordinated(coordinator.clone()),
            );
            clients.push(client(
                (ProviderKind::Perplexity, "perplexity"),
                perplexity_format(perplexity, output_tokens),
                pool,
                perplexity.pool.warmup,
            ));
        }
        Ok(Providers {
            clients,
            tools_refused: Arc::default(),
            coordinator,
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

    /// Every pool's snapshot, for the health endpoint (a pool shared by
    /// two clients is listed once).
    pub fn stats(&self) -> Vec<PoolStats> {
        let mut seen: Vec<&Arc<PooledClient>> = Vec::new();
        let mut stats = Vec::new();
        for client in &self.clients {
            if !seen
                .iter()
                .any(|pool| Arc::ptr_eq(pool, &client.inner.pool))
            {
                seen.push(&client.inner.pool);
                stats.push(client.stats());
            }
        }
        stats
    }

    /// Who answers web questions: `perplexity`, `openai_web_search`, or `None`.
    pub fn web_label(&self) -> Option<&'static str> {
        self.get(ProviderKind::Perplexity)
            .map(ProviderClient::label)
    }
}

fn client(
    (kind, label): (ProviderKind, &'static str),
    wire: Box<dyn WireFormat>,
    pool: Arc<PooledClient>,
    warm_up: bool,
) -> ProviderClient {
    ProviderClient {
        inner: Arc::new(Inner {
            kind,
            label,
            wire,
            pool,
            warm_up,
            stream_refused: AtomicBool::new(false),
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
    fn the_web_slot_is_perplexity_or_openai_web_search_as_web_provider_says() {
        let openai_only = providers(&[("OPENAI_API_KEY", "sk-a")]);
        assert_eq!(openai_only.web_label(), Some("openai_web_search"));
        assert_eq!(openai_only.stats().len(), 1, "one shared OpenAI pool");
        let local = providers(&[("OPENAI_API_URL", "http://localhost:11434/v1")]);
        assert_eq!(local.web_label(), None);
        let both = providers(&[("OPENAI_API_KEY", "sk-a"), ("PERPLEXITY_API_KEY", "pplx-b")]);
        assert_eq!(both.web_label(), Some("perplexity"));
        let forced = providers(&[
            ("OPENAI_API_KEY", "sk-a"),
            ("PERPLEXITY_API_KEY", "pplx-b"),
            ("WEB_PROVIDER", "openai"),
        ]);
        assert_eq!(forced.web_label(), Some("openai_web_search"));
        let chat_api = providers(&[("OPENAI_API_KEY", "sk-a"), ("OPENAI_API", "chat")]);
        assert_eq!(chat_api.web_label(), None);
        let none = providers(&[("OPENAI_API_KEY", "sk-a"), ("WEB_PROVIDER", "perplexity")]);
        assert_eq!(none.web_label(), None);
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
