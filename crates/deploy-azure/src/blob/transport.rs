//! The HTTP transport of a [`super::BlobStore`]: one connection pool for all
//! its clients, with the store's [`Timeouts`]: connect, per attempt (until the
//! response's headers), and between two reads of a body.

use std::sync::Arc;
use std::time::Duration;

use azure_core::error::ErrorKind;
use azure_core::http::{AsyncRawResponse, HttpClient, Request, Transport};
use deploy_core::Timeouts;

/// An HTTP client whose every attempt ends within a bound: a server that
/// accepts a connection and never answers fails the attempt (an I/O error the
/// pipeline retries) instead of hanging it.
#[derive(Debug)]
struct Bounded {
    inner: reqwest::Client,
    attempt: Duration,
}

#[async_trait::async_trait]
impl HttpClient for Bounded {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        match tokio::time::timeout(self.attempt, self.inner.execute_request(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(azure_core::Error::with_message(ErrorKind::Io, format!("no answer within {:?} (attempt timeout)", self.attempt))),
        }
    }
}

/// One transport, as the SDK builds it for storage clients (no automatic
/// decompression, no redirects), bounded by `timeouts`.
pub(super) fn transport(timeouts: &Timeouts) -> Transport {
    let client = reqwest::ClientBuilder::new()
        .connect_timeout(timeouts.connect)
        // A body that stalls this long between two reads fails.
        .read_timeout(timeouts.attempt)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    Transport::new(Arc::new(Bounded { inner: client, attempt: timeouts.attempt }))
}
