//! The container part of an Azure disaster-recovery plan (a runbook's backup appendix)
//! as plain functions over any [`ObjectStore`], so that the
//! `azure_disaster_recovery` example and the tests run the same code.
//!
//! Backup: copy every blob of container `P-assets` into container `P-backup`
//! under a folder named with the backup's timestamp (the core
//! [`snapshot_bucket`] recipe: manifest written last, resumable). Restore:
//! copy one such folder back into `P-assets` ([`restore_bucket`]: every blob
//! classified first, nothing lost, verified against the manifest; blobs
//! already identical are left alone, so a second restore writes nothing).
//!
//! Every function has a `plan_*` twin that only reads.
//!
//! With the `arm` feature, [`provision`] holds the provisioning appendices.
//!
//! ```
//! use deploy_azure::runbook::DrNames;
//! let names = DrNames::new("myapp").unwrap();
//! assert_eq!(names.assets.as_str(), "myapp-assets");
//! assert_eq!(names.backup.as_str(), "myapp-backup");
//! assert_eq!(names.server, "myapp-db");
//! assert_eq!(names.restored_server, "myapp-db-restored");
//! assert_eq!(DrNames::new("Bad_Prefix").unwrap_err().invalid_field(), Some("prefix"));
//! ```

#[cfg(feature = "arm")]
pub mod provision;

use deploy_core::object_store::ListOptions;
use deploy_core::plan::{Action, Change, Plan};
use deploy_core::recipes::{
    Location, RestoreBucketOptions, RestoreBucketReport, SnapshotId, SnapshotLayout, SnapshotOptions, SnapshotReport, SnapshotSelector,
    latest_snapshot_of, list_snapshots, plan_restore, read_manifest_info, restore_bucket, snapshot_bucket,
};
use deploy_core::{BucketName, BucketSpec, ContainerName, Error, ObjectStore, ObjectStoreExt as _, Observer, Result};

/// The names appendix 5 works on, all derived from one prefix `P`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrNames {
    /// The application's container, `P-assets`.
    pub assets: BucketName,
    /// The container holding the backups, `P-backup`.
    pub backup: BucketName,
    /// The PostgreSQL flexible server, `P-db`.
    pub server: String,
    /// The server a point-in-time restore creates, `P-db-restored`.
    pub restored_server: String,
}

impl DrNames {
    /// The names for `prefix`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `prefix` when `P-assets` or `P-backup`
    /// is not a valid container name (3 to 63 lowercase letters, digits and
    /// single hyphens, starting with a letter or digit).
    pub fn new(prefix: &str) -> Result<Self> {
        let container = |suffix: &str| -> Result<BucketName> {
            let name = format!("{prefix}-{suffix}");
            let as_prefix = |e: Error| match e {
                Error::InvalidInput { problem, rule, .. } => {
                    Error::InvalidInput { field: "prefix".to_owned(), problem: format!("container {name:?}: {problem}"), rule }
                }
                other => other,
            };
            ContainerName::new(name.clone()).map_err(as_prefix)?;
            BucketName::new(name.clone()).map_err(as_prefix)
        };
        Ok(DrNames {
            assets: container("assets")?,
            backup: container("backup")?,
            server: format!("{prefix}-db"),
            restored_server: format!("{prefix}-db-restored"),
        })
    }
}

/// The layout of the backup container: one folder per backup at its root,
/// named with the backup's timestamp (`2026-11-23T20-21-40.123Z/`).
pub fn backup_layout() -> SnapshotLayout {
    SnapshotLayout::new("").expect("the root layout is valid")
}

/// What [`container_backup`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerBackup {
    /// A snapshot was taken (or an interrupted one completed).
    Taken(SnapshotReport),
    /// The snapshot with the id asked for was already complete: nothing was done.
    AlreadyComplete(SnapshotId),
}

/// The changes [`container_backup`] would make; only reads.
///
/// # Errors
/// [`Error::NotFound`] when `P-assets` does not exist; the store's errors.
pub async fn plan_container_backup(store: &dyn ObjectStore, names: &DrNames, id: Option<&SnapshotId>) -> Result<Plan> {
    let mut plan = store.plan_bucket(&BucketSpec::new(names.backup.clone())).await?;
    let backup_exists =
        !plan.changes.iter().any(|c| c.name == names.backup.as_str() && c.kind == "bucket" && matches!(c.action, Action::Create));
    let layout = backup_layout();
    if let (Some(id), true) = (id, backup_exists)
        && list_snapshots(Location::new(store, &names.backup), &layout).await?.contains(id)
    {
        return Ok(plan);
    }
    let objects = store.list_all(&names.assets, ListOptions::default()).await?;
    let bytes: u64 = objects.iter().map(|o| o.size).sum();
    let id = id.cloned().unwrap_or_else(SnapshotId::now);
    plan.push(Change::create(
        "snapshot",
        format!("{}/{} of {} ({} objects, {bytes} bytes)", names.backup, layout.folder(&id), names.assets, objects.len()),
    ));
    Ok(plan)
}

