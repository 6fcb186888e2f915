//! The one place where AWS SDK errors become [`deploy_core::Error`]s, for
//! every service of this crate.
//!
//! A failed call is classified by its error code and HTTP status
//! ([`classify`]), then turned into the matching variant with the kind and
//! name of the resource the call was about:
//!
//! | class | codes (and statuses) |
//! | --- | --- |
//! | [`Error::NotFound`] | `NoSuch*`, `*NotFound`, `*NotFoundFault`, `*NotFoundException`, `NotFound`, 404 |
//! | [`Error::AlreadyExists`] | `*AlreadyExists*`, `BucketAlreadyOwnedByYou`, `ResourceExistsException` |
//! | [`Error::Conflict`] | `Invalid*State*`, `*Conflict*`, `*InUse*`, `BucketNotEmpty`, `HostedZoneNotEmpty`, `OperationAborted`, `DependencyViolation`, 409 |
//! | [`Error::Throttled`] | `SlowDown`, `Throttling*`, `TooManyRequests*`, `RequestLimitExceeded`, ..., 429, 503 |
//! | [`Error::Unauthorized`] | `AccessDenied*`, `InvalidClientTokenId`, `SignatureDoesNotMatch`, `ExpiredToken*`, ..., 401, 403 |
//! | [`Error::PreconditionFailed`] | `PreconditionFailed`, 412: a conditional request (`If-Match`, `x-amz-copy-source-if-match`, `If-None-Match`) found another object |
//! | [`Error::Timeout`] | the SDK's timeout error: an operation (or its last attempt, after the SDK's own retries) got no answer in time; not retryable, so callers do not multiply the bound |
//! | [`Error::Provider`] | everything else; retryable for 5xx, `InternalError`-like codes and dispatch (connection) failures |
//!
//! The SDK retries throttling and transient errors itself (its retry config
//! comes from the caller's `SdkConfig`); what reaches this module is what is
//! left after those retries. The SDK error is kept as the `source`.

use std::error::Error as StdError;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use deploy_core::{BoxError, Error, Result};

/// How an AWS error is classified; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The resource does not exist.
    NotFound,
    /// The resource exists already.
    AlreadyExists,
    /// The resource is in a state that does not allow the operation.
    Conflict,
    /// Slow down.
    Throttled,
    /// Credentials missing, wrong, or lacking a permission.
    Unauthorized,
    /// A transient failure of the service: trying again may succeed.
    Retryable,
    /// Anything else: trying again will not help.
    Other,
}

const NOT_FOUND: &[&str] = &["NotFound", "NoSuchEntity", "ResourceNotFound"];
const ALREADY_EXISTS: &[&str] = &["BucketAlreadyOwnedByYou", "ResourceExistsException", "EntityAlreadyExists"];
const CONFLICT: &[&str] =
    &["BucketNotEmpty", "OperationAborted", "DependencyViolation", "DeleteConflict", "IncorrectState", "HostedZoneNotEmpty"];
const THROTTLED: &[&str] = &[
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];
const UNAUTHORIZED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
    "UnauthorizedOperation",
    "NotAuthorized",
    "MissingAuthenticationToken",
    "InvalidToken",
    "AllAccessDisabled",
];
const RETRYABLE: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "KMSInternalException",
    "ServiceException",
    "ServerException",
];

