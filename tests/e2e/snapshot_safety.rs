//! Snapshots that are exactly what was listed, against the peers: a writer
//! rewriting and deleting about 10% of the objects while the snapshot runs —
//! one of them above the (lowered) multipart-copy threshold, rewritten between
//! two of its part copies, and across clouds a streamed copy from moto into
//! Azurite — never gets a torn or mismatched object recorded; the snapshot
//! names them and writes no manifest; a resume completes it. And a peer that
//! accepts connections and never answers ends a snapshot in bounded time with
//! a typed timeout naming the objects; once it heals, a resume completes.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use bytes::Bytes;
use deploy::recipes::{Location, SnapshotId, SnapshotLayout, SnapshotOptions, read_manifest, snapshot_bucket};
use deploy::{BucketName, BucketSpec, Error, ObjectKey, ObjectStore, ObjectStoreExt, Timeouts};
use deploy_aws::AwsBackends;
use deploy_aws::s3::{S3Options, S3Store};
use deploy_azure::blob::BlobStore;
use futures::{FutureExt, StreamExt};
use md5::{Digest as _, Md5};

use crate::support::black_hole::BlackHole;
use crate::support::s3_conditions::{After, Before, S3Conditions};
use crate::support::{MotoConfig, azurite_peer, moto_peer, unique_suffix};

const MIB: usize = 1024 * 1024;

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

fn body(i: usize) -> Bytes {
    Bytes::from(format!("object {i} {}", "x".repeat(i % 37)))
}

fn big_body(seed: u8) -> Bytes {
    Bytes::from((0..11 * MIB).map(|i| (i % 253) as u8 ^ seed).collect::<Vec<u8>>())
}

/// The victims: every tenth small object (odd tens rewritten, even tens deleted) and `big/0`.
fn is_victim(k: &str) -> bool {
    k == "big/0" || k.strip_prefix("small/").and_then(|n| n.parse::<usize>().ok()).is_some_and(|n| n % 10 == 0)
}

