//! `dr_backup` resumed with its database: the snapshot of that id and that
//! instance counts as taken (waited for while being taken), one of another
//! instance is a conflict, a lost answer to the create is not a failure, and a
//! complete backup resumed changes nothing.

use std::time::Duration;

use async_trait::async_trait;
use deploy_core::database::{DatabaseInfo, DatabaseSpec, FinalSnapshot, SnapshotInfo, SnapshotStatus};
use deploy_core::memory::InMemoryCloud;
use deploy_core::recipes::dr::snapshot_name;
use deploy_core::recipes::{
    DatabaseBackup, DrBackupReport, Location, SnapshotId, SnapshotLayout, SnapshotOptions, dr_backup, list_snapshots, snapshot_bucket,
};
use deploy_core::{Confirm, Database, Error, PasswordRules, PgIdentifier, Plan, ResourceName, RestorePoint, RestoreTarget, Result};

use crate::support::{empty_bucket, filled_bucket, slow_cloud};

fn layout() -> SnapshotLayout {
    SnapshotLayout::new("backups").unwrap()
}

fn name(s: &str) -> ResourceName {
    ResourceName::new(s).unwrap()
}

async fn database(cloud: &InMemoryCloud, db: &str) -> ResourceName {
    let mut spec = DatabaseSpec::postgres(name(db), "15", "db.t4g.medium", PgIdentifier::new("dbadmin").unwrap());
    spec.admin_password = Some(PasswordRules::rds_master().generate(20).unwrap());
    cloud.ensure_database(&spec).await.unwrap();
    name(db)
}

fn options(id: &SnapshotId) -> SnapshotOptions {
    SnapshotOptions { id: Some(id.clone()), attempts: 1, ..SnapshotOptions::new(layout()) }
}

/// A cloud with `prod-db`, `prod-assets` (30 objects) and `prod-backup`.
/// [`dr_backup`] of `db` and `src` into `backup`, all in `cloud`, as snapshot `id`.
async fn backup_resuming(
    cloud: &InMemoryCloud,
    db: &ResourceName,
    src: &deploy_core::BucketName,
    backup: &deploy_core::BucketName,
    id: &SnapshotId,
) -> Result<DrBackupReport> {
    dr_backup(
        DatabaseBackup::Snapshot { backend: cloud, instance: db },
        Location::new(cloud, src),
        Location::new(cloud, backup),
        &options(id),
    )
    .await
}

async fn setup(cloud: &InMemoryCloud) -> (ResourceName, deploy_core::BucketName, deploy_core::BucketName) {
    let db = database(cloud, "prod-db").await;
    let src = filled_bucket(cloud, "prod-assets", 30).await;
    let backup = empty_bucket(cloud, "prod-backup").await;
    (db, src, backup)
}

#[tokio::test]
async fn a_resumed_backup_keeps_its_database_snapshot_and_completes_the_bucket() {
    let cloud = slow_cloud();
    let (db, src, backup) = setup(&cloud).await;
    let id = SnapshotId::now();
    // The first run takes the snapshot, copies, then cannot write its manifest's index
    // (the last of the snapshot's writes: as many as a whole snapshot of the bucket makes, counted on a copy).
    let puts = {
        let trial = slow_cloud();
        let (_, src, backup) = setup(&trial).await;
        trial.reset_calls();
        snapshot_bucket(Location::new(&trial, &src), Location::new(&trial, &backup), &options(&id)).await.unwrap();
        u32::try_from(trial.count("put")).unwrap()
    };
    cloud.fail_op_after("put", puts - 1, u32::MAX);
    let err = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap_err();
    cloud.fail_op("put", 0);
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(cloud.count("create_snapshot"), 1);
    assert!(list_snapshots(Location::new(&cloud, &backup), &layout()).await.unwrap().is_empty(), "no manifest yet");

    let report = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap_or_else(|e| panic!("the resume failed: {e}"));
    assert_eq!(cloud.count("create_snapshot"), 1, "the resume took a second snapshot");
    let snapshot = report.database_snapshot.clone().unwrap();
    assert_eq!((snapshot.name, snapshot.status), (snapshot_name(&db, &id).unwrap(), SnapshotStatus::Available));
    assert_eq!((report.bucket.objects, report.bucket.copied), (30, 0), "{report}");
    assert!(!report.already_complete);
    assert_eq!(list_snapshots(Location::new(&cloud, &backup), &layout()).await.unwrap(), [id]);
}

