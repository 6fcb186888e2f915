//! Restores that lose nothing, on the in-memory store: classification,
//! versioned and unversioned targets, confirmations, `keep_newer`, `exact`,
//! conditional reads of the snapshot and conditional writes of the target.

use bytes::Bytes;
use deploy_core::memory::InMemoryCloud;
use deploy_core::object_store::ObjectStoreExt as _;
use deploy_core::recipes::*;
use deploy_core::{BucketName, BucketSpec, Confirm, Error, ObjectStore};

use crate::support::{Hooked, Step, bucket, empty_bucket, key};

fn layout() -> SnapshotLayout {
    SnapshotLayout::new("backups").unwrap()
}

fn body(i: usize) -> Bytes {
    Bytes::from(format!("content of object {i}").repeat(i % 7 + 1))
}

/// `n` objects in `name` (versioned or not), a backup bucket, and a snapshot of it.
async fn snapshotted(cloud: &InMemoryCloud, name: &str, n: usize, versioned: bool) -> (BucketName, BucketName, SnapshotId) {
    let src = bucket(name);
    cloud.ensure_bucket(&BucketSpec { versioning: versioned, ..BucketSpec::new(src.clone()) }).await.unwrap();
    for i in 0..n {
        cloud.put_bytes(&src, &key(&format!("obj/{i:04}")), body(i)).await.unwrap();
    }
    let backup = bucket(&format!("{name}-backup"));
    cloud.ensure_bucket(&BucketSpec::new(backup.clone())).await.unwrap();
    let report = snapshot_bucket(Location::new(cloud, &src), Location::new(cloud, &backup), &SnapshotOptions::new(layout())).await.unwrap();
    (src, backup, report.id)
}

fn options(id: &SnapshotId) -> RestoreBucketOptions {
    RestoreBucketOptions::new(layout(), SnapshotSelector::Id(id.clone()))
}

#[tokio::test]
async fn a_restore_into_a_versioned_bucket_keeps_what_it_overwrites_and_what_is_new() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "assets", 30, true).await;
    // Damage: three deleted, two overwritten, one new object.
    for i in [0, 1, 2] {
        cloud.delete(&src, &key(&format!("obj/{i:04}"))).await.unwrap();
    }
    for i in [10, 11] {
        cloud.put_bytes(&src, &key(&format!("obj/{i:04}")), Bytes::from(format!("written after the snapshot {i}"))).await.unwrap();
    }
    cloud.put_bytes(&src, &key("obj/new"), Bytes::from_static(b"new since")).await.unwrap();

    let plan = plan_restore(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap();
    assert!(plan.versioned);
    assert_eq!((plan.missing.count, plan.overwrite.count, plan.overwrite_newer, plan.identical), (3, 2, 2, 25), "{plan}");
    assert_eq!(plan.overwrite.first, ["obj/0010", "obj/0011"]);
    assert_eq!(plan.not_in_snapshot.first, ["obj/new"]);
    let shown = plan.to_string();
    assert!(
        shown.contains("overwrite 2 (obj/0010, obj/0011)") && shown.contains("2 of them written after the snapshot started"),
        "{shown}"
    );

    let report = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap();
    assert_eq!((report.restored, report.unchanged, report.not_in_snapshot, report.verified), (5, 25, 1, 30), "{report}");
    assert_eq!(report.overwritten.first, ["obj/0010", "obj/0011"]);
    assert_eq!(report.overwritten_newer, 2);
    for i in 0..30 {
        assert_eq!(cloud.get_bytes(&src, &key(&format!("obj/{i:04}"))).await.unwrap(), body(i), "obj/{i:04}");
    }
    // The overwritten content is still there, as a noncurrent version; the new object is kept.
    let versions = cloud.object_versions(&src, &key("obj/0010")).unwrap();
    assert!(versions.contains(&Some(Bytes::from("written after the snapshot 10"))), "the overwritten content is lost: {versions:?}");
    assert_eq!(cloud.get_bytes(&src, &key("obj/new")).await.unwrap(), Bytes::from_static(b"new since"));

    // Again: nothing to do.
    cloud.reset_calls();
    let again = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap();
    assert_eq!((again.restored, again.unchanged), (0, 30));
    assert!(cloud.mutating_calls().is_empty(), "{:?}", cloud.mutating_calls());
}

