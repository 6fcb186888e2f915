//! The options of a snapshot and their checks, before any request (a leaf:
//! the snapshot and its shards import it).

use super::common::{CopyMode, DEFAULT_ATTEMPTS, Location, retried, validate_attempts, validate_concurrency};
use super::layout::{SnapshotId, SnapshotLayout};
use super::parts::MANIFEST_PART_BYTES;
use crate::error::{Error, Result};
use crate::observe::Observer;
use crate::validate::ObjectKey;

/// The most shards of one snapshot.
pub const MAX_SHARDS: usize = 1024;

/// Options of [`snapshot_bucket`](super::snapshot_bucket) and of each shard.
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Only copy source keys under this prefix.
    pub source_prefix: Option<String>,
    /// Where snapshots live in the destination bucket.
    pub layout: SnapshotLayout,
    /// The snapshot's id (default: now). Give the id of an interrupted snapshot
    /// to resume it: what its folder already holds with the same size and ETag
    /// is not copied again.
    pub id: Option<SnapshotId>,
    /// Copies in flight at once, for all shards of this process (1 to 1024; default 32).
    pub concurrency: usize,
    /// Server-side or streamed.
    pub copy_mode: CopyMode,
    /// Attempts per object for retryable errors (default 8).
    pub attempts: usize,
    /// Shards run by [`snapshot_bucket`](super::snapshot_bucket) in this process (1 to
    /// [`MAX_SHARDS`]; default 1), split by a listing pass.
    /// A resumed snapshot keeps the shards it was planned with.
    pub shards: usize,
    /// The size of a manifest part (default [`MANIFEST_PART_BYTES`]; at least 1 KiB).
    pub manifest_part_bytes: usize,
    /// Progress events.
    pub observer: Observer,
}

impl SnapshotOptions {
    /// A new snapshot under `layout`, 32 copies at once, one shard.
    pub fn new(layout: SnapshotLayout) -> Self {
        SnapshotOptions {
            source_prefix: None,
            layout,
            id: None,
            concurrency: 32,
            copy_mode: CopyMode::Auto,
            attempts: DEFAULT_ATTEMPTS,
            shards: 1,
            manifest_part_bytes: MANIFEST_PART_BYTES,
            observer: Observer::default(),
        }
    }

    fn validate(&self) -> Result<()> {
        validate_concurrency(self.concurrency)?;
        validate_attempts(self.attempts)?;
        if !(1..=MAX_SHARDS).contains(&self.shards) {
            return Err(Error::invalid("shards", format!("is {}", self.shards), format!("1 to {} shards", MAX_SHARDS)));
        }
        if self.manifest_part_bytes < 1024 {
            return Err(Error::invalid("manifest_part_bytes", format!("is {}", self.manifest_part_bytes), "at least 1 KiB"));
        }
        Ok(())
    }
}

/// Bad options, or a snapshot folder inside its own source: refused before any request.
pub(super) fn check_options(source: Location<'_>, destination: Location<'_>, options: &SnapshotOptions, id: &SnapshotId) -> Result<()> {
    options.validate()?;
    if source.same_bucket(&destination) {
        let src_prefix = options.source_prefix.as_deref().unwrap_or("");
        let folder = options.layout.folder(id);
        // The snapshot's objects under its folder, its manifest under `manifests/`.
        if folder.starts_with(src_prefix) || options.layout.manifests_prefix().starts_with(src_prefix) {
            return Err(Error::invalid(
                "layout.prefix",
                format!("snapshot folder `{folder}` lies inside the source `{}/{src_prefix}`", source.bucket),
                "a snapshot is written outside what it copies",
            ));
        }
    }
    Ok(())
}

/// [`Error::AlreadyExists`] when snapshot `id` is complete.
pub(super) async fn refuse_complete(destination: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId, attempts: usize) -> Result<()> {
    let manifest_key = ObjectKey::new(layout.manifest_key(id))?;
    match retried(attempts, || destination.store.head(destination.bucket, &manifest_key)).await {
        Ok(_) => Err(Error::already_exists("snapshot", format!("{}/{}", destination.bucket, layout.folder(id)))),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}
