//! Snapshot, restore, DR and teardown over the in-memory backends.

use bytes::Bytes;
use deploy_core::database::DatabaseSpec;
use deploy_core::memory::InMemoryCloud;
use deploy_core::recipes::*;
use deploy_core::{
    Confirm, Database, Error, ObjectStore, ObjectStoreExt, PasswordRules, PgIdentifier, ResourceName, RestorePoint, RestoreTarget,
};

use crate::support::{bucket, empty_bucket, filled_bucket, key, slow_cloud};

fn layout() -> SnapshotLayout {
    SnapshotLayout::new("backups").unwrap()
}

#[tokio::test]
async fn snapshot_then_restore_server_side_verifies_every_object() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "app-assets", 120).await;
    let dst = empty_bucket(&cloud, "app-backup").await;

    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &SnapshotOptions::new(layout())).await.unwrap();
    assert_eq!((report.objects, report.copied, report.skipped), (120, 120, 0));
    assert!(report.server_side);
    assert!(report.folder.starts_with("backups/") && report.folder.ends_with('/'));
    assert!(!report.folder.contains(':'), "timestamp folder has colons: {}", report.folder);
    let manifest = read_manifest(Location::new(&cloud, &dst), &layout(), &report.id).await.unwrap();
    assert_eq!(manifest.objects.len(), 120);
    assert_eq!(manifest.total_bytes, report.bytes);
    assert_eq!(list_snapshots(Location::new(&cloud, &dst), &layout()).await.unwrap(), vec![report.id.clone()]);

    // Disaster: objects deleted, one corrupted.
    for i in 0..10 {
        cloud.delete(&src, &key(&format!("obj/{i:04}"))).await.unwrap();
    }
    cloud.put_bytes(&src, &key("obj/0050"), Bytes::from_static(b"corrupted")).await.unwrap();
    let restored = restore_bucket(
        Location::new(&cloud, &dst),
        Location::new(&cloud, &src),
        &RestoreBucketOptions::new(layout(), SnapshotSelector::Latest),
    )
    .await
    .unwrap();
    assert_eq!((restored.objects, restored.restored, restored.unchanged, restored.verified), (120, 11, 109, 120));
    assert_eq!(cloud.get_bytes(&src, &key("obj/0050")).await.unwrap(), Bytes::from("content of object 50".repeat(50 % 7 + 1)));
    assert_eq!(cloud.get_bytes(&src, &key("obj/0003")).await.unwrap(), Bytes::from("content of object 3".repeat(4)));
}

#[tokio::test]
async fn streamed_copy_between_two_stores_records_sha256_and_restores() {
    let aws_like = InMemoryCloud::new();
    let azure_like = InMemoryCloud::new();
    let src = filled_bucket(&aws_like, "assets", 30).await;
    let big = vec![7u8; 300 * 1024];
    aws_like.put_bytes(&src, &key("big/blob.bin"), Bytes::from(big.clone())).await.unwrap();
    let dst = empty_bucket(&azure_like, "dr-copy").await;

    let mut options = SnapshotOptions::new(layout());
    options.concurrency = 4;
    let report = snapshot_bucket(Location::new(&aws_like, &src), Location::new(&azure_like, &dst), &options).await.unwrap();
    assert!(!report.server_side);
    let manifest = read_manifest(Location::new(&azure_like, &dst), &layout(), &report.id).await.unwrap();
    assert_eq!(manifest.objects.len(), 31);
    assert!(manifest.objects.iter().all(|e| e.sha256.as_ref().is_some_and(|s| s.len() == 64)));

    let fresh = empty_bucket(&aws_like, "fresh-assets").await;
    let r = restore_bucket(
        Location::new(&azure_like, &dst),
        Location::new(&aws_like, &fresh),
        &RestoreBucketOptions { other_target: true, ..RestoreBucketOptions::new(layout(), SnapshotSelector::Id(report.id.clone())) },
    )
    .await
    .unwrap();
    assert_eq!((r.objects, r.verified), (31, 31));
    assert_eq!(aws_like.get_bytes(&fresh, &key("big/blob.bin")).await.unwrap(), Bytes::from(big));
}