#[tokio::test]
async fn an_unversioned_bucket_is_refused_before_any_write_unless_confirmed_by_name() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "plain", 20, false).await;
    cloud.delete(&src, &key("obj/0003")).await.unwrap();
    cloud.put_bytes(&src, &key("obj/0004"), Bytes::from_static(b"precious new data")).await.unwrap();

    cloud.reset_calls();
    let refused = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap_err();
    assert!(
        matches!(&refused, Error::ConfirmationRequired { expected, action } if expected == "plain" && action.contains("obj/0004")),
        "{refused}"
    );
    assert!(cloud.mutating_calls().is_empty(), "a refused restore wrote: {:?}", cloud.mutating_calls());
    assert!(cloud.head(&src, &key("obj/0003")).await.is_err(), "not even the missing object was written");

    // A confirmation naming another bucket is refused before any request.
    cloud.reset_calls();
    let wrong = RestoreBucketOptions { confirm: Some(Confirm::new("other-bucket")), ..options(&id) };
    let e = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &wrong).await.unwrap_err();
    assert!(matches!(&e, Error::ConfirmationRequired { expected, .. } if expected == "plain"), "{e}");
    assert!(cloud.calls().is_empty(), "calls were made: {:?}", cloud.calls());

    let confirmed = RestoreBucketOptions { confirm: Some(Confirm::new("plain")), ..options(&id) };
    let report = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &confirmed).await.unwrap();
    assert_eq!((report.restored, report.overwritten.count, report.versioned), (2, 1, false), "{report}");
    assert_eq!(cloud.get_bytes(&src, &key("obj/0004")).await.unwrap(), body(4));

    // Missing objects alone need no confirmation.
    cloud.delete(&src, &key("obj/0005")).await.unwrap();
    let report = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap();
    assert_eq!((report.restored, report.overwritten.count), (1, 0));
}

#[tokio::test]
async fn keep_newer_leaves_objects_written_after_the_snapshot_alone() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "newer", 10, true).await;
    cloud.put_bytes(&src, &key("obj/0001"), Bytes::from_static(b"fresh work")).await.unwrap();
    cloud.put_bytes(&src, &key("obj/0002"), Bytes::from_static(b"damage")).await.unwrap();
    // obj/0002 reports a time before the snapshot started: it is overwritten.
    cloud.set_last_modified(&src, &key("obj/0002"), id.timestamp() - jiff::SignedDuration::from_hours(1)).unwrap();
    let keep = RestoreBucketOptions { keep_newer: true, ..options(&id) };
    let plan = plan_restore(Location::new(&cloud, &backup), Location::new(&cloud, &src), &keep).await.unwrap();
    assert_eq!(
        (plan.keep_newer.first.clone(), plan.overwrite.first.clone(), plan.overwrite_newer),
        (vec!["obj/0001".to_owned()], vec!["obj/0002".to_owned()], 0)
    );
    let report = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &keep).await.unwrap();
    assert_eq!((report.kept_newer.count, report.overwritten.count, report.verified), (1, 1, 9), "{report}");
    assert_eq!(cloud.get_bytes(&src, &key("obj/0001")).await.unwrap(), Bytes::from_static(b"fresh work"));
    assert_eq!(cloud.get_bytes(&src, &key("obj/0002")).await.unwrap(), body(2));
}

