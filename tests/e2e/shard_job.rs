//! `aws_disaster_recovery backup --in-cluster`: the backup as a Kubernetes
//! Indexed Job of 4 shards, run for real. deploy-k8s's fake API server is
//! served over HTTP and named by a kubeconfig; its fake kubelet runs each
//! pod's command (the example binary itself, `backup-shard`) on this machine
//! against moto, with `JOB_COMPLETION_INDEX` and the credentials from a
//! Secret's keys. Shard 1's first pod is killed 300 ms after it starts and
//! retried (`backoffLimitPerIndex`); shard 2's pods cannot start: the Job
//! fails and finalize refuses, naming shard 2, and no index is written. Run
//! again with `--resume ID`, the Job completes, and the manifest lists
//! exactly the objects and ETags a single-process backup of the same bucket
//! lists (as does `backup --shards 3`, three shards in one process).
//! `restore --in-cluster` writes a damaged bucket back from a snapshot with
//! an Indexed Job of 3 shards (`restore-shard` in each pod).

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::recipes::{Location, SnapshotId, SnapshotLayout, read_manifest, read_manifest_info};
use deploy::{BucketName, ObjectKey, ObjectStore as _, ObjectStoreExt as _};
use deploy_aws::s3::S3Store;

use crate::k8s_examples::fake_api::{Behavior, FakeApi};
use crate::k8s_examples::serve;
use crate::support::examples::{Run, example_binary, prefix, run_with_env};
use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{self, MotoConfig};

const OBJECTS: usize = 120;

fn snapshot_id(run: &Run) -> Result<SnapshotId> {
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.split("--from ").nth(1).or_else(|| l.split("--resume ").nth(1)))
        .context("no snapshot id printed")?;
    Ok(id.split_whitespace().next().context("empty id")?.parse()?)
}

/// (key, ETag) of each object of snapshot `id`'s manifest, in order.
async fn listed(s3: &S3Store, backup: &BucketName, id: &SnapshotId) -> Result<Vec<(String, Option<String>)>> {
    let manifest = read_manifest(Location::new(s3, backup), &SnapshotLayout::new("")?, id).await?;
    Ok(manifest.objects.into_iter().map(|e| (e.key, e.etag)).collect())
}

async fn buckets(moto: &MotoConfig, p: &str) -> Result<(S3Store, BucketName, BucketName)> {
    let client = moto.s3_client().await;
    let (assets, backup) = (BucketName::new(format!("{p}-assets"))?, BucketName::new(format!("{p}-backup"))?);
    for b in [&assets, &backup] {
        let here = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(crate::support::MOTO_REGION))
            .build();
        client.create_bucket().bucket(b.as_str()).create_bucket_configuration(here).send().await?;
    }
    let s3 = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    for i in 0..OBJECTS {
        // Keys spread over the key space, some awkward: the planner's boundaries fall between them.
        let key = ObjectKey::new(format!("{}/item {i:03} +%#.json", ["alpha", "beta", "gamma/deep/path", "zeta"][i % 4]))?;
        s3.put_bytes(&assets, &key, Bytes::from(format!("object {i} {}", "x".repeat(i)))).await?;
    }
    Ok((s3, assets, backup))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the fake API serves while the test blocks on the example