/// Classify an AWS error by its code (the `Code` of the error response) and
/// HTTP status. The code wins over the status; a missing code (responses to
/// `HEAD` have no body) falls back to the status.
///
/// ```
/// use deploy_aws::{ErrorClass, classify};
/// assert_eq!(classify(Some("NoSuchBucket"), Some(404)), ErrorClass::NotFound);
/// assert_eq!(classify(Some("DBInstanceNotFound"), Some(404)), ErrorClass::NotFound);
/// assert_eq!(classify(Some("SlowDown"), Some(503)), ErrorClass::Throttled);
/// assert_eq!(classify(None, Some(503)), ErrorClass::Throttled);
/// assert_eq!(classify(Some("InvalidDBInstanceState"), Some(400)), ErrorClass::Conflict);
/// assert_eq!(classify(None, Some(500)), ErrorClass::Retryable);
/// ```
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorClass {
    if let Some(class) = code.filter(|c| !c.is_empty()).and_then(classify_code) {
        return class;
    }
    match status {
        Some(404) => ErrorClass::NotFound,
        Some(409) => ErrorClass::Conflict,
        Some(429 | 503) => ErrorClass::Throttled,
        Some(401 | 403) => ErrorClass::Unauthorized,
        Some(s) if s >= 500 => ErrorClass::Retryable,
        _ => ErrorClass::Other,
    }
}

fn classify_code(code: &str) -> Option<ErrorClass> {
    let is = |list: &[&str]| list.contains(&code);
    if is(THROTTLED) || code.starts_with("Throttl") || code.starts_with("TooManyRequests") {
        return Some(ErrorClass::Throttled);
    }
    if is(UNAUTHORIZED) || code.starts_with("AccessDenied") {
        return Some(ErrorClass::Unauthorized);
    }
    if is(NOT_FOUND)
        || code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundFault")
        || code.ends_with("NotFoundException")
        || code.ends_with("NotFoundError")
    {
        return Some(ErrorClass::NotFound);
    }
    if is(ALREADY_EXISTS) || code.contains("AlreadyExists") {
        return Some(ErrorClass::AlreadyExists);
    }
    let invalid_state = code.starts_with("Invalid") && code.contains("State");
    if is(CONFLICT) || invalid_state || code.contains("Conflict") || code.contains("InUse") || code.contains("InvalidState") {
        return Some(ErrorClass::Conflict);
    }
    if is(RETRYABLE) || code.starts_with("Internal") {
        return Some(ErrorClass::Retryable);
    }
    None
}

/// An AWS operation: the service (as it appears in errors, `aws-s3`) and the
/// operation's name (`CreateBucket`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The service, `aws-` and its short name.
    pub service: &'static str,
    /// The operation's name.
    pub operation: &'static str,
}

impl Op {
    /// `operation` of `service`.
    pub const fn new(service: &'static str, operation: &'static str) -> Self {
        Op { service, operation }
    }
}

/// The error code of a failed call, when the service sent one.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    err.code()
}

/// The HTTP status of a failed call, when a response arrived.
pub fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Turn a failed SDK call of `op` on the resource `kind` `name` into a
/// [`deploy_core::Error`]; see the [module docs](self) for the mapping.
pub fn map_sdk_error<E>(err: SdkError<E, HttpResponse>, op: Op, kind: &'static str, name: &str) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let status = http_status(&err);
    // The cause chain without the raw response (which the SDK's Debug would print whole).
    let cause = StdError::source(&err).map_or_else(|| err.to_string(), |s| DisplayErrorContext(s).to_string());
    match &err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {}
        SdkError::TimeoutError(_) => {
            return Error::Timeout {
                what: format!("{} {} of {kind} `{name}`", op.service, op.operation),
                elapsed: timeout_after(&cause),
                last_state: format!("no answer ({cause})"),
            };
        }
        SdkError::DispatchFailure(failure) => {
            let retryable = !failure.is_user();
            return provider(op, format!("the request could not be sent: {cause}"), retryable, err);
        }
        SdkError::ConstructionFailure(_) => {
            return provider(op, format!("the request could not be built: {cause}"), false, err);
        }
        _ => {}
    }
    let code = err.code().map(str::to_owned);
    if status == Some(412) || code.as_deref() == Some("PreconditionFailed") {
        let condition = err.message().map_or_else(|| "a condition of the request does not hold".to_owned(), str::to_owned);
        return Error::precondition(kind, name, format!("{}: {condition}", op.operation));
    }
    let message = match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => match status {
            Some(s) => format!("HTTP {s}: {cause}"),
            None => cause,
        },
    };
    match classify(code.as_deref(), status) {
        ErrorClass::NotFound => Error::not_found(kind, name),
        ErrorClass::AlreadyExists => Error::already_exists(kind, name),
        ErrorClass::Conflict => Error::conflict(kind, name, format!("{} refused: {message}", op.operation)),
        ErrorClass::Throttled => Error::Throttled { provider: op.service, message, source: Some(boxed(err)) },
        ErrorClass::Unauthorized => Error::Unauthorized { provider: op.service, message, source: Some(boxed(err)) },
        ErrorClass::Retryable => provider(op, message, true, err),
        ErrorClass::Other => {
            let retryable = matches!(err, SdkError::ResponseError(_)) && status.is_some_and(|s| s >= 500);
            provider(op, message, retryable, err)
        }
    }
}