/// Ensure `P-backup` (private, as every container) and snapshot `P-assets`
/// into it under a timestamped folder. With `id`, the snapshot of that id is
/// resumed (or found complete, and then nothing is written). `shards` (1 for
/// one listing) splits the copy in that many key ranges run side by side
/// ([`SnapshotOptions::shards`]).
///
/// # Errors
/// As [`snapshot_bucket`]; [`Error::NotFound`] when `P-assets` does not exist.
pub async fn container_backup(
    store: &dyn ObjectStore,
    names: &DrNames,
    id: Option<SnapshotId>,
    shards: usize,
    observer: Observer,
) -> Result<ContainerBackup> {
    observer.step(format!("ensure container {}", names.backup));
    store.ensure_bucket(&BucketSpec::new(names.backup.clone())).await?;
    let options = SnapshotOptions { id: id.clone(), shards, observer, ..SnapshotOptions::new(backup_layout()) };
    match snapshot_bucket(Location::new(store, &names.assets), Location::new(store, &names.backup), &options).await {
        Ok(report) => Ok(ContainerBackup::Taken(report)),
        Err(Error::AlreadyExists { .. }) if id.is_some() => Ok(ContainerBackup::AlreadyComplete(id.expect("checked"))),
        Err(e) => Err(e),
    }
}

/// The complete backups in `P-backup`, oldest first.
///
/// # Errors
/// The store's errors ([`Error::NotFound`] when `P-backup` does not exist).
pub async fn list_backups(store: &dyn ObjectStore, names: &DrNames) -> Result<Vec<SnapshotId>> {
    list_snapshots(Location::new(store, &names.backup), &backup_layout()).await
}

/// The options of a restore of backup `from` into `P-assets`: the backup
/// layout, the original keys; set `keep_newer`, `exact` and `confirm` on them.
pub fn restore_options(from: SnapshotSelector) -> RestoreBucketOptions {
    RestoreBucketOptions::new(backup_layout(), from)
}

/// The changes [`container_restore`] would make; only reads: every blob of
/// `P-assets` is classified against the backup's manifest, and the plan
/// names the blobs written back, overwritten and deleted (the first 20 of
/// each, the others counted); `latest` is the newest backup of `P-assets`.
///
/// # Errors
/// [`Error::NotFound`] when there is no such complete backup.
pub async fn plan_container_restore(
    store: &dyn ObjectStore,
    names: &DrNames,
    options: &RestoreBucketOptions,
) -> Result<(SnapshotId, Plan)> {
    let backup = Location::new(store, &names.backup);
    let target = Location::new(store, &names.assets);
    let id = match &options.snapshot {
        SnapshotSelector::Id(id) => id.clone(),
        SnapshotSelector::Latest => latest_snapshot_of(backup, &options.layout, target).await?,
    };
    let mut plan = store.plan_bucket(&BucketSpec::new(names.assets.clone())).await?;
    let options = RestoreBucketOptions { snapshot: SnapshotSelector::Id(id.clone()), ..options.clone() };
    match plan_restore(backup, target, &options).await {
        Ok(restore) => plan.extend(restore.changes("blob", &format!("{}/", names.assets))),
        // No container yet: every blob of the backup is written back.
        Err(e) if e.is_not_found() && store.describe_bucket(&names.assets).await.is_err_and(|e| e.is_not_found()) => {
            let info = read_manifest_info(backup, &options.layout, &id).await?;
            plan.push(Change::create("blobs", format!("{} ({} of them, {} bytes)", names.assets, info.objects, info.total_bytes)));
        }
        Err(e) => return Err(e),
    }
    Ok((id, plan))
}

/// Ensure `P-assets` and copy a backup back into it with `options` (see
/// [`restore_options`]): nothing in `P-assets` is lost (overwritten blobs
/// stay as versions on a versioned account; on an unversioned one nothing is
/// overwritten or deleted without `options.confirm`), every blob verified
/// against the backup's manifest.
///
/// # Errors
/// As [`restore_bucket`].
pub async fn container_restore(
    store: &dyn ObjectStore,
    names: &DrNames,
    options: RestoreBucketOptions,
    observer: Observer,
) -> Result<RestoreBucketReport> {
    observer.step(format!("ensure container {}", names.assets));
    store.ensure_bucket(&BucketSpec::new(names.assets.clone())).await?;
    let options = RestoreBucketOptions { observer, ..options };
    restore_bucket(Location::new(store, &names.backup), Location::new(store, &names.assets), &options).await
}

/// The server part of a restore: a point-in-time restore of `P-db` at `at`
/// (the timestamp of the container backup restored, so that blobs and rows
/// agree) into the new server `P-db-restored`, placed like its source and
/// deletion-protected. Nothing is done when `P-db-restored` exists (an empty
/// plan). [`deploy_core::Mode::Plan`] only reads.
///
/// # Errors
/// [`Error::InvalidInput`] when `at` lies outside the server's restorable
/// window; [`Error::NotFound`] for `P-db`; ARM errors.
#[cfg(feature = "arm")]
pub async fn server_restore(
    servers: &crate::arm::postgres::FlexibleServers,
    names: &DrNames,
    at: jiff::Timestamp,
    mode: deploy_core::Mode,
) -> Result<Plan> {
    use deploy_core::{Database as _, ResourceName, RestorePoint, RestoreTarget};
    let source = ResourceName::new(names.server.clone())?;
    let target = ResourceName::new(names.restored_server.clone())?;
    match servers.describe_database(&target).await {
        Ok(_) => return Ok(Plan::new()),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    let source_info = servers.describe_database(&source).await?;
    RestorePoint::At(at).validate(jiff::Timestamp::now(), &source_info)?;
    let plan = Plan::from_iter([Change::create(
        "database",
        format!("{} (point-in-time restore of {} at {at})", names.restored_server, names.server),
    )]);
    if mode.is_apply() {
        servers.restore_to_point_in_time(&source, RestorePoint::At(at), &RestoreTarget::new(target)).await?;
    }
    Ok(plan)
}
