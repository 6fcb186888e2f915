//! Recipes over the traits: bucket snapshot and restore, disaster recovery,
//! teardown, administrator password rotation. Each works with any backend, in
//! memory or in a cloud.

pub mod bucket;
pub mod dr;
mod limit;
pub mod password;
pub mod teardown;

pub use bucket::{
    CopyMode, Location, Manifest, ManifestEntry, RestoreBucketOptions, RestoreBucketReport, SnapshotId, SnapshotLayout, SnapshotOptions,
    SnapshotReport, SnapshotSelector, list_snapshots, read_manifest, restore_bucket, snapshot_bucket,
};
pub use dr::{DatabaseBackup, DatabaseRestore, DrBackupReport, DrRestoreReport, dr_backup, dr_restore};
pub use password::{AdminPasswordRotation, rotate_admin_password};
pub use teardown::{Teardown, TeardownPlan, TeardownStep};
