//! Downloads attachments: one pooled reqwest client of its own (not the
//! providers'), only from [`AllowedHosts`] (redirects elsewhere are
//! refused by the client's redirect policy), with a size cap enforced
//! while the body streams in (a lying or missing Content-Length cannot get
//! past it) and a deadline for the whole download.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::redirect;
use tracing::debug;

use super::allowed_hosts::AllowedHosts;
use crate::chat::attachments::problems::ProblemKind;

/// Redirects followed at most (each to an allowed host).
const MAX_REDIRECTS: usize = 3;

/// Why a download gave no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    #[error("the URL or a redirect points outside the allowed hosts")]
    NotAllowed,
    #[error("larger than the limit")]
    TooLarge,
    #[error("timed out")]
    Timeout,
    #[error("the download failed")]
    Failed,
}

impl DownloadError {
    pub fn problem(self, limit_bytes: u64) -> ProblemKind {
        match self {
            DownloadError::NotAllowed => ProblemKind::NotAllowed,
            DownloadError::TooLarge => ProblemKind::TooLarge { limit_bytes },
            DownloadError::Timeout => ProblemKind::Timeout,
            DownloadError::Failed => ProblemKind::DownloadFailed,
        }
    }
}

/// Fetches attachment bytes; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Downloader {
    client: reqwest::Client,
    hosts: AllowedHosts,
}

impl Downloader {
    pub fn new(hosts: AllowedHosts) -> Self {
        let policy_hosts = hosts.clone();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS || !policy_hosts.allows(attempt.url()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(4)
            .user_agent(concat!("duet/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { client, hosts }
    }

    /// The bytes at `url`, at most `max_bytes` of them, within `timeout`.
    pub async fn fetch(
        &self,
        url: &str,
        max_bytes: u64,
        timeout: Duration,
    ) -> Result<Bytes, DownloadError> {
        if !self.hosts.allows_text(url) {
            return Err(DownloadError::NotAllowed);
        }
        tokio::time::timeout(timeout, self.fetch_capped(url, max_bytes))
            .await
            .unwrap_or(Err(DownloadError::Timeout))
    }

    async fn fetch_capped(&self, url: &str, max_bytes: u64) -> Result<Bytes, DownloadError> {
        let mut response = self.client.get(url).send().await.map_err(|error| {
            // Without the URL: it names the user's file.
            debug!(error = %error.without_url(), "attachment download failed");
            DownloadError::Failed
        })?;
        let status = response.status();
        if status.is_redirection() {
            // The redirect policy stopped at a host that is not allowed.
            return Err(DownloadError::NotAllowed);
        }
        if !status.is_success() {
            debug!(status = status.as_u16(), "attachment download refused");
            return Err(DownloadError::Failed);
        }
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(DownloadError::TooLarge);
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| DownloadError::Failed)? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(DownloadError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}
