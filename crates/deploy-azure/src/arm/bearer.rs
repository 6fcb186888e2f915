//! The bearer-token policy of the ARM pipeline: a token for the management
//! scope, sent only to the Resource Manager endpoint's own origin.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request, Url};

/// Sends `Authorization: Bearer` with a token for the management scope, and
/// only to the Resource Manager endpoint's own scheme, host and port: a
/// request anywhere else (a polling URL naming another host) is refused before
/// a token is even fetched. Unlike the SDK's policy it allows plain HTTP to a
/// loopback address (a fake ARM endpoint in tests and examples); never to
/// anything else.
pub(super) struct BearerPolicy {
    pub(super) credential: Arc<dyn TokenCredential>,
    pub(super) scope: String,
    /// `scheme://host:port` of the endpoint.
    pub(super) origin: String,
}

impl fmt::Debug for BearerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerPolicy").field("scope", &self.scope).field("origin", &self.origin).finish_non_exhaustive()
    }
}

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[async_trait]
impl Policy for BearerPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        if request.url().origin().ascii_serialization() != self.origin {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                format!(
                    "refused to send the bearer token to {}: only to the Resource Manager endpoint {}",
                    request.url().origin().ascii_serialization(),
                    self.origin
                ),
            ));
        }
        if request.url().scheme() != "https" && !is_loopback(request.url()) {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "bearer tokens are sent over HTTPS only (plain HTTP to a loopback address excepted)",
            ));
        }
        let token = self.credential.get_token(&[self.scope.as_str()], None).await?;
        request.insert_header("authorization", format!("Bearer {}", token.token.secret()));
        next[0].send(ctx, request, &next[1..]).await
    }
}
