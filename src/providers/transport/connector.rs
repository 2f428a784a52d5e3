//! Counts new connections. reqwest hides its pool, but it lets a tower layer
//! wrap the connector ([`reqwest::ClientBuilder::connector_layer`]); every
//! call of the wrapped service is one TCP (+TLS) dial, so counting the
//! successful calls gives "connections created", and requests minus
//! connections gives reuse.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tower::{Layer, Service};

use crate::metric_names as m;
use crate::providers::types::ProviderKind;

/// A layer that counts successful dials into a shared counter.
#[derive(Clone)]
pub struct CountDials {
    count: Arc<AtomicU64>,
    provider: ProviderKind,
}

impl CountDials {
    pub fn new(count: Arc<AtomicU64>, provider: ProviderKind) -> Self {
        Self { count, provider }
    }
}

impl<S> Layer<S> for CountDials {
    type Service = CountedConnector<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountedConnector {
            inner,
            count: self.count.clone(),
            provider: self.provider,
        }
    }
}

#[derive(Clone)]
pub struct CountedConnector<S> {
    inner: S,
    count: Arc<AtomicU64>,
    provider: ProviderKind,
}

impl<S, R> Service<R> for CountedConnector<S>
where
    S: Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let dial = self.inner.call(request);
        let count = self.count.clone();
        let provider = self.provider.as_str();
        Box::pin(async move {
            let connection = dial.await?;
            count.fetch_add(1, Ordering::Relaxed);
            metrics::counter!(m::POOL_CONNECTIONS_CREATED_TOTAL, "provider" => provider)
                .increment(1);
            tracing::debug!(provider, "opened a new connection");
            Ok(connection)
        })
    }
}
