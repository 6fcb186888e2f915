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
mod common;
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
mod snapshot_options;

pub use classify::{KeyClass, RestorePlan};
pub use common::{CopyMode, Location, NAMED_KEYS, NamedKeys};
pub use layout::{SnapshotId, SnapshotLayout, SnapshotSelector};
pub use manifest::{
    KeyRange, Manifest, ManifestEntry, ManifestIndex, ManifestInfo, ManifestSummary, PartInfo, latest_snapshot_of, list_snapshots,
    read_manifest, read_manifest_info,
};
pub use parts::MANIFEST_PART_BYTES;
pub use restore::{
    RestoreBucketOptions, RestoreBucketReport, plan_restore, resolve_restore, restore_bucket, restore_ranges, restore_shard,
};
pub use shards::{Boundaries, ShardPlan, ShardReport, finalize_snapshot, plan_shards, read_shard_plan};
pub use snapshot::{SnapshotReport, shard_range, snapshot_bucket, snapshot_shard};
pub use snapshot_options::SnapshotOptions;