async fn a_backup_as_an_indexed_job_of_4_shards_lists_what_one_process_lists() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (s3, _assets, backup) = buckets(&moto, &p).await?;

    // One process.
    let single = run_with_env(&moto, "aws_disaster_recovery", &["backup", "--prefix", &p, "--objects-only", "--skip-bucket-setup"], &[])?;
    single.assert_ok("single-process backup");
    let single_id = snapshot_id(&single)?;
    let expected = listed(&s3, &backup, &single_id).await?;
    ensure!(expected.len() == OBJECTS, "the single-process manifest lists {} objects", expected.len());
    // Three shards in one process (`--shards 3`): the same list.
    let in_process = run_with_env(
        &moto,
        "aws_disaster_recovery",
        &["backup", "--prefix", &p, "--objects-only", "--skip-bucket-setup", "--shards", "3"],
        &[],
    )?;
    in_process.assert_ok("backup --shards 3");
    ensure!(
        listed(&s3, &backup, &snapshot_id(&in_process)?).await? == expected,
        "backup --shards 3 lists other objects\n{}",
        in_process.show()
    );

    // The Job, on the fake cluster: shard 1's first pod killed mid-run, shard 2 unable to start.
    let fake = FakeApi::new(Behavior::Exec);
    fake.seed_secret("aws-keys", serde_json::json!({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}));
    fake.kill_pod(1, 0, std::time::Duration::from_millis(300));
    fake.break_index(2, true);
    let kubeconfig = serve(fake.clone()).await?;
    let binary = example_binary("aws_disaster_recovery")?;
    let kube = kubeconfig.0.to_str().context("kubeconfig path")?.to_owned();
    let job_args = |resume: Option<&str>| {
        let mut a: Vec<String> =
            ["backup", "--prefix", &p, "--objects-only", "--skip-bucket-setup", "--in-cluster", "--image", "registry.example/deploy:1"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
        a.extend(["--shards", "4", "--parallelism", "2", "--namespace", "ns", "--credentials-secret", "aws-keys"].map(str::to_owned));
        a.extend(["--shard-command".to_owned(), binary.to_str().unwrap().to_owned()]);
        if let Some(id) = resume {
            a.extend(["--resume".to_owned(), id.to_owned()]);
        }
        a
    };
    let env = [("KUBECONFIG", kube.as_str())];
    let args = job_args(None);
    // The first Job's requests (its pods get this process's endpoint) each 40 ms late: shard 1 (30 objects, two
    // requests or more each) cannot be done before its kill at 300 ms, however fast the machine is.
    let slow =
        FaultProxy::start(&moto.endpoint, FaultConfig { latency: std::time::Duration::from_millis(40), ..FaultConfig::transparent() })
            .await?;
    let slow_moto = MotoConfig { endpoint: slow.endpoint() };
    let first = tokio::task::block_in_place(|| {
        run_with_env(&slow_moto, "aws_disaster_recovery", &args.iter().map(String::as_str).collect::<Vec<_>>(), &env)
    })?;
    ensure!(!first.ok, "the backup succeeded with shard 2 unable to run\n{}", first.show());
    ensure!(
        first.stderr.contains("shards 2") && first.stderr.contains("have not completed"),
        "finalize does not name shard 2\n{}",
        first.show()
    );
    let id = snapshot_id(&first)?;
    ensure!(
        read_manifest_info(Location::new(&s3, &backup), &SnapshotLayout::new("")?, &id).await.is_err(),
        "an index was written for an incomplete snapshot"
    );
    let runs = fake.pod_runs();
    let shard1: Vec<(usize, bool)> = runs.iter().filter(|r| r.1 == 1).map(|r| (r.2, r.3)).collect();
    ensure!(shard1 == [(0, false), (1, true)], "shard 1 was not killed then re-run to completion: {runs:?}");
    ensure!(runs.iter().filter(|r| r.1 == 2).all(|r| !r.3), "{runs:?}");
    ensure!(fake.max_running(&fake.created_jobs()[0]) <= 2, "more pods than the parallelism at once");
    let (secrets, config_maps, jobs, pods) = fake.existing();
    ensure!(secrets == ["aws-keys"] && config_maps.is_empty() && jobs.is_empty() && pods.is_empty(), "left behind: {:?}", fake.existing());

    // Fixed, and resumed: the shards that had completed do nothing, shard 2 runs, finalize writes the index.
    fake.break_index(2, false);
    let args = job_args(Some(id.as_str()));
    let second = tokio::task::block_in_place(|| {
        run_with_env(&moto, "aws_disaster_recovery", &args.iter().map(String::as_str).collect::<Vec<_>>(), &env)
    })?;
    second.assert_ok("the resumed Job backup");
    ensure!(second.stdout.contains(&format!("{OBJECTS} objects")) && second.stdout.contains("4 shards"), "{}", second.show());
    let sharded = listed(&s3, &backup, &id).await?;
    ensure!(sharded == expected, "the sharded manifest differs from the single-process one:\n{sharded:?}\nvs\n{expected:?}");

    // The Job's pods never had a credential on their command line or in the Job's spec.
    let requests = fake.requests();
    ensure!(requests.iter().all(|r| !r.contains("AWS_SECRET_ACCESS_KEY=")), "{requests:?}");
    Ok(())
}