#[tokio::test]
async fn exact_deletes_what_is_not_in_the_snapshot_and_asks_first_on_an_unversioned_bucket() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "exact", 5, false).await;
    cloud.put_bytes(&src, &key("obj/stray"), Bytes::from_static(b"not in the snapshot")).await.unwrap();
    let exact = RestoreBucketOptions { exact: true, ..options(&id) };
    let e = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &exact).await.unwrap_err();
    assert!(matches!(&e, Error::ConfirmationRequired { action, .. } if action.contains("delete 1 (obj/stray)")), "{e}");
    assert!(cloud.head(&src, &key("obj/stray")).await.is_ok());
    // Without exact, the stray object is left and the restore needs no confirmation.
    let left = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap();
    assert_eq!((left.not_in_snapshot, left.deleted.count), (1, 0));
    let confirmed = RestoreBucketOptions { confirm: Some(Confirm::new("exact")), ..exact };
    let report = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &confirmed).await.unwrap();
    assert_eq!(report.deleted.first, ["obj/stray"]);
    assert!(cloud.head(&src, &key("obj/stray")).await.unwrap_err().is_not_found());
    // The backup's own area is never part of an exact restore into its bucket.
    let same = empty_bucket(&cloud, "same-bucket").await;
    cloud.put_bytes(&same, &key("data/a"), Bytes::from_static(b"a")).await.unwrap();
    let mut snap = SnapshotOptions::new(layout());
    snap.source_prefix = Some("data/".into());
    let r = snapshot_bucket(Location::new(&cloud, &same), Location::new(&cloud, &same), &snap).await.unwrap();
    let restored =
        restore_bucket(Location::new(&cloud, &same), Location::new(&cloud, &same), &RestoreBucketOptions { exact: true, ..options(&r.id) })
            .await
            .unwrap();
    assert_eq!((restored.deleted.count, restored.unchanged), (0, 1), "{restored}");
    assert!(cloud.head(&same, &key(&r.manifest_key)).await.is_ok(), "the exact restore deleted the manifest");
}

#[tokio::test]
async fn a_damaged_snapshot_object_is_refused_and_the_live_object_stays() {
    for mode in [CopyMode::Auto, CopyMode::Streamed] {
        let cloud = InMemoryCloud::new();
        let (src, backup, id) = snapshotted(&cloud, "damaged", 12, true).await;
        // The snapshot's copy of obj/0007 is rewritten after the snapshot; the live object differs.
        let copy = key(&format!("{}obj/0007", layout().folder(&id)));
        cloud.put_bytes(&backup, &copy, Bytes::from_static(b"tampered with")).await.unwrap();
        cloud.put_bytes(&src, &key("obj/0007"), Bytes::from_static(b"live content")).await.unwrap();
        cloud.delete(&src, &key("obj/0001")).await.unwrap();
        let restore = RestoreBucketOptions { copy_mode: mode, ..options(&id) };
        let e = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &restore).await.unwrap_err();
        assert!(
            matches!(&e, Error::Verification { detail, .. } if detail.contains("1 snapshot objects refused") && detail.contains("obj/0007")),
            "{mode:?}: {e}"
        );
        assert_eq!(cloud.get_bytes(&src, &key("obj/0007")).await.unwrap(), Bytes::from_static(b"live content"), "{mode:?}");
        assert_eq!(cloud.get_bytes(&src, &key("obj/0001")).await.unwrap(), body(1), "{mode:?}: the other objects were not restored");
    }
}

#[tokio::test]
async fn a_format_1_manifest_without_copy_tags_checks_each_copy_before_using_it() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "legacy", 6, true).await;
    // Replace the manifest with what an older version of this crate wrote: format 1, one document, no copy tags.
    let mut manifest = read_manifest(Location::new(&cloud, &backup), &layout(), &id).await.unwrap();
    manifest.format = 1;
    for entry in &mut manifest.objects {
        entry.copy_tag = None;
    }
    let mut json = serde_json::to_value(&manifest).unwrap();
    json.as_object_mut().unwrap().remove("key_order");
    cloud.put_bytes(&backup, &key(&layout().manifest_key(&id)), Bytes::from(json.to_string())).await.unwrap();
    assert_eq!(read_manifest_info(Location::new(&cloud, &backup), &layout(), &id).await.unwrap().format, 1);
    cloud.put_bytes(&backup, &key(&format!("{}obj/0002", layout().folder(&id))), Bytes::from_static(b"tampered")).await.unwrap();
    for i in [2, 3] {
        cloud.delete(&src, &key(&format!("obj/{i:04}"))).await.unwrap();
    }
    let e = restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &src), &options(&id)).await.unwrap_err();
    assert!(matches!(&e, Error::Verification { detail, .. } if detail.contains("obj/0002")), "{e}");
    assert!(cloud.head(&src, &key("obj/0002")).await.unwrap_err().is_not_found(), "the tampered copy was restored");
    assert_eq!(cloud.get_bytes(&src, &key("obj/0003")).await.unwrap(), body(3));
}

