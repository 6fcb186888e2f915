//! A small Azure Resource Manager client over `azure_core`'s pipeline, and the
//! resources of the Vectice Azure runbook as typed, idempotent calls.
//!
//! - [`ArmClient`]: bearer token from a [`TokenCredential`] (scope
//!   `https://management.azure.com/.default`), a base URL that tests and
//!   examples override (`--arm-endpoint`), PUT/PATCH/GET/DELETE/POST of JSON
//!   with the api-version of each resource type, long-running operations
//!   (201/202, `Azure-AsyncOperation`, `Location`, `Retry-After`,
//!   `provisioningState`) awaited through the core [`Waiter`], and ARM error
//!   bodies (`{"error":{"code","message"}}`) mapped to the core error in one
//!   place ([`ArmClient`]'s `error_of`).
//! - Resources, one module each: [`group`] (resource groups), [`storage`]
//!   (storage account, blob versioning, container), [`network`] (virtual
//!   network, delegated subnet, peering both ways), [`dns`] (Private DNS zone
//!   and virtual-network link), [`postgres`] (flexible server as the core
//!   [`deploy_core::Database`], its databases, point-in-time restore), [`aks`]
//!   (managed cluster as the core [`deploy_core::Cluster`]), [`role`] (role assignments) and [`lock`]
//!   (management locks, the flexible server's deletion protection).
//!
//! Every `ensure_*` reads the resource first and sends a PUT only when it is
//! missing or differs from the spec: a second `ensure_*` makes no PUT. Every
//! `plan_*` does the reads only.
//!
//! Request and response shapes follow the public Azure REST API specifications
//! (`Azure/azure-rest-api-specs`) at the api-versions in [`api`].

pub mod aks;
pub mod dns;
pub mod group;
pub mod lock;
pub mod network;
pub mod postgres;

pub mod role;
pub mod storage;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::PipelineSendOptions;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    ClientOptions, Context, FixedRetryOptions, Method, Pipeline, RawResponse, Request,
    RetryOptions, Url,
};
use deploy_core::{Error, Poll, Result, Waiter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Redacted;

/// The provider name in errors.
pub const PROVIDER: &str = "azure-arm";

/// The public cloud's Resource Manager endpoint.
pub const PUBLIC_ENDPOINT: &str = "https://management.azure.com";

/// The api-version of each resource type.
pub mod api {
    /// `Microsoft.Resources/resourceGroups`.
    pub const RESOURCE_GROUPS: &str = "2021-04-01";
    /// `Microsoft.Storage/storageAccounts` and its blob services and containers.
    pub const STORAGE: &str = "2023-05-01";
    /// `Microsoft.Network/virtualNetworks`, subnets and peerings.
    pub const NETWORK: &str = "2024-05-01";
    /// `Microsoft.Network/privateDnsZones` and virtual network links.
    pub const PRIVATE_DNS: &str = "2020-06-01";
    /// `Microsoft.DBforPostgreSQL/flexibleServers`, configurations and databases.
    pub const POSTGRES: &str = "2024-08-01";
    /// `Microsoft.ContainerService/managedClusters` and agent pools.
    pub const AKS: &str = "2024-09-01";
    /// `Microsoft.Authorization/roleAssignments`.
    pub const ROLE_ASSIGNMENTS: &str = "2022-04-01";
    /// `Microsoft.Authorization/locks`.
    pub const LOCKS: &str = "2020-05-01";
}

/// Sends `Authorization: Bearer` with a token for the management scope. Unlike
/// the SDK's policy it allows plain HTTP to a loopback address (a fake ARM
/// endpoint in tests and examples); never to anything else.
struct BearerPolicy {
    credential: Arc<dyn TokenCredential>,
    scope: String,
}

impl fmt::Debug for BearerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerPolicy")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

fn is_loopback(url: &Url) -> bool {
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
}

impl ArmClientBuilder {
    /// The Resource Manager endpoint ([`PUBLIC_ENDPOINT`] unless set); an
    /// `http://127.0.0.1:PORT` fake for tests.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The retry policy of each request (the SDK's exponential default unless set);
    /// it retries 429 and 5xx answers, honouring `Retry-After`.
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
    #[must_use]
    pub fn waiter(mut self, waiter: Waiter) -> Self {
        self.waiter = waiter;
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
            ..ClientOptions::default()
        };
        let auth: Arc<dyn Policy> = Arc::new(BearerPolicy {
            credential: self.credential,
            scope,
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
            }),
        })
    }
}

/// `value` is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
pub(crate) fn check_guid(field: &str, value: &str) -> Result<()> {
    let groups: Vec<&str> = value.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a GUID"),
            "a GUID: 8-4-4-4-12 hexadecimal digits",
        ))
    }
}

/// A client of Azure Resource Manager for one subscription. Cheap to clone.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    subscription_id: String,
    pipeline: Pipeline,
    waiter: Waiter,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.base.as_str())
            .field("subscription_id", &self.inner.subscription_id)
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

