//! Recipes over the traits: bucket snapshot and restore, disaster recovery,
//! teardown, administrator password rotation. Each works with any backend, in
//! memory or in a cloud.

pub mod bucket;
pub mod dr;
mod limit;
pub mod password;
pub mod teardown;

pub use bucket::{
    CopyMode, KeyClass, Location, Manifest, ManifestEntry, ManifestInfo, NamedKeys, RestoreBucketOptions, RestoreBucketReport, RestorePlan,
    SnapshotId, SnapshotLayout, SnapshotOptions, SnapshotReport, SnapshotSelector, latest_snapshot_of, list_snapshots, plan_restore, read_manifest,
    read_manifest_info, resolve_restore, restore_bucket, snapshot_bucket,
};
pub use dr::{DatabaseBackup, DatabaseRestore, DrBackupReport, DrRestoreReport, dr_backup, dr_restore};
pub use password::{AdminPasswordRotation, rotate_admin_password};
pub use teardown::{Teardown, TeardownPlan, TeardownStep};