/// `restore --in-cluster`: the snapshot written back by an Indexed Job of 3 shards, each pod restoring its key
/// range (`restore-shard`). On an unversioned bucket, without `--confirm-overwrite` the plan refuses before any
/// Job exists and nothing changes; with it, every deleted or changed object of the snapshot is back (the keys it
/// does not hold stay: no `--exact`), the caller's check finds nothing left to write, and nothing is left in
/// the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_as_an_indexed_job_of_3_shards_writes_the_snapshot_back() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (s3, assets, backup) = buckets(&moto, &p).await?;
    // Backed up in 3 shards: the manifest has a part per shard, so the restore's 3 ranges each hold keys.
    let args = ["backup", "--prefix", &p, "--objects-only", "--skip-bucket-setup", "--shards", "3"];
    let single = run_with_env(&moto, "aws_disaster_recovery", &args, &[])?;
    single.assert_ok("backup");
    let id = snapshot_id(&single)?;
    let snapshot = listed(&s3, &backup, &id).await?;
    let ranges = deploy::recipes::restore_ranges(Location::new(&s3, &backup), &SnapshotLayout::new("")?, &id, 3).await?;
    ensure!(ranges.len() == 3, "the snapshot splits in {} ranges", ranges.len());
    // The damage, spread over the key space (so over every range): 10 objects deleted, 5 overwritten, 2 added.
    for (i, (key, _)) in snapshot.iter().step_by(8).enumerate().take(15) {
        let key = ObjectKey::new(key.clone())?;
        if i < 10 {
            s3.delete(&assets, &key).await?;
        } else {
            s3.put_bytes(&assets, &key, Bytes::from_static(b"damaged")).await?;
        }
    }
    for extra in ["new/one.json", "new/two.json"] {
        s3.put_bytes(&assets, &ObjectKey::new(extra)?, Bytes::from_static(b"written after the snapshot")).await?;
    }

    let fake = FakeApi::new(Behavior::Exec);
    fake.seed_secret("aws-keys", serde_json::json!({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}));
    let kubeconfig = serve(fake.clone()).await?;
    let binary = example_binary("aws_disaster_recovery")?;
    let kube = kubeconfig.0.to_str().context("kubeconfig path")?.to_owned();
    let env = [("KUBECONFIG", kube.as_str())];
    let args = |confirm: bool| {
        let mut a: Vec<String> = ["restore", "--prefix", &p, "--from", id.as_str(), "--objects-only", "--skip-bucket-setup"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        a.extend(["--in-cluster", "--image", "registry.example/deploy:1", "--shards", "3", "--parallelism", "2"].map(str::to_owned));
        a.extend(["--namespace", "ns", "--credentials-secret", "aws-keys", "--shard-command"].map(str::to_owned));
        a.push(binary.to_str().unwrap().to_owned());
        if confirm {
            a.extend(["--confirm-overwrite".to_owned(), assets.to_string()]);
        }
        a
    };
    let refused = tokio::task::block_in_place(|| {
        run_with_env(&moto, "aws_disaster_recovery", &args(false).iter().map(String::as_str).collect::<Vec<_>>(), &env)
    })?;
    ensure!(
        !refused.ok && refused.stderr.contains("confirm"),
        "an unconfirmed overwrite was not refused
{}",
        refused.show()
    );
    ensure!(fake.created_jobs().is_empty(), "a Job was created before the refusal");
    let damaged = ObjectKey::new(snapshot[12 * 8].0.clone())?;
    ensure!(s3.get_bytes(&assets, &damaged).await?.as_ref() == b"damaged", "the refused restore wrote");

    let done = tokio::task::block_in_place(|| {
        run_with_env(&moto, "aws_disaster_recovery", &args(true).iter().map(String::as_str).collect::<Vec<_>>(), &env)
    })?;
    done.assert_ok("restore --in-cluster");
    ensure!(done.stdout.contains("0 left to write") && done.stdout.contains("3 shards"), "{}", done.show());
    let runs = fake.pod_runs();
    ensure!((0..3).all(|i| runs.iter().any(|r| r.1 == i && r.3)), "not every shard ran to completion: {runs:?}");
    ensure!(fake.max_running(&fake.created_jobs()[0]) <= 2, "more pods than the parallelism at once");
    for (key, etag) in &snapshot {
        let meta = s3.head(&assets, &ObjectKey::new(key.clone())?).await?;
        ensure!(meta.etag == *etag, "{key} is not the snapshot's: {:?} vs {etag:?}", meta.etag);
    }
    for extra in ["new/one.json", "new/two.json"] {
        s3.head(&assets, &ObjectKey::new(extra)?).await.with_context(|| format!("{extra}, not in the snapshot, was deleted"))?;
    }
    let (secrets, config_maps, jobs, pods) = fake.existing();
    ensure!(secrets == ["aws-keys"] && config_maps.is_empty() && jobs.is_empty() && pods.is_empty(), "left behind: {:?}", fake.existing());
    Ok(())
}

#[test]
fn the_job_flags_are_checked_before_any_request() -> Result<()> {
    // No moto, no cluster: every refusal happens first.
    let moto = MotoConfig { endpoint: "http://127.0.0.1:9".into() };
    let cases: [(&[&str], &str); 6] = [
        (&["backup", "--prefix", "pfx", "--in-cluster", "--shards", "4", "--image", "i"], "in-cluster"),
        (&["backup", "--prefix", "pfx", "--objects-only", "--in-cluster", "--shards", "4"], "image"),
        (&["backup", "--prefix", "pfx", "--objects-only", "--image", "i"], "image"),
        (&["backup", "--prefix", "pfx", "--shards", "0"], "shards"),
        (&["restore", "--prefix", "pfx", "--from", "latest", "--in-cluster", "--shards", "2", "--image", "i"], "in-cluster"),
        (&["restore", "--prefix", "pfx", "--from", "latest", "--objects-only", "--in-cluster", "--shards", "2"], "image"),
    ];
    for (args, field) in cases {
        let r = run_with_env(&moto, "aws_disaster_recovery", args, &[])?;
        ensure!(
            !r.ok && r.stderr.contains(field) && !r.stdout.contains("AWS region"),
            "{args:?}: not refused on {field} before any request\n{}",
            r.show()
        );
    }
    Ok(())
}
