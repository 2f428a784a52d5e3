//! The one HTTP send path of every provider: admission, the request, the
//! capped body and the retry loop, all inside the request deadline
//! (`<PREFIX>_REQUEST_TIMEOUT`), which bounds retries too. Which failures
//! are retried, and how, is decided in `classify.rs`; a 429 pauses the
//! whole provider here (see `pause.rs`).

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::backoff::full_jitter_backoff;
use super::body::{BodyError, read_capped, request_id, too_large};
use super::classify::{Failure, Origin, Retry, key_prefix, status_failure, transport_failure};
use super::pool::{Permit, PooledClient};
use crate::providers::error::{ProviderError, Redactor};
use crate::providers::types::ProviderKind;

/// One request to send (the JSON body is serialised once, resent per attempt).
#[derive(Debug, Clone)]
pub struct Call {
    pub url: reqwest::Url,
    pub body: Bytes,
    pub stream: bool,
}

/// A complete, successful response body.
#[derive(Debug)]
pub struct Fetched {
    pub body: Bytes,
    pub request_id: Option<String>,
}

/// A successful streaming response; holds its slot until dropped.
#[derive(Debug)]
pub struct OpenStream {
    response: reqwest::Response,
    _permit: Permit,
    deadline: Instant,
    provider: ProviderKind,
    redactor: Redactor,
    request_timeout: Duration,
}

impl PooledClient {
    /// Sends `call` and reads the whole (capped) body, retrying as the module doc says.
    pub async fn fetch(&self, call: &Call) -> Result<Fetched, ProviderError> {
        let deadline = Instant::now() + self.config.request_timeout;
        self.run(call, deadline, |response, permit| {
            self.read_whole(response, permit)
        })
        .await
    }

    /// Sends `call` and returns the response once its status is a success;
    /// failures before that point are retried like [`Self::fetch`].
    pub async fn open_stream(&self, call: &Call) -> Result<OpenStream, ProviderError> {
        let deadline = Instant::now() + self.config.request_timeout;
        self.run(call, deadline, |response, permit| async move {
            Ok(OpenStream {
                response,
                _permit: permit,
                deadline,
                provider: self.provider,
                redactor: self.redactor.clone(),
                request_timeout: self.config.request_timeout,
            })
        })
        .await
    }

