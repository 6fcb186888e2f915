//! Snapshots that are exactly what was listed: objects rewritten or deleted
//! while the snapshot runs are refused by name, never recorded torn or
//! mismatched; a resume completes the snapshot; a whole operation's timeout is
//! not retried.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use deploy_core::memory::InMemoryCloud;
use deploy_core::object_store::ObjectStoreExt as _;
use deploy_core::recipes::*;
use deploy_core::{BucketSpec, Error, ObjectStore};
use md5::{Digest, Md5};

use crate::support::{Hooked, Step, bucket, empty_bucket, filled_bucket, key};

fn layout() -> SnapshotLayout {
    SnapshotLayout::new("snaps").unwrap()
}

/// A writer that, just before the snapshot reads or copies an object whose
/// number is a multiple of 10, rewrites it (odd tens) or deletes it (even tens).
fn writer(
    cloud: &InMemoryCloud,
    source: &str,
    touched: Arc<Mutex<BTreeSet<String>>>,
) -> impl Fn(Step) -> futures::future::BoxFuture<'static, deploy_core::Result<()>> + Send + Sync + 'static {
    let (cloud, source) = (cloud.clone(), format!("{source}/"));
    move |step| {
        let (cloud, source, touched) = (cloud.clone(), source.clone(), touched.clone());
        Box::pin(async move {
            let read = match step {
                Step::Copy { from, .. } => from,
                Step::Get(from) => from,
                Step::Put(_) => return Ok(()),
            };
            let Some(k) = read.strip_prefix(&source) else { return Ok(()) };
            let n: usize = k.trim_start_matches("obj/").parse().unwrap_or(1);
            if n.is_multiple_of(10) && touched.lock().unwrap().insert(k.to_owned()) {
                let b = bucket(source.trim_end_matches('/'));
                if (n / 10) % 2 == 1 {
                    cloud.put_bytes(&b, &key(k), Bytes::from(format!("rewritten during the snapshot: {k}"))).await.unwrap();
                } else {
                    cloud.delete(&b, &key(k)).await.unwrap();
                }
            }
            Ok(())
        })
    }
}

/// Every entry of the manifest is what its copy holds, and that is a version the source had.
async fn assert_exact(snapshot_store: &dyn ObjectStore, backup: &deploy_core::BucketName, id: &SnapshotId) {
    let manifest = read_manifest(Location::new(snapshot_store, backup), &layout(), id).await.unwrap();
    for entry in &manifest.objects {
        let copy = snapshot_store.get_bytes(backup, &key(&format!("{}{}", layout().folder(id), entry.key))).await.unwrap();
        let md5 = hex::encode(Md5::digest(&copy));
        assert_eq!(copy.len() as u64, entry.size, "{}: size recorded {}, copied {}", entry.key, entry.size, copy.len());
        assert_eq!(entry.etag.as_deref(), Some(md5.as_str()), "{}: the entry's ETag is not the copied content's", entry.key);
        assert_eq!(entry.copy_etag.as_deref(), Some(md5.as_str()), "{}", entry.key);
        if let Some(sha) = &entry.sha256 {
            assert_eq!(sha, &hex::encode(sha2::Sha256::digest(&copy)), "{}", entry.key);
        }
    }
}

/// `n` objects `obj/NNNN` in a bucket that keeps versions or not.
async fn source(cloud: &InMemoryCloud, name: &str, n: usize, versioned: bool) -> deploy_core::BucketName {
    let b = bucket(name);
    cloud.ensure_bucket(&BucketSpec { versioning: versioned, ..BucketSpec::new(b.clone()) }).await.unwrap();
    for i in 0..n {
        cloud.put_bytes(&b, &key(&format!("obj/{i:04}")), Bytes::from(format!("content of object {i}").repeat(i % 7 + 1))).await.unwrap();
    }
    b
}

