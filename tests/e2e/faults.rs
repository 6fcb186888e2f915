//! Faults between the SDK and moto: with 20% of requests answered 503
//! SlowDown / 429 / 500 and 1% of responses cut half-way, a bucket snapshot
//! and restore of 2,000 objects (and three above the multipart-copy
//! threshold) completes with every object verified: nothing lost, nothing
//! corrupted.

use std::collections::HashMap;

use bytes::Bytes;
use deploy::recipes::{Location, RestoreBucketOptions, SnapshotLayout, SnapshotOptions, SnapshotSelector, restore_bucket, snapshot_bucket};
use deploy::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt};
use deploy_aws::s3::{S3Options, S3Store};
use futures::StreamExt;

use crate::sentinel::CapturedLog;
use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{MotoConfig, moto_peer, unique_suffix};

const SMALL: usize = 2000;
const MIB: u64 = 1024 * 1024;

/// An S3 store through `endpoint`, with the SDK's standard retries (3
/// attempts) starting from 20 ms instead of 1 s, as a caller would tune its
/// own `SdkConfig`, so the test spends its time on requests, not on sleeps.
async fn store_via(endpoint: &str) -> S3Store {
    let via = MotoConfig { endpoint: endpoint.to_owned() };
    let retry = aws_config::retry::RetryConfig::standard()
        .with_initial_backoff(std::time::Duration::from_millis(20))
        .with_max_backoff(std::time::Duration::from_millis(500));
    let conf = via.sdk_config().await.into_builder().retry_config(retry).build();
    S3Store::new(&deploy_aws::AwsContext::new(&conf))
        .with_options(S3Options { copy_threshold: MIB, copy_part_size: 5 * MIB, ..S3Options::default() })
        .expect("valid options")
}

