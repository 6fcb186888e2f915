//! Restores that lose nothing, against moto: a versioned bucket keeps what a
//! restore overwrites; an unversioned one is refused before any write unless
//! the restore names it (`aws_disaster_recovery restore --confirm-overwrite`);
//! a damaged snapshot object is refused and the live object stays.
//!
//! moto ignores `x-amz-copy-source-if-match`: the library's copies go through
//! [`S3Conditions`], which answers it as S3 documents it.

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::recipes::{Location, RestoreBucketOptions, SnapshotLayout, SnapshotOptions, SnapshotSelector, restore_bucket, snapshot_bucket};
use deploy::{BucketName, BucketSpec, Error, ObjectKey, ObjectStore, ObjectStoreExt};
use deploy_aws::s3::S3Store;

use crate::support::examples::{Recorder, prefix, run};
use crate::support::s3_conditions::S3Conditions;
use crate::support::{MOTO_REGION, MotoConfig, moto_peer, unique_suffix};

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

fn body(i: usize) -> Bytes {
    Bytes::from(format!("object {i} as it was backed up {}", "=".repeat(i % 13)))
}

/// Buckets on moto without the TLS-only policy (moto cannot evaluate it over plain HTTP).
async fn plain_bucket(store: &S3Store, name: &BucketName, versioned: bool) -> Result<()> {
    store.ensure_bucket(&BucketSpec { require_tls: false, versioning: versioned, ..BucketSpec::new(name.clone()) }).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_into_a_versioned_bucket_brings_the_snapshot_back_and_loses_nothing() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let conditions = S3Conditions::start(&moto.endpoint, None).await?;
    let store = S3Store::new(&deploy_aws::AwsContext::new(&MotoConfig { endpoint: conditions.endpoint() }.sdk_config().await));
    let raw = moto.s3_client().await;
    let s = unique_suffix();
    let (src, backup) = (BucketName::new(format!("rs-src-{s}"))?, BucketName::new(format!("rs-bak-{s}"))?);
    plain_bucket(&store, &src, true).await?;
    plain_bucket(&store, &backup, true).await?;
    for i in 0..30 {
        store.put_bytes(&src, &key(&format!("obj/{i:02}")), body(i)).await?;
    }
    let layout = SnapshotLayout::new("snaps")?;
    let snap = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &SnapshotOptions::new(layout.clone())).await?;

    // Damage: three deleted, two overwritten, one new object.
    for i in [0, 1, 2] {
        store.delete(&src, &key(&format!("obj/{i:02}"))).await?;
    }
    for i in [20, 21] {
        store.put_bytes(&src, &key(&format!("obj/{i:02}")), Bytes::from(format!("newer work on {i}"))).await?;
    }
    store.put_bytes(&src, &key("obj/new"), Bytes::from_static(b"written since")).await?;

    let options = RestoreBucketOptions::new(layout, SnapshotSelector::Id(snap.id.clone()));
    let report = restore_bucket(Location::new(&store, &backup), Location::new(&store, &src), &options).await?;
    ensure!(report.versioned && report.restored == 5 && report.unchanged == 25 && report.verified == 30, "{report}");
    let mut overwritten = report.overwritten.first.clone();
    overwritten.sort();
    ensure!(overwritten == ["obj/20", "obj/21"] && report.overwritten_newer == 2, "{report}");
    for i in 0..30 {
        ensure!(store.get_bytes(&src, &key(&format!("obj/{i:02}"))).await? == body(i), "obj/{i:02} is not back byte for byte");
    }
    ensure!(store.get_bytes(&src, &key("obj/new")).await? == Bytes::from_static(b"written since"), "the new object was not kept");
    // The overwritten content is readable as a noncurrent version.
    let versions = raw.list_object_versions().bucket(src.as_str()).prefix("obj/20").send().await?;
    let mut found = false;
    for v in versions.versions().iter().filter(|v| v.is_latest() != Some(true)) {
        let got = raw.get_object().bucket(src.as_str()).key("obj/20").version_id(v.version_id().context("no version id")?).send().await?;
        found |= got.body.collect().await?.into_bytes() == Bytes::from_static(b"newer work on 20");
    }
    ensure!(found, "the overwritten content of obj/20 is not kept as a noncurrent version");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_snapshot_object_is_refused_and_the_live_object_stays() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let conditions = S3Conditions::start(&moto.endpoint, None).await?;
    let store = S3Store::new(&deploy_aws::AwsContext::new(&MotoConfig { endpoint: conditions.endpoint() }.sdk_config().await));
    let s = unique_suffix();
    let (src, backup) = (BucketName::new(format!("dm-src-{s}"))?, BucketName::new(format!("dm-bak-{s}"))?);
    plain_bucket(&store, &src, true).await?;
    plain_bucket(&store, &backup, true).await?;
    for i in 0..10 {
        store.put_bytes(&src, &key(&format!("obj/{i:02}")), body(i)).await?;
    }
    let layout = SnapshotLayout::new("snaps")?;
    let snap = snapshot_bucket(Location::new(&store, &src), Location::new(&store, &backup), &SnapshotOptions::new(layout.clone())).await?;
    // The snapshot's copy of obj/04 is rewritten after the snapshot; the live obj/04 differs; obj/05 is lost.
    store.put_bytes(&backup, &key(&format!("{}obj/04", snap.folder)), Bytes::from_static(b"tampered with")).await?;
    store.put_bytes(&src, &key("obj/04"), Bytes::from_static(b"live work")).await?;
    store.delete(&src, &key("obj/05")).await?;
    let options = RestoreBucketOptions::new(layout, SnapshotSelector::Id(snap.id.clone()));
    let e = restore_bucket(Location::new(&store, &backup), Location::new(&store, &src), &options).await.unwrap_err();
    ensure!(
        matches!(&e, Error::Verification { detail, .. } if detail.contains("1 snapshot objects refused") && detail.contains("obj/04")),
        "{e}"
    );
    ensure!(
        store.get_bytes(&src, &key("obj/04")).await? == Bytes::from_static(b"live work"),
        "the live object was replaced by a damaged copy"
    );
    ensure!(store.get_bytes(&src, &key("obj/05")).await? == body(5), "the other objects were not restored");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn an_unversioned_bucket_is_restored_only_with_its_name_confirmed() -> Result<()> {
    let Some(moto) = moto_peer() else { return Ok(()) };
    let p = prefix();
    let s3 = moto.s3_client().await;
    let (assets, backup) = (format!("{p}-assets"), format!("{p}-backup"));
    for bucket in [&assets, &backup] {
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(MOTO_REGION))
            .build();
        s3.create_bucket().bucket(bucket).create_bucket_configuration(location).send().await?;
    }
    for i in 0..5 {
        s3.put_object().bucket(&assets).key(format!("data/{i}.json")).body(format!("{{\"n\":{i}}}").into_bytes().into()).send().await?;
    }
    let recorder = Recorder::start(&moto.endpoint)?;
    let through = MotoConfig { endpoint: recorder.endpoint.clone() };
    let common = ["--prefix", &p, "--objects-only", "--skip-bucket-setup"];
    let backed = run(&through, "aws_disaster_recovery", &[&["backup"][..], &common[..]].concat())?;
    backed.assert_ok("backup");
    let id = backed.stdout.lines().find_map(|l| l.split("--from ").nth(1)).context("no snapshot id")?.trim().to_owned();

    s3.put_object().bucket(&assets).key("data/1.json").body(b"precious, written after the backup".to_vec().into()).send().await?;
    s3.delete_object().bucket(&assets).key("data/2.json").send().await?;
    let restore = |extra: &[&str]| run(&through, "aws_disaster_recovery", &[&["restore", "--from", &id][..], &common[..], extra].concat());

    recorder.proxy.clear();
    let plan = restore(&["--plan"])?;
    plan.assert_ok("restore --plan");
    ensure!(
        plan.stdout.contains("overwrite 1 (data/1.json)") && plan.stdout.contains("UNVERSIONED"),
        "the plan does not name the overwrite\n{}",
        plan.show()
    );
    ensure!(plan.stdout.contains(&format!("--confirm-overwrite {assets}")), "the plan does not say how to confirm\n{}", plan.show());
    recorder.none_mutating("restore --plan")?;

    recorder.proxy.clear();
    let refused = restore(&[])?;
    ensure!(
        !refused.ok && refused.stderr.contains(&assets) && refused.stderr.contains("data/1.json"),
        "an unconfirmed overwrite was not refused\n{}",
        refused.show()
    );
    recorder.none_mutating("the refused restore")?;
    let kept = s3.get_object().bucket(&assets).key("data/1.json").send().await?.body.collect().await?.into_bytes();
    ensure!(kept == Bytes::from_static(b"precious, written after the backup"), "the refused restore changed data/1.json");

    // Bad input, before any request: a confirmation naming another bucket, an unknown flag.
    recorder.proxy.clear();
    let wrong = restore(&["--confirm-overwrite", &backup])?;
    ensure!(!wrong.ok && wrong.stderr.contains("confirm-overwrite"), "a confirmation naming another bucket was accepted\n{}", wrong.show());
    let unknown = restore(&["--exactly"])?;
    ensure!(!unknown.ok && unknown.stderr.contains("exactly"), "an unknown flag was accepted\n{}", unknown.show());
    ensure!(recorder.proxy.captured().is_empty(), "bad input reached the network: {:?}", recorder.proxy.captured().len());

    let confirmed = restore(&["--confirm-overwrite", &assets])?;
    confirmed.assert_ok("restore --confirm-overwrite");
    ensure!(confirmed.stdout.contains("overwrote 1 (data/1.json)"), "the report does not name the overwrite\n{}", confirmed.show());
    for i in 0..5 {
        let got = s3.get_object().bucket(&assets).key(format!("data/{i}.json")).send().await?.body.collect().await?.into_bytes();
        ensure!(got == format!("{{\"n\":{i}}}").as_bytes(), "data/{i}.json is not back");
    }
    Ok(())
}