#[tokio::test]
async fn a_resumed_backup_waits_for_a_snapshot_still_being_taken() {
    let cloud = InMemoryCloud::with_provisioning_delay(Duration::from_millis(600));
    let (db, src, backup) = setup(&cloud).await;
    let id = SnapshotId::now();
    let snapshot = snapshot_name(&db, &id).unwrap();
    // An earlier run started the snapshot and was killed while it was being taken.
    let (c, d, s) = (cloud.clone(), db.clone(), snapshot.clone());
    let killed = tokio::spawn(async move { c.create_snapshot(&d, &s).await });
    let listed = |cloud: InMemoryCloud, db: ResourceName| async move { cloud.list_snapshots(&db).await.unwrap() };
    while listed(cloud.clone(), db.clone()).await.is_empty() {
        tokio::task::yield_now().await;
    }
    killed.abort();
    assert_eq!(listed(cloud.clone(), db.clone()).await[0].status, SnapshotStatus::Creating);

    let report = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap();
    let taken = report.database_snapshot.unwrap();
    assert_eq!((taken.name, taken.status), (snapshot, SnapshotStatus::Available), "the backup did not wait for the snapshot");
    assert_eq!(cloud.count("create_snapshot"), 1, "the killed run's snapshot is the backup's");
    assert_eq!(report.bucket.copied, 30);
}

#[tokio::test]
async fn a_snapshot_of_that_name_of_another_instance_is_a_conflict_and_nothing_is_copied() {
    let cloud = slow_cloud();
    let (db, src, backup) = setup(&cloud).await;
    let other = database(&cloud, "other-db").await;
    let id = SnapshotId::now();
    cloud.create_snapshot(&other, &snapshot_name(&db, &id).unwrap()).await.unwrap();
    cloud.reset_calls();
    let err = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict { reason, .. } if reason.contains("another instance")), "{err:?}");
    assert_eq!(cloud.count("copy") + cloud.count("put"), 0, "the bucket was touched after the database part failed");
}

#[tokio::test]
async fn resuming_a_complete_backup_succeeds_and_changes_nothing() {
    let cloud = slow_cloud();
    let (db, src, backup) = setup(&cloud).await;
    let id = SnapshotId::now();
    let first = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap();
    assert!(!first.already_complete);
    cloud.reset_calls();
    let again = backup_resuming(&cloud, &db, &src, &backup, &id).await.unwrap();
    assert!(again.already_complete, "{again}");
    assert!(cloud.mutating_calls().is_empty(), "a complete backup resumed changed something: {:?}", cloud.mutating_calls());
    assert_eq!(again.database_snapshot, first.database_snapshot);
    assert_eq!((again.bucket.objects, again.bucket.copied, again.bucket.skipped), (30, 0, 30));
    assert!(again.to_string().contains("complete already"), "{again}");
}

/// A backend whose answer to CreateDBSnapshot is lost once the snapshot was
/// made (the SDK retries and the service answers "already exists"), as the
/// fault proxy does on AWS.
#[derive(Debug)]
struct LostAnswer(InMemoryCloud);

#[async_trait]
impl Database for LostAnswer {
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        self.0.reconcile_database(spec, mode).await
    }
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        self.0.describe_database(name).await
    }
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.0.create_snapshot(database, snapshot).await?;
        // The retry of the request whose answer was lost.
        self.0.create_snapshot(database, snapshot).await
    }
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        self.0.list_snapshots(database).await
    }
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()> {
        self.0.delete_snapshot(snapshot, confirm).await
    }
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo> {
        self.0.restore_snapshot(snapshot, target).await
    }
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        self.0.restore_to_point_in_time(source, point, target).await
    }
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        self.0.set_deletion_protection(database, on).await
    }
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        self.0.delete_database(database, final_snapshot, confirm).await
    }
    fn backend(&self) -> &'static str {
        "lost-answer"
    }
}

#[tokio::test]
async fn a_lost_answer_to_the_snapshot_request_is_not_a_failed_backup() {
    let cloud = slow_cloud();
    let (db, src, backup) = setup(&cloud).await;
    let lossy = LostAnswer(cloud.clone());
    let id = SnapshotId::now();
    let report = dr_backup(
        DatabaseBackup::Snapshot { backend: &lossy, instance: &db },
        Location::new(&cloud, &src),
        Location::new(&cloud, &backup),
        &options(&id),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.database_snapshot.unwrap().status, SnapshotStatus::Available);
    assert_eq!(cloud.list_snapshots(&db).await.unwrap().len(), 1, "one snapshot per id");
}