#[tokio::test]
async fn an_interrupted_snapshot_has_no_manifest_is_refused_and_resumes_copying_only_what_is_missing() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "assets", 200).await;
    let dst = empty_bucket(&cloud, "backup").await;

    // 40 copies fail past their retries: the snapshot must not complete.
    cloud.fail_op("copy", 40);
    let mut options = SnapshotOptions::new(layout());
    options.attempts = 1;
    options.concurrency = 1;
    let err = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap_err();
    assert!(matches!(&err, Error::Verification { detail, .. } if detail.contains("40 of 200")), "{err}");
    assert!(list_snapshots(Location::new(&cloud, &dst), &layout()).await.unwrap().is_empty(), "a failed snapshot was listed as complete");

    // A restore of the unfinished snapshot is refused.
    let folder_id: SnapshotId = {
        let listed: Vec<_> = cloud
            .list_all(&dst, deploy_core::object_store::ListOptions::prefix("backups/"))
            .await
            .unwrap()
            .into_iter()
            .filter(|m| !m.key.as_str().starts_with("backups/manifests/"))
            .collect();
        assert_eq!(listed.len(), 160, "the copies that succeeded stay");
        listed[0].key.as_str()["backups/".len()..].split('/').next().unwrap().parse().unwrap()
    };
    let refused = restore_bucket(
        Location::new(&cloud, &dst),
        Location::new(&cloud, &src),
        &RestoreBucketOptions::new(layout(), SnapshotSelector::Id(folder_id.clone())),
    )
    .await
    .unwrap_err();
    assert!(refused.is_not_found() && refused.to_string().contains("no manifest"), "{refused}");

    // Resume: only the 40 missing objects are copied.
    cloud.reset_calls();
    options.id = Some(folder_id.clone());
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap();
    assert_eq!((report.copied, report.skipped, report.objects), (40, 160, 200));
    assert_eq!(cloud.count("copy"), 40);
    assert_eq!(read_manifest(Location::new(&cloud, &dst), &layout(), &folder_id).await.unwrap().objects.len(), 200);
    // Completing it again is refused rather than overwriting the manifest.
    let again = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap_err();
    assert!(matches!(again, Error::AlreadyExists { .. }), "{again}");
}

#[tokio::test]
async fn retryable_faults_are_retried_without_loss() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "assets", 50).await;
    let dst = empty_bucket(&cloud, "backup").await;
    cloud.fail_op("copy", 10);
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &SnapshotOptions::new(layout())).await.unwrap();
    assert_eq!(report.objects, 50);
    assert_eq!(cloud.count("copy"), 60, "each injected failure was retried once");
}

