//! The one place where errors of the Azure SDK crates become [`deploy_core::Error`]s.
//!
//! Every message that leaves this crate goes through [`redact`] first: the
//! SDK's errors may quote a request URL, and a URL of a SAS-authenticated
//! store carries the signature (`sig=`) in its query.

use std::fmt;

use azure_core::error::ErrorKind;
use deploy_core::Error;

/// Replace the values of secret-bearing query parameters and headers in `text`
/// (`sig=`, `Authorization: Bearer ...`, `client_secret=`) with `REDACTED`.
pub(crate) fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for marker in ["sig=", "client_secret=", "Bearer ", "access_token\":\""] {
        let mut from = 0;
        while let Some(found) = out[from..].to_ascii_lowercase().find(&marker.to_ascii_lowercase()) {
            let start = from + found + marker.len();
            let end = out[start..]
                .find(|c: char| c == '&' || c == '"' || c == '\'' || c == ',' || c == ')' || c.is_whitespace())
                .map_or(out.len(), |n| start + n);
            if end > start {
                out.replace_range(start..end, "REDACTED");
            }
            from = start + "REDACTED".len().min(out.len() - start);
        }
    }
    out
}

/// The redacted text of an error and its whole `source()` chain, kept as the
/// `source` of a core error instead of the SDK error itself (whose `Display`
/// may quote a signed URL).
#[derive(Debug)]
pub(crate) struct Redacted(String);

impl Redacted {
    pub(crate) fn of(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Redacted(redact(&text))
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Redacted {}

/// What a failed call was about, for the error it becomes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    /// `azure-blob`, `azure-arm`, `azure-keyvault`.
    pub provider: &'static str,
    /// The operation (`PutBlob`, `CreateOrUpdate storage account`).
    pub operation: &'a str,
    /// The kind of resource a 404 means is missing (`object`, `bucket`, `resource group`).
    pub kind: &'static str,
    /// Its name.
    pub name: &'a str,
}

/// The storage service's error code of an HTTP error (`ContainerNotFound`).
pub(crate) fn error_code(e: &azure_core::Error) -> Option<&str> {
    match e.kind() {
        ErrorKind::HttpResponse { error_code, .. } => error_code.as_deref(),
        _ => None,
    }
}

/// Map an `azure_core` error of a data-plane call (Blob, Key Vault).
///
/// An attempt that got no whole answer within its time limit (the ARM and Key
/// Vault transports') is [`Error::Timeout`].
/// 404 is `NotFound` (of a `bucket` for `ContainerNotFound`, else of
/// `call.kind`), 409 `AlreadyExists` for `*AlreadyExists` codes and
/// `Conflict` otherwise, 401/403 `Unauthorized`, 429 and 503 `Throttled`,
/// other 5xx and connection failures retryable `Provider` errors.
pub(crate) fn from_azure(call: Call<'_>, e: azure_core::Error) -> Error {
    #[cfg(any(feature = "arm", feature = "keyvault"))]
    if let Some(attempt) = crate::timeouts::attempt_timeout(&e) {
        return Error::Timeout {
            what: format!("an answer to {} of {} {}", call.operation, call.kind, call.name),
            elapsed: attempt,
            last_state: format!("the last attempt got no whole answer within {attempt:?}"),
        };
    }
    let source = Some(Box::new(Redacted::of(&e)) as deploy_core::BoxError);
    let code = error_code(&e).map(str::to_owned);
    let message = redact(&match &code {
        Some(code) => format!("{code}: {e}"),
        None => e.to_string(),
    });
    match e.kind() {
        ErrorKind::HttpResponse { status, .. } => {
            let status = u16::from(*status);
            from_status(call, status, code.as_deref(), message, source)
        }
        ErrorKind::Connection | ErrorKind::Io => {
            Error::Provider { provider: call.provider, operation: call.operation.to_owned(), message, retryable: true, source }
        }
        ErrorKind::Credential => Error::Unauthorized { provider: call.provider, message, source },
        _ => Error::Provider { provider: call.provider, operation: call.operation.to_owned(), message, retryable: false, source },
    }
}

/// The core error for an HTTP status and service error code.
pub(crate) fn from_status(
    call: Call<'_>,
    status: u16,
    code: Option<&str>,
    message: String,
    source: Option<deploy_core::BoxError>,
) -> Error {
    match status {
        404 => match code {
            Some("ContainerNotFound") => Error::not_found("bucket", call.name.split('/').next().unwrap_or(call.name)),
            _ => Error::not_found(call.kind, call.name),
        },
        409 if code.is_some_and(|c| c.ends_with("AlreadyExists")) => Error::already_exists(call.kind, call.name),
        409 | 412 => Error::conflict(call.kind, call.name, message),
        401 | 403 => Error::Unauthorized { provider: call.provider, message, source },
        429 | 503 => Error::Throttled { provider: call.provider, message, source },
        _ => Error::Provider {
            provider: call.provider,
            operation: call.operation.to_owned(),
            message,
            retryable: status >= 500 || status == 408,
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_signatures_and_tokens() {
        let text = "GET http://127.0.0.1:1/acct/c?sv=2020-12-06&sig=abc%2Bdef%3D&se=x failed; Authorization: Bearer eyJ.abc.def, client_secret=s3cr3t";
        let out = redact(text);
        assert!(!out.contains("abc%2Bdef"), "{out}");
        assert!(!out.contains("eyJ"), "{out}");
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(out.contains("sig=REDACTED&se=x"), "{out}");
        assert_eq!(redact("no secrets here"), "no secrets here");
        assert_eq!(redact("sig="), "sig=");
    }
}
