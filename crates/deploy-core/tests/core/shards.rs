//! Issue 18 in memory: the manifest as bounded parts with an index written
//! last, format 1 still readable, stale copies removed on resume, shards by
//! key range run alone and finalized once they all agree, restores by range.

use bytes::Bytes;
use deploy_core::memory::{InMemoryCloud, MemoryConfig};
use deploy_core::object_store::{KeyOrder, ListOptions, ObjectStoreExt as _};
use deploy_core::recipes::*;
use deploy_core::{BucketName, Error, ObjectStore};

use crate::support::{empty_bucket, filled_bucket, key};

fn layout() -> SnapshotLayout {
    SnapshotLayout::new("snaps").unwrap()
}

/// The manifest's (key, source ETag) pairs, in order.
async fn listed(store: &dyn ObjectStore, backup: &BucketName, id: &SnapshotId) -> Vec<(String, Option<String>)> {
    read_manifest(Location::new(store, backup), &layout(), id).await.unwrap().objects.into_iter().map(|e| (e.key, e.etag)).collect()
}

#[tokio::test]
async fn the_manifest_is_written_as_bounded_parts_and_an_index_last() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "parted", 300).await;
    let dst = empty_bucket(&cloud, "parted-backup").await;
    let options = SnapshotOptions { manifest_part_bytes: 1024, ..SnapshotOptions::new(layout()) };
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap();
    assert!(report.parts > 20, "{report}");
    let index: ManifestIndex = serde_json::from_slice(&cloud.get_bytes(&dst, &key(&report.manifest_key)).await.unwrap()).unwrap();
    assert_eq!((index.format, index.objects, index.parts.len()), (2, 300, report.parts));
    let mut previous_last = String::new();
    for part in &index.parts {
        let body = cloud.get_bytes(&dst, &key(&part.key)).await.unwrap();
        let longest_line = body.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap();
        assert!(body.len() <= 1024 + longest_line, "part {} has {} bytes", part.key, body.len());
        assert_eq!(part.size, body.len() as u64);
        assert!(part.first_key > previous_last && part.first_key <= part.last_key, "parts out of order at {}", part.key);
        previous_last.clone_from(&part.last_key);
    }
    assert_eq!(index.parts.iter().map(|p| p.objects).sum::<u64>(), 300);
    let manifest = read_manifest(Location::new(&cloud, &dst), &layout(), &report.id).await.unwrap();
    let keys: Vec<String> = manifest.objects.iter().map(|e| e.key.clone()).collect();
    let want: Vec<String> = (0..300).map(|i| format!("obj/{i:04}")).collect();
    assert_eq!(keys, want);

    // A part that is not what the index recorded is refused by the restore.
    let part = &index.parts[3];
    let mut body = cloud.get_bytes(&dst, &key(&part.key)).await.unwrap().to_vec();
    body[20] ^= 1;
    cloud.put_bytes(&dst, &key(&part.key), Bytes::from(body)).await.unwrap();
    cloud.delete(&src, &key("obj/0001")).await.unwrap();
    let options = RestoreBucketOptions::new(layout(), SnapshotSelector::Id(report.id.clone()));
    let e = restore_bucket(Location::new(&cloud, &dst), Location::new(&cloud, &src), &options).await.unwrap_err();
    assert!(matches!(&e, Error::Verification { what, detail } if what.contains(&part.key) && detail.contains("SHA-256")), "{e}");
}

#[tokio::test]
async fn a_resume_removes_copies_of_objects_no_longer_in_the_source() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "stale", 50).await;
    let dst = empty_bucket(&cloud, "stale-backup").await;
    let id = SnapshotId::now();
    // An earlier run copied obj/0049 and was killed; obj/0049 is then deleted from the source.
    let folder = layout().folder(&id);
    cloud.copy(&src, &key("obj/0049"), &dst, &key(&format!("{folder}obj/0049"))).await.unwrap();
    cloud.copy(&src, &key("obj/0010"), &dst, &key(&format!("{folder}obj/0010"))).await.unwrap();
    cloud.delete(&src, &key("obj/0049")).await.unwrap();
    let options = SnapshotOptions { id: Some(id.clone()), ..SnapshotOptions::new(layout()) };
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap();
    assert_eq!((report.objects, report.copied, report.skipped, report.removed), (49, 48, 1, 1), "{report}");
    let in_folder = cloud.list_all(&dst, ListOptions::prefix(folder)).await.unwrap();
    assert_eq!(in_folder.len(), 49, "the folder holds exactly the manifest's objects");
}