#[tokio::test]
async fn an_object_changed_after_classification_is_reported_not_overwritten() {
    let cloud = InMemoryCloud::new();
    let (src, backup, id) = snapshotted(&cloud, "racy", 8, true).await;
    cloud.put_bytes(&src, &key("obj/0004"), Bytes::from_static(b"damage")).await.unwrap();
    cloud.delete(&src, &key("obj/0005")).await.unwrap();
    // A writer that rewrites obj/0004 and creates obj/0005 just before the restore writes them.
    let writer = cloud.clone();
    let target = src.clone();
    let hooked = Hooked::new(cloud.clone(), move |step| {
        let (writer, target) = (writer.clone(), target.clone());
        async move {
            if let Step::Copy { to, .. } = step {
                let name = to.rsplit('/').next().unwrap().to_owned();
                if name == "0004" || name == "0005" {
                    writer.put_bytes(&target, &key(&format!("obj/{name}")), Bytes::from(format!("someone else's {name}"))).await.unwrap();
                }
            }
            Ok(())
        }
    });
    let e = restore_bucket(Location::new(&hooked, &backup), Location::new(&hooked, &src), &options(&id)).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification { detail, .. } if detail.contains("2 target objects changed") && detail.contains("obj/0004") && detail.contains("obj/0005")),
        "{e}"
    );
    for name in ["0004", "0005"] {
        assert_eq!(
            cloud.get_bytes(&src, &key(&format!("obj/{name}"))).await.unwrap(),
            Bytes::from(format!("someone else's {name}")),
            "obj/{name} was overwritten blindly"
        );
    }
}

#[tokio::test]
async fn a_snapshot_of_another_source_is_refused_and_latest_picks_the_targets_own() {
    let cloud = InMemoryCloud::new();
    let (a, shared, a_id) = snapshotted(&cloud, "team-a", 4, true).await;
    // Team b's snapshot lands in the same backup bucket and layout, later.
    let b = empty_bucket(&cloud, "team-b").await;
    cloud.put_bytes(&b, &key("obj/0000"), Bytes::from_static(b"b's data")).await.unwrap();
    let later = SnapshotOptions {
        id: Some(SnapshotId::at(a_id.timestamp() + jiff::SignedDuration::from_secs(1))),
        ..SnapshotOptions::new(layout())
    };
    let b_snap = snapshot_bucket(Location::new(&cloud, &b), Location::new(&cloud, &shared), &later).await.unwrap();
    assert!(b_snap.id > a_id);

    cloud.delete(&a, &key("obj/0000")).await.unwrap();
    let latest = RestoreBucketOptions::new(layout(), SnapshotSelector::Latest);
    let report = restore_bucket(Location::new(&cloud, &shared), Location::new(&cloud, &a), &latest).await.unwrap();
    assert_eq!(report.id, a_id, "latest picked another bucket's snapshot");
    assert_eq!(cloud.get_bytes(&a, &key("obj/0000")).await.unwrap(), body(0));

    let wrong = restore_bucket(Location::new(&cloud, &shared), Location::new(&cloud, &a), &options(&b_snap.id)).await.unwrap_err();
    assert_eq!(wrong.invalid_field(), Some("target"), "{wrong}");
    assert_eq!(cloud.get_bytes(&a, &key("obj/0000")).await.unwrap(), body(0));
    // Named explicitly, another target is fine: a fresh bucket.
    let fresh = empty_bucket(&cloud, "fresh").await;
    let other = RestoreBucketOptions { other_target: true, ..options(&b_snap.id) };
    let r = restore_bucket(Location::new(&cloud, &shared), Location::new(&cloud, &fresh), &other).await.unwrap();
    assert_eq!(r.restored, 1);
}

