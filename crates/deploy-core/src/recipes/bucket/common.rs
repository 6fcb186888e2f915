//! What every step of the bucket recipes shares: where a bucket is, how
//! objects are copied, retries, the checks of common options, named keys
//! (a leaf: the steps import it, the recipes' root re-exports it).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::{Error, Result};
use crate::object_store::ObjectStore;
use crate::validate::{BucketName, ObjectKey};

/// A bucket in a store.
#[derive(Clone, Copy, Debug)]
pub struct Location<'a> {
    /// The store.
    pub store: &'a dyn ObjectStore,
    /// The bucket.
    pub bucket: &'a BucketName,
}

impl<'a> Location<'a> {
    /// `bucket` in `store`.
    pub fn new(store: &'a dyn ObjectStore, bucket: &'a BucketName) -> Self {
        Location { store, bucket }
    }

    pub(super) fn same_store(&self, other: &Location<'_>) -> bool {
        std::ptr::addr_eq(self.store as *const dyn ObjectStore, other.store as *const dyn ObjectStore)
    }

    pub(super) fn same_bucket(&self, other: &Location<'_>) -> bool {
        self.same_store(other) && self.bucket == other.bucket
    }
}

/// How objects are copied between two locations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CopyMode {
    /// Server-side when both locations are in the same store (the same
    /// `&dyn ObjectStore`), streamed otherwise.
    #[default]
    Auto,
    /// Always stream through this process (bounded memory: one chunk in flight per copy).
    Streamed,
}

/// Attempts per request for retryable errors, unless the options say otherwise.
pub(super) const DEFAULT_ATTEMPTS: usize = 8;

/// How many keys a report or an error names (the rest are counted).
pub const NAMED_KEYS: usize = 20;

pub(super) fn retry_policy(attempts: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(attempts.saturating_sub(1))
        .with_jitter()
}

/// Run `op` again on retryable errors, up to `attempts` times.
pub(super) async fn retried<T, F, Fut>(attempts: usize, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    op.retry(retry_policy(attempts)).when(Error::is_retryable).notify(retry_event).await
}

/// The event of one retry of a recipe's request (target `deploy::retry`,
/// at WARN when the store throttled, INFO otherwise), in the span of the
/// operation that retries.
pub(super) fn retry_event(error: &Error, delay: Duration) {
    if matches!(error, Error::Throttled { .. }) {
        tracing::warn!(target: "deploy::retry", throttled = true, delay_ms = delay.as_millis() as u64, error = %error, "throttled; retrying");
    } else {
        tracing::info!(target: "deploy::retry", throttled = false, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
    }
}

pub(super) fn validate_concurrency(n: usize) -> Result<()> {
    if (1..=1024).contains(&n) { Ok(()) } else { Err(Error::invalid("concurrency", format!("is {n}"), "1 to 1024 copies at once")) }
}

pub(super) fn validate_attempts(n: usize) -> Result<()> {
    if (1..=20).contains(&n) { Ok(()) } else { Err(Error::invalid("attempts", format!("is {n}"), "1 to 20 attempts per object")) }
}

pub(super) fn prefixed_key(prefix: &str, key: &str) -> Result<ObjectKey> {
    ObjectKey::new(format!("{prefix}{key}")).map_err(|e| match e {
        Error::InvalidInput { problem, rule, .. } => Error::invalid("key", format!("`{key}` under `{prefix}` {problem}"), rule),
        other => other,
    })
}

/// Keys named in a report: the first [`NAMED_KEYS`], and how many in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct NamedKeys {
    /// How many in all.
    pub count: u64,
    /// The first [`NAMED_KEYS`] of them, in the order met.
    pub first: Vec<String>,
}

impl NamedKeys {
    pub(super) fn push(&mut self, key: impl Into<String>) {
        self.count += 1;
        if self.first.len() < NAMED_KEYS {
            self.first.push(key.into());
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// `3 (a, b, c)` or `25 (a, …, t, and 5 more)`.
    pub fn describe(&self) -> String {
        if self.count == 0 {
            return "0".to_owned();
        }
        let more = self.count - self.first.len() as u64;
        let tail = if more > 0 { format!(", and {more} more") } else { String::new() };
        format!("{} ({}{tail})", self.count, self.first.join(", "))
    }
}
