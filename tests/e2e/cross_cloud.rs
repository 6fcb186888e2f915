//! Cross-cloud disaster recovery: an S3 bucket on moto snapshotted into a blob
//! container on Azurite with the core recipe (a streamed copy: two different
//! stores), then restored into a fresh S3 bucket, every object compared byte
//! for byte with its source.
//!
//! Both stores run with small thresholds so that the few objects above them
//! take the other upload paths: S3 multipart above 5 MiB (its smallest part),
//! staged blocks on Blob above 1 MiB.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::recipes::{
    Location, RestoreBucketOptions, SnapshotId, SnapshotLayout, SnapshotOptions, SnapshotSelector, restore_bucket, snapshot_bucket,
};
use deploy::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt as _};
use deploy_aws::s3::{MIN_PART_SIZE, S3Options, S3Store};
use deploy_azure::blob::BlobStore;

use crate::support;

/// Blob's single-put limit and block size in this test.
const BLOB_SINGLE_PUT: usize = 1024 * 1024;
const BLOB_BLOCK: usize = 512 * 1024;

/// Deterministic, key-dependent content of `len` bytes.
fn content(seed: u8, len: usize) -> Bytes {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).wrapping_add(u32::from(seed)) as u8).collect::<Vec<u8>>().into()
}

/// The source objects: small ones with awkward keys, an empty one, one above
/// Blob's single-put limit (one S3 part), one above S3's multipart threshold.
fn objects() -> BTreeMap<String, Bytes> {
    let mut objects = BTreeMap::new();
    for (i, key) in
        ["assets/model.json", "assets/with space/note ü.txt", "assets/deep/a/b/c/graph.bin", "percent%20sign+plus.txt", "top.txt"]
            .into_iter()
            .enumerate()
    {
        objects.insert(key.to_owned(), content(i as u8, 1000 + 997 * i));
    }
    objects.insert("empty".to_owned(), Bytes::new());
    objects.insert("large/blocks.bin".to_owned(), content(40, 2 * BLOB_SINGLE_PUT + 12_345));
    objects.insert("large/multipart.bin".to_owned(), content(41, MIN_PART_SIZE as usize + 300_000));
    objects
}

/// Keys S3 stored in more than one part: their ETag is not the content's MD5.
fn multipart_keys(objects: &BTreeMap<String, Bytes>) -> usize {
    objects.values().filter(|b| b.len() as u64 > MIN_PART_SIZE).count()
}

/// A bucket spec the peers can honour: moto evaluates a TLS-only bucket
/// policy on plain-HTTP object requests and denies them all, so the S3
/// buckets here do not require TLS (Azurite's account settings are the
/// store's defaults).
fn s3_spec(name: &BucketName) -> BucketSpec {
    BucketSpec { require_tls: false, ..BucketSpec::new(name.clone()) }
}

