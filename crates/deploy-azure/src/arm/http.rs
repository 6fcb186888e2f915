//! The verbs of [`ArmClient`] (GET, PUT, PATCH, DELETE, POST of JSON at an
//! api-version), each request bounded by the operation limit, and the one
//! place where ARM answers become core errors ([`ArmClient`]'s `error_of`).

use std::time::Instant;

use azure_core::http::{Context, Method, PipelineSendOptions, RawResponse, Request, Url};
use deploy_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::{ArmClient, PROVIDER, Target, provider_error};
use super::lro::{Finish, body_json, error_of_document};
use crate::error::Redacted;

/// The operation name of `method` in errors and logs.
fn operation(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
        _ => "POST",
    }
}

impl ArmClient {
    /// Send one request; answers the response whatever its status (the
    /// pipeline has already retried throttling, 5xx and timed-out attempts).
    /// The operation limit caps the whole request, its retries included.
    pub(super) async fn send(
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
            let bytes = serde_json::to_vec(body).map_err(|e| provider_error(operation, format!("serializing the body: {e}")))?;
            request.set_body(bytes::Bytes::from(bytes));
        }
        tracing::debug!(operation, kind = target.kind, name = target.name, "ARM request");
        let options = PipelineSendOptions { skip_checks: true, ..Default::default() };
        let limit = self.inner.timeouts.operation;
        let started = Instant::now();
        let what = || format!("an answer to {operation} of {} {}", target.kind, target.name);
        let sent =
            tokio::time::timeout(limit, self.inner.pipeline.send(&Context::new(), &mut request, Some(options))).await.map_err(|_| {
                Error::Timeout { what: what(), elapsed: started.elapsed(), last_state: format!("no answer within the limit of {limit:?}") }
            })?;
        sent.map_err(|e| match crate::timeouts::attempt_timeout(&e) {
            Some(attempt) => Error::Timeout {
                what: what(),
                elapsed: started.elapsed(),
                last_state: format!("every attempt got no whole answer within {attempt:?}"),
            },
            None => crate::error::from_azure(crate::error::Call { provider: PROVIDER, operation, kind: target.kind, name: target.name }, e),
        })
    }

    /// [`ArmClient::send`] of `method` to `path` at `api_version`.
    async fn call(&self, method: Method, path: &str, api_version: &str, body: Option<&Value>, target: Target<'_>) -> Result<RawResponse> {
        let operation = operation(&method);
        self.send(method, self.url(path, Some(api_version)), body, operation, target).await
    }

    /// The core error of a failed ARM response; the one place where ARM
    /// answers become core errors.
    ///
    /// 404 is `NotFound`, 409 `Conflict`, 429 `Throttled`, 401/403
    /// `Unauthorized`, 5xx a retryable `Provider` error, anything else a
    /// `Provider` error carrying the ARM error code and message.
    pub(super) fn error_of(response: &RawResponse, operation: &str, target: Target<'_>) -> Error {
        let status = u16::from(response.status());
        let document = body_json(response);
        let (code, message) = error_of_document(&document);
        let text = crate::error::redact(&format!("HTTP {status} {code}: {message}"));
        let source = || Some(Box::new(Redacted::of(&std::io::Error::other(text.clone()))) as deploy_core::BoxError);
        match status {
            404 => Error::not_found(target.kind, target.name),
            409 => Error::conflict(target.kind, target.name, text),
            429 => Error::Throttled { provider: PROVIDER, message: text.clone(), source: source() },
            401 | 403 => Error::Unauthorized { provider: PROVIDER, message: text.clone(), source: source() },
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
    pub async fn get(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<Option<Value>> {
        let response = self.call(Method::Get, path, api_version, None, target).await?;
        match u16::from(response.status()) {
            200 => Ok(Some(self.without_ignored_tags(body_json(&response)))),
            404 => Ok(None),
            _ => Err(Self::error_of(&response, "GET", target)),
        }
    }

    /// GET every item (`value`) of the collection at `path`, with ARM's
    /// `$filter` when given, following each `nextLink` (on the endpoint's own
    /// origin only; a link back to a page already read is an error, not a loop).
    ///
    /// # Errors
    /// As [`ArmClient::get`]; a 404 of the collection is `NotFound`.
    pub async fn list(&self, path: &str, api_version: &str, filter: Option<&str>, target: Target<'_>) -> Result<Vec<Value>> {
        let mut url = self.url(path, Some(api_version));
        if let Some(filter) = filter {
            url.query_pairs_mut().append_pair("$filter", filter);
        }
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            if !seen.insert(url.to_string()) {
                return Err(provider_error("GET", format!("{} {}: the listing's `nextLink` repeats a page", target.kind, target.name)));
            }
            let response = self.send(Method::Get, url, None, "GET", target).await?;
            if u16::from(response.status()) != 200 {
                return Err(Self::error_of(&response, "GET", target));
            }
            let mut page = body_json(&response);
            if let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) {
                items.extend(values.into_iter().map(|item| self.without_ignored_tags(item)));
            }
            match page.get("nextLink").and_then(Value::as_str).filter(|next| !next.is_empty()) {
                Some(next) => url = self.endpoint_url("GET", "`nextLink`", next)?,
                None => return Ok(items),
            }
        }
    }

    /// GET a resource and deserialize it; `None` when it does not exist.
    ///
    /// # Errors
    /// As [`ArmClient::get`], and a `Provider` error for a body of another shape.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<Option<T>> {
        self.get(path, api_version, target)
            .await?
            .map(|v| {
                serde_json::from_value(v)
                    .map_err(|e| provider_error("GET", format!("{} {}: unexpected body: {e}", target.kind, target.name)))
            })
            .transpose()
    }

    /// PUT a resource and wait until its provisioning ends; answers the resource.
    ///
    /// # Errors
    /// A core error for a failed answer; [`Error::Conflict`] when the
    /// operation ends `Failed` or `Canceled`; [`Error::Timeout`].
    pub async fn put(&self, path: &str, api_version: &str, body: &impl Serialize, target: Target<'_>) -> Result<Value> {
        self.mutate(Method::Put, path, api_version, body, target).await
    }

    /// PATCH a resource and wait until its provisioning ends; answers the resource.
    ///
    /// # Errors
    /// As [`ArmClient::put`].
    pub async fn patch(&self, path: &str, api_version: &str, body: &impl Serialize, target: Target<'_>) -> Result<Value> {
        self.mutate(Method::Patch, path, api_version, body, target).await
    }

    async fn mutate(&self, method: Method, path: &str, api_version: &str, body: &impl Serialize, target: Target<'_>) -> Result<Value> {
        let operation = operation(&method);
        let body = serde_json::to_value(body).map_err(|e| provider_error(operation, format!("serializing the body: {e}")))?;
        self.count_mutating();
        let response = self.call(method, path, api_version, Some(&body), target).await?;
        if !(200..300).contains(&u16::from(response.status())) {
            return Err(Self::error_of(&response, operation, target));
        }
        match self.finish(&response, path, api_version, target, Finish::Resource).await? {
            Some(resource) => Ok(resource),
            None => self.get(path, api_version, target).await?.ok_or_else(|| Error::not_found(target.kind, target.name)),
        }
    }

    /// DELETE a resource and wait until it is gone; a missing resource is not an error.
    ///
    /// # Errors
    /// A core error for a failed answer or operation; [`Error::Timeout`].
    pub async fn delete(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<()> {
        self.count_mutating();
        let response = self.call(Method::Delete, path, api_version, None, target).await?;
        match u16::from(response.status()) {
            200 | 204 | 404 => Ok(()),
            201 | 202 => self.finish(&response, path, api_version, target, Finish::Gone).await.map(|_| ()),
            _ => Err(Self::error_of(&response, "DELETE", target)),
        }
    }

    /// POST an action (`listClusterUserCredential`) without a body and answer its body.
    ///
    /// # Errors
    /// A core error for a failed answer.
    pub async fn post(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<Value> {
        let response = self.call(Method::Post, path, api_version, None, target).await?;
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
    pub async fn post_action(&self, path: &str, api_version: &str, target: Target<'_>) -> Result<()> {
        self.count_mutating();
        let response = self.call(Method::Post, path, api_version, None, target).await?;
        match u16::from(response.status()) {
            200 | 204 => Ok(()),
            201 | 202 => self.finish(&response, path, api_version, target, Finish::Action).await.map(|_| ()),
            _ => Err(Self::error_of(&response, "POST", target)),
        }
    }

    fn count_mutating(&self) {
        self.inner.mutating.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
