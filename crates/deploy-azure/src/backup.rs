//! Backups on Azure: what stands for the core [`deploy_core::BackupVault`].
//!
//! Azure has no neutral counterpart of an AWS Backup vault for this stack, and
//! `deploy-azure` does not pretend to have one: no type here implements
//! [`deploy_core::BackupVault`]. A runbook's backup strategy
//! (a daily backup of the database and of the blob container)
//! maps as follows.
//!
//! | need | on Azure | in deploy |
//! | --- | --- | --- |
//! | database backups | the flexible server's built-in backups: daily, kept `backupRetentionDays` (7-35), optionally geo-redundant | `arm::postgres::FlexibleServers` (`DatabaseSpec::backup_retention_days`, `FlexibleServers::geo_redundant_backup`) |
//! | database restore | point-in-time restore into a new server (`createMode: PointInTimeRestore`) | `Database::restore_to_point_in_time` on `FlexibleServers` |
//! | manual database snapshots | none (the snapshot operations answer `NotSupported` naming the operation) | restore to a point in time instead |
//! | container backup | a copy of the container into another container under a timestamped folder, manifest last | the core recipe `deploy_core::recipes::bucket` over `blob::BlobStore` (server-side Copy Blob; ETags are content MD5s, so a snapshot can be verified and resumed, across clouds too) |
//! | container restore | copy the timestamped folder back, verified against the manifest | the same recipe |
//! | point-in-time of blobs | blob versioning on the storage account | `arm::storage::StorageAccountSpec::versioning` |
//!
//! With the core disaster-recovery recipe (`deploy_core::recipes::dr`) on
//! `FlexibleServers` and `BlobStore`: back up with `DatabaseBackup::None`
//! (the server backs itself up; `dr_backup` snapshots the container), and
//! restore with `DatabaseRestore::PointInTime` (a new server at the chosen
//! time) plus the container restore. `DatabaseBackup::Snapshot` is refused
//! (`NotSupported` on `create_snapshot`).
//!
//! Azure Backup (Recovery Services / Backup vaults, "operational backup" of
//! blobs and long-term retention of flexible servers) is a possible later
//! backend of the trait; it is not implemented.

/// What Azure offers instead of a neutral backup vault: the rule of the error
/// an environment with a `backup` section gets on Azure
/// (`deploy_core::env::BackupBackend::Unavailable`).
pub const INSTEAD_OF_A_VAULT: &str = "on Azure, leave `backup` out: the flexible server keeps its own backups \
    (`backup_retention_days`, 7-35 days) with point-in-time restore into a new server, and containers are \
    backed up by the bucket snapshot recipe (`deploy_core::recipes::bucket`, a timestamped copy verified by its manifest)";
