//! Recipes over the traits: bucket snapshot and restore, disaster recovery,
//! teardown. Each works with any backend, in memory or in a cloud.

pub mod bucket;
pub mod dr;
mod limit;
pub mod teardown;

pub use bucket::{
    CopyMode, Location, Manifest, ManifestEntry, RestoreBucketOptions, RestoreBucketReport, SnapshotId, SnapshotLayout, SnapshotOptions,
    SnapshotReport, SnapshotSelector, list_snapshots, read_manifest, restore_bucket, snapshot_bucket,
};
pub use dr::{DatabaseBackup, DatabaseRestore, DrBackupReport, DrRestoreReport, dr_backup, dr_restore};
pub use teardown::{Teardown, TeardownPlan, TeardownStep};
