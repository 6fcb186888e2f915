//! A bucket backup killed half-way (SIGKILL of the example process) and run
//! again with `--resume ID` copies only what is missing and ends with a
//! manifest; the unfinished snapshot is refused by a restore before that.
//! Copies are counted at a proxy in front of moto (CopyObject carries
//! `x-amz-copy-source`), which also slows every request by 10 ms so the kill
//! lands mid-way.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};

use crate::support::examples::{command, prefix, run};
use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{self, MOTO_REGION, MotoConfig};

const OBJECTS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn a_killed_backup_resumes_copying_only_what_is_missing() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let s3 = moto.s3_client().await;
    // Plain buckets (no TLS-only policy, which moto cannot evaluate): the backup uses them as they are.
    for bucket in [format!("{p}-assets"), format!("{p}-backup")] {
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(MOTO_REGION))
            .build();
        s3.create_bucket().bucket(&bucket).create_bucket_configuration(location).send().await?;
    }
    for i in 0..OBJECTS {
        s3.put_object()
            .bucket(format!("{p}-assets"))
            .key(format!("data/{i:04}.json"))
            .body(format!("object {i}").into_bytes().into())
            .send()
            .await?;
    }

    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { latency: Duration::from_millis(10), ..FaultConfig::transparent() }).await?;
    let through = MotoConfig { endpoint: proxy.endpoint() };
    let copies = |proxy: &FaultProxy| proxy.captured().iter().filter(|c| c.headers.iter().any(|(k, _)| k == "x-amz-copy-source")).count();
    let args = ["backup", "--prefix", &p, "--objects-only", "--skip-bucket-setup"];

    let mut child = command(&through, "aws_disaster_recovery", &args, &[])?.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    // Read the id, then keep draining: a closed pipe would kill the example at its next line.
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.split("plan: backup ").nth(1).and_then(|rest| rest.split_whitespace().next()) {
                let _ = tx.send(id.to_owned());
            }
        }
    });
    let id = rx.recv_timeout(Duration::from_secs(60)).context("the backup named no snapshot id")?;
    let started = Instant::now();
    while copies(&proxy) < OBJECTS / 3 {
        ensure!(started.elapsed() < Duration::from_secs(60), "the backup made only {} copies in 60 s", copies(&proxy));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill()?;
    child.wait()?;
    let first = copies(&proxy);
    ensure!(first < OBJECTS, "the backup finished ({first} copies) before it was killed");

    let refused = run(&through, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", &id, "--objects-only"])?;
    ensure!(
        !refused.ok && refused.mutating.unwrap_or(0) == 0,
        "a restore from the unfinished snapshot was not refused\n{}",
        refused.show()
    );

    // What the killed run left in the snapshot's folder (requests cut by the kill may have landed unrecorded).
    let count_in_snapshot = || async {
        let mut n = 0;
        let mut pages = s3.list_objects_v2().bucket(format!("{p}-backup")).into_paginator().send();
        while let Some(page) = pages.next().await {
            n += page?.contents().iter().filter_map(|o| o.key()).filter(|k| k.contains(&id) && k.contains("data/")).count();
        }
        anyhow::Ok(n)
    };
    // Copies the proxy was forwarding at the kill still land at moto: wait until
    // the folder and the proxy's record have both been still for a second.
    let mut seen = (count_in_snapshot().await?, copies(&proxy));
    let (mut still_since, settle) = (Instant::now(), Instant::now());
    while still_since.elapsed() < Duration::from_secs(1) {
        ensure!(settle.elapsed() < Duration::from_secs(30), "the snapshot folder kept changing for 30 s after the kill");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = (count_in_snapshot().await?, copies(&proxy));
        if now != seen {
            (seen, still_since) = (now, Instant::now());
        }
    }
    let (held, first) = (seen.0, first.max(seen.1));
    ensure!(held >= first && held < OBJECTS, "the killed run left {held} objects after {first} recorded copies");

    proxy.clear();
    let resumed = run(&through, "aws_disaster_recovery", &[&args[..], &["--resume", &id]].concat())?;
    resumed.assert_ok("backup --resume");
    let second = copies(&proxy);
    ensure!(
        second == OBJECTS - held,
        "the killed run left {held} of {OBJECTS}; the resume copied {second}, not just the missing\n{}",
        resumed.show()
    );
    let manifests = s3.list_objects_v2().bucket(format!("{p}-backup")).send().await?;
    ensure!(
        manifests.contents().iter().filter_map(|o| o.key()).any(|k| k.contains("manifests/") && k.contains(&id)),
        "no manifest for {id} after the resume"
    );
    let snapshot_objects = count_in_snapshot().await?;
    ensure!(snapshot_objects == OBJECTS, "the snapshot holds {snapshot_objects} of {OBJECTS} objects");
    Ok(())
}

/// The same with the database part (issue 13.3): the killed backup had taken
/// its database snapshot `P-db-<id>`; `--resume ID` finds it (one snapshot of
/// that id, no second CreateDBSnapshot), copies what is missing and writes the
/// manifest; resuming the complete backup succeeds with no mutating request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backup_with_its_database_resumes_and_a_complete_one_changes_nothing() -> Result<()> {
    use deploy::Database as _;
    use deploy_aws::rds::RdsDatabase;
    use deploy_core::ResourceName;

    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let s3 = moto.s3_client().await;
    for bucket in [format!("{p}-assets"), format!("{p}-backup")] {
        let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(MOTO_REGION))
            .build();
        s3.create_bucket().bucket(&bucket).create_bucket_configuration(location).send().await?;
    }
    for i in 0..OBJECTS {
        s3.put_object()
            .bucket(format!("{p}-assets"))
            .key(format!("data/{i:04}.json"))
            .body(format!("object {i}").into_bytes().into())
            .send()
            .await?;
    }
    run(&moto, "aws_database_ssl", &["--prefix", &p])?.assert_ok("aws_database_ssl");
    let rds = RdsDatabase::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    let db = ResourceName::new(format!("{p}-db"))?;
    let snapshots = || async { anyhow::Ok(rds.list_snapshots(&db).await?) };

    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { latency: Duration::from_millis(10), ..FaultConfig::transparent() }).await?;
    let through = MotoConfig { endpoint: proxy.endpoint() };
    let copies = |proxy: &FaultProxy| proxy.captured().iter().filter(|c| c.headers.iter().any(|(k, _)| k == "x-amz-copy-source")).count();
    let snapshot_requests =
        |proxy: &FaultProxy| proxy.captured().iter().filter(|c| c.aws_operation.as_deref() == Some("CreateDBSnapshot")).count();
    let args = ["backup", "--prefix", &p, "--skip-bucket-setup"];

    let mut child = command(&through, "aws_disaster_recovery", &args, &[])?.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(id) = line.split("plan: backup ").nth(1).and_then(|rest| rest.split_whitespace().next()) {
                let _ = tx.send(id.to_owned());
            }
        }
    });
    let id = rx.recv_timeout(Duration::from_secs(60)).context("the backup named no snapshot id")?;
    let started = Instant::now();
    while copies(&proxy) < OBJECTS / 3 {
        ensure!(started.elapsed() < Duration::from_secs(60), "the backup made only {} copies in 60 s", copies(&proxy));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill()?;
    child.wait()?;
    ensure!(copies(&proxy) < OBJECTS, "the backup finished before it was killed");
    ensure!(snapshot_requests(&proxy) == 1, "the killed run sent {} CreateDBSnapshot", snapshot_requests(&proxy));
    let taken = snapshots().await?;
    ensure!(taken.len() == 1, "after the kill: {taken:?}");

    proxy.clear();
    let resumed = run(&through, "aws_disaster_recovery", &[&args[..], &["--resume", &id]].concat())?;
    resumed.assert_ok("backup --resume with the database");
    ensure!(snapshot_requests(&proxy) == 0, "the resume asked for another database snapshot\n{}", resumed.show());
    ensure!(snapshots().await? == taken, "the resume changed the database snapshots: {:?}", snapshots().await?);
    ensure!(resumed.stdout.contains(taken[0].name.as_str()), "the report does not name the snapshot\n{}", resumed.show());
    let manifests = s3.list_objects_v2().bucket(format!("{p}-backup")).prefix("manifests/").send().await?;
    ensure!(manifests.contents().iter().filter_map(|o| o.key()).any(|k| k.contains(&id)), "no manifest for {id} after the resume");

    proxy.clear();
    let again = run(&through, "aws_disaster_recovery", &[&args[..], &["--resume", &id]].concat())?;
    again.assert_ok("backup --resume of a complete backup");
    let mutating: Vec<String> = proxy.captured().iter().filter(|c| c.is_mutating()).map(|c| c.operation()).collect();
    ensure!(again.mutating() == 0 && mutating.is_empty(), "resuming a complete backup changed something: {mutating:?}\n{}", again.show());
    ensure!(again.stdout.contains("complete already"), "{}", again.show());
    ensure!(snapshots().await? == taken, "a second database snapshot: {:?}", snapshots().await?);
    Ok(())
}