#[tokio::test]
async fn objects_changed_during_a_server_side_snapshot_are_refused_and_a_resume_completes_it() {
    let cloud = InMemoryCloud::new();
    let src = source(&cloud, "busy", 100, false).await;
    let backup = empty_bucket(&cloud, "busy-backup").await;
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let store = Hooked::new(cloud.clone(), writer(&cloud, "busy", touched.clone()));
    let mut options = SnapshotOptions::new(layout());
    options.id = Some(SnapshotId::now());
    let e = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &options).await.unwrap_err();
    let touched: Vec<String> = touched.lock().unwrap().iter().cloned().collect();
    assert_eq!(touched.len(), 10, "the writer touched {touched:?}");
    match &e {
        Error::Verification { detail, .. } => {
            assert!(detail.contains("10 of 100 objects failed") && detail.contains("10 changed or vanished"), "{detail}");
            for k in &touched {
                assert!(detail.contains(k.as_str()), "{k} is not named: {detail}");
            }
        }
        other => panic!("{other:?}"),
    }
    assert!(
        list_snapshots(Location::new(&cloud, &backup), &layout()).await.unwrap().is_empty(),
        "a snapshot with refused objects was completed"
    );

    // Resume: the rewritten objects are copied as they are now, the deleted ones are no longer listed.
    cloud.reset_calls();
    let report = snapshot_bucket(Location::new(&cloud, &src), Location::new(&cloud, &backup), &options).await.unwrap();
    assert_eq!((report.objects, report.copied, report.skipped), (95, 5, 90), "{report}");
    assert_exact(&cloud, &backup, &report.id).await;
}

#[tokio::test]
async fn a_versioned_source_changed_during_a_snapshot_is_copied_as_listed() {
    // Copies pinned to the listed version ids: what the writer changes meanwhile does not reach the snapshot.
    let cloud = InMemoryCloud::new();
    let src = source(&cloud, "pinned", 40, true).await;
    let backup = empty_bucket(&cloud, "pinned-backup").await;
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let store = Hooked::new(cloud.clone(), writer(&cloud, "pinned", touched.clone()));
    let report =
        snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &SnapshotOptions::new(layout())).await.unwrap();
    assert_eq!((report.objects, touched.lock().unwrap().len()), (40, 4));
    assert_exact(&cloud, &backup, &report.id).await;
    for k in ["obj/0010", "obj/0020"] {
        let copy = cloud.get_bytes(&backup, &key(&format!("{}{k}", report.folder))).await.unwrap();
        assert!(copy.starts_with(b"content of object"), "{k}: the snapshot holds the writer's content, not the listed one");
    }
}

#[tokio::test]
async fn objects_changed_during_a_streamed_snapshot_are_refused_and_a_resume_completes_it() {
    let source_cloud = InMemoryCloud::new();
    let backup_cloud = InMemoryCloud::new();
    let src = source(&source_cloud, "stream", 60, false).await;
    // One large object, read in many chunks.
    source_cloud.put_bytes(&src, &key("obj/0030"), Bytes::from(vec![3u8; 700 * 1024])).await.unwrap();
    let backup = empty_bucket(&backup_cloud, "stream-backup").await;
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let store = Hooked::new(source_cloud.clone(), writer(&source_cloud, "stream", touched.clone()));
    let mut options = SnapshotOptions::new(layout());
    options.id = Some(SnapshotId::now());
    let e = snapshot_bucket(Location::new(&store, &src), Location::new(&backup_cloud, &backup), &options).await.unwrap_err();
    assert!(matches!(&e, Error::Verification { detail, .. } if detail.contains("6 of 60") && detail.contains("obj/0030")), "{e}");
    let report = snapshot_bucket(Location::new(&source_cloud, &src), Location::new(&backup_cloud, &backup), &options).await.unwrap();
    assert_eq!((report.objects, report.copied), (57, 3), "{report}");
    assert_exact(&backup_cloud, &backup, &report.id).await;
}

#[tokio::test]
async fn a_whole_operations_timeout_is_not_retried() {
    let cloud = InMemoryCloud::new();
    let src = filled_bucket(&cloud, "slow", 5).await;
    let backup = empty_bucket(&cloud, "slow-backup").await;
    let attempts = Arc::new(Mutex::new(0));
    let seen = attempts.clone();
    let store = Hooked::new(cloud.clone(), move |step| {
        let seen = seen.clone();
        async move {
            if matches!(&step, Step::Copy { from, .. } if from.ends_with("obj/0003")) {
                *seen.lock().unwrap() += 1;
                return Err(Error::Timeout {
                    what: "aws-s3 CopyObject of object `slow/obj/0003`".into(),
                    elapsed: std::time::Duration::from_secs(600),
                    last_state: "no answer".into(),
                });
            }
            Ok(())
        }
    });
    let e =
        snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &SnapshotOptions::new(layout())).await.unwrap_err();
    assert!(matches!(&e, Error::Verification { detail, .. } if detail.contains("obj/0003") && detail.contains("timed out")), "{e}");
    assert_eq!(*attempts.lock().unwrap(), 1, "a timeout of a whole operation was retried");
}