#[tokio::test]
async fn bad_options_are_rejected_before_any_call() {
    let cloud = InMemoryCloud::new();
    let b = bucket("assets");
    for prefix in ["/abs", "a//b", "a/../b", "./x"] {
        assert_eq!(SnapshotLayout::new(prefix).unwrap_err().invalid_field(), Some("prefix"), "{prefix}");
    }
    let mut options = SnapshotOptions::new(layout());
    options.concurrency = 0;
    let e = snapshot_bucket(Location::new(&cloud, &b), Location::new(&cloud, &b), &options).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("concurrency"));
    let e = snapshot_bucket(Location::new(&cloud, &b), Location::new(&cloud, &b), &SnapshotOptions::new(SnapshotLayout::new("").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(e.invalid_field(), Some("layout.prefix"), "a snapshot into its own source must be refused");
    assert!(cloud.calls().is_empty(), "calls were made: {:?}", cloud.calls());
    assert!("2026-13-01T00-00-00.000Z".parse::<SnapshotId>().is_err());
    assert!("2026-11-23T20:21:40.123Z".parse::<SnapshotId>().is_err());
    assert!("2026-11-23T20-21-40.123Z".parse::<SnapshotId>().is_ok());
}

fn db_spec(name: &str) -> DatabaseSpec {
    let mut spec = DatabaseSpec::postgres(ResourceName::new(name).unwrap(), "15", "db.t4g.medium", PgIdentifier::new("dbadmin").unwrap());
    spec.admin_password = Some(PasswordRules::rds_master().generate(20).unwrap());
    spec
}

#[tokio::test]
async fn dr_backup_and_restore_report_what_was_done_and_checked() {
    let cloud = slow_cloud();
    let db = ResourceName::new("prod-db").unwrap();
    cloud.ensure_database(&db_spec("prod-db")).await.unwrap();
    let src = filled_bucket(&cloud, "prod-assets", 25).await;
    let backup = empty_bucket(&cloud, "prod-backup").await;

    let report = dr_backup(
        DatabaseBackup::Snapshot { backend: &cloud, instance: &db },
        Location::new(&cloud, &src),
        Location::new(&cloud, &backup),
        &SnapshotOptions::new(layout()),
    )
    .await
    .unwrap();
    let snap = report.database_snapshot.clone().unwrap();
    assert!(snap.name.as_str().starts_with("prod-db-"));
    assert_eq!(report.bucket.objects, 25);
    assert!(report.to_string().contains("snapshot prod-db-"), "{report}");

    cloud.delete(&src, &key("obj/0001")).await.unwrap();
    let target = RestoreTarget::new(ResourceName::new("prod-db-restored").unwrap());
    let restored = dr_restore(
        DatabaseRestore::Snapshot { backend: &cloud, source: &db, target: &target },
        Location::new(&cloud, &backup),
        Location::new(&cloud, &src),
        &RestoreBucketOptions::new(layout(), SnapshotSelector::Latest),
    )
    .await
    .unwrap();
    assert_eq!(restored.database.as_ref().unwrap().name.as_str(), "prod-db-restored");
    assert_eq!(restored.bucket.restored, 1);
    assert!(restored.checks.iter().any(|c| c.contains("requires TLS")), "{restored}");

    let pitr = RestoreTarget::new(ResourceName::new("prod-db-pitr").unwrap());
    let r = dr_restore(
        DatabaseRestore::PointInTime { backend: &cloud, source: &db, point: RestorePoint::Latest, target: &pitr },
        Location::new(&cloud, &backup),
        Location::new(&cloud, &src),
        &RestoreBucketOptions::new(layout(), SnapshotSelector::Latest),
    )
    .await
    .unwrap();
    assert_eq!(r.bucket.restored, 0, "nothing changed since the last restore");
}

#[tokio::test]
async fn teardown_refuses_everything_without_confirmation_then_goes_in_order() {
    let cloud = slow_cloud();
    let envs = deploy_core::env::Environments::from_toml(include_str!("../../../../examples/environments.toml")).unwrap();
    let prod = envs.get("production").unwrap();
    prod.ensure(&deploy_core::env::Backends::in_memory(&cloud)).await.unwrap();
    let assets = bucket("acme-prod-assets");
    cloud.put_bytes(&assets, &key("a"), Bytes::from_static(b"data")).await.unwrap();
    let vault = ResourceName::new("acme-prod-vault").unwrap();
    deploy_core::BackupVault::start_backup(&cloud, &vault, "arn:aws:rds:eu-central-1:111122223333:db:acme-prod-db", None).await.unwrap();

    let mut teardown = Teardown {
        backup: Some(&cloud),
        vaults: vec![vault.clone()],
        backup_plans: vec![ResourceName::new("acme-prod-daily").unwrap()],
        database: Some(&cloud),
        databases: vec![ResourceName::new("acme-prod-db").unwrap()],
        objects: Some(&cloud),
        buckets: vec![assets.clone()],
        cluster: Some(&cloud),
        clusters: vec![ResourceName::new("acme-prod").unwrap()],
        ..Teardown::default()
    };
    let plan = teardown.plan().await.unwrap();
    let actions: Vec<&str> = plan.steps.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        [
            "delete recovery point",
            "delete backup plan",
            "delete backup vault",
            "turn off deletion protection of database",
            "delete database (no final snapshot)",
            "delete bucket and every object in",
            "delete node pool",
            "delete node pool",
            "delete cluster"
        ]
    );
    cloud.reset_calls();
    let e = teardown.run().await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }), "{e}");
    assert!(cloud.mutating_calls().is_empty(), "an unconfirmed teardown deleted something: {:?}", cloud.mutating_calls());

    teardown.confirm = Some(Confirm::prefix("acme-prod"));
    teardown.run().await.unwrap();
    let order: Vec<&str> = cloud.mutating_calls().iter().map(|c| c.op).collect();
    assert_eq!(
        order,
        [
            "delete_recovery_point",
            "delete_plan",
            "delete_vault",
            "set_deletion_protection",
            "delete_database",
            "delete_bucket",
            "delete_node_pool",
            "delete_node_pool",
            "delete_cluster"
        ]
    );
    assert!(teardown.plan().await.unwrap().steps.is_empty(), "something is left");
    teardown.run().await.unwrap();
}

#[tokio::test]
async fn a_throttling_server_slows_the_snapshot_down_and_nothing_is_lost() {
    use deploy_core::throttle::{ThrottleConfig, Throttled};
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "assets", 300).await;
    let dst = empty_bucket(&cloud, "backup").await;
    let config = ThrottleConfig { max_in_flight: Some(6), ..ThrottleConfig::uniform(std::time::Duration::from_millis(2)) };
    let store = Throttled::new(cloud.clone(), config);
    let mut options = SnapshotOptions::new(layout());
    options.concurrency = 64;
    options.attempts = 20;
    let report = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &dst), &options).await.unwrap();
    assert_eq!(report.objects, 300);
    assert!(report.throttled > 0, "the server never throttled: {report}");
    assert!(report.lowest_concurrency <= 6, "concurrency never came down to what the server takes: {report}");
    assert!(report.lowest_concurrency >= 2, "one burst of refusals cut concurrency to {}: {report}", report.lowest_concurrency);
    eprintln!("{report}; {} requests refused", store.refused());
    // Backing off keeps the refusals to a fraction of the work instead of one per retry storm.
    assert!(store.refused() < 300, "{} requests refused for 300 copies: the recipe hammered the server", store.refused());
    let manifest = read_manifest(Location::new(&cloud, &dst), &layout(), &report.id).await.unwrap();
    assert_eq!(manifest.objects.len(), 300);
}