/// A writer that changes each victim once, right before the request `hits` picks.
fn writer(
    raw: aws_sdk_s3::Client,
    bucket: String,
    touched: Arc<Mutex<BTreeSet<String>>>,
    hits: fn(&hyper::Method, &str, &hyper::HeaderMap, &str) -> Option<String>,
) -> Before {
    Arc::new(move |method, path, headers| {
        let (raw, bucket, touched) = (raw.clone(), bucket.clone(), touched.clone());
        let victim = hits(method, path, headers, &bucket).filter(|k| is_victim(k));
        async move {
            let Some(k) = victim else { return };
            if !touched.lock().unwrap().insert(k.clone()) {
                return;
            }
            let n: usize = k.trim_start_matches("small/").parse().unwrap_or(1);
            if k == "big/0" {
                raw.put_object().bucket(&bucket).key(&k).body(big_body(77).to_vec().into()).send().await.unwrap();
            } else if (n / 10) % 2 == 1 {
                raw.put_object()
                    .bucket(&bucket)
                    .key(&k)
                    .body(format!("rewritten during the snapshot: {k}").into_bytes().into())
                    .send()
                    .await
                    .unwrap();
            } else {
                raw.delete_object().bucket(&bucket).key(&k).send().await.unwrap();
            }
        }
        .boxed()
    })
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The source key of a server-side copy: the second part copy of `big/0`, or any single copy.
fn copy_hits(method: &hyper::Method, path: &str, headers: &hyper::HeaderMap, bucket: &str) -> Option<String> {
    if method != hyper::Method::PUT {
        return None;
    }
    let source = decode(headers.get("x-amz-copy-source")?.to_str().ok()?);
    let k = source.trim_start_matches('/').strip_prefix(&format!("{bucket}/"))?.split('?').next()?.to_owned();
    if k == "big/0" {
        // Between two part copies: after the first range.
        let second = path.contains("partNumber=2");
        return second.then_some(k);
    }
    Some(k)
}

/// The source key of a GET (a streamed copy's read).
fn get_hits(method: &hyper::Method, path: &str, _headers: &hyper::HeaderMap, bucket: &str) -> Option<String> {
    if method != hyper::Method::GET {
        return None;
    }
    let k = decode(path.split('?').next()?.trim_start_matches('/').strip_prefix(&format!("{bucket}/"))?);
    Some(k)
}

async fn fill(store: &S3Store, bucket: &BucketName, small: usize) -> Result<()> {
    store.ensure_bucket(&BucketSpec { require_tls: false, versioning: false, ..BucketSpec::new(bucket.clone()) }).await?;
    for i in 0..small {
        store.put_bytes(bucket, &key(&format!("small/{i:03}")), body(i)).await?;
    }
    store.put_bytes(bucket, &key("big/0"), big_body(1)).await?;
    Ok(())
}

fn named_victims(e: &Error, touched: &BTreeSet<String>) -> Result<()> {
    let Error::Verification { detail, .. } = e else { anyhow::bail!("{e:?}") };
    ensure!(detail.contains("changed or vanished"), "{detail}");
    for k in touched {
        ensure!(detail.contains(k.as_str()), "{k} is not named: {detail}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_during_a_server_side_snapshot_never_gets_a_torn_object_recorded() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let s = unique_suffix();
    let (src, backup) = (BucketName::new(format!("ws-src-{s}"))?, BucketName::new(format!("ws-bak-{s}"))?);
    let options = S3Options { copy_threshold: MIB as u64, copy_part_size: 5 * MIB as u64, copy_concurrency: 1, ..S3Options::default() };
    let direct = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await)).with_options(options.clone())?;
    fill(&direct, &src, 60).await?;
    direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(backup.clone()) }).await?;
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let conditions =
        S3Conditions::start(&moto.endpoint, Some(writer(moto.s3_client().await, src.to_string(), touched.clone(), copy_hits))).await?;
    let store = S3Store::new(&deploy_aws::AwsContext::new(&MotoConfig { endpoint: conditions.endpoint() }.sdk_config().await))
        .with_options(options)?;
    let layout = SnapshotLayout::new("snaps")?;
    let snapshot = SnapshotOptions { id: Some(SnapshotId::now()), concurrency: 8, ..SnapshotOptions::new(layout.clone()) };
    let e = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &snapshot).await.unwrap_err();
    let touched = touched.lock().unwrap().clone();
    ensure!(touched.len() == 7 && touched.contains("big/0"), "the writer touched {touched:?}");
    named_victims(&e, &touched)?;
    ensure!(direct.head(&backup, &key(&layout.manifest_key(snapshot.id.as_ref().unwrap()))).await.is_err(), "a manifest was written");

    // Resume, the writer gone: complete, and every entry is its copy and the source as it is now.
    let report = snapshot_bucket(Location::new(&direct, &src), Location::new(&direct, &backup), &snapshot).await?;
    ensure!(report.objects == 58 && report.copied == 4, "{report}");
    let manifest = read_manifest(Location::new(&direct, &backup), &layout, &report.id).await?;
    for entry in &manifest.objects {
        let copy = direct.get_bytes(&backup, &key(&format!("{}{}", report.folder, entry.key))).await?;
        let now = direct.get_bytes(&src, &key(&entry.key)).await?;
        ensure!(copy == now && copy.len() as u64 == entry.size, "{}: the snapshot holds another object than its source", entry.key);
        if entry.key != "big/0" {
            ensure!(
                entry.etag.as_deref() == Some(hex::encode(Md5::digest(&copy)).as_str()),
                "{}: the entry's ETag is not its copy's",
                entry.key
            );
        }
    }
    ensure!(
        direct.get_bytes(&backup, &key(&format!("{}big/0", report.folder))).await? == big_body(77),
        "big/0 is not the object as rewritten"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_during_a_streamed_snapshot_from_s3_into_blob_never_gets_a_mismatched_object_recorded() -> Result<()> {
    let (Some(moto), Some(azurite)) = (moto_peer(), azurite_peer()) else { return Ok(()) };
    let s = unique_suffix();
    let src = BucketName::new(format!("wx-src-{s}"))?;
    let backup = BucketName::new(format!("wx-bak-{s}"))?;
    let direct = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    fill(&direct, &src, 40).await?;
    let blob = BlobStore::builder().endpoint(&azurite.blob_endpoint).sas(&azurite.account_sas()).build()?;
    blob.ensure_bucket(&BucketSpec::new(backup.clone())).await?;
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let conditions =
        S3Conditions::start(&moto.endpoint, Some(writer(moto.s3_client().await, src.to_string(), touched.clone(), get_hits))).await?;
    let store = S3Store::new(&deploy_aws::AwsContext::new(&MotoConfig { endpoint: conditions.endpoint() }.sdk_config().await));
    let layout = SnapshotLayout::new("snaps")?;
    let snapshot = SnapshotOptions { id: Some(SnapshotId::now()), concurrency: 6, ..SnapshotOptions::new(layout.clone()) };
    let e = snapshot_bucket(Location::new(&store, &src), Location::new(&blob, &backup), &snapshot).await.unwrap_err();
    let touched = touched.lock().unwrap().clone();
    ensure!(touched.len() == 5, "the writer touched {touched:?}");
    named_victims(&e, &touched)?;

    let report = snapshot_bucket(Location::new(&direct, &src), Location::new(&blob, &backup), &snapshot).await?;
    ensure!(!report.server_side && report.objects == 39, "{report}");
    let manifest = read_manifest(Location::new(&blob, &backup), &layout, &report.id).await?;
    for entry in &manifest.objects {
        let now = direct.get_bytes(&src, &key(&entry.key)).await?;
        let copy = blob.get_bytes(&backup, &key(&format!("{}{}", report.folder, entry.key))).await?;
        ensure!(copy == now && copy.len() as u64 == entry.size, "{}: the snapshot holds another object than its source", entry.key);
        if let Some(sha) = &entry.sha256 {
            use sha2::Digest as _;
            ensure!(*sha == hex::encode(sha2::Sha256::digest(&copy)), "{}: the recorded SHA-256 is not the copy's", entry.key);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_answers_ends_the_snapshot_in_bounded_time_and_a_resume_completes_it() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let s = unique_suffix();
    let (src, backup) = (BucketName::new(format!("bh-src-{s}"))?, BucketName::new(format!("bh-bak-{s}"))?);
    let direct = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(src.clone()) }).await?;
    direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(backup.clone()) }).await?;
    for i in 0..12 {
        direct.put_bytes(&src, &key(&format!("obj/{i:02}")), body(i)).await?;
    }
    // Copies get no answer; listings and the rest go through.
    let hole = BlackHole::start(
        &moto.endpoint,
        Arc::new(|method, _path, headers| method == hyper::Method::PUT && headers.contains_key("x-amz-copy-source")),
    )
    .await?;
    let operation = Duration::from_millis(1500);
    let timeouts = Timeouts::default().with_attempt(Duration::from_millis(400)).with_operation(operation);
    let store = AwsBackends::from_conf(&MotoConfig { endpoint: hole.endpoint() }.sdk_config().await).with_timeouts(timeouts).s3();
    let layout = SnapshotLayout::new("snaps")?;
    let snapshot = SnapshotOptions { id: Some(SnapshotId::now()), concurrency: 4, ..SnapshotOptions::new(layout.clone()) };
    let started = Instant::now();
    let e = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &snapshot).await.unwrap_err();
    let took = started.elapsed();
    // 12 copies, 4 at a time, each ending at the operation bound (a whole operation's timeout is not retried).
    let bound = operation * 3 + Duration::from_secs(5);
    ensure!(took < bound, "the snapshot took {took:?}, bound {bound:?}");
    ensure!(hole.swallowed() >= 12, "only {} requests were swallowed", hole.swallowed());
    let Error::Verification { detail, .. } = &e else { anyhow::bail!("{e:?}") };
    ensure!(detail.contains("timed out") && detail.contains("CopyObject") && detail.contains("obj/00"), "{detail}");

    hole.heal();
    let report = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &snapshot).await?;
    ensure!(report.objects == 12, "{report}");
    ensure!(read_manifest(Location::new(&direct, &backup), &layout, &report.id).await?.objects.len() == 12);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_dropped_while_its_upload_is_being_created_leaves_no_upload() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let bucket = BucketName::new(format!("cu-{}", unique_suffix()))?;
    let direct = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(bucket.clone()) }).await?;
    // moto creates the upload; its answer is late, and the caller gives up meanwhile.
    let created = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = created.clone();
    let after: After = Arc::new(move |method, path| {
        let late = method == hyper::Method::POST && path.contains("uploads");
        let flag = flag.clone();
        async move {
            if late {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        .boxed()
    });
    let conditions = S3Conditions::start_with(&moto.endpoint, None, Some(after)).await?;
    let store = S3Store::new(&deploy_aws::AwsContext::new(&MotoConfig { endpoint: conditions.endpoint() }.sdk_config().await))
        .with_options(S3Options { part_size: 5 * MIB as u64, ..S3Options::default() })?;
    let body = futures::stream::iter([Ok(Bytes::from(vec![1u8; 5 * MIB])), Ok(Bytes::from(vec![2u8; 5 * MIB]))]).boxed();
    let (k, options) = (key("late/upload"), deploy::object_store::PutOptions::default());
    let put = store.put(&bucket, &k, body, &options);
    let watch = async {
        while !created.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::select! {
        r = put => anyhow::bail!("the put ended before it was dropped: {r:?}"),
        () = watch => {}
    }
    let raw = moto.s3_client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let uploads = raw.list_multipart_uploads().bucket(bucket.as_str()).send().await?;
        if uploads.uploads().is_empty() {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "an upload created for a dropped put remains: {:?}", uploads.uploads());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
