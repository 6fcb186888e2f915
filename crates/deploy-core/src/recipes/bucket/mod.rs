//! Bucket snapshot and restore: copy every object of a bucket into another
//! bucket under a timestamped folder, with a manifest written last; copy a
//! snapshot back without losing what the target holds.
//!
//! Layout in the backup bucket, for destination prefix `backups`:
//!
//! ```text
//! backups/2026-11-23T20-21-40.123Z/<every source key>
//! backups/manifests/2026-11-23T20-21-40.123Z/...        the manifest's parts (JSON Lines, bounded), per shard
//! backups/manifests/2026-11-23T20-21-40.123Z.json       the manifest's index, written last
//! ```
//!
//! A snapshot is complete exactly when its index exists: the index is written
//! after every object was copied and checked and every manifest part written,
//! so an interrupted snapshot is never taken for a complete one, and running
//! it again with the same id copies only what is missing. Snapshot, resume and
//! restore run in constant memory, whatever the object count: listings are
//! merged in key order, never held; the manifest is written and read a part
//! at a time. A snapshot (or a restore) splits into shards by key range, run
//! in this process, in others, or by a Kubernetes Indexed Job ([`shards`]).
//!
//! Every copy is conditional on the entity tag (and version) the listing
//! showed, so a snapshot holds exactly the listed objects: an object that
//! changed or vanished during the snapshot is reported by name, no manifest is
//! written, and a resume copies it again. A restore first classifies every key
//! of the target (missing, identical, differs, not in the snapshot) by merging
//! the manifest with the target's listing in key order, refuses to overwrite
//! or delete anything in an unversioned bucket without a confirmation naming
//! it, reads or copies each snapshot object on the condition of its recorded
//! entity tag, and overwrites each target object on the condition of the
//! entity tag it was classified with.

mod classify;
mod copy;
mod layout;
mod listing;
mod manifest;
mod merge;
mod parts;
mod progress;
mod restore;
pub mod shards;
mod snapshot;

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::error::{Error, Result};
use crate::object_store::ObjectStore;
use crate::validate::{BucketName, ObjectKey};

pub use classify::{KeyClass, RestorePlan, plan_restore};
pub use layout::{SnapshotId, SnapshotLayout, SnapshotSelector};
pub use manifest::{
    KeyRange, Manifest, ManifestEntry, ManifestIndex, ManifestInfo, PartInfo, latest_snapshot_of, list_snapshots, read_manifest,
    read_manifest_info,
};
pub use parts::MANIFEST_PART_BYTES;
pub use restore::{RestoreBucketOptions, RestoreBucketReport, resolve_restore, restore_bucket, restore_ranges};
pub use shards::{Boundaries, ShardPlan, ShardReport, finalize_snapshot, plan_shards, read_shard_plan};
pub use snapshot::{SnapshotOptions, SnapshotReport, shard_range, snapshot_bucket, snapshot_shard};

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

    fn same_store(&self, other: &Location<'_>) -> bool {
        std::ptr::addr_eq(self.store as *const dyn ObjectStore, other.store as *const dyn ObjectStore)
    }

    fn same_bucket(&self, other: &Location<'_>) -> bool {
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
const DEFAULT_ATTEMPTS: usize = 8;

/// How many keys a report or an error names (the rest are counted).
pub const NAMED_KEYS: usize = 20;

fn retry_policy(attempts: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(attempts.saturating_sub(1))
        .with_jitter()
}

/// Run `op` again on retryable errors, up to `attempts` times.
async fn retried<T, F, Fut>(attempts: usize, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    op.retry(retry_policy(attempts)).when(Error::is_retryable).await
}

fn validate_concurrency(n: usize) -> Result<()> {
    if (1..=1024).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid("concurrency", format!("is {n}"), "1 to 1024 copies at once"))
    }
}

fn validate_attempts(n: usize) -> Result<()> {
    if (1..=20).contains(&n) { Ok(()) } else { Err(Error::invalid("attempts", format!("is {n}"), "1 to 20 attempts per object")) }
}

fn prefixed_key(prefix: &str, key: &str) -> Result<ObjectKey> {
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
    fn push(&mut self, key: impl Into<String>) {
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