/// The terminal and non-terminal values of `provisioningState` / async operation `status`.
fn state_poll(state: &str) -> Poll<()> {
    match state.to_ascii_lowercase().as_str() {
        "succeeded" | "ready" => Poll::Ready(()),
        "failed" | "canceled" | "cancelled" => Poll::Failed(state.to_owned()),
        _ => Poll::Pending(state.to_owned()),
    }
}

/// Seconds of a `Retry-After` header (capped at a minute).
fn retry_after(response: &RawResponse) -> Option<Duration> {
    let value = response
        .headers()
        .get_optional_str(&HeaderName::from_static("retry-after"))?;
    value
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(60)))
}

fn header(response: &RawResponse, name: &'static str) -> Option<String> {
    response
        .headers()
        .get_optional_str(&HeaderName::from_static(name))
        .map(str::to_owned)
}

fn body_json(response: &RawResponse) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
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
            waiter: Waiter::new(Duration::from_secs(60 * 60))
                .with_delays(Duration::from_secs(1), Duration::from_secs(30)),
        }
    }

    /// The subscription (lowercase).
    pub fn subscription_id(&self) -> &str {
        &self.inner.subscription_id
    }

    /// `/subscriptions/{id}`.
    pub fn subscription_path(&self) -> String {
        format!("/subscriptions/{}", self.inner.subscription_id)
    }

    /// `/subscriptions/{id}/resourceGroups/{group}`.
    pub fn group_path(&self, group: &str) -> String {
        format!("{}/resourceGroups/{group}", self.subscription_path())
    }

    fn url(&self, path_or_url: &str, api_version: Option<&str>) -> Result<Url> {
        let mut url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            Url::parse(path_or_url).map_err(|e| Error::Provider {
                provider: PROVIDER,
                operation: "poll".into(),
                message: format!("bad polling URL: {e}"),
                retryable: false,
                source: None,
            })?
        } else {
            let mut url = self.inner.base.clone();
            url.set_path(&format!(
                "{}{path_or_url}",
                self.inner.base.path().trim_end_matches('/')
            ));
            url
        };
        if let Some(v) = api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        Ok(url)
    }

    /// Send one request; answers the response whatever its status (the
    /// pipeline has already retried throttling and 5xx).
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        operation: &str,
        target: Target<'_>,
    ) -> Result<RawResponse> {
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            let bytes = serde_json::to_vec(body).map_err(|e| Error::Provider {
                provider: PROVIDER,
                operation: operation.to_owned(),
                message: format!("serializing the body: {e}"),
                retryable: false,
                source: None,
            })?;
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
        self.inner
            .pipeline
            .send(&Context::new(), &mut request, Some(options))
            .await
            .map_err(|e| {
                crate::error::from_azure(
                    crate::error::Call {
                        provider: PROVIDER,
                        operation,
                        kind: target.kind,
                        name: target.name,
                    },
                    e,
                )
            })
    }

    /// The core error of a failed ARM response; the one place where ARM
    /// answers become core errors.
    ///
    /// 404 is `NotFound`, 409 `Conflict`, 429 `Throttled`, 401/403
    /// `Unauthorized`, 5xx a retryable `Provider` error, anything else a
    /// `Provider` error carrying the ARM error code and message.
    fn error_of(response: &RawResponse, operation: &str, target: Target<'_>) -> Error {
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
                self.url(path, Some(api_version))?,
                None,
                "GET",
                target,
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
            .map(|v| from_value(v, target))
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
        let body = serde_json::to_value(body).map_err(|e| Error::Provider {
            provider: PROVIDER,
            operation: operation.into(),
            message: format!("serializing the body: {e}"),
            retryable: false,
            source: None,
        })?;
        let response = self
            .send(
                method,
                self.url(path, Some(api_version))?,
                Some(&body),
                operation,
                target,
            )
            .await?;
        let status = u16::from(response.status());
        if !(200..300).contains(&status) {
            return Err(Self::error_of(&response, operation, target));
        }
        let resource = body_json(&response);
        let state = resource
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str);
        let done = status == 200 && state.is_none_or(|s| matches!(state_poll(s), Poll::Ready(())));
        if done {
            return Ok(resource);
        }
        if let Some(s) = state
            && let Poll::Failed(s) = state_poll(s)
        {
            return Err(Error::conflict(
                target.kind,
                target.name,
                format!("provisioning ended `{s}`"),
            ));
        }
        self.await_operation(&response, path, api_version, target)
            .await?;
        self.get(path, api_version, target)
            .await?
            .ok_or_else(|| Error::not_found(target.kind, target.name))
    }

    /// Follow a long-running operation: `Azure-AsyncOperation` (status
    /// document), else `Location` (202 until done), else the resource's own
    /// `provisioningState`; honours `Retry-After`.
    async fn await_operation(
        &self,
        first: &RawResponse,
        path: &str,
        api_version: &str,
        target: Target<'_>,
    ) -> Result<()> {
        let what = format!("{} {} to finish provisioning", target.kind, target.name);
        let async_op = header(first, "azure-asyncoperation");
        let location = header(first, "location");
        let delay = std::sync::Mutex::new(retry_after(first));
        self.inner
            .waiter
            .wait(&what, || async {
                if let Some(d) = delay.lock().map(|mut d| d.take()).unwrap_or(None) {
                    tokio::time::sleep(d).await;
                }
                let (url, kind) = match (&async_op, &location) {
                    (Some(op), _) => (self.url(op, None)?, Polling::AsyncOperation),
                    (None, Some(loc)) => (self.url(loc, None)?, Polling::Location),
                    (None, None) => (self.url(path, Some(api_version))?, Polling::Resource),
                };
                let response = self.send(Method::Get, url, None, "poll", target).await?;
                if let Ok(mut d) = delay.lock() {
                    *d = retry_after(&response);
                }
                let status = u16::from(response.status());
                match kind {
                    Polling::Location if status == 202 => Ok(Poll::Pending("accepted".into())),
                    Polling::Location if status == 404 || (200..300).contains(&status) => {
                        Ok(Poll::Ready(()))
                    }
                    _ if !(200..300).contains(&status) => {
                        Err(Self::error_of(&response, "poll", target))
                    }
                    Polling::AsyncOperation => {
                        let doc = body_json(&response);
                        let state = doc
                            .get("status")
                            .and_then(Value::as_str)
                            .unwrap_or("InProgress");
                        Ok(match state_poll(state) {
                            Poll::Failed(s) => {
                                let code = doc
                                    .pointer("/error/code")
                                    .and_then(Value::as_str)
                                    .unwrap_or("");
                                let message = doc
                                    .pointer("/error/message")
                                    .and_then(Value::as_str)
                                    .unwrap_or("");
                                Poll::Failed(crate::error::redact(&format!(
                                    "{s}: {code} {message}"
                                )))
                            }
                            other => other,
                        })
                    }
                    Polling::Resource | Polling::Location => {
                        let doc = body_json(&response);
                        Ok(doc
                            .pointer("/properties/provisioningState")
                            .and_then(Value::as_str)
                            .map_or(Poll::Ready(()), state_poll))
                    }
                }
            })
            .await
    }

    /// DELETE a resource and wait until it is gone; a missing resource is not an error.
    ///
    /// # Errors
    /// A core error for a failed answer or operation; [`Error::Timeout`].
    pub async fn delete(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<()> {
        let response = self
            .send(
                Method::Delete,
                self.url(path, Some(api_version))?,
                None,
                "DELETE",
                target,
            )
            .await?;
        match u16::from(response.status()) {
            200 | 204 | 404 => Ok(()),
            201 | 202 => {
                self.await_operation(&response, path, api_version, target)
                    .await
            }
            _ => Err(Self::error_of(&response, "DELETE", target)),
        }
    }

    /// POST an action (`listClusterUserCredential`) and answer its body.
    ///
    /// # Errors
    /// A core error for a failed answer.
    pub async fn post(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<Value> {
        let response = self
            .send(
                Method::Post,
                self.url(path, Some(api_version))?,
                Some(&Value::Object(Default::default())),
                "POST",
                target,
            )
            .await?;
        match u16::from(response.status()) {
            200..=299 => Ok(body_json(&response)),
            _ => Err(Self::error_of(&response, "POST", target)),
        }
    }
}

enum Polling {
    AsyncOperation,
    Location,
    Resource,
}

fn from_value<T: DeserializeOwned>(value: Value, target: Target<'_>) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Provider {
        provider: PROVIDER,
        operation: "GET".into(),
        message: format!("{} {}: unexpected body: {e}", target.kind, target.name),
        retryable: false,
        source: None,
    })
}

/// `value` at JSON `pointer` as a string.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The tags of an ARM resource.
pub(crate) fn tags_of(value: &Value) -> std::collections::BTreeMap<String, String> {
    value
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// An Azure resource name: 1 to `max` characters of letters, digits and `extra`,
/// starting with a letter or digit.
pub(crate) fn check_name(field: &str, value: &str, max: usize, extra: &str) -> Result<()> {
    let ok = (1..=max).contains(&value.len())
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a valid name"),
            format!(
                "1 to {max} characters: letters, digits and `{extra}`, starting with a letter or digit"
            ),
        ))
    }
}

/// An Azure location: lowercase letters and digits (`westeurope`).
pub(crate) fn check_location(value: &str) -> Result<()> {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "location",
            format!("{value:?} is not a location"),
            "an Azure region name such as westeurope: lowercase letters and digits",
        ))
    }
}

/// A full resource id (`/subscriptions/.../providers/...`).
pub(crate) fn check_resource_id(field: &str, value: &str) -> Result<()> {
    if value.starts_with("/subscriptions/")
        && value.contains("/providers/")
        && !value.contains(char::is_whitespace)
        && !value.contains("//")
    {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a resource id"),
            "a full resource id: /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}",
        ))
    }
}