/// The duration in the SDK's timeout message (`... timeout occurred after 250ms`), or zero.
fn timeout_after(cause: &str) -> std::time::Duration {
    let Some(text) = cause.split("after ").nth(1) else { return std::time::Duration::ZERO };
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == 'µ')).unwrap_or(text.len());
    let text = &text[..end];
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Ok(n) = number.parse::<f64>() else { return std::time::Duration::ZERO };
    let seconds = match unit {
        "s" => n,
        "ms" => n / 1e3,
        "µs" | "us" => n / 1e6,
        "ns" => n / 1e9,
        _ => return std::time::Duration::ZERO,
    };
    std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

fn boxed<E>(err: SdkError<E, HttpResponse>) -> BoxError
where
    E: StdError + Send + Sync + 'static,
{
    Box::new(err)
}

fn provider<E>(op: Op, message: String, retryable: bool, err: SdkError<E, HttpResponse>) -> Error
where
    E: StdError + Send + Sync + 'static,
{
    Error::Provider { provider: op.service, operation: op.operation.to_owned(), message, retryable, source: Some(boxed(err)) }
}

/// [`map_sdk_error`] on results.
pub trait SdkResultExt<T> {
    /// Map the error of a call of `op` on the resource `kind` `name`.
    ///
    /// # Errors
    /// The mapped error.
    fn on(self, op: Op, kind: &'static str, name: &str) -> Result<T>;

    /// As [`SdkResultExt::on`], with [`Error::NotFound`] answered as `Ok(None)`.
    ///
    /// # Errors
    /// Every other mapped error.
    fn found(self, op: Op, kind: &'static str, name: &str) -> Result<Option<T>>;
}

impl<T, E> SdkResultExt<T> for std::result::Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn on(self, op: Op, kind: &'static str, name: &str) -> Result<T> {
        self.map_err(|e| map_sdk_error(e, op, kind, name))
    }

    fn found(self, op: Op, kind: &'static str, name: &str) -> Result<Option<T>> {
        match self.on(op, kind, name) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A request could not be built (a required field was missing): a bug of this
/// crate rather than of the caller's input, reported as a provider error.
#[cfg_attr(not(any(feature = "s3", feature = "kms", feature = "iam", feature = "backup", feature = "route53")), allow(dead_code))] // used by the services, each behind a feature
pub(crate) fn build_error(op: Op, err: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::Provider {
        provider: op.service,
        operation: op.operation.to_owned(),
        message: format!("the request could not be built: {err}"),
        retryable: false,
        source: Some(Box::new(err)),
    }
}

/// An answer of the service that lacks a field this crate needs.
#[cfg_attr(not(any(feature = "s3", feature = "secrets", feature = "route53", feature = "cloudwatch")), allow(dead_code))]
pub(crate) fn missing(op: Op, what: &str) -> Error {
    Error::Provider {
        provider: op.service,
        operation: op.operation.to_owned(),
        message: format!("the response has no {what}"),
        retryable: false,
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// A service error as the SDK builds one from a response.
    #[derive(Debug)]
    struct FakeServiceError(ErrorMetadata);

    impl std::fmt::Display for FakeServiceError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "service error {:?}", self.0.code())
        }
    }

    impl StdError for FakeServiceError {}

    impl ProvideErrorMetadata for FakeServiceError {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: Option<&str>, status: u16) -> SdkError<FakeServiceError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("the message");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let response = HttpResponse::new(StatusCode::try_from(status).expect("status"), SdkBody::empty());
        SdkError::service_error(FakeServiceError(meta.build()), response)
    }

