//! Long-running operations, as the specs' `x-ms-long-running-operation` and
//! `x-ms-long-running-operation-options` define them (ARM's async-operation
//! rules):
//!
//! - A PUT or PATCH answered 200 or 201 **without** `Azure-AsyncOperation` or
//!   `Location` is done when its body's `provisioningState` is absent or
//!   `Succeeded` (a role assignment is done at its synchronous 201); a
//!   non-terminal state is polled on the resource itself.
//! - `Azure-AsyncOperation` (preferred when both are given): GET the status
//!   document until `status` is terminal; `Failed`/`Canceled` carry its
//!   `error`. A PUT/PATCH then reads the resource (`final-state-via`
//!   `original-uri` / `azure-async-operation`), a DELETE is done.
//! - `Location`: GET it until the answer is not 202; 200/201/204 end the
//!   operation; any error status, **404 included**, is the operation's error
//!   (the operation URL must exist while the operation does).
//! - A DELETE answered 202 without either header is polled on the resource
//!   until it answers 404 (gone); any other error status is an error.
//! - `Retry-After` is honoured (capped at a minute); every polling URL must be
//!   on the endpoint's host ([`ArmClient`]'s `polling_url`); each poll is
//!   bounded by what is left of the waiter's deadline.

use std::time::Duration;

use azure_core::http::headers::HeaderName;
use azure_core::http::{Method, RawResponse};
use deploy_core::{Error, Poll, Result};
use serde_json::Value;

use super::client::{ArmClient, Target};

/// The terminal and non-terminal values of `provisioningState` / async operation `status`.
pub(super) fn state_poll(state: &str) -> Poll<()> {
    match state.to_ascii_lowercase().as_str() {
        "succeeded" | "ready" => Poll::Ready(()),
        "failed" | "canceled" | "cancelled" => Poll::Failed(state.to_owned()),
        _ => Poll::Pending(state.to_owned()),
    }
}

/// Seconds of a `Retry-After` header (capped at a minute).
fn retry_after(response: &RawResponse) -> Option<Duration> {
    let value = response.headers().get_optional_str(&HeaderName::from_static("retry-after"))?;
    value.trim().parse::<u64>().ok().map(|s| Duration::from_secs(s.min(60)))
}

fn header(response: &RawResponse, name: &'static str) -> Option<String> {
    response.headers().get_optional_str(&HeaderName::from_static(name)).map(str::to_owned)
}

pub(super) fn body_json(response: &RawResponse) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

/// The `error` `code` and `message` of an ARM error body or a failed operation's status document.
pub(super) fn error_of_document(doc: &Value) -> (&str, &str) {
    let text = |pointer: &str| doc.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    (text("/error/code"), text("/error/message"))
}

/// What ends an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Finish {
    /// A PUT or PATCH: the resource, read after the operation (or the answer itself when synchronous).
    Resource,
    /// A DELETE: the resource is gone.
    Gone,
    /// A POST action: the operation ended.
    Action,
}

enum Polling {
    AsyncOperation(azure_core::http::Url),
    Location(azure_core::http::Url),
    Resource,
}

impl ArmClient {
    /// Follow the operation that `first` started; answers the resource when
    /// `first` already holds the final one.
    pub(super) async fn finish(
        &self,
        first: &RawResponse,
        path: &str,
        api_version: &str,
        target: Target<'_>,
        finish: Finish,
    ) -> Result<Option<Value>> {
        let async_op = header(first, "azure-asyncoperation");
        let location = header(first, "location");
        let status = u16::from(first.status());
        if async_op.is_none() && location.is_none() && finish == Finish::Resource {
            let resource = body_json(first);
            match resource.pointer("/properties/provisioningState").and_then(Value::as_str).map(state_poll) {
                None | Some(Poll::Ready(())) if status != 202 => return Ok(Some(resource)),
                Some(Poll::Failed(s)) => {
                    return Err(Error::conflict(target.kind, target.name, format!("provisioning ended `{s}`")));
                }
                _ => {}
            }
        }
        let polling = match (async_op, location) {
            (Some(op), _) => Polling::AsyncOperation(self.polling_url("Azure-AsyncOperation", &op)?),
            (None, Some(loc)) => Polling::Location(self.polling_url("Location", &loc)?),
            (None, None) if finish == Finish::Action => {
                return Err(super::client::provider_error(
                    "poll",
                    format!("{} {}: 202 without a polling header", target.kind, target.name),
                ));
            }
            (None, None) => Polling::Resource,
        };
        self.poll(&polling, retry_after(first), path, api_version, target, finish).await?;
        Ok(None)
    }

    async fn poll(
        &self,
        polling: &Polling,
        first_delay: Option<Duration>,
        path: &str,
        api_version: &str,
        target: Target<'_>,
        finish: Finish,
    ) -> Result<()> {
        let waiter = &self.inner.waiter;
        let what = match finish {
            Finish::Gone => format!("{} {} to be deleted", target.kind, target.name),
            _ => format!("{} {} to finish provisioning", target.kind, target.name),
        };
        // The waiter's deadline bounds each poll (deploy_core::Waiter cuts a poll that outlives it),
        // the Retry-After sleep inside it included.
        let delay = std::sync::Mutex::new(first_delay);
        waiter
            .wait(&what, || async {
                if let Some(d) = delay.lock().map(|mut d| d.take()).unwrap_or(None) {
                    tokio::time::sleep(d).await;
                }
                let url = match polling {
                    Polling::AsyncOperation(url) | Polling::Location(url) => url.clone(),
                    Polling::Resource => self.url(path, Some(api_version)),
                };
                let response = self.send(Method::Get, url, None, "poll", target).await?;
                if let Ok(mut d) = delay.lock() {
                    *d = retry_after(&response);
                }
                let status = u16::from(response.status());
                match polling {
                    Polling::Location(_) => match status {
                        202 => Ok(Poll::Pending("accepted".into())),
                        200 | 201 | 204 => Ok(Poll::Ready(())),
                        _ => Err(Self::error_of(&response, "poll", target)),
                    },
                    Polling::Resource if finish == Finish::Gone => match status {
                        404 => Ok(Poll::Ready(())),
                        200 => Ok(match body_json(&response).pointer("/properties/provisioningState").and_then(Value::as_str) {
                            Some(s) if matches!(state_poll(s), Poll::Failed(_)) => Poll::Failed(s.to_owned()),
                            Some(s) => Poll::Pending(s.to_owned()),
                            None => Poll::Pending("deleting".into()),
                        }),
                        _ => Err(Self::error_of(&response, "poll", target)),
                    },
                    _ if !(200..300).contains(&status) => Err(Self::error_of(&response, "poll", target)),
                    Polling::AsyncOperation(_) => {
                        let doc = body_json(&response);
                        let state = doc.get("status").and_then(Value::as_str).unwrap_or("InProgress");
                        Ok(match state_poll(state) {
                            Poll::Failed(s) => {
                                let (code, message) = error_of_document(&doc);
                                Poll::Failed(crate::error::redact(&format!("{s}: {code} {message}")))
                            }
                            other => other,
                        })
                    }
                    Polling::Resource => {
                        let doc = body_json(&response);
                        Ok(doc.pointer("/properties/provisioningState").and_then(Value::as_str).map_or(Poll::Ready(()), state_poll))
                    }
                }
            })
            .await
    }
}
