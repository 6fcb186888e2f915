//! [`ArmClient`]: the pipeline (bearer token to the Resource Manager host only,
//! retries, time limits), the verbs, and the one place where ARM answers
//! become core errors ([`ArmClient`]'s `error_of`).

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::PipelineSendOptions;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, FixedRetryOptions, Method, Pipeline, RawResponse, Request,
    RetryOptions, Url,
};
use deploy_core::timeouts::Timeouts;
use deploy_core::{Error, Result, Waiter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::lro::{Finish, body_json};
use super::{PROVIDER, PUBLIC_ENDPOINT, check_guid};
use crate::error::Redacted;

/// Sends `Authorization: Bearer` with a token for the management scope, and
/// only to the Resource Manager endpoint's own scheme, host and port: a
/// request anywhere else (a polling URL naming another host) is refused before
/// a token is even fetched. Unlike the SDK's policy it allows plain HTTP to a
/// loopback address (a fake ARM endpoint in tests and examples); never to
/// anything else.
struct BearerPolicy {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    /// `scheme://host:port` of the endpoint.
    origin: String,
}

impl fmt::Debug for BearerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerPolicy")
            .field("scope", &self.scope)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[async_trait]
impl Policy for BearerPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
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
        let token = self
            .credential
            .get_token(&[self.scope.as_str()], None)
            .await?;
        request.insert_header("authorization", format!("Bearer {}", token.token.secret()));
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// Builds an [`ArmClient`].
#[derive(Debug)]
pub struct ArmClientBuilder {
    subscription_id: String,
    credential: Arc<dyn TokenCredential>,
    endpoint: String,
    retry: Option<RetryOptions>,
    waiter: Waiter,
    timeouts: Timeouts,
}

impl ArmClientBuilder {
    /// The Resource Manager endpoint ([`PUBLIC_ENDPOINT`] unless set); an
    /// `http://127.0.0.1:PORT` fake for tests. The bearer token goes to this
    /// endpoint's scheme, host and port only.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The retry policy of each request (the SDK's exponential default unless set);
    /// it retries 429 and 5xx answers, honouring `Retry-After`, and attempts
    /// that timed out.
    #[must_use]
    pub fn retry(mut self, retry: RetryOptions) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Few, quick retries: for tests and local fakes.
    #[must_use]
    pub fn quick_retries(self) -> Self {
        self.retry(RetryOptions::fixed(FixedRetryOptions {
            delay: azure_core::time::Duration::milliseconds(50),
            max_retries: 2,
            max_total_elapsed: azure_core::time::Duration::seconds(10),
        }))
    }

    /// How long-running operations are awaited (60 minutes, polls from 1 s to 30 s, unless set).
    /// The deadline also bounds each poll.
    #[must_use]
    pub fn waiter(mut self, waiter: Waiter) -> Self {
        self.waiter = waiter;
        self
    }

    /// The time limits of each request ([`Timeouts::default`] unless set):
    /// `connect` for a connection, `attempt` for one try (answer and body),
    /// `operation` for one request with all its retries. A long-running
    /// operation after its first answer is bounded by [`ArmClientBuilder::waiter`].
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Check the settings and build the client. No request is made.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `subscription_id` (not a GUID) or `endpoint`
    /// (not an http(s) URL; plain HTTP only to a loopback address).
    pub fn build(self) -> Result<ArmClient> {
        check_guid("subscription_id", &self.subscription_id)?;
        let rule = "an https URL such as https://management.azure.com (plain http only to a loopback address)";
        let base = Url::parse(self.endpoint.trim_end_matches('/')).map_err(|e| {
            Error::invalid(
                "endpoint",
                format!("{:?} is not a URL: {e}", self.endpoint),
                rule,
            )
        })?;
        let ok = base.query().is_none()
            && base.host_str().is_some()
            && (base.scheme() == "https" || (base.scheme() == "http" && is_loopback(&base)));
        if !ok {
            return Err(Error::invalid(
                "endpoint",
                format!("{:?} is not allowed", self.endpoint),
                rule,
            ));
        }
        let scope = format!("{PUBLIC_ENDPOINT}/.default");
        let options = ClientOptions {
            retry: self.retry.unwrap_or_default(),
            transport: Some(crate::timeouts::transport(&self.timeouts, None)),
            ..ClientOptions::default()
        };
        let auth: Arc<dyn Policy> = Arc::new(BearerPolicy {
            credential: self.credential,
            scope,
            origin: base.origin().ascii_serialization(),
        });
        let pipeline = Pipeline::new(
            option_env!("CARGO_PKG_NAME"),
            option_env!("CARGO_PKG_VERSION"),
            options,
            Vec::new(),
            vec![auth],
            None,
        );
        Ok(ArmClient {
            inner: Arc::new(Inner {
                base,
                subscription_id: self.subscription_id.to_ascii_lowercase(),
                pipeline,
                waiter: self.waiter,
                timeouts: self.timeouts,
                created: Mutex::new(HashSet::new()),
            }),
        })
    }
}

/// A client of Azure Resource Manager for one subscription. Cheap to clone.
#[derive(Clone)]
pub struct ArmClient {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) base: Url,
    subscription_id: String,
    pipeline: Pipeline,
    pub(super) waiter: Waiter,
    timeouts: Timeouts,
    /// Resources this client created that ARM may not show yet (role
    /// assignments replicate for a while after their 201): lower-case paths.
    created: Mutex<HashSet<String>>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.base.as_str())
            .field("subscription_id", &self.inner.subscription_id)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

