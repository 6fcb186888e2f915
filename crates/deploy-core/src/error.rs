//! The one cloud-neutral error type of `deploy`.
//!
//! Every backend maps its provider's errors into [`Error`] in exactly one place,
//! so callers match on the same variants whatever the cloud.

use std::time::Duration;

/// A boxed error kept as the `source` of a wrapping variant.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `deploy`, classified so that callers can
/// decide what to do ([`Error::is_retryable`]) without knowing the cloud.
///
/// No variant ever carries a secret value: validation of passwords names the
/// rule that was broken, never the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The resource does not exist.
    #[error("{kind} `{name}` not found")]
    NotFound {
        /// What kind of resource (`bucket`, `object`, `database`, ...).
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The resource exists already and the operation would create it.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists {
        /// What kind of resource.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// Input was rejected before any request was made.
    #[error("invalid {field}: {problem} (rule: {rule})")]
    InvalidInput {
        /// The field that was rejected, dotted from the outermost spec (`production.bucket.name`).
        field: String,
        /// What is wrong with the value (never the value itself when it is secret).
        problem: String,
        /// The rule that the value breaks.
        rule: String,
    },
    /// The resource is in a state that does not allow the operation.
    #[error("conflict on {kind} `{name}`: {reason}")]
    Conflict {
        /// What kind of resource.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Why the operation conflicts.
        reason: String,
    },
    /// Deletion protection is on for the resource.
    #[error("{kind} `{name}` has deletion protection on; turn it off first")]
    DeletionProtected {
        /// What kind of resource.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A destructive operation on data was called without the matching confirmation value.
    #[error("{action} destroys data: pass Confirm::new(\"{expected}\") to confirm")]
    ConfirmationRequired {
        /// What would have been done.
        action: String,
        /// The value that confirms it (the resource's name).
        expected: String,
    },
    /// The backend cannot honour a field of the spec.
    #[error("{backend} does not support {field}: {reason}")]
    NotSupported {
        /// The backend (`memory`, `aws-s3`, `azure-blob`, ...).
        backend: &'static str,
        /// The field or operation.
        field: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The provider asked us to slow down.
    #[error("throttled by {provider}: {message}")]
    Throttled {
        /// The provider.
        provider: &'static str,
        /// Its message.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// A whole operation or wait ran past its deadline (every retry of it
    /// included): not retryable, so that a caller's retries do not multiply
    /// the bound. A single attempt that times out and is retried by the
    /// client is a retryable [`Error::Provider`] instead.
    #[error("timed out after {elapsed:?} waiting for {what}; last state seen: {last_state}")]
    Timeout {
        /// What was awaited (`database prod-db to be available`).
        what: String,
        /// How long was waited.
        elapsed: Duration,
        /// The last state observed before the deadline.
        last_state: String,
    },
    /// Credentials are missing, wrong or lack a permission.
    #[error("unauthorized by {provider}: {message}")]
    Unauthorized {
        /// The provider.
        provider: &'static str,
        /// Its message.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// A verification of copied or restored data failed.
    #[error("verification of {what} failed: {detail}")]
    Verification {
        /// What was verified.
        what: String,
        /// What did not match.
        detail: String,
    },
    /// A conditional request was refused: the object is not the one the
    /// request was conditional on (another ETag or version, or it exists when
    /// it should not). Not retryable: the caller decides what to do with the
    /// changed object.
    #[error("{kind} `{name}` changed: {condition}")]
    PreconditionFailed {
        /// What kind of resource (`object`).
        kind: &'static str,
        /// Its name (`bucket/key`).
        name: String,
        /// The condition that failed (`If-Match "abc"`).
        condition: String,
    },
    /// Any other provider error.
    #[error("{provider} {operation} failed: {message}")]
    Provider {
        /// The provider.
        provider: &'static str,
        /// The operation (`CreateBucket`).
        operation: String,
        /// The provider's message.
        message: String,
        /// Whether trying again may succeed (5xx, connection reset).
        retryable: bool,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// Whether trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } => true,
            Error::Provider { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// An [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>, rule: impl Into<String>) -> Self {
        Error::InvalidInput { field: field.into(), problem: problem.into(), rule: rule.into() }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> Self {
        Error::NotFound { kind, name: name.into() }
    }

    /// An [`Error::AlreadyExists`].
    pub fn already_exists(kind: &'static str, name: impl Into<String>) -> Self {
        Error::AlreadyExists { kind, name: name.into() }
    }

    /// An [`Error::Conflict`].
    pub fn conflict(kind: &'static str, name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Conflict { kind, name: name.into(), reason: reason.into() }
    }

    /// An [`Error::NotSupported`].
    pub fn not_supported(backend: &'static str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::NotSupported { backend, field: field.into(), reason: reason.into() }
    }

    /// Prefix the field of an [`Error::InvalidInput`] with the path of the spec that
    /// holds it (`bucket` inside `production` becomes `production.bucket`); other
    /// variants are returned unchanged.
    #[must_use]
    pub fn in_field(self, parent: &str) -> Self {
        match self {
            Error::InvalidInput { field, problem, rule } if !parent.is_empty() => {
                Error::InvalidInput { field: if field.is_empty() { parent.to_owned() } else { format!("{parent}.{field}") }, problem, rule }
            }
            other => other,
        }
    }

    /// An [`Error::PreconditionFailed`].
    pub fn precondition(kind: &'static str, name: impl Into<String>, condition: impl Into<String>) -> Self {
        Error::PreconditionFailed { kind, name: name.into(), condition: condition.into() }
    }

    /// Whether this is [`Error::PreconditionFailed`].
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Error::PreconditionFailed { .. })
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// The field of an [`Error::InvalidInput`].
    pub fn invalid_field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Adds [`Error::in_field`] and [`ResultExt::found`] to results.
pub trait ResultExt<T> {
    /// Prefix the field of an [`Error::InvalidInput`] with `parent`.
    fn in_field(self, parent: &str) -> Result<T>;

    /// [`Error::NotFound`] as `Ok(None)`: a read of something that may not exist.
    ///
    /// # Errors
    /// Every other error.
    fn found(self) -> Result<Option<T>>;
}

impl<T> ResultExt<T> for Result<T> {
    fn in_field(self, parent: &str) -> Result<T> {
        self.map_err(|e| e.in_field(parent))
    }

    fn found(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The explicit confirmation that a destructive operation on data needs: the
/// name of the resource it destroys, as a person would type it.
///
/// ```
/// use deploy_core::Confirm;
/// let confirm = Confirm::new("prod-assets");
/// assert!(confirm.check("delete bucket", "prod-assets").is_ok());
/// assert!(confirm.check("delete bucket", "prod-backup").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirm(String);

impl Confirm {
    /// Confirm the destruction of the resource named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Confirm(name.into())
    }

    /// Confirm everything whose name starts with `prefix` (used by teardown of an environment).
    pub fn prefix(prefix: impl Into<String>) -> Self {
        Confirm(format!("{}*", prefix.into()))
    }

    /// `Ok` if this confirms `name`, else [`Error::ConfirmationRequired`] for `action`.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] when the value does not match.
    pub fn check(&self, action: &str, name: &str) -> Result<()> {
        let ok = match self.0.strip_suffix('*') {
            Some(prefix) => !prefix.is_empty() && name.starts_with(prefix),
            None => self.0 == name,
        };
        if ok { Ok(()) } else { Err(Error::ConfirmationRequired { action: format!("{action} `{name}`"), expected: name.to_owned() }) }
    }

    /// The confirmation to pass on for `name`, when this one covers it (a prefix
    /// confirmation covers every name it starts); otherwise itself, which the
    /// callee will refuse.
    pub fn for_name(&self, name: &str) -> Confirm {
        if self.check("", name).is_ok() { Confirm(name.to_owned()) } else { self.clone() }
    }

    /// Check an optional confirmation: `None` is always refused.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] when missing or not matching.
    pub fn require(confirm: Option<&Confirm>, action: &str, name: &str) -> Result<()> {
        match confirm {
            Some(c) => c.check(action, name),
            None => Err(Error::ConfirmationRequired { action: format!("{action} `{name}`"), expected: name.to_owned() }),
        }
    }
}