    const OP: Op = Op::new("aws-test", "DoThing");

    fn map(code: Option<&str>, status: u16) -> Error {
        map_sdk_error(service_error(code, status), OP, "widget", "w1")
    }

    #[test]
    fn codes_of_every_service_are_classified() {
        let cases: &[(&str, u16, ErrorClass)] = &[
            ("NoSuchBucket", 404, ErrorClass::NotFound),
            ("NoSuchKey", 404, ErrorClass::NotFound),
            ("NoSuchEntity", 404, ErrorClass::NotFound),
            ("ResourceNotFoundException", 400, ErrorClass::NotFound),
            ("NotFoundException", 400, ErrorClass::NotFound),
            ("DBInstanceNotFound", 404, ErrorClass::NotFound),
            ("DBSnapshotNotFound", 404, ErrorClass::NotFound),
            ("DBSubnetGroupNotFoundFault", 404, ErrorClass::NotFound),
            ("BucketAlreadyExists", 409, ErrorClass::AlreadyExists),
            ("BucketAlreadyOwnedByYou", 409, ErrorClass::AlreadyExists),
            ("ResourceExistsException", 400, ErrorClass::AlreadyExists),
            ("EntityAlreadyExists", 409, ErrorClass::AlreadyExists),
            ("DBInstanceAlreadyExists", 400, ErrorClass::AlreadyExists),
            ("AlreadyExistsException", 400, ErrorClass::AlreadyExists),
            ("InvalidDBInstanceState", 400, ErrorClass::Conflict),
            ("InvalidDBSnapshotState", 400, ErrorClass::Conflict),
            ("KMSInvalidStateException", 400, ErrorClass::Conflict),
            ("BucketNotEmpty", 409, ErrorClass::Conflict),
            ("DeleteConflict", 409, ErrorClass::Conflict),
            ("HostedZoneNotEmpty", 400, ErrorClass::Conflict),
            ("ResourceInUseException", 409, ErrorClass::Conflict),
            ("SlowDown", 503, ErrorClass::Throttled),
            ("Throttling", 400, ErrorClass::Throttled),
            ("ThrottlingException", 400, ErrorClass::Throttled),
            ("TooManyRequestsException", 429, ErrorClass::Throttled),
            ("RequestLimitExceeded", 503, ErrorClass::Throttled),
            ("AccessDenied", 403, ErrorClass::Unauthorized),
            ("AccessDeniedException", 400, ErrorClass::Unauthorized),
            ("InvalidClientTokenId", 403, ErrorClass::Unauthorized),
            ("SignatureDoesNotMatch", 403, ErrorClass::Unauthorized),
            ("InternalError", 500, ErrorClass::Retryable),
            ("InternalFailure", 500, ErrorClass::Retryable),
            ("ValidationException", 400, ErrorClass::Other),
            ("InvalidParameterValue", 400, ErrorClass::Other),
            ("MalformedPolicyDocument", 400, ErrorClass::Other),
        ];
        for (code, status, class) in cases {
            assert_eq!(classify(Some(code), Some(*status)), *class, "{code} {status}");
        }
    }

