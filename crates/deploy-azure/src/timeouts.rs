//! The one place where [`deploy_core::timeouts::Timeouts`] become `azure_core`
//! transports, so that a server that accepts and never answers cannot hang a
//! call. The pipeline's retry policy retries a timed-out attempt (it is an
//! I/O error); the caller bounds the whole operation with `operation`.
//!
//! - [`transport`] (ARM, Key Vault: JSON answers): connections time out after
//!   `connect`, and every attempt (request sent, answer and its whole body
//!   read) ends after `attempt`;
//! - [`streaming_transport`] (Blob Storage: bodies streamed, of any size):
//!   connections time out after `connect`, every attempt ends after `attempt`
//!   until the answer's headers, and a body that pauses `attempt` between two
//!   reads fails.
//!
//! Both report each attempt that failed in a way the pipeline's retry policy
//! retries ([`attempt_event`]): a trace shows why a call was slow.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::error::ErrorKind;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{AsyncRawResponse, Context, HttpClient, Request, Transport};
use deploy_core::timeouts::Timeouts;

/// The source of the error of an attempt that got no whole answer in time.
#[derive(Debug)]
pub(crate) struct AttemptTimedOut(pub Duration);

impl fmt::Display for AttemptTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no whole answer within the per-attempt limit of {:?}", self.0)
    }
}

impl std::error::Error for AttemptTimedOut {}

/// The per-attempt limit that ended `e`, when one did.
pub(crate) fn attempt_timeout(e: &(dyn std::error::Error + 'static)) -> Option<Duration> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(t) = err.downcast_ref::<AttemptTimedOut>() {
            return Some(t.0);
        }
        if let Some(t) = err.downcast_ref::<azure_core::Error>().and_then(|core| core.downcast_ref::<AttemptTimedOut>()) {
            return Some(t.0);
        }
        next = err.source();
    }
    None
}

/// One tracing event for an attempt that failed in a way the pipeline
/// retries (target `deploy::retry`): WARN when throttled (429, 503), INFO for
/// another 5xx answer or an I/O error (a timed-out attempt included). The
/// request's method and host are named, never its path or query (a SAS
/// signature is in the query).
pub(crate) fn attempt_event(request: &Request, result: &azure_core::Result<AsyncRawResponse>) {
    let (method, host) = (request.method(), request.url().host_str().unwrap_or_default());
    match result {
        Ok(response) => {
            let status = u16::from(response.status());
            if status == 429 || status == 503 {
                tracing::warn!(target: "deploy::retry", %method, host, status, throttled = true, "throttled; the pipeline retries within its policy");
            } else if status >= 500 {
                tracing::info!(target: "deploy::retry", %method, host, status, throttled = false, "attempt failed; the pipeline retries within its policy");
            }
        }
        Err(e) if matches!(e.kind(), ErrorKind::Io) => {
            let timeout = attempt_timeout(e).is_some();
            tracing::info!(target: "deploy::retry", %method, host, timeout, throttled = false, error = %e, "attempt failed; the pipeline retries within its policy");
        }
        Err(_) => {}
    }
}

/// The transport that ends each attempt after `attempt`.
struct AttemptLimit {
    inner: Transport,
    attempt: Duration,
}

impl fmt::Debug for AttemptLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptLimit").field("attempt", &self.attempt).finish_non_exhaustive()
    }
}

#[async_trait]
impl Policy for AttemptLimit {
    async fn send(&self, ctx: &Context, request: &mut Request, _next: &[Arc<dyn Policy>]) -> PolicyResult {
        let whole = async {
            let response = self.inner.send(ctx, request).await?;
            let (status, headers, body) = response.deconstruct();
            let bytes = body.collect().await?;
            Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
        };
        let result = match tokio::time::timeout(self.attempt, whole).await {
            Ok(result) => result,
            Err(_) => Err(azure_core::Error::with_error(
                ErrorKind::Io,
                AttemptTimedOut(self.attempt),
                format!("no whole answer within {:?}", self.attempt),
            )),
        };
        attempt_event(request, &result);
        result
    }
}

/// A transport with `timeouts.connect` on its connections (unless `inner` is
/// given: the caller's own transport keeps its connection settings) and
/// `timeouts.attempt` on every attempt.
pub(crate) fn transport(timeouts: &Timeouts, inner: Option<Transport>) -> Transport {
    let inner = inner.unwrap_or_else(|| {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client with a connect timeout builds");
        Transport::new(Arc::new(client) as Arc<dyn HttpClient>)
    });
    Transport::with_policy(Arc::new(AttemptLimit { inner, attempt: timeouts.attempt }))
}

/// An HTTP client whose every attempt ends within a bound until the answer's
/// headers: a server that accepts a connection and never answers fails the
/// attempt (an I/O error the pipeline retries) instead of hanging it; the body
/// stays a stream.
#[cfg(feature = "blob")]
#[derive(Debug)]
struct HeadersWithin {
    inner: reqwest::Client,
    attempt: Duration,
}

#[cfg(feature = "blob")]
#[async_trait]
impl HttpClient for HeadersWithin {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let result = match tokio::time::timeout(self.attempt, self.inner.execute_request(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(azure_core::Error::with_message(ErrorKind::Io, format!("no answer within {:?} (attempt timeout)", self.attempt))),
        };
        attempt_event(request, &result);
        result
    }
}

/// One transport for streamed bodies, as the SDK builds it for storage
/// clients (no automatic decompression, no redirects), bounded by `timeouts`:
/// `connect`, `attempt` until the headers, and `attempt` between two reads of
/// a body.
#[cfg(feature = "blob")]
pub(crate) fn streaming_transport(timeouts: &Timeouts) -> Transport {
    let client = reqwest::ClientBuilder::new()
        .connect_timeout(timeouts.connect)
        // A body that stalls this long between two reads fails.
        .read_timeout(timeouts.attempt)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    Transport::new(Arc::new(HeadersWithin { inner: client, attempt: timeouts.attempt }))
}