#[tokio::test]
async fn a_snapshot_dropped_half_way_resumes_copying_only_what_is_missing() {
    use deploy_core::throttle::{ThrottleConfig, Throttled};
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "assets", 400).await;
    let dst = empty_bucket(&cloud, "backup").await;
    let slow = Throttled::new(cloud.clone(), ThrottleConfig::uniform(std::time::Duration::from_millis(2)));
    let mut options = SnapshotOptions::new(layout());
    options.concurrency = 8;
    options.id = Some(SnapshotId::now());

    // Cancel by dropping the future once about half the objects are copied.
    {
        let run = snapshot_bucket(Location::new(&slow, &src), Location::new(&slow, &dst), &options);
        let watch = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if cloud.count("copy") >= 200 {
                    break;
                }
            }
        };
        tokio::select! {
            r = run => panic!("the snapshot finished before it was cancelled: {r:?}"),
            () = watch => {}
        }
    }
    let copied_before = cloud.count("copy");
    assert!((200..400).contains(&copied_before), "{copied_before} copies before the cancel");
    let id = options.id.clone().unwrap();
    let refused = restore_bucket(
        Location::new(&cloud, &dst),
        Location::new(&cloud, &src),
        &RestoreBucketOptions::new(layout(), SnapshotSelector::Id(id.clone())),
    )
    .await
    .unwrap_err();
    assert!(refused.is_not_found(), "a restore of the unfinished snapshot was not refused: {refused}");

    // What the cancelled run left in the snapshot's folder, counted independently of the resume.
    let folder = layout().folder(&id);
    let in_folder_before = cloud.list_all(&dst, deploy_core::object_store::ListOptions::prefix(folder)).await.unwrap().len() as u64;
    assert!(in_folder_before >= 200, "{in_folder_before} objects in the folder after {copied_before} copies");
    cloud.reset_calls();
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap();
    assert_eq!(report.objects, 400);
    assert_eq!(report.skipped, in_folder_before, "the resume did not skip exactly what the folder held");
    assert_eq!(report.copied, 400 - in_folder_before, "the resume did not copy exactly what was missing");
    assert_eq!(cloud.count("copy") as u64, report.copied, "the resumed run copied more than it reported");
    assert_eq!(read_manifest(Location::new(&cloud, &dst), &layout(), &id).await.unwrap().objects.len(), 400);
}

#[tokio::test]
async fn a_listing_that_fails_half_way_resumes_after_the_last_key() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "assets", 2500).await;
    let dst = empty_bucket(&cloud, "backup").await;
    // The listing's pages (and the snapshot's other listings) fail three times in all.
    cloud.fail_op("list", 3);
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &SnapshotOptions::new(layout())).await.unwrap();
    assert_eq!((report.objects, report.copied), (2500, 2500), "{report}");
    assert_eq!(cloud.count("copy"), 2500, "an object was copied twice or missed");
}

#[tokio::test]
async fn teardown_counts_older_versions_as_data() {
    let cloud = InMemoryCloud::new();
    let b = empty_bucket(&cloud, "only-versions").await;
    cloud.put_bytes(&b, &key("report.pdf"), Bytes::from_static(b"v1")).await.unwrap();
    cloud.delete(&b, &key("report.pdf")).await.unwrap();
    assert!(cloud.list_all(&b, Default::default()).await.unwrap().is_empty(), "no current object is left");
    assert!(cloud.holds_data(&b).await.unwrap());
    let teardown = Teardown { objects: Some(&cloud), buckets: vec![b.clone()], ..Teardown::default() };
    let plan = teardown.plan().await.unwrap();
    assert_eq!(plan.steps.len(), 1);
    assert_eq!((plan.steps[0].action, plan.steps[0].destroys.as_deref()), ("delete bucket and every object in", Some("only-versions")));
    let e = teardown.run().await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }), "{e}");
    assert!(cloud.describe_bucket(&b).await.is_ok(), "the bucket holding an older version was deleted without confirmation");
}
