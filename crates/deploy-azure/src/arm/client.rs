//! [`ArmClient`]: its builder (pipeline with the bearer token to the Resource
//! Manager host only, retries, time limits), its paths and URLs. The verbs are
//! in `http`, long-running operations in `lro`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::Policy;
use azure_core::http::{ClientOptions, FixedRetryOptions, Pipeline, RetryOptions, Url};
use deploy_core::timeouts::Timeouts;
use deploy_core::{Error, Result, Waiter};
use serde_json::Value;

use super::bearer::{BearerPolicy, is_loopback};
use super::names::check_guid;

/// The provider name in errors.
pub const PROVIDER: &str = "azure-arm";

/// The public cloud's Resource Manager endpoint.
pub const PUBLIC_ENDPOINT: &str = "https://management.azure.com";

/// The Entra token scope of the Resource Manager at `endpoint`: its origin
/// and `/.default`, the form every Azure cloud's ARM audience takes
/// (`https://management.azure.com/.default`,
/// `https://management.usgovcloudapi.net/.default`,
/// `https://management.chinacloudapi.cn/.default`). An Azure Stack Hub's ARM
/// audience is not its endpoint: set it with [`ArmClientBuilder::token_scope`].
///
/// ```
/// use deploy_azure::arm::arm_scope;
/// assert_eq!(arm_scope("https://management.usgovcloudapi.net/").unwrap(), "https://management.usgovcloudapi.net/.default");
/// assert_eq!(arm_scope("https://management.azure.com").unwrap(), "https://management.azure.com/.default");
/// assert_eq!(arm_scope("management.azure.com").unwrap_err().invalid_field(), Some("endpoint"));
/// ```
///
/// # Errors
/// [`Error::InvalidInput`] on `endpoint` when it is not an http(s) URL.
pub fn arm_scope(endpoint: &str) -> Result<String> {
    let url = Url::parse(endpoint).map_err(|e| Error::invalid("endpoint", format!("{endpoint:?} is not a URL: {e}"), "an https URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(Error::invalid("endpoint", format!("{endpoint:?} is not an http(s) URL"), "an https URL"));
    }
    Ok(format!("{}/.default", url.origin().ascii_serialization()))
}

/// Builds an [`ArmClient`].
#[derive(Debug)]
pub struct ArmClientBuilder {
    subscription_id: String,
    credential: Arc<dyn TokenCredential>,
    endpoint: String,
    token_scope: Option<String>,
    retry: Option<RetryOptions>,
    waiter: Waiter,
    timeouts: Timeouts,
    ignored_tags: Vec<String>,
}

impl ArmClientBuilder {
    deploy_core::setters! {
        /// The Resource Manager endpoint ([`PUBLIC_ENDPOINT`] unless set); an
        /// `http://127.0.0.1:PORT` fake for tests. The bearer token goes to this
        /// endpoint's scheme, host and port only.
        pub fn endpoint(endpoint: impl Into<String>);

        /// The scope the bearer token is asked for ([`arm_scope`] of the
        /// endpoint unless set): for an Azure Stack Hub, whose ARM audience its
        /// metadata endpoint names.
        pub fn token_scope(Some(token_scope): impl Into<String>);

        /// The retry policy of each request (the SDK's exponential default unless set);
        /// it retries 429 and 5xx answers, honouring `Retry-After`, and attempts
        /// that timed out.
        pub fn retry(Some(retry): RetryOptions);
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

    deploy_core::setters! {
        /// How long-running operations are awaited (60 minutes, polls from 1 s to 30 s, unless set).
        /// The deadline also bounds each poll.
        pub fn waiter(waiter: Waiter);

        /// The time limits of each request ([`Timeouts::default`] unless set):
        /// `connect` for a connection, `attempt` for one try (answer and body),
        /// `operation` for one request with all its retries. A long-running
        /// operation after its first answer is bounded by [`ArmClientBuilder::waiter`].
        pub fn timeouts(timeouts: Timeouts);
    }

    /// Leave tag `key` out of every resource this client reads (matched
    /// case-insensitively, as Azure matches tag names): a tag that another
    /// system puts on resources (Azure Policy's `modify` effect adding
    /// `CreatedOnDate` or a tag inherited from the resource group, a cost
    /// tool) is then never a change to plan or write. A write this client makes
    /// for another change does not carry it: a Policy that adds it adds it to
    /// that write as well; a tag another tool set once is gone after it. A
    /// spec that sets an ignored tag itself is refused (field `tags`).
    #[must_use]
    pub fn ignore_tag(mut self, key: impl Into<String>) -> Self {
        self.ignored_tags.push(key.into());
        self
    }

    /// Check the settings and build the client. No request is made.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `subscription_id` (not a GUID), `endpoint`
    /// (not an http(s) URL; plain HTTP only to a loopback address) or
    /// `ignore_tag` (not a tag name Azure takes).
    pub fn build(self) -> Result<ArmClient> {
        check_guid("subscription_id", &self.subscription_id)?;
        for key in &self.ignored_tags {
            if key.is_empty() || key.chars().count() > 512 || key.contains(['<', '>', '%', '&', '\\', '?', '/']) {
                return Err(Error::invalid(
                    "ignore_tag",
                    format!("{key:?} is not a tag name"),
                    "1 to 512 characters, none of < > % & \\ ? /",
                ));
            }
        }
        let rule = "an https URL such as https://management.azure.com (plain http only to a loopback address)";
        let base = Url::parse(self.endpoint.trim_end_matches('/'))
            .map_err(|e| Error::invalid("endpoint", format!("{:?} is not a URL: {e}", self.endpoint), rule))?;
        let ok = base.query().is_none()
            && base.host_str().is_some()
            && (base.scheme() == "https" || (base.scheme() == "http" && is_loopback(&base)));
        if !ok {
            return Err(Error::invalid("endpoint", format!("{:?} is not allowed", self.endpoint), rule));
        }
        let scope = match self.token_scope {
            Some(scope) if scope.is_empty() || scope.chars().any(char::is_whitespace) => {
                return Err(Error::invalid(
                    "token_scope",
                    format!("{scope:?}"),
                    "one scope, such as https://management.azure.com/.default",
                ));
            }
            Some(scope) => scope,
            None => format!("{}/.default", base.origin().ascii_serialization()),
        };
        let options = ClientOptions {
            retry: self.retry.unwrap_or_default(),
            transport: Some(crate::timeouts::transport(&self.timeouts, None)),
            ..ClientOptions::default()
        };
        let auth: Arc<dyn Policy> =
            Arc::new(BearerPolicy { credential: self.credential, scope, origin: base.origin().ascii_serialization() });
        let pipeline =
            Pipeline::new(option_env!("CARGO_PKG_NAME"), option_env!("CARGO_PKG_VERSION"), options, Vec::new(), vec![auth], None);
        Ok(ArmClient {
            inner: Arc::new(Inner {
                base,
                subscription_id: self.subscription_id.to_ascii_lowercase(),
                pipeline,
                waiter: self.waiter,
                timeouts: self.timeouts,
                created: Mutex::new(HashMap::new()),
                mutating: AtomicUsize::new(0),
                ignored_tags: self.ignored_tags.iter().map(|k| k.to_lowercase()).collect(),
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
    pub(super) pipeline: Pipeline,
    pub(super) waiter: Waiter,
    pub(super) timeouts: Timeouts,
    /// Resources this client created that ARM may not show yet (role
    /// assignments replicate for a while after their 201), by lower-case path.
    created: Mutex<HashMap<String, Value>>,
    /// The mutating requests sent ([`ArmClient::mutating_requests`]).
    pub(super) mutating: AtomicUsize,
    /// Tag names left out of what is read ([`ArmClientBuilder::ignore_tag`]), lower-case.
    ignored_tags: Vec<String>,
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
    Error::Provider { provider: PROVIDER, operation: operation.to_owned(), message, retryable: false, source: None }
}

impl ArmClient {
    /// A builder for `subscription_id`, signing in with `credential` (for
    /// example [`crate::credential::ServicePrincipal::token_credential`]).
    pub fn builder(subscription_id: impl Into<String>, credential: Arc<dyn TokenCredential>) -> ArmClientBuilder {
        ArmClientBuilder {
            subscription_id: subscription_id.into(),
            credential,
            endpoint: PUBLIC_ENDPOINT.to_owned(),
            token_scope: None,
            retry: None,
            waiter: Waiter::provisioning(),
            timeouts: Timeouts::default(),
            ignored_tags: Vec::new(),
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

    /// The id of resource `name` of type `provider_type`
    /// (`Microsoft.Network/virtualNetworks`) in `group`.
    pub fn resource_id(&self, group: &str, provider_type: &str, name: &str) -> String {
        format!("{}/providers/{provider_type}/{name}", self.group_path(group))
    }

    /// The URL of `path` on the endpoint, with `api-version`.
    pub(super) fn url(&self, path: &str, api_version: Option<&str>) -> Url {
        let mut url = self.inner.base.clone();
        url.set_path(&format!("{}{path}", self.inner.base.path().trim_end_matches('/')));
        if let Some(v) = api_version {
            url.query_pairs_mut().append_pair("api-version", v);
        }
        url
    }

    /// A polling URL from an `Azure-AsyncOperation` or `Location` header:
    /// refused unless it is on the endpoint's own scheme, host and port (the
    /// bearer token goes nowhere else).
    pub(super) fn polling_url(&self, header: &str, value: &str) -> Result<Url> {
        self.endpoint_url("poll", &format!("`{header}` polling"), value)
    }

    /// A URL ARM answered (a polling header, a listing's `nextLink`) for
    /// `operation`: refused unless it is on the endpoint's own scheme, host
    /// and port.
    pub(super) fn endpoint_url(&self, operation: &str, what: &str, value: &str) -> Result<Url> {
        let url = Url::parse(value)
            .or_else(|_| self.inner.base.join(value))
            .map_err(|e| provider_error(operation, format!("bad {what} URL: {e}")))?;
        if url.origin() != self.inner.base.origin() {
            return Err(provider_error(
                operation,
                format!(
                    "refused the {what} URL on {}: the bearer token is sent to the Resource Manager endpoint {} only",
                    url.origin().ascii_serialization(),
                    self.inner.base.origin().ascii_serialization()
                ),
            ));
        }
        Ok(url)
    }

    /// Refuse a spec that sets a tag this client ignores: it would never match
    /// what is read, and every run would write it again.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `tags`.
    pub(super) fn check_tags_not_ignored<'a>(&self, tags: impl IntoIterator<Item = &'a String>) -> Result<()> {
        match tags.into_iter().find(|key| self.inner.ignored_tags.contains(&key.to_lowercase())) {
            Some(key) => Err(Error::invalid(
                "tags",
                format!("sets `{key}`, a tag this client ignores (ArmClientBuilder::ignore_tag)"),
                "set a tag in the spec, or ignore it as another system's, not both",
            )),
            None => Ok(()),
        }
    }

    /// `resource` as read, without the tags this client ignores.
    pub(super) fn without_ignored_tags(&self, mut resource: Value) -> Value {
        if let Some(tags) = resource.get_mut("tags").and_then(Value::as_object_mut) {
            tags.retain(|key, _| !self.inner.ignored_tags.contains(&key.to_lowercase()));
        }
        resource
    }

    /// Remember `resource`, just created at `path`, for the reads that may not
    /// show it yet (role assignments replicate for a while after their 201).
    pub(super) fn remember_created(&self, path: &str, resource: &Value) {
        if let Ok(mut created) = self.inner.created.lock() {
            created.insert(path.to_ascii_lowercase(), resource.clone());
        }
    }

    /// The resource this client created at `path`, if it did.
    pub(super) fn created(&self, path: &str) -> Option<Value> {
        self.inner.created.lock().ok().and_then(|c| c.get(&path.to_ascii_lowercase()).cloned())
    }

    /// The mutating requests (PUT, PATCH, DELETE, POST of a long-running
    /// action) this client and its clones sent so far: each counted once,
    /// whatever its retries and polls. Reads (GET, `listClusterUserCredential`) are not counted.
    pub fn mutating_requests(&self) -> usize {
        self.inner.mutating.load(Ordering::Relaxed)
    }

    /// Forget the resource this client created at `path` (it was deleted).
    pub(super) fn forget_created(&self, path: &str) {
        if let Ok(mut created) = self.inner.created.lock() {
            created.remove(&path.to_ascii_lowercase());
        }
    }
}
