//! The one HTTP send path of every provider: admission, the request, the
//! capped body and the retry loop, all inside the request deadline
//! (`<PREFIX>_REQUEST_TIMEOUT`), which bounds retries too. Which failures
//! are retried, and how, is decided in `classify.rs`.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::classify::{Failure, Retry};
use super::error::ProviderError;
use super::pool::{Permit, PooledClient};
use super::retry::full_jitter_backoff;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

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
            Err(_) => Err(self.deadline_error()),
        };
        if let Err(error) = &result {
            self.counters.failed(error.kind());
        }
        result
    }

    fn deadline_error(&self) -> ProviderError {
        ProviderError::Timeout {
            provider: self.provider,
            during: format!(
                "after {}s, the whole-request deadline ({}_REQUEST_TIMEOUT), retries included",
                self.config.request_timeout.as_secs_f64(),
                super::pool::prefix(self.provider)
            ),
        }
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
                let failure = self.transport_failure(&error, "sending the request");
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
            Err(BodyError::TooLarge) => Err(Failure::fatal(self.too_large())),
            Err(BodyError::Transport(error)) => {
                Err(self.transport_failure(&error, "reading the response body"))
            }
        }
    }
}

impl OpenStream {
    /// The next chunk of the body; `None` at its end. Bounded by the request deadline.
    pub async fn next_chunk(
        &mut self,
        pool: &PooledClient,
    ) -> Result<Option<Bytes>, ProviderError> {
        match tokio::time::timeout_at(self.deadline, self.response.chunk()).await {
            Ok(Ok(chunk)) => Ok(chunk),
            Ok(Err(error)) => Err(pool.transport_failure(&error, "reading the stream").error),
            Err(_) => Err(pool.deadline_error()),
        }
    }
}

pub(super) enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

pub(super) async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, BodyError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_BYTES as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub(super) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: Vec<u8>) -> reqwest::Response {
        reqwest::Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn bodies_up_to_the_cap_are_read_whole() {
        let body = read_capped(response(vec![b'a'; MAX_BODY_BYTES])).await;
        assert!(matches!(body, Ok(bytes) if bytes.len() == MAX_BODY_BYTES));
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let body = read_capped(response(vec![b'a'; MAX_BODY_BYTES + 1])).await;
        assert!(matches!(body, Err(BodyError::TooLarge)));
    }
}