#[tokio::test]
async fn shards_run_alone_and_finalize_refuses_until_they_all_agree() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "sharded", 1000).await;
    let dst = empty_bucket(&cloud, "sharded-backup").await;
    let single = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &SnapshotOptions::new(layout())).await.unwrap();

    let id = SnapshotId::at(single.id.timestamp() + jiff::SignedDuration::from_secs(1));
    let options = SnapshotOptions { id: Some(id.clone()), concurrency: 8, manifest_part_bytes: 4096, ..SnapshotOptions::new(layout()) };
    // Bad boundaries are refused before any request.
    cloud.reset_calls();
    let e = plan_shards(
        Location::new(&cloud, &src),
        Location::new(&cloud, &dst),
        &options,
        4,
        Boundaries::Given(vec!["b".into(), "a".into(), "c".into()]),
    )
    .await
    .unwrap_err();
    assert_eq!(e.invalid_field(), Some("boundaries"), "{e}");
    assert!(cloud.calls().is_empty());
    let plan = plan_shards(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 4, Boundaries::Listed).await.unwrap();
    assert_eq!(plan.ranges.len(), 4);
    // Planned again (another process), the same ranges.
    assert_eq!(plan_shards(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 4, Boundaries::Listed).await.unwrap(), plan);

    // Shards 0 and 2 run; shard 1 is killed half-way.
    for i in [0, 2] {
        let r = snapshot_shard(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, i).await.unwrap();
        assert!((200..=300).contains(&r.objects), "shard {i} holds {} objects: the ranges are not balanced", r.objects);
    }
    {
        let slow = deploy_core::throttle::Throttled::new(
            cloud.clone(),
            deploy_core::throttle::ThrottleConfig::uniform(std::time::Duration::from_millis(2)),
        );
        let run = snapshot_shard(Location::new(&slow, &src), Location::new(&slow, &dst), &options, 1);
        let watch = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                let copied = cloud.list_all(&dst, ListOptions::prefix(layout().folder(&id))).await.unwrap().len();
                if copied >= 600 {
                    break;
                }
            }
        };
        tokio::select! {
            r = run => panic!("shard 1 finished before it was killed: {r:?}"),
            () = watch => {}
        }
    }
    let e = finalize_snapshot(Location::new(&cloud, &dst), &layout(), &id).await.unwrap_err();
    assert!(matches!(&e, Error::Conflict { reason, .. } if reason.contains("2 of 4 shards") && reason.contains("shards 1, 3")), "{e}");
    assert!(
        list_snapshots(Location::new(&cloud, &dst), &layout()).await.unwrap() == [single.id.clone()],
        "an unfinished snapshot is listed"
    );

    let resumed = snapshot_shard(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 1).await.unwrap();
    assert!(resumed.skipped > 0 && resumed.copied < resumed.objects, "the rerun of shard 1 copied everything again: {resumed:?}");
    snapshot_shard(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 3).await.unwrap();
    let again = snapshot_shard(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 3).await.unwrap();
    assert!(again.already_complete && again.copied == 0);
    let index = finalize_snapshot(Location::new(&cloud, &dst), &layout(), &id).await.unwrap();
    assert_eq!((index.objects, index.shards), (1000, 4));
    assert_eq!(
        listed(&cloud, &dst, &id).await,
        listed(&cloud, &dst, &single.id).await,
        "the sharded manifest differs from the single-process one"
    );

    // A shard record that does not agree with the plan is refused.
    let other = SnapshotId::at(id.timestamp() + jiff::SignedDuration::from_secs(1));
    let options = SnapshotOptions { id: Some(other.clone()), ..options };
    let plan =
        plan_shards(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, 2, Boundaries::Given(vec!["obj/0500".into()]))
            .await
            .unwrap();
    assert_eq!(plan.ranges[0].until.as_deref(), Some("obj/0500"));
    for i in 0..2 {
        snapshot_shard(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options, i).await.unwrap();
    }
    let record = key(&format!("{}shard-00001-of-00002.json", layout().parts_folder(&other)));
    let mut json: serde_json::Value = serde_json::from_slice(&cloud.get_bytes(&dst, &record).await.unwrap()).unwrap();
    json["range"]["after"] = serde_json::json!("obj/0400");
    cloud.put_bytes(&dst, &record, Bytes::from(json.to_string())).await.unwrap();
    let e = finalize_snapshot(Location::new(&cloud, &dst), &layout(), &other).await.unwrap_err();
    assert!(matches!(&e, Error::Verification { detail, .. } if detail.contains("shard 1")), "{e}");
}

