//! Disaster recovery: back up a database and a bucket together, and restore
//! both, with one report of what was done and verified.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::bucket::{
    Location, RestoreBucketOptions, RestoreBucketReport, SnapshotId, SnapshotOptions, SnapshotReport, SnapshotSelector, restore_bucket,
    snapshot_bucket,
};
use crate::backup::{BackupVault, RecoveryPoint};
use crate::database::{Database, DatabaseInfo, DatabaseStatus, RestorePoint, RestoreTarget, SnapshotInfo, SnapshotStatus};
use crate::error::{Error, Result};
use crate::observe::Observer;
use crate::validate::ResourceName;
use crate::waiter::{Poll, Waiter};

/// How the database part of a backup is taken.
#[derive(Clone, Copy, Debug)]
pub enum DatabaseBackup<'a> {
    /// A manual snapshot of the instance, named `<instance>-<snapshot id>`.
    Snapshot {
        /// The backend.
        backend: &'a dyn Database,
        /// The instance.
        instance: &'a ResourceName,
    },
    /// An on-demand recovery point in a backup vault.
    RecoveryPoint {
        /// The backend.
        backend: &'a dyn BackupVault,
        /// The vault.
        vault: &'a ResourceName,
        /// The resource (the instance's ARN on AWS).
        resource: &'a str,
        /// The role the backup service assumes.
        role: Option<&'a str>,
    },
    /// No database part (objects only).
    None,
}

/// What a DR backup did.
#[derive(Clone, Debug, Serialize)]
pub struct DrBackupReport {
    /// The bucket snapshot.
    pub bucket: SnapshotReport,
    /// The database snapshot, when one was taken.
    #[serde(skip)]
    pub database_snapshot: Option<SnapshotInfo>,
    /// The recovery point, when one was taken.
    #[serde(skip)]
    pub recovery_point: Option<RecoveryPoint>,
    /// The backup resumed was complete already: nothing was done.
    pub already_complete: bool,
}

impl fmt::Display for DrBackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let complete = if self.already_complete { " (complete already: nothing done)" } else { "" };
        writeln!(f, "DR backup {}{complete}", self.bucket.id)?;
        match (&self.database_snapshot, &self.recovery_point) {
            (Some(s), _) => writeln!(f, "  database: snapshot {} of {} ({:?})", s.name, s.database, s.status)?,
            (_, Some(p)) => writeln!(f, "  database: recovery point {} of {}", p.id, p.resource)?,
            _ => writeln!(f, "  database: not part of this backup")?,
        }
        write!(f, "  bucket:   {}", self.bucket)
    }
}

/// The name of the database snapshot a DR backup takes.
///
/// # Errors
/// [`Error::InvalidInput`] when the instance name is too long to carry the id.
pub fn snapshot_name(instance: &ResourceName, id: &SnapshotId) -> Result<ResourceName> {
    let stamp: String = id.as_str().chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    ResourceName::new(format!("{instance}-{stamp}")).map_err(|e| e.in_field("database snapshot name"))
}

/// Back up: the database (snapshot or recovery point), then the bucket snapshot.
/// The database is first so that the bucket copy is at least as new as it.
///
/// Resumable as a whole: with [`SnapshotOptions::id`] of an earlier run, a
/// database snapshot of that id *of that instance* counts as taken (waited
/// for while it is still being taken), the bucket snapshot copies only what
/// is missing, and a backup that is complete already (its manifest exists)
/// succeeds changing nothing ([`DrBackupReport::already_complete`]).
///
/// # Errors
/// Errors of the database backup (nothing else is done then) and of the
/// bucket snapshot; [`Error::Conflict`] when a snapshot of that name exists
/// but was taken of another instance.
#[tracing::instrument(level = "info", skip_all, fields(source = %source.bucket, backup = %backup.bucket))]
pub async fn dr_backup(
    database: DatabaseBackup<'_>,
    source: Location<'_>,
    backup: Location<'_>,
    options: &SnapshotOptions,
) -> Result<DrBackupReport> {
    let mut options = options.clone();
    let resuming = options.id.is_some();
    let id = options.id.get_or_insert_with(SnapshotId::now).clone();
    if resuming && let Some(report) = complete_backup(database, backup, &options, &id).await? {
        return Ok(report);
    }
    let (mut database_snapshot, mut recovery_point) = (None, None);
    match database {
        DatabaseBackup::Snapshot { backend, instance } => {
            let name = snapshot_name(instance, &id)?;
            database_snapshot = Some(take_snapshot(backend, instance, &name, &options.observer).await?);
        }
        DatabaseBackup::RecoveryPoint { backend, vault, resource, role } => {
            options.observer.step(format!("back up {resource} into vault {vault}"));
            recovery_point = Some(backend.start_backup(vault, resource, role.map(str::to_owned)).await?);
        }
        DatabaseBackup::None => {}
    }
    let bucket = snapshot_bucket(source, backup, &options).await?;
    Ok(DrBackupReport { bucket, database_snapshot, recovery_point, already_complete: false })
}