#[tokio::test]
async fn s3_bucket_snapshotted_into_blob_and_restored_into_fresh_s3_bucket() -> Result<()> {
    let (Some(moto), Some(azurite)) = (support::moto_peer(), support::azurite_peer()) else {
        return Ok(());
    };
    let suffix = support::unique_suffix();
    let s3 = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await))
        .with_options(S3Options { part_size: MIN_PART_SIZE, ..S3Options::default() })?;
    let blob = BlobStore::builder()
        .endpoint(&azurite.blob_endpoint)
        .sas(&azurite.account_sas())
        .single_put_limit(BLOB_SINGLE_PUT)
        .block_size(BLOB_BLOCK)
        .build()?;

    let source = BucketName::new(format!("xc-src-{suffix}"))?;
    let restored = BucketName::new(format!("xc-restored-{suffix}"))?;
    let backup = BucketName::new(format!("xc-backup-{suffix}"))?;
    s3.ensure_bucket(&s3_spec(&source)).await?;
    s3.ensure_bucket(&s3_spec(&restored)).await?;
    blob.ensure_bucket(&BucketSpec::new(backup.clone())).await?;

    let objects = objects();
    for (key, body) in &objects {
        s3.put_bytes(&source, &ObjectKey::new(key.clone())?, body.clone()).await.with_context(|| format!("seeding s3://{source}/{key}"))?;
    }

    // Snapshot S3 -> Blob.
    let layout = SnapshotLayout::new("snapshots")?;
    let id = SnapshotId::now();
    let options = SnapshotOptions { id: Some(id.clone()), concurrency: 4, ..SnapshotOptions::new(layout.clone()) };
    let from = Location::new(&s3, &source);
    let into = Location::new(&blob, &backup);
    let first = snapshot_bucket(from, into, &options).await?;
    assert!(!first.server_side, "two stores: the copy streams");
    assert_eq!(first.objects, objects.len() as u64);
    assert_eq!(first.copied, objects.len() as u64);
    assert_eq!(first.bytes, objects.values().map(|b| b.len() as u64).sum::<u64>());

    // Every snapshot blob holds its source's bytes.
    for (key, body) in &objects {
        let copy = blob
            .get_bytes(&backup, &ObjectKey::new(format!("{}{key}", first.folder))?)
            .await
            .with_context(|| format!("reading the snapshot copy of {key}"))?;
        ensure!(copy == *body, "snapshot copy of {key} differs from the source");
    }

    // The same id again, complete: refused rather than taken for a new snapshot.
    let again = snapshot_bucket(from, into, &options).await;
    assert!(matches!(again, Err(deploy::Error::AlreadyExists { .. })), "a complete snapshot is not redone: {again:?}");

    // The same id after an interruption just before the manifest (its index
    // and the shard's record gone): the resume copies nothing whose ETag
    // matches across the clouds (S3's single-part ETag is the content's MD5,
    // and so is the blob's Content-MD5). S3's multipart ETags are not an MD5
    // of the content, so those objects are copied again.
    blob.delete(&backup, &ObjectKey::new(first.manifest_key.clone())?).await?;
    blob.delete(&backup, &ObjectKey::new(format!("{}shard-00000-of-00001.json", layout.parts_folder(&id)))?).await?;
    let resumed = snapshot_bucket(from, into, &options).await?;
    let multipart = multipart_keys(&objects) as u64;
    assert_eq!(resumed.objects, objects.len() as u64);
    assert_eq!((resumed.skipped, resumed.copied), (objects.len() as u64 - multipart, multipart), "resume skips every single-part object");
    for meta in s3.list_all(&source, Default::default()).await? {
        let copy = blob.head(&backup, &ObjectKey::new(format!("{}{}", first.folder, meta.key))?).await?;
        if meta.size > MIN_PART_SIZE {
            assert_ne!(copy.etag, meta.etag, "{}: S3 multipart ETag", meta.key);
        } else {
            assert_eq!(copy.etag, meta.etag, "{}: ETag across clouds", meta.key);
        }
    }

    // Restore Blob -> a fresh S3 bucket, verified against the manifest.
    let report = restore_bucket(
        Location::new(&blob, &backup),
        Location::new(&s3, &restored),
        &RestoreBucketOptions {
            concurrency: 4,
            // A fresh bucket, not the snapshot's source: named as such.
            other_target: true,
            ..RestoreBucketOptions::new(layout, SnapshotSelector::Latest)
        },
    )
    .await?;
    assert_eq!(report.id, id);
    assert_eq!(report.objects, objects.len() as u64);
    assert_eq!(report.restored, objects.len() as u64);
    assert_eq!(report.verified, objects.len() as u64);

    // And by our own reading: the same keys, the same bytes.
    let listed: Vec<String> = s3.list_all(&restored, Default::default()).await?.into_iter().map(|m| m.key.to_string()).collect();
    assert_eq!(listed, objects.keys().cloned().collect::<Vec<_>>());
    for (key, body) in &objects {
        let got = s3.get_bytes(&restored, &ObjectKey::new(key.clone())?).await?;
        ensure!(got == *body, "restored {key} differs from the source");
    }
    Ok(())
}

/// Keys that S3 (UTF-8 byte order) and Azure (UTF-16 code-unit order) list
/// in different orders — characters from `U+E000` to `U+FFFF` against those
/// above — and other awkward ones.
const AWKWARD: [&str; 9] = [
    "a/🦀.bin",
    "a/\u{FF61}half.txt",
    "a/\u{E000}private",
    "a/plain.txt",
    "b+plus%25#hash/ü.txt",
    "deep/1/2/3/4/5/6/7/8/9/10/leaf",
    "with space/x y.txt",
    "z/📁/\u{FFFD}",
    "z/\u{FF10}",
];