    #[test]
    fn statuses_decide_when_there_is_no_code() {
        assert_eq!(classify(None, Some(404)), ErrorClass::NotFound);
        assert_eq!(classify(None, Some(409)), ErrorClass::Conflict);
        assert_eq!(classify(None, Some(429)), ErrorClass::Throttled);
        assert_eq!(classify(None, Some(503)), ErrorClass::Throttled);
        assert_eq!(classify(None, Some(403)), ErrorClass::Unauthorized);
        assert_eq!(classify(None, Some(500)), ErrorClass::Retryable);
        assert_eq!(classify(None, Some(502)), ErrorClass::Retryable);
        assert_eq!(classify(None, Some(400)), ErrorClass::Other);
        assert_eq!(classify(Some(""), Some(404)), ErrorClass::NotFound);
    }

    #[test]
    fn service_errors_map_to_core_variants_with_kind_and_name() {
        assert!(matches!(map(Some("NoSuchKey"), 404), Error::NotFound { kind: "widget", ref name } if name == "w1"));
        assert!(matches!(map(None, 404), Error::NotFound { .. }));
        assert!(matches!(map(Some("EntityAlreadyExists"), 409), Error::AlreadyExists { kind: "widget", .. }));
        let conflict = map(Some("InvalidDBInstanceState"), 400);
        assert!(
            matches!(&conflict, Error::Conflict { reason, .. } if reason.contains("DoThing") && reason.contains("the message")),
            "{conflict}"
        );
        let throttled = map(Some("SlowDown"), 503);
        assert!(matches!(&throttled, Error::Throttled { provider: "aws-test", .. }), "{throttled:?}");
        assert!(throttled.is_retryable());
        assert!(StdError::source(&throttled).is_some(), "the SDK error is kept as the source");
        assert!(matches!(map(None, 503), Error::Throttled { .. }));
        assert!(matches!(map(Some("AccessDenied"), 403), Error::Unauthorized { .. }));
        assert!(matches!(map(None, 403), Error::Unauthorized { .. }));
        let internal = map(Some("InternalError"), 500);
        assert!(matches!(&internal, Error::Provider { retryable: true, operation, .. } if operation == "DoThing"));
        let bad = map(Some("ValidationException"), 400);
        assert!(matches!(&bad, Error::Provider { retryable: false, message, .. } if message == "ValidationException: the message"));
        assert!(!bad.is_retryable());
    }

    #[test]
    fn timeouts_are_not_retryable_and_name_the_call_dispatch_failures_are() {
        let timeout: SdkError<FakeServiceError, HttpResponse> =
            SdkError::timeout_error("operation timeout (all attempts including retries) occurred after 2.5s");
        let e = map_sdk_error(timeout, OP, "widget", "w1");
        assert!(
            matches!(&e, Error::Timeout { what, elapsed, .. } if what.contains("DoThing") && what.contains("w1") && *elapsed == std::time::Duration::from_millis(2500)),
            "{e:?}"
        );
        assert!(!e.is_retryable(), "a whole operation's timeout retried by the caller multiplies the bound");
        assert_eq!(timeout_after("occurred after 250ms"), std::time::Duration::from_millis(250));
        assert_eq!(timeout_after("no duration"), std::time::Duration::ZERO);
        let precondition = map(Some("PreconditionFailed"), 412);
        assert!(precondition.is_precondition_failed() && !precondition.is_retryable(), "{precondition:?}");
        let failure = aws_smithy_runtime_api::client::result::ConnectorError::io("connection refused".into());
        let dispatch: SdkError<FakeServiceError, HttpResponse> = SdkError::dispatch_failure(failure);
        let e = map_sdk_error(dispatch, OP, "widget", "w1");
        assert!(matches!(&e, Error::Provider { retryable: true, message, .. } if message.contains("connection refused")), "{e:?}");
        let construction: SdkError<FakeServiceError, HttpResponse> = SdkError::construction_failure("missing field");
        assert!(!map_sdk_error(construction, OP, "widget", "w1").is_retryable());
    }
}