/// The report of backup `id` when it is complete (its manifest exists), having
/// changed nothing; `None` when it is not.
async fn complete_backup(
    database: DatabaseBackup<'_>,
    backup: Location<'_>,
    options: &SnapshotOptions,
    id: &SnapshotId,
) -> Result<Option<DrBackupReport>> {
    // The index alone (object and byte totals): a complete backup of any size is recognised in constant memory.
    let manifest = match super::bucket::read_manifest_info(backup, &options.layout, id).await {
        Ok(manifest) => manifest,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    options.observer.step(format!("backup {id} is complete already: nothing to do"));
    let database_snapshot = match database {
        DatabaseBackup::Snapshot { backend, instance } => {
            let name = snapshot_name(instance, id)?;
            backend.list_snapshots(instance).await?.into_iter().find(|s| s.name == name)
        }
        DatabaseBackup::RecoveryPoint { .. } | DatabaseBackup::None => None,
    };
    let objects = manifest.objects;
    let bucket = SnapshotReport {
        id: id.clone(),
        folder: options.layout.folder(id),
        manifest_key: options.layout.manifest_key(id),
        objects,
        bytes: manifest.total_bytes,
        copied: 0,
        skipped: objects,
        removed: 0,
        shards: manifest.shards,
        parts: manifest.parts,
        server_side: false,
        throttled: 0,
        lowest_concurrency: options.concurrency,
        duration: Duration::ZERO,
    };
    Ok(Some(DrBackupReport { bucket, database_snapshot, recovery_point: None, already_complete: true }))
}

/// Take snapshot `name` of `instance`, or find it taken by an earlier run of
/// this backup: a snapshot of that name *of this instance* counts as taken
/// (waited for while it is being taken); one of another instance is a conflict.
async fn take_snapshot(backend: &dyn Database, instance: &ResourceName, name: &ResourceName, observer: &Observer) -> Result<SnapshotInfo> {
    let existing = |list: Vec<SnapshotInfo>| list.into_iter().find(|s| s.name == *name);
    if let Some(found) = existing(backend.list_snapshots(instance).await?) {
        observer.step(format!("database snapshot {name} of {instance} was taken by an earlier run"));
        return wait_snapshot(backend, instance, found, observer).await;
    }
    observer.step(format!("snapshot database {instance} as {name}"));
    match backend.create_snapshot(instance, name).await {
        Ok(info) => Ok(info),
        // Taken meanwhile (a run beside this one, or an earlier attempt whose
        // answer was lost), or a snapshot of that name of another instance.
        Err(Error::AlreadyExists { .. }) => match existing(backend.list_snapshots(instance).await?) {
            Some(found) => wait_snapshot(backend, instance, found, observer).await,
            None => Err(Error::conflict(
                "database snapshot",
                name.as_str(),
                format!("exists, but not as a snapshot of {instance}: it belongs to another instance"),
            )),
        },
        Err(e) => Err(e),
    }
}

/// `found` once it is available.
async fn wait_snapshot(backend: &dyn Database, instance: &ResourceName, found: SnapshotInfo, observer: &Observer) -> Result<SnapshotInfo> {
    if found.status == SnapshotStatus::Available {
        return Ok(found);
    }
    let name = found.name.clone();
    let waiter = Waiter::snapshot().with_observer(observer.clone());
    waiter
        .wait(&format!("database snapshot {name} to be available"), || async {
            let current = backend.list_snapshots(instance).await?.into_iter().find(|s| s.name == name);
            Ok(match current {
                None => Poll::Failed("deleted".into()),
                Some(s) => match &s.status {
                    SnapshotStatus::Available => Poll::Ready(s),
                    SnapshotStatus::Other(state) if ["failed", "error", "deleted", "deleting"].iter().any(|f| state.contains(f)) => {
                        Poll::Failed(state.clone())
                    }
                    SnapshotStatus::Creating => Poll::Pending("creating".into()),
                    SnapshotStatus::Other(state) => Poll::Pending(state.clone()),
                },
            })
        })
        .await
}

/// How the database part of a restore is done.
#[derive(Clone, Copy, Debug)]
pub enum DatabaseRestore<'a> {
    /// Restore `source` as it was at `point` into a new instance `target`.
    PointInTime {
        /// The backend.
        backend: &'a dyn Database,
        /// The instance to restore from.
        source: &'a ResourceName,
        /// The time.
        point: RestorePoint,
        /// The new instance.
        target: &'a RestoreTarget,
    },
    /// Restore the snapshot a DR backup took into a new instance `target`.
    Snapshot {
        /// The backend.
        backend: &'a dyn Database,
        /// The instance the snapshot was taken of.
        source: &'a ResourceName,
        /// The new instance.
        target: &'a RestoreTarget,
    },
    /// No database part (objects only).
    None,
}