fn small_body(i: usize) -> Bytes {
    Bytes::from(format!("object {i} {}", "x".repeat(i % 97)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_and_restore_survive_injected_faults() {
    let Some(moto) = moto_peer() else { return };
    let direct = store_via(&moto.endpoint).await;
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultConfig { seed: 20_261_123, error_rate: 0.20, reset_rate: 0.01, ..FaultConfig::transparent() },
    )
    .await
    .expect("proxy");
    let faulty = store_via(&proxy.endpoint()).await;

    let suffix = unique_suffix();
    let [src, backup, restored] = ["src", "bak", "rst"].map(|p| BucketName::new(format!("flt-{p}-{suffix}")).unwrap());
    for b in [&src, &backup, &restored] {
        // moto is reached over plain HTTP, and it enforces bucket policies: a
        // TLS-only bucket (the default) would rightly refuse every request.
        let spec = BucketSpec { require_tls: false, ..BucketSpec::new(b.clone()) };
        direct.ensure_bucket(&spec).await.unwrap();
    }
    let puts: Vec<_> = futures::stream::iter(0..SMALL)
        .map(|i| {
            let (direct, src) = (&direct, &src);
            async move { direct.put_bytes(src, &ObjectKey::new(format!("small/{i:05}")).unwrap(), small_body(i)).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    if let Some(Err(e)) = puts.iter().find(|r| r.is_err()) {
        panic!("{} of {SMALL} setup puts failed; first: {e}", puts.iter().filter(|r| r.is_err()).count());
    }
    let big: Vec<Bytes> =
        (0..3u8).map(|i| Bytes::from(vec![i.wrapping_mul(37).wrapping_add(1); 6 * MIB as usize + usize::from(i)])).collect();
    for (i, body) in big.iter().enumerate() {
        direct.put_bytes(&src, &ObjectKey::new(format!("big/{i}.bin")).unwrap(), body.clone()).await.unwrap();
    }

    let layout = SnapshotLayout::new("nightly").unwrap();
    let mut options = SnapshotOptions::new(layout.clone());
    options.attempts = 12;
    let snap =
        snapshot_bucket(Location::new(&faulty, &src), Location::new(&faulty, &backup), &options).await.expect("snapshot under faults");
    assert_eq!(snap.objects as usize, SMALL + 3);
    let mut restore = RestoreBucketOptions::new(layout, SnapshotSelector::Latest);
    restore.attempts = 12;
    // Into a fresh bucket, not the snapshot's source: named as such.
    restore.other_target = true;
    let r =
        restore_bucket(Location::new(&faulty, &backup), Location::new(&faulty, &restored), &restore).await.expect("restore under faults");
    assert_eq!((r.objects as usize, r.verified as usize), (SMALL + 3, SMALL + 3));

    let errors = proxy.count("error");
    let resets = proxy.count("reset");
    eprintln!("{snap}\n{r}\nproxy: {} requests, {errors} answered with injected errors, {resets} cut mid-body", proxy.captured().len());
    assert!(errors > 400, "too few injected errors ({errors}) to mean anything");
    assert!(resets > 10, "too few resets ({resets})");

    // Read everything back around the proxy: same keys, same content.
    let source: HashMap<String, (u64, Option<String>)> =
        direct.list_all(&src, Default::default()).await.unwrap().into_iter().map(|m| (m.key.to_string(), (m.size, m.etag))).collect();
    let back = direct.list_all(&restored, Default::default()).await.unwrap();
    assert_eq!(back.len(), SMALL + 3, "objects lost");
    for m in &back {
        let (size, etag) = source.get(m.key.as_str()).unwrap_or_else(|| panic!("{} appeared from nowhere", m.key));
        assert_eq!(m.size, *size, "{} changed size", m.key);
        if m.key.as_str().starts_with("small/") {
            assert_eq!(&m.etag, etag, "{} changed content", m.key);
        }
    }
    for (i, body) in big.iter().enumerate() {
        let got = direct.get_bytes(&restored, &ObjectKey::new(format!("big/{i}.bin")).unwrap()).await.unwrap();
        assert!(got == *body, "big/{i}.bin differs after the restore");
    }
}

/// Faults *after the server acted* (issue 13.7): 10 % of requests are
/// forwarded to moto, which applies them, and then answered 500 or cut before
/// any byte of the answer, so the client retries what was done. A snapshot and
/// a restore of 300 objects (and two above the multipart-copy threshold)
/// through it: every object back byte for byte, and one snapshot per id (one
/// manifest).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_and_restore_survive_answers_lost_after_the_server_acted() {
    const N: usize = 300;
    let Some(moto) = moto_peer() else { return };
    let direct = store_via(&moto.endpoint).await;
    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { seed: 20_261_201, forward_fail_rate: 0.10, ..FaultConfig::transparent() })
        .await
        .expect("proxy");
    let faulty = store_via(&proxy.endpoint()).await;
    let suffix = unique_suffix();
    let [src, backup, restored] = ["src", "bak", "rst"].map(|p| BucketName::new(format!("faa-{p}-{suffix}")).unwrap());
    for b in [&src, &backup, &restored] {
        direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(b.clone()) }).await.unwrap();
    }
    for i in 0..N {
        direct.put_bytes(&src, &ObjectKey::new(format!("small/{i:05}")).unwrap(), small_body(i)).await.unwrap();
    }
    let big: Vec<Bytes> =
        (0..2u8).map(|i| Bytes::from(vec![i.wrapping_mul(53).wrapping_add(7); 6 * MIB as usize + usize::from(i)])).collect();
    for (i, body) in big.iter().enumerate() {
        direct.put_bytes(&src, &ObjectKey::new(format!("big/{i}.bin")).unwrap(), body.clone()).await.unwrap();
    }

    let layout = SnapshotLayout::new("nightly").unwrap();
    let mut options = SnapshotOptions::new(layout.clone());
    options.attempts = 12;
    let snap = snapshot_bucket(Location::new(&faulty, &src), Location::new(&faulty, &backup), &options).await.expect("snapshot");
    let mut restore = RestoreBucketOptions::new(layout.clone(), SnapshotSelector::Latest);
    restore.attempts = 12;
    restore.other_target = true; // into a fresh bucket, not the snapshot's source
    let r = restore_bucket(Location::new(&faulty, &backup), Location::new(&faulty, &restored), &restore).await.expect("restore");
    assert_eq!((r.objects as usize, r.verified as usize), (N + 2, N + 2));

    let lost: Vec<String> =
        proxy.captured().iter().filter(|c| c.fate.starts_with("forwarded, then")).map(|c| format!("{} {}", c.method, c.path)).collect();
    let mutating_lost = proxy.captured().iter().filter(|c| c.fate.starts_with("forwarded, then") && c.is_mutating()).count();
    eprintln!(
        "{snap}\n{r}\nproxy: {} requests, {} answers lost after forwarding ({mutating_lost} of mutating requests)",
        proxy.captured().len(),
        lost.len()
    );
    assert!(mutating_lost > 20, "too few mutating requests lost after forwarding ({mutating_lost}) to mean anything");

    // One snapshot for the id: one manifest index (`manifests/<id>.json`; its parts and shard
    // records live in `manifests/<id>/`), and the snapshot folder holds exactly the source's keys.
    let manifests = direct.list_all(&backup, deploy::object_store::ListOptions::prefix("nightly/manifests/")).await.unwrap();
    let indexes: Vec<&str> = manifests.iter().map(|m| &m.key.as_str()["nightly/manifests/".len()..]).filter(|k| !k.contains('/')).collect();
    assert_eq!(indexes, [format!("{}.json", snap.id)], "{manifests:?}");
    assert_eq!(deploy::recipes::list_snapshots(Location::new(&direct, &backup), &layout).await.unwrap(), std::slice::from_ref(&snap.id));
    let folder = layout.folder(&snap.id);
    let copies = direct.list_all(&backup, deploy::object_store::ListOptions::prefix(folder)).await.unwrap();
    assert_eq!(copies.len(), N + 2, "the snapshot folder holds {} objects", copies.len());
    // Every object back, byte for byte.
    for i in 0..N {
        let key = ObjectKey::new(format!("small/{i:05}")).unwrap();
        assert_eq!(direct.get_bytes(&restored, &key).await.unwrap(), small_body(i), "{key} differs");
    }
    for (i, body) in big.iter().enumerate() {
        assert!(
            direct.get_bytes(&restored, &ObjectKey::new(format!("big/{i}.bin")).unwrap()).await.unwrap() == *body,
            "big/{i}.bin differs"
        );
    }
    assert_eq!(direct.list_all(&restored, Default::default()).await.unwrap().len(), N + 2, "objects appeared or were lost");
    // A CreateMultipartUpload whose answer was lost leaves an upload the client never heard of: counted,
    // not asserted (the bucket's AbortIncompleteMultipartUpload lifecycle rule removes it).
    let mut stray = 0;
    for b in [&backup, &restored] {
        stray += direct.client().list_multipart_uploads().bucket(b.as_str()).send().await.unwrap().uploads().len();
    }
    eprintln!("incomplete multipart uploads left by lost CreateMultipartUpload answers: {stray}");
}

/// Retries show in a trace (issue 17.6): with half of the requests answered
/// 503 SlowDown / 429 / 500 by the proxy, a snapshot of 100 objects completes,
/// and its trace holds an event (target `deploy::retry`) for each attempt the
/// SDK's retry policy retried, naming the service, the operation, the attempt
/// and the status, and one for each request the recipe itself retried once
/// the SDK's attempts were spent, inside the snapshot's span.
#[tokio::test]
async fn retries_and_throttling_are_tracing_events() {
    use tracing::instrument::WithSubscriber as _;
    let Some(moto) = moto_peer() else { return };
    let direct = store_via(&moto.endpoint).await;
    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { seed: 20_261_202, error_rate: 0.5, ..FaultConfig::transparent() })
        .await
        .expect("proxy");
    let faulty = store_via(&proxy.endpoint()).await;
    let suffix = unique_suffix();
    let [src, backup] = ["src", "bak"].map(|p| BucketName::new(format!("rte-{p}-{suffix}")).unwrap());
    for b in [&src, &backup] {
        direct.ensure_bucket(&BucketSpec { require_tls: false, ..BucketSpec::new(b.clone()) }).await.unwrap();
    }
    for i in 0..100 {
        direct.put_bytes(&src, &ObjectKey::new(format!("o/{i:03}")).unwrap(), small_body(i)).await.unwrap();
    }
    let (dispatch, log) = CapturedLog::subscriber();
    let mut options = SnapshotOptions::new(SnapshotLayout::new("traced").unwrap());
    options.attempts = 20;
    let snap = snapshot_bucket(Location::new(&faulty, &src), Location::new(&faulty, &backup), &options)
        .with_subscriber(dispatch)
        .await
        .expect("snapshot under faults");
    assert_eq!(snap.objects, 100);
    let trace = log.text();
    let sdk: Vec<&str> = trace.lines().filter(|l| l.contains("deploy::retry") && l.contains("the SDK retries")).collect();
    let retry_lines = trace.lines().filter(|l| l.contains("deploy::retry")).count();
    assert!(
        sdk.len() > 20,
        "an event per retried attempt ({} injected errors): {} events ({retry_lines} deploy::retry lines, {} lines; first: {:?})",
        proxy.count("error"),
        sdk.len(),
        trace.lines().count(),
        trace.lines().find(|l| l.contains("deploy::retry"))
    );
    assert!(
        sdk.iter().any(|l| l.contains("WARN")
            && l.contains("throttled=true")
            && l.to_lowercase().contains("service=\"s3\"")
            && l.contains("attempt=")),
        "a throttled attempt names service, operation and attempt: {:#?}",
        &sdk[..sdk.len().min(5)]
    );
    assert!(sdk.iter().any(|l| l.contains("status=500") && l.contains("throttled=false")), "a 500 is a retried failure, not throttling");
    let recipe: Vec<&str> = trace.lines().filter(|l| l.contains("deploy::retry") && l.contains("retrying")).collect();
    assert!(!recipe.is_empty(), "the recipe's own retries (after the SDK's 3 attempts) are events too");
    assert!(recipe.iter().all(|l| l.contains("snapshot")), "inside the snapshot's span: {recipe:#?}");
}