/// What one call was about: for errors and waits.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The kind of resource (`resource group`, `postgres server`).
    pub kind: &'static str,
    /// Its name.
    pub name: &'a str,
}

pub(super) fn provider_error(operation: &str, message: String) -> Error {
    Error::Provider {
        provider: PROVIDER,
        operation: operation.to_owned(),
        message,
        retryable: false,
        source: None,
    }
}

impl ArmClient {
    /// A builder for `subscription_id`, signing in with `credential` (for
    /// example [`crate::credential::ServicePrincipal::token_credential`]).
    pub fn builder(
        subscription_id: impl Into<String>,
        credential: Arc<dyn TokenCredential>,
    ) -> ArmClientBuilder {
        ArmClientBuilder {
            subscription_id: subscription_id.into(),
            credential,
            endpoint: PUBLIC_ENDPOINT.to_owned(),
            retry: None,
            waiter: Waiter::provisioning(),
            timeouts: Timeouts::default(),
        }
    }

    /// The subscription (lowercase).
    pub fn subscription_id(&self) -> &str {
        &self.inner.subscription_id
    }

    /// The time limits of each request.
    pub fn timeouts(&self) -> Timeouts {
        self.inner.timeouts
    }

    /// `/subscriptions/{id}`.
    pub fn subscription_path(&self) -> String {
        format!("/subscriptions/{}", self.inner.subscription_id)
    }

    /// `/subscriptions/{id}/resourceGroups/{group}`.
    pub fn group_path(&self, group: &str) -> String {
        format!("{}/resourceGroups/{group}", self.subscription_path())
    }

    /// The URL of `path` on the endpoint, with `api-version`.
    pub(super) fn url(&self, path: &str, api_version: Option<&str>) -> Url {
        let mut url = self.inner.base.clone();
        url.set_path(&format!(
            "{}{path}",
            self.inner.base.path().trim_end_matches('/')
        ));
        if let Some(v) = api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        url
    }

    /// A polling URL from an `Azure-AsyncOperation` or `Location` header:
    /// refused unless it is on the endpoint's own scheme, host and port (the
    /// bearer token goes nowhere else).
    pub(super) fn polling_url(&self, header: &str, value: &str) -> Result<Url> {
        let url = Url::parse(value)
            .or_else(|_| self.inner.base.join(value))
            .map_err(|e| provider_error("poll", format!("bad `{header}` polling URL: {e}")))?;
        if url.origin() != self.inner.base.origin() {
            return Err(provider_error(
                "poll",
                format!(
                    "refused the `{header}` polling URL on {}: the bearer token is sent to the Resource Manager endpoint {} only",
                    url.origin().ascii_serialization(),
                    self.inner.base.origin().ascii_serialization()
                ),
            ));
        }
        Ok(url)
    }