/// What a DR restore did and verified.
#[derive(Clone, Debug)]
pub struct DrRestoreReport {
    /// The restored instance, when one was restored.
    pub database: Option<DatabaseInfo>,
    /// The bucket restore.
    pub bucket: RestoreBucketReport,
    /// What was checked, each a line for a person.
    pub checks: Vec<String>,
}

impl fmt::Display for DrRestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "DR restore of {}", self.bucket.id)?;
        match &self.database {
            Some(db) => writeln!(
                f,
                "  database: {} is {} at {}",
                db.name,
                db.status,
                db.endpoint.as_ref().map(|e| format!("{}:{}", e.host, e.port)).unwrap_or_else(|| "-".into())
            )?,
            None => writeln!(f, "  database: not part of this restore")?,
        }
        writeln!(f, "  bucket:   {}", self.bucket)?;
        for check in &self.checks {
            writeln!(f, "  ok: {check}")?;
        }
        Ok(())
    }
}

/// Restore: the database into a new instance, then the bucket from the
/// snapshot; then check the new instance is available with TLS required and
/// the bucket matches the manifest.
///
/// # Errors
/// [`Error::Verification`] when a check fails; errors of either restore.
#[tracing::instrument(level = "info", skip_all, fields(backup = %backup.bucket, target = %target.bucket))]
pub async fn dr_restore(
    database: DatabaseRestore<'_>,
    backup: Location<'_>,
    target: Location<'_>,
    options: &RestoreBucketOptions,
) -> Result<DrRestoreReport> {
    // Resolve "latest" once, so the database and the bucket come from the same
    // backup; refuse an incomplete snapshot, or one of another source, before
    // touching the database.
    let id = super::bucket::resolve_restore(backup, target, options).await?.id;
    let mut checks = Vec::new();
    let restored = match database {
        DatabaseRestore::PointInTime { backend, source, point, target } => {
            options.observer.step(format!("restore database {source} at {point} into {}", target.name));
            Some(backend.restore_to_point_in_time(source, point, target).await?)
        }
        DatabaseRestore::Snapshot { backend, source, target } => {
            let snapshot = snapshot_name(source, &id)?;
            options.observer.step(format!("restore database snapshot {snapshot} into {}", target.name));
            Some(backend.restore_snapshot(&snapshot, target).await?)
        }
        DatabaseRestore::None => None,
    };
    if let Some(db) = &restored {
        if db.status != DatabaseStatus::Available {
            return Err(Error::Verification { what: format!("database {}", db.name), detail: format!("is {}", db.status) });
        }
        checks.push(format!("database {} is available", db.name));
        if db.require_tls {
            checks.push(format!("database {} requires TLS", db.name));
        } else {
            return Err(Error::Verification { what: format!("database {}", db.name), detail: "does not require TLS".into() });
        }
    }
    let mut bucket_options = options.clone();
    bucket_options.snapshot = SnapshotSelector::Id(id);
    let bucket = restore_bucket(backup, target, &bucket_options).await?;
    checks.push(format!("{} objects ({} bytes) in {} match the manifest", bucket.verified, bucket.bytes, target.bucket));
    Ok(DrRestoreReport { database: restored, bucket, checks })
}