#[tokio::test]
async fn in_process_shards_and_restore_ranges_give_the_same_result() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "inproc", 600).await;
    let dst = empty_bucket(&cloud, "inproc-backup").await;
    let options = SnapshotOptions { shards: 3, manifest_part_bytes: 2048, ..SnapshotOptions::new(layout()) };
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &dst), &options).await.unwrap();
    assert_eq!((report.objects, report.shards, report.copied), (600, 3, 600), "{report}");

    for i in (0..600).step_by(7) {
        cloud.delete(&src, &key(&format!("obj/{i:04}"))).await.unwrap();
    }
    // Three processes, each its range (restore_shard: the range of its index).
    let ranges = restore_ranges(Location::new(&cloud, &dst), &layout(), &report.id, 3).await.unwrap();
    assert_eq!(ranges.len(), 3);
    let by_id = RestoreBucketOptions::new(layout(), SnapshotSelector::Id(report.id.clone()));
    let (backup, target) = (Location::new(&cloud, &dst), Location::new(&cloud, &src));
    let (mut restored, mut verified) = (0, 0);
    for index in 0..3 {
        let shard = restore_shard(backup, target, &by_id, index, 3).await.unwrap().expect("a range for each of 3 shards");
        assert!(shard.verified < 600, "shard {index} verified more than its range: {shard}");
        (restored, verified) = (restored + shard.restored, verified + shard.verified);
    }
    assert_eq!((restored, verified), (86, 600), "the three ranges cover the snapshot once");
    assert_eq!(cloud.list_all(&src, ListOptions::default()).await.unwrap().len(), 600);
    // More shards than the manifest has parts: the extra shards have nothing to do.
    let parts = read_manifest_info(backup, &layout(), &report.id).await.unwrap().parts;
    assert_eq!(restore_shard(backup, target, &by_id, parts, parts + 1).await.unwrap(), None);
    // An index past the count, and `latest` (the shards could restore different snapshots), are refused.
    let e = restore_shard(backup, target, &by_id, 3, 3).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("index"), "{e}");
    let latest = RestoreBucketOptions::new(layout(), SnapshotSelector::Latest);
    assert_eq!(restore_shard(backup, target, &latest, 0, 3).await.unwrap_err().invalid_field(), Some("snapshot"));
    // In one process, in shards.
    for i in (0..600).step_by(5) {
        cloud.delete(&src, &key(&format!("obj/{i:04}"))).await.unwrap();
    }
    let options = RestoreBucketOptions { shards: 4, ..RestoreBucketOptions::new(layout(), SnapshotSelector::Id(report.id.clone())) };
    let r = restore_bucket(Location::new(&cloud, &dst), Location::new(&cloud, &src), &options).await.unwrap();
    assert_eq!((r.restored, r.verified), (120, 600), "{r}");
}

#[tokio::test]
async fn a_sharded_snapshot_from_a_utf16_store_lists_exactly_what_one_process_does() {
    let azure_like = InMemoryCloud::with_config(MemoryConfig { key_order: KeyOrder::Utf16, ..MemoryConfig::default() });
    let s3_like = InMemoryCloud::new();
    let src = empty_bucket(&azure_like, "utf16-src").await;
    for (i, prefix) in ["a/🦀", "a/\u{FF61}", "a/\u{E000}", "a/plain", "b+%#", "deep/1/2/3"].iter().enumerate() {
        for j in 0..40 {
            azure_like.put_bytes(&src, &key(&format!("{prefix}/{j:03}")), Bytes::from(format!("{i} {j}"))).await.unwrap();
        }
    }
    let dst = empty_bucket(&s3_like, "utf16-backup").await;
    let single =
        snapshot_bucket(Location::new(&azure_like, &src), Location::new(&s3_like, &dst), &SnapshotOptions::new(layout())).await.unwrap();
    let sharded = SnapshotOptions {
        shards: 5,
        id: Some(SnapshotId::at(single.id.timestamp() + jiff::SignedDuration::from_secs(1))),
        ..SnapshotOptions::new(layout())
    };
    let report = snapshot_bucket(Location::new(&azure_like, &src), Location::new(&s3_like, &dst), &sharded).await.unwrap();
    assert_eq!(report.objects, 240);
    assert_eq!(listed(&s3_like, &dst, &report.id).await, listed(&s3_like, &dst, &single.id).await);
    // Resumed across the two orders: nothing copied again.
    let index_key = key(&layout().manifest_key(&report.id));
    s3_like.delete(&dst, &index_key).await.unwrap();
    for i in 0..5 {
        s3_like.delete(&dst, &key(&format!("{}shard-{i:05}-of-00005.json", layout().parts_folder(&report.id)))).await.unwrap();
    }
    let resumed = snapshot_bucket(Location::new(&azure_like, &src), Location::new(&s3_like, &dst), &sharded).await.unwrap();
    assert_eq!((resumed.copied, resumed.skipped, resumed.removed), (0, 240, 0), "{resumed}");
}