    pub(super) fn remember_created(&self, path: &str) {
        if let Ok(mut created) = self.inner.created.lock() {
            created.insert(path.to_ascii_lowercase());
        }
    }

    pub(super) fn was_created(&self, path: &str) -> bool {
        self.inner
            .created
            .lock()
            .is_ok_and(|c| c.contains(&path.to_ascii_lowercase()))
    }

    /// Send one request; answers the response whatever its status (the
    /// pipeline has already retried throttling, 5xx and timed-out attempts).
    /// `bound` caps the whole request (the operation limit, or less when a
    /// waiter's deadline is nearer).
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
        target: Target<'_>,
        bound: Option<Duration>,
    ) -> Result<RawResponse> {
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            let bytes = serde_json::to_vec(body)
                .map_err(|e| provider_error(operation, format!("serializing the body: {e}")))?;
            request.set_body(bytes::Bytes::from(bytes));
        }
        tracing::debug!(
            operation,
            kind = target.kind,
            name = target.name,
            "ARM request"
        );
        let options = PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        let limit = bound.map_or(self.inner.timeouts.operation, |b| {
            b.min(self.inner.timeouts.operation)
        });
        let started = Instant::now();
        let what = || {
            format!(
                "an answer to {operation} of {} {}",
                target.kind, target.name
            )
        };
        let sent = tokio::time::timeout(
            limit,
            self.inner
                .pipeline
                .send(&Context::new(), &mut request, Some(options)),
        )
        .await
        .map_err(|_| Error::Timeout {
            what: what(),
            elapsed: started.elapsed(),
            last_state: format!("no answer within the limit of {limit:?}"),
        })?;
        sent.map_err(|e| match crate::timeouts::attempt_timeout(&e) {
            Some(attempt) => Error::Timeout {
                what: what(),
                elapsed: started.elapsed(),
                last_state: format!("every attempt got no whole answer within {attempt:?}"),
            },
            None => crate::error::from_azure(
                crate::error::Call {
                    provider: PROVIDER,
                    operation,
                    kind: target.kind,
                    name: target.name,
                },
                e,
            ),
        })
    }

    /// The core error of a failed ARM response; the one place where ARM
    /// answers become core errors.
    ///
    /// 404 is `NotFound`, 409 `Conflict`, 429 `Throttled`, 401/403
    /// `Unauthorized`, 5xx a retryable `Provider` error, anything else a
    /// `Provider` error carrying the ARM error code and message.
    pub(super) fn error_of(response: &RawResponse, operation: &str, target: Target<'_>) -> Error {
        let status = u16::from(response.status());
        let body = body_json(response);
        let code = body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("");
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("");
        let text = crate::error::redact(&format!("HTTP {status} {code}: {message}"));
        let source = || {
            Some(Box::new(Redacted::of(&std::io::Error::other(text.clone())))
                as deploy_core::BoxError)
        };
        match status {
            404 => Error::not_found(target.kind, target.name),
            409 => Error::conflict(target.kind, target.name, text),
            429 => Error::Throttled {
                provider: PROVIDER,
                message: text.clone(),
                source: source(),
            },
            401 | 403 => Error::Unauthorized {
                provider: PROVIDER,
                message: text.clone(),
                source: source(),
            },
            _ => Error::Provider {
                provider: PROVIDER,
                operation: operation.to_owned(),
                message: text.clone(),
                retryable: status >= 500 || status == 408,
                source: source(),
            },
        }
    }

    /// GET a resource; `None` when it does not exist (404).
    ///
    /// # Errors
    /// Any other failure, as a core error.
    pub async fn get(
        &self,
        path: &str,
        api_version: &str,
        target: Target<'_>,
    ) -> Result<Option<Value>> {
        let response = self
            .send(
                Method::Get,
                self.url(path, Some(api_version)),
                None,
                "GET",
                target,
                None,
            )
            .await?;
        match u16::from(response.status()) {
            200 => Ok(Some(body_json(&response))),
            404 => Ok(None),
            _ => Err(Self::error_of(&response, "GET", target)),
        }
    }

    /// GET a resource and deserialize it; `None` when it does not exist.
    ///
    /// # Errors
    /// As [`ArmClient::get`], and a `Provider` error for a body of another shape.
    pub async fn get_as<T: DeserializeOwned>(
        &self,
        path: &str,
        api_version: &str,
        target: Target<'_>,
    ) -> Result<Option<T>> {
        self.get(path, api_version, target)
            .await?
            .map(|v| {
                serde_json::from_value(v).map_err(|e| {
                    provider_error(
                        "GET",
                        format!("{} {}: unexpected body: {e}", target.kind, target.name),
                    )
                })
            })
            .transpose()
    }

    /// PUT a resource and wait until its provisioning ends; answers the resource.
    ///
    /// # Errors
    /// A core error for a failed answer; [`Error::Conflict`] when the
    /// operation ends `Failed` or `Canceled`; [`Error::Timeout`].
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &impl Serialize,
        target: Target<'_>,
    ) -> Result<Value> {
        self.mutate(Method::Put, path, api_version, body, target)
            .await
    }

    /// PATCH a resource and wait until its provisioning ends; answers the resource.
    ///
    /// # Errors
    /// As [`ArmClient::put`].
    pub async fn patch(
        &self,
        path: &str,
        api_version: &str,
        body: &impl Serialize,
        target: Target<'_>,
    ) -> Result<Value> {
        self.mutate(Method::Patch, path, api_version, body, target)
            .await
    }

    async fn mutate(
        &self,
        method: Method,
        path: &str,
        api_version: &str,
        body: &impl Serialize,
        target: Target<'_>,
    ) -> Result<Value> {
        let operation = if method == Method::Put {
            "PUT"
        } else {
            "PATCH"
        };
        let body = serde_json::to_value(body)
            .map_err(|e| provider_error(operation, format!("serializing the body: {e}")))?;
        let response = self
            .send(
                method,
                self.url(path, Some(api_version)),
                Some(&body),
                operation,
                target,
                None,
            )
            .await?;
        let status = u16::from(response.status());
        if !(200..300).contains(&status) {
            return Err(Self::error_of(&response, operation, target));
        }
        match self
            .finish(&response, path, api_version, target, Finish::Resource)
            .await?
        {
            Some(resource) => Ok(resource),
            None => self
                .get(path, api_version, target)
                .await?
                .ok_or_else(|| Error::not_found(target.kind, target.name)),
        }
    }

    /// DELETE a resource and wait until it is gone; a missing resource is not an error.
    ///
    /// # Errors
    /// A core error for a failed answer or operation; [`Error::Timeout`].
    pub async fn delete(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<()> {
        let response = self
            .send(
                Method::Delete,
                self.url(path, Some(api_version)),
                None,
                "DELETE",
                target,
                None,
            )
            .await?;
        match u16::from(response.status()) {
            200 | 204 | 404 => Ok(()),
            201 | 202 => self
                .finish(&response, path, api_version, target, Finish::Gone)
                .await
                .map(|_| ()),
            _ => Err(Self::error_of(&response, "DELETE", target)),
        }
    }

    /// POST an action (`listClusterUserCredential`) without a body and answer its body.
    ///
    /// # Errors
    /// A core error for a failed answer.
    pub async fn post(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<Value> {
        let response = self
            .send(
                Method::Post,
                self.url(path, Some(api_version)),
                None,
                "POST",
                target,
                None,
            )
            .await?;
        match u16::from(response.status()) {
            200..=299 => Ok(body_json(&response)),
            _ => Err(Self::error_of(&response, "POST", target)),
        }
    }

    /// POST a long-running action (a flexible server's `start`) without a body
    /// and wait until it ends.
    ///
    /// # Errors
    /// As [`ArmClient::put`].
    pub async fn post_action(
        &self,
        path: &str,
        api_version: &str,
        target: Target<'_>,
    ) -> Result<()> {
        let response = self
            .send(
                Method::Post,
                self.url(path, Some(api_version)),
                None,
                "POST",
                target,
                None,
            )
            .await?;
        match u16::from(response.status()) {
            200 | 204 => Ok(()),
            201 | 202 => self
                .finish(&response, path, api_version, target, Finish::Action)
                .await
                .map(|_| ()),
            _ => Err(Self::error_of(&response, "POST", target)),
        }
    }
}
