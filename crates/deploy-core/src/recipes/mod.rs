//! Recipes over the traits: bucket snapshot and restore, disaster recovery,
//! teardown, administrator password rotation. Each works with any backend, in
//! memory or in a cloud.

pub mod bucket;
pub mod dr;
mod limit;
pub mod password;
pub mod teardown;

pub use bucket::{
    Boundaries, CopyMode, KeyClass, KeyRange, Location, MANIFEST_PART_BYTES, Manifest, ManifestEntry, ManifestIndex, ManifestInfo,
    ManifestSummary, NamedKeys, PartInfo, RestoreBucketOptions, RestoreBucketReport, RestorePlan, ShardPlan, ShardReport, SnapshotId,
    SnapshotLayout, SnapshotOptions, SnapshotReport, SnapshotSelector, finalize_snapshot, latest_snapshot_of, list_snapshots, plan_restore,
    plan_shards, read_manifest, read_manifest_info, read_shard_plan, resolve_restore, restore_bucket, restore_ranges, restore_shard,
    shard_range, snapshot_bucket, snapshot_shard,
};
pub use dr::{DatabaseBackup, DatabaseRestore, DrBackupReport, DrRestoreReport, dr_backup, dr_restore};
pub use password::{AdminPasswordRotation, rotate_admin_password};
pub use teardown::{Teardown, TeardownPlan, TeardownStep};
