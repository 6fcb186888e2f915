//! [`Timeouts`]: the time limits every backend puts on its requests, so that a
//! half-open connection or a server that never answers ends in a typed
//! [`Error::Timeout`](crate::Error::Timeout) instead of hanging a backup forever.
//!
//! Every backend applies [`Timeouts::default`] to the clients it builds and
//! takes the caller's own limits through a `with_timeouts` builder method.

use std::time::Duration;

/// Time limits of one backend's requests.
///
/// ```
/// use std::time::Duration;
/// use deploy_core::timeouts::Timeouts;
/// let t = Timeouts::default().with_attempt(Duration::from_secs(30));
/// assert_eq!(t.connect, Duration::from_secs(10));
/// assert!(t.attempt <= t.operation);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection (TCP and TLS). Default 10 s.
    pub connect: Duration,
    /// One attempt of one request: from sending it until its answer (headers,
    /// and for answers read whole, the body) has arrived. Default 2 min,
    /// enough for a server-side copy of a 5 GiB object.
    pub attempt: Duration,
    /// One whole operation, every retry included. Default 10 min.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(10), attempt: Duration::from_secs(120), operation: Duration::from_secs(600) }
    }
}

impl Timeouts {
    setters! {
        /// Set the connect limit.
        pub fn with_connect(connect: Duration);

        /// Set the per-attempt limit.
        pub fn with_attempt(attempt: Duration);

        /// Set the per-operation limit.
        pub fn with_operation(operation: Duration);
    }
}