    async fn run<T, F, Fut>(
        &self,
        call: &Call,
        deadline: Instant,
        finish: F,
    ) -> Result<T, ProviderError>
    where
        F: Fn(reqwest::Response, Permit) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let attempts = async {
            let mut attempt = 0u32;
            let mut timeouts_retried = 0u32;
            loop {
                let failure = match self.attempt(call, deadline, &finish).await {
                    Ok(value) => return Ok(value),
                    Err(failure) => failure,
                };
                let Some(delay) =
                    self.retry_delay(&failure, attempt, &mut timeouts_retried, deadline)
                else {
                    return Err(failure.error);
                };
                attempt += 1;
                self.counters.retried();
                warn!(
                    provider = %self.provider,
                    status = failure.status,
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    error = %failure.error,
                    "retrying"
                );
                tokio::time::sleep(delay).await;
            }
        };
        let result = match tokio::time::timeout_at(deadline, attempts).await {
            Ok(result) => result,
            Err(_) => Err(deadline_error(self.provider, self.config.request_timeout)),
        };
        // A refused stream is asked again whole at once (see the registry):
        // the provider is not failing.
        if let Some(error) = result
            .as_ref()
            .err()
            .filter(|e| !matches!(e, ProviderError::StreamRefused { .. }))
        {
            self.counters.failed(error.kind());
        }
        result
    }

    fn retry_delay(
        &self,
        failure: &Failure,
        attempt: u32,
        timeouts_retried: &mut u32,
        deadline: Instant,
    ) -> Option<Duration> {
        if attempt >= self.config.max_retries {
            return None;
        }
        let delay = match failure.retry {
            Retry::No => return None,
            Retry::AfterPause => Duration::ZERO,
            Retry::Backoff => full_jitter_backoff(attempt),
            Retry::Wait(wait) => wait,
            Retry::Timeout if *timeouts_retried == 0 => {
                *timeouts_retried += 1;
                full_jitter_backoff(attempt)
            }
            Retry::Timeout => return None,
        };
        // Sleeping past the deadline would only turn this error into a timeout.
        (Instant::now() + delay < deadline).then_some(delay)
    }

    async fn attempt<T, F, Fut>(
        &self,
        call: &Call,
        deadline: Instant,
        finish: &F,
    ) -> Result<T, Failure>
    where
        F: Fn(reqwest::Response, Permit) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let permit = self.admit(deadline).await.map_err(Failure::fatal)?;
        let started = Instant::now();
        let response = match self.request(call).send().await {
            Ok(response) => response,
            Err(error) => {
                let failure = transport_failure(self.origin(), &error, "sending the request");
                self.counters
                    .request_done(failure.error.kind().as_str(), started.elapsed());
                return Err(failure);
            }
        };
        self.note_version(response.version());
        let status = response.status();
        if status.is_success() {
            self.counters.request_done("ok", started.elapsed());
            debug!(provider = %self.provider, status = status.as_u16(), request_id = request_id(response.headers()), "response");
            return finish(response, permit).await;
        }
        let failure = self.status_failure(response).await;
        self.counters
            .request_done(failure.error.kind().as_str(), started.elapsed());
        Err(failure)
    }

    /// Classifies an error status; a 429 counts, and one that is not about
    /// quota pauses every request to this provider until the reset.
    async fn status_failure(&self, response: reqwest::Response) -> Failure {
        let status = response.status().as_u16();
        let url = response.url().to_string();
        let headers = response.headers().clone();
        // An unreadable error body still leaves the status to go on.
        let body = read_capped(response).await.unwrap_or_default();
        let failure = status_failure(self.origin(), &url, status, &headers, &body);
        if status == 429 {
            self.counters.rate_limited();
        }
        if let (Retry::AfterPause, Some(wait)) = (failure.retry, failure.error.retry_after()) {
            self.pause.pause_for(wait);
            if let Some(coordinator) = &self.coordinator {
                // Unreachable Redis leaves the pause to this process.
                let _ = coordinator
                    .pause_provider(self.provider.as_str(), wait)
                    .await;
            }
            warn!(
                provider = %self.provider,
                status,
                retry_after_ms = wait.as_millis() as u64,
                "rate limited; pausing every request to this provider"
            );
        }
        failure
    }

    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let accept = if call.stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let mut request = self
            .http
            .post(call.url.clone())
            .header(ACCEPT, accept)
            .header(CONTENT_TYPE, "application/json")
            .body(call.body.clone());
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        request
    }

    async fn read_whole(
        &self,
        response: reqwest::Response,
        permit: Permit,
    ) -> Result<Fetched, Failure> {
        let request_id = request_id(response.headers()).map(str::to_string);
        let body = read_capped(response).await;
        drop(permit);
        match body {
            Ok(body) => Ok(Fetched { body, request_id }),
            Err(BodyError::TooLarge) => Err(Failure::fatal(too_large(self.provider))),
            Err(BodyError::Transport(error)) => Err(transport_failure(
                self.origin(),
                &error,
                "reading the response body",
            )),
        }
    }
}

impl OpenStream {
    /// The next chunk of the body; `None` at its end. Bounded by the request deadline.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, ProviderError> {
        match tokio::time::timeout_at(self.deadline, self.response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            Ok(Err(error)) => {
                let origin = Origin {
                    provider: self.provider,
                    redactor: &self.redactor,
                };
                Err(transport_failure(origin, &error, "reading the stream").error)
            }
            Err(_) => Err(deadline_error(self.provider, self.request_timeout)),
        }
    }

    pub fn provider(&self) -> ProviderKind {
        self.provider
    }
}

fn deadline_error(provider: ProviderKind, request_timeout: Duration) -> ProviderError {
    ProviderError::Timeout {
        provider,
        during: format!(
            "after {}s, the whole-request deadline ({}_REQUEST_TIMEOUT), retries included",
            request_timeout.as_secs_f64(),
            key_prefix(provider)
        ),
    }
}