/// Snapshot `from` into `into`, interrupt it just before its manifest, resume
/// it (nothing is copied again), damage the source, and check the restore's
/// classification is exact.
async fn both_ways(from: Location<'_>, into: Location<'_>, tag: &str) -> Result<()> {
    let layout = SnapshotLayout::new(&format!("awkward-{tag}"))?;
    let id = SnapshotId::now();
    let options = SnapshotOptions { id: Some(id.clone()), concurrency: 4, ..SnapshotOptions::new(layout.clone()) };
    let first = snapshot_bucket(from, into, &options).await?;
    ensure!(first.objects == AWKWARD.len() as u64 && first.copied == first.objects, "{tag}: {first}");
    into.store.delete(into.bucket, &ObjectKey::new(first.manifest_key.clone())?).await?;
    into.store.delete(into.bucket, &ObjectKey::new(format!("{}shard-00000-of-00001.json", layout.parts_folder(&id)))?).await?;
    let resumed = snapshot_bucket(from, into, &options).await?;
    ensure!(
        (resumed.copied, resumed.skipped, resumed.removed) == (0, AWKWARD.len() as u64, 0),
        "{tag}: a resume across key orders is not exact: {resumed}"
    );
    // Damage: one order-sensitive key deleted, one overwritten, one new order-sensitive key.
    from.store.delete(from.bucket, &ObjectKey::new("a/🦀.bin")?).await?;
    from.store.put_bytes(from.bucket, &ObjectKey::new("a/\u{FF61}half.txt")?, Bytes::from_static(b"changed")).await?;
    from.store.put_bytes(from.bucket, &ObjectKey::new("a/\u{FFEE}stray")?, Bytes::from_static(b"stray")).await?;
    // Azurite keeps no versions: the overwrite is confirmed by name.
    let restore = RestoreBucketOptions {
        concurrency: 4,
        confirm: Some(deploy::Confirm::new(from.bucket.as_str())),
        ..RestoreBucketOptions::new(layout, SnapshotSelector::Id(id))
    };
    let plan = deploy::recipes::plan_restore(into, from, &restore).await?;
    ensure!(
        plan.missing.first == ["a/🦀.bin"] && plan.overwrite.first == ["a/\u{FF61}half.txt"] && plan.identical == AWKWARD.len() as u64 - 2,
        "{tag}: the classification across key orders is not exact:\n{plan}"
    );
    ensure!(plan.not_in_snapshot.first == ["a/\u{FFEE}stray"], "{tag}: {plan}");
    let report = restore_bucket(into, from, &restore).await?;
    ensure!(report.restored == 2 && report.verified == AWKWARD.len() as u64, "{tag}: {report}");
    for (i, k) in AWKWARD.iter().enumerate() {
        ensure!(from.store.get_bytes(from.bucket, &ObjectKey::new(*k)?).await? == content(i as u8, 100 + i), "{tag}: {k} is not back");
    }
    Ok(())
}

#[tokio::test]
async fn awkward_keys_merge_exactly_from_s3_to_blob_and_back() -> Result<()> {
    let (Some(moto), Some(azurite)) = (support::moto_peer(), support::azurite_peer()) else {
        return Ok(());
    };
    let suffix = support::unique_suffix();
    let s3 = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    let blob = BlobStore::builder().endpoint(&azurite.blob_endpoint).sas(&azurite.account_sas()).build()?;
    let name = |what: &str| BucketName::new(format!("xa-{what}-{suffix}"));
    let (s3_source, s3_backup, blob_source, blob_backup) = (name("s3src")?, name("s3bak")?, name("blobsrc")?, name("blobbak")?);
    for b in [&s3_source, &s3_backup] {
        s3.ensure_bucket(&s3_spec(b)).await?;
    }
    for b in [&blob_source, &blob_backup] {
        blob.ensure_bucket(&BucketSpec::new(b.clone())).await?;
    }
    for (i, k) in AWKWARD.iter().enumerate() {
        s3.put_bytes(&s3_source, &ObjectKey::new(*k)?, content(i as u8, 100 + i)).await?;
        blob.put_bytes(&blob_source, &ObjectKey::new(*k)?, content(i as u8, 100 + i)).await?;
    }
    // S3 into Blob, and back into S3; Blob into S3, and back into Blob.
    both_ways(Location::new(&s3, &s3_source), Location::new(&blob, &blob_backup), "s3").await?;
    both_ways(Location::new(&blob, &blob_source), Location::new(&s3, &s3_backup), "blob").await
}