#[tokio::test]
async fn a_restore_between_stores_of_different_key_orders_classifies_every_key_exactly() {
    use deploy_core::memory::MemoryConfig;
    use deploy_core::object_store::KeyOrder;
    // Keys whose order differs between UTF-8 (S3) and UTF-16 (Azure), and others.
    let keys = [
        "a/🦀.bin",
        "a/\u{FF61}half.txt",
        "a/\u{E000}private",
        "a/plain",
        "b+plus%25#hash/ü.txt",
        "deep/1/2/3/4/5/6/7/8/9/leaf",
        "z/📁/\u{FFFD}",
    ];
    let s3_like = InMemoryCloud::new();
    let azure_like = InMemoryCloud::with_config(MemoryConfig { key_order: KeyOrder::Utf16, ..MemoryConfig::default() });
    let src = empty_bucket(&s3_like, "cross-src").await;
    for (i, k) in keys.iter().enumerate() {
        s3_like.put_bytes(&src, &key(k), Bytes::from(format!("{i}: {k}"))).await.unwrap();
    }
    let backup = empty_bucket(&azure_like, "cross-backup").await;
    let snap =
        snapshot_bucket(Location::new(&s3_like, &src), Location::new(&azure_like, &backup), &SnapshotOptions::new(layout())).await.unwrap();
    assert_eq!(snap.objects, keys.len() as u64);

    // Back into the source (UTF-8 listing, manifest in UTF-8 order), after damage.
    s3_like.delete(&src, &key("a/🦀.bin")).await.unwrap();
    s3_like.put_bytes(&src, &key("a/\u{FF61}half.txt"), Bytes::from_static(b"changed")).await.unwrap();
    s3_like.put_bytes(&src, &key("a/\u{FFFF}stray"), Bytes::from_static(b"stray")).await.unwrap();
    let restore = RestoreBucketOptions::new(layout(), SnapshotSelector::Id(snap.id.clone()));
    let plan = plan_restore(Location::new(&azure_like, &backup), Location::new(&s3_like, &src), &restore).await.unwrap();
    assert_eq!(
        (plan.missing.first.clone(), plan.overwrite.first.clone(), plan.identical),
        (vec!["a/🦀.bin".to_owned()], vec!["a/\u{FF61}half.txt".to_owned()], 5),
        "{plan}"
    );
    assert_eq!(plan.not_in_snapshot.first, ["a/\u{FFFF}stray"]);

    // Into a UTF-16 store holding the same keys: a manifest in UTF-8 order against a UTF-16 listing.
    let other = empty_bucket(&azure_like, "cross-other").await;
    for (i, k) in keys.iter().enumerate() {
        azure_like.put_bytes(&other, &key(k), Bytes::from(format!("{i}: {k}"))).await.unwrap();
    }
    azure_like.put_bytes(&other, &key("z/📁/extra"), Bytes::from_static(b"extra")).await.unwrap();
    azure_like.delete(&other, &key("a/\u{E000}private")).await.unwrap();
    let into_other = RestoreBucketOptions { other_target: true, ..restore.clone() };
    let plan = plan_restore(Location::new(&azure_like, &backup), Location::new(&azure_like, &other), &into_other).await.unwrap();
    assert_eq!((plan.missing.first.clone(), plan.overwrite.count, plan.identical), (vec!["a/\u{E000}private".to_owned()], 0, 6), "{plan}");
    assert_eq!(plan.not_in_snapshot.first, ["z/📁/extra"]);
    let report = restore_bucket(Location::new(&azure_like, &backup), Location::new(&azure_like, &other), &into_other).await.unwrap();
    assert_eq!((report.restored, report.unchanged, report.verified), (1, 6, 7), "{report}");
}
