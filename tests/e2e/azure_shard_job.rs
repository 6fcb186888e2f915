//! `azure_disaster_recovery --shards N` and `backup --in-cluster` against
//! Azurite, the Azure twin of [`crate::shard_job`]:
//!
//! - in one process: a container of 120 blobs with awkward names (unicode,
//!   `+ % #`, deep paths); `backup --shards 3` lists exactly the blobs and
//!   ETags a one-shard `backup` lists, and `restore --shards 3` writes back
//!   what was deleted and overwritten;
//! - as a Kubernetes Indexed Job of 4 shards (deploy-k8s's fake API server,
//!   its fake kubelet running the example binary's `backup-shard` against
//!   Azurite, the account key from a Secret's key only): shard 1's first pod
//!   killed 300 ms after it starts and retried, shard 2's pods unable to
//!   start: finalize refuses naming shard 2 and no index is written; `--id
//!   ID` runs the Job again and completes, listing what one process lists;
//! - `restore --in-cluster` as an Indexed Job of 3 shards (`restore-shard` in
//!   each pod): refused without `--confirm-overwrite` before any Job, then
//!   every damaged blob written back and verified;
//! - every shard and Job flag is checked before any request.

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::recipes::{Location, SnapshotId, SnapshotLayout, read_manifest, read_manifest_info};
use deploy::{BucketName, BucketSpec, ObjectKey, ObjectStore as _, ObjectStoreExt as _};
use deploy_azure::blob::BlobStore;
use deploy_azure::sas::{AZURITE_ACCOUNT, AZURITE_KEY};

use crate::azure_examples::{command, line, output, run};
use crate::cli::{Tripwire, document, isolated_with_env, text};
use crate::k8s_examples::fake_api::{Behavior, FakeApi};
use crate::k8s_examples::serve;
use crate::support::examples::example_binary;
use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{self, AzuriteConfig};

const BLOBS: usize = 120;

/// Blob `i`'s name: spread over the key space, many awkward.
fn blob_name(i: usize) -> String {
    let folder = ["alpha", "beta", "gamma/deep/path/of/folders", "zeta", "données/été", "日本/データ"][i % 6];
    let name = ["item", "a+b", "50%", "#hash", "space d", "ünï"][(i / 6) % 6];
    format!("{folder}/{name} {i:03}.json")
}

/// A fresh prefix, its `P-assets` filled with [`BLOBS`] blobs; (store, prefix, assets, backup).
async fn containers(azurite: &AzuriteConfig) -> Result<(BlobStore, String, BucketName, BucketName)> {
    let store = BlobStore::azurite(&azurite.blob_endpoint, &azurite.account_sas())?;
    let prefix = format!("ds{}", &support::unique_suffix()[..10]);
    let (assets, backup) = (BucketName::new(format!("{prefix}-assets"))?, BucketName::new(format!("{prefix}-backup"))?);
    store.ensure_bucket(&BucketSpec::new(assets.clone())).await?;
    for i in 0..BLOBS {
        store.put_bytes(&assets, &ObjectKey::new(blob_name(i))?, Bytes::from(format!("blob {i} {}", "x".repeat(i)))).await?;
    }
    Ok((store, prefix, assets, backup))
}

/// The backup id a run printed (`summary: backup ID complete`, or `run again with --id ID`).
fn backup_id(stdout: &str) -> Result<SnapshotId> {
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("summary: backup ").or_else(|| l.split("run again with --id ").nth(1)))
        .with_context(|| format!("no backup id printed:\n{stdout}"))?;
    Ok(id.split_whitespace().next().context("empty id")?.parse()?)
}

/// (name, ETag) of each blob of backup `id`'s manifest, in order.
async fn listed(store: &BlobStore, backup: &BucketName, id: &SnapshotId) -> Result<Vec<(String, Option<String>)>> {
    let manifest = read_manifest(Location::new(store, backup), &SnapshotLayout::new("")?, id).await?;
    Ok(manifest.objects.into_iter().map(|e| (e.key, e.etag)).collect())
}

#[tokio::test]
async fn azure_backup_and_restore_in_3_shards_list_and_write_what_one_process_does() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else { return Ok(()) };
    let binary = example_binary("azure_disaster_recovery")?;
    let (store, p, assets, backup) = containers(&azurite).await?;
    let blob = azurite.blob_endpoint.as_str();

    let single = run(&binary, blob, &["backup", "--prefix", &p])?;
    let single_id = backup_id(&single)?;
    let expected = listed(&store, &backup, &single_id).await?;
    ensure!(expected.len() == BLOBS, "the one-shard manifest lists {} blobs", expected.len());
    let mut names: Vec<String> = (0..BLOBS).map(blob_name).collect();
    names.sort();
    let mut in_manifest: Vec<String> = expected.iter().map(|(k, _)| k.clone()).collect();
    in_manifest.sort();
    ensure!(in_manifest == names, "the manifest does not name the blobs as written");

    let sharded = run(&binary, blob, &["backup", "--prefix", &p, "--shards", "3"])?;
    let id = backup_id(&sharded)?;
    ensure!(id != single_id, "the sharded backup reused the first id");
    ensure!(line(&sharded, &format!("backup {id}: {BLOBS} objects"))?.contains(&format!("({BLOBS} copied")), "{sharded}");
    let info = read_manifest_info(Location::new(&store, &backup), &SnapshotLayout::new("")?, &id).await?;
    ensure!(info.shards == 3, "the manifest index records {} shards, not 3", info.shards);
    let got = listed(&store, &backup, &id).await?;
    ensure!(got == expected, "backup --shards 3 lists other blobs or ETags:\n{got:?}\nvs\n{expected:?}");

    // Damage: 10 blobs lost (no confirmation needed), one overwritten (Azurite keeps no version: confirmed).
    for i in (0..BLOBS).step_by(12) {
        store.delete(&assets, &ObjectKey::new(blob_name(i))?).await?;
    }
    store.put_bytes(&assets, &ObjectKey::new(blob_name(7))?, Bytes::from_static(b"garbage")).await?;
    let confirm = format!("{p}-assets");
    let id_text = id.to_string();
    let out = run(&binary, blob, &["restore", "--prefix", &p, "--from", &id_text, "--shards", "3", "--confirm-overwrite", &confirm])?;
    ensure!(
        out.contains(&format!("summary: restore of backup {id}: 11 blobs written, {} already identical, {BLOBS} verified", BLOBS - 11)),
        "{out}"
    );
    for i in 0..BLOBS {
        let got = store.get_bytes(&assets, &ObjectKey::new(blob_name(i))?).await?;
        ensure!(got == format!("blob {i} {}", "x".repeat(i)), "restored {} differs", blob_name(i));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the fake API serves while the test blocks on the example
async fn azure_backup_as_an_indexed_job_of_4_shards_lists_what_one_process_lists() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else { return Ok(()) };
    let binary = example_binary("azure_disaster_recovery")?;
    let (store, p, _assets, backup) = containers(&azurite).await?;
    let single = tokio::task::block_in_place(|| run(&binary, &azurite.blob_endpoint, &["backup", "--prefix", &p]))?;
    let expected = listed(&store, &backup, &backup_id(&single)?).await?;
    ensure!(expected.len() == BLOBS, "the single-process manifest lists {} blobs", expected.len());

    // The Job, on the fake cluster: shard 1's first pod killed mid-run, shard 2 unable to start.
    let fake = FakeApi::new(Behavior::Exec);
    fake.seed_secret("blob-key", serde_json::json!({ "AZURE_STORAGE_KEY": AZURITE_KEY }));
    fake.kill_pod(1, 0, std::time::Duration::from_millis(300));
    fake.break_index(2, true);
    let kubeconfig = serve(fake.clone()).await?;
    let binary_path = binary.to_str().context("binary path")?.to_owned();
    let job = |endpoint: &str, id: Option<&str>| -> Result<(bool, String, String)> {
        let mut args = vec!["backup", "--prefix", &p, "--in-cluster", "--image", "registry.example/deploy:1", "--shards", "4"];
        args.extend(["--parallelism", "2", "--namespace", "ns", "--credentials-secret", "blob-key", "--shard-command", &binary_path]);
        if let Some(id) = id {
            args.extend(["--id", id]);
        }
        let mut c = command(&binary, endpoint, &args);
        c.env("KUBECONFIG", &kubeconfig.0);
        let (status, stdout, stderr) = output(c)?;
        println!("$ azure_disaster_recovery {}\n{stdout}{stderr}", args.join(" "));
        Ok((status.success(), stdout, stderr))
    };
    // The first Job's requests (its pods reach the blobs where this process does) each 40 ms late: shard 1
    // (30 blobs, two requests or more each) cannot be done before its kill at 300 ms, however fast the machine is.
    let slow = FaultProxy::start(
        &azurite.blob_endpoint,
        FaultConfig { latency: std::time::Duration::from_millis(40), ..FaultConfig::transparent() },
    )
    .await?;
    let path = azurite.blob_endpoint.parse::<hyper::Uri>()?.path().trim_end_matches('/').to_owned();
    let slow_endpoint = format!("{}{path}", slow.endpoint());
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| job(&slow_endpoint, None))?;
    ensure!(!ok, "the backup succeeded with shard 2 unable to run\n{stdout}{stderr}");
    ensure!(stderr.contains("shards 2") && stderr.contains("have not completed"), "finalize does not name shard 2\n{stdout}{stderr}");
    let id = backup_id(&stdout)?;
    ensure!(
        read_manifest_info(Location::new(&store, &backup), &SnapshotLayout::new("")?, &id).await.is_err(),
        "an index was written for an incomplete backup"
    );
    let runs = fake.pod_runs();
    let shard1: Vec<(usize, bool)> = runs.iter().filter(|r| r.1 == 1).map(|r| (r.2, r.3)).collect();
    ensure!(shard1 == [(0, false), (1, true)], "shard 1 was not killed then re-run to completion: {runs:?}");
    ensure!(runs.iter().filter(|r| r.1 == 2).all(|r| !r.3), "{runs:?}");
    ensure!(fake.max_running(&fake.created_jobs()[0]) <= 2, "more pods than the parallelism at once");
    let (secrets, config_maps, jobs, pods) = fake.existing();
    ensure!(secrets == ["blob-key"] && config_maps.is_empty() && jobs.is_empty() && pods.is_empty(), "left behind: {:?}", fake.existing());

    // Fixed, and resumed: the shards that had completed do nothing, shard 2 runs, finalize writes the index.
    fake.break_index(2, false);
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| job(&azurite.blob_endpoint, Some(id.as_str())))?;
    ensure!(ok, "the resumed Job backup failed\n{stdout}{stderr}");
    ensure!(line(&stdout, &format!("backup {id}: {BLOBS} objects"))?.contains("in 4 shards"), "{stdout}");
    let sharded = listed(&store, &backup, &id).await?;
    ensure!(sharded == expected, "the sharded manifest differs from the single-process one:\n{sharded:?}\nvs\n{expected:?}");

    // The account key reached the pods from the Secret only: never in a request to the API server, nor in a
    // Job's spec (its command line), where the pods run with `--account-key` and a `secretKeyRef`.
    let requests = fake.requests();
    ensure!(requests.iter().all(|r| !r.contains(AZURITE_KEY)), "the account key went to the API server: {requests:?}");
    let specs: Vec<String> = fake.created_job_objects().iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
    ensure!(specs.len() == 2, "{} Jobs created, not 2", specs.len());
    for spec in &specs {
        ensure!(!spec.contains(AZURITE_KEY), "the account key is in a Job's spec: {spec}");
        ensure!(spec.contains("secretKeyRef") && spec.contains("--account-key") && spec.contains("backup-shard"), "{spec}");
    }
    Ok(())
}

/// `restore --in-cluster` on Azurite (unversioned, as its accounts are): the backup written back by an
/// Indexed Job of 3 shards, each pod running `restore-shard` on its key range with the account key of a
/// Secret. Without `--confirm-overwrite` the plan refuses before any Job exists and nothing changes; with it,
/// every deleted or overwritten blob of the backup is back, the blobs it does not hold stay (no `--exact`),
/// the caller's check finds nothing left to write, and nothing is left in the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_restore_as_an_indexed_job_of_3_shards_writes_the_backup_back() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else { return Ok(()) };
    let binary = example_binary("azure_disaster_recovery")?;
    let (store, p, assets, backup) = containers(&azurite).await?;
    let sharded = tokio::task::block_in_place(|| run(&binary, &azurite.blob_endpoint, &["backup", "--prefix", &p, "--shards", "3"]))?;
    let id = backup_id(&sharded)?;
    let expected = listed(&store, &backup, &id).await?;
    let ranges = deploy::recipes::restore_ranges(Location::new(&store, &backup), &SnapshotLayout::new("")?, &id, 3).await?;
    ensure!(ranges.len() == 3, "the backup splits in {} ranges", ranges.len());
    // The damage, spread over the key space (so over every range): 10 blobs deleted, 5 overwritten, 2 added.
    for (i, (name, _)) in expected.iter().step_by(8).enumerate().take(15) {
        let key = ObjectKey::new(name.clone())?;
        if i < 10 {
            store.delete(&assets, &key).await?;
        } else {
            store.put_bytes(&assets, &key, Bytes::from_static(b"damaged")).await?;
        }
    }
    for extra in ["new/one.json", "new/two.json"] {
        store.put_bytes(&assets, &ObjectKey::new(extra)?, Bytes::from_static(b"written after the backup")).await?;
    }

    let fake = FakeApi::new(Behavior::Exec);
    fake.seed_secret("blob-key", serde_json::json!({ "AZURE_STORAGE_KEY": AZURITE_KEY }));
    let kubeconfig = serve(fake.clone()).await?;
    let binary_path = binary.to_str().context("binary path")?.to_owned();
    let restore = |confirm: bool| -> Result<(bool, String, String)> {
        // `command` adds --objects-only and the blob flags (--account-name, --account-key) of this process.
        let mut args = vec!["restore", "--prefix", &p, "--from", id.as_str(), "--in-cluster"];
        args.extend(["--image", "registry.example/deploy:1", "--shards", "3", "--parallelism", "2", "--namespace", "ns"]);
        args.extend(["--credentials-secret", "blob-key", "--shard-command", &binary_path]);
        let target = assets.to_string();
        if confirm {
            args.extend(["--confirm-overwrite", &target]);
        }
        let mut c = command(&binary, &azurite.blob_endpoint, &args);
        c.env("KUBECONFIG", &kubeconfig.0);
        let (status, stdout, stderr) = output(c)?;
        println!("$ azure_disaster_recovery {}\n{stdout}{stderr}", args.join(" "));
        Ok((status.success(), stdout, stderr))
    };
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| restore(false))?;
    ensure!(!ok && stderr.contains("confirm"), "an unconfirmed overwrite was not refused\n{stdout}{stderr}");
    ensure!(fake.created_jobs().is_empty(), "a Job was created before the refusal");
    let damaged = ObjectKey::new(expected[12 * 8].0.clone())?;
    ensure!(store.get_bytes(&assets, &damaged).await?.as_ref() == b"damaged", "the refused restore wrote");

    let (ok, stdout, stderr) = tokio::task::block_in_place(|| restore(true))?;
    ensure!(ok, "restore --in-cluster failed\n{stdout}{stderr}");
    ensure!(stdout.contains("0 left to write") && stdout.contains("3 shards"), "{stdout}");
    let runs = fake.pod_runs();
    ensure!((0..3).all(|i| runs.iter().any(|r| r.1 == i && r.3)), "not every shard ran to completion: {runs:?}");
    ensure!(fake.max_running(&fake.created_jobs()[0]) <= 2, "more pods than the parallelism at once");
    for (name, etag) in &expected {
        let meta = store.head(&assets, &ObjectKey::new(name.clone())?).await?;
        let i: usize = name.rsplit(' ').next().and_then(|n| n.strip_suffix(".json")).context("blob number")?.parse()?;
        ensure!(
            meta.etag.is_some() && store.get_bytes(&assets, &ObjectKey::new(name.clone())?).await? == format!("blob {i} {}", "x".repeat(i)),
            "{name} is not the backup's ({etag:?})"
        );
    }
    for extra in ["new/one.json", "new/two.json"] {
        store.head(&assets, &ObjectKey::new(extra)?).await.with_context(|| format!("{extra}, not in the backup, was deleted"))?;
    }
    let (secrets, config_maps, jobs, pods) = fake.existing();
    ensure!(secrets == ["blob-key"] && config_maps.is_empty() && jobs.is_empty() && pods.is_empty(), "left behind: {:?}", fake.existing());
    let specs: Vec<String> = fake.created_job_objects().iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
    ensure!(specs.len() == 1 && !specs[0].contains(AZURITE_KEY), "the account key is in the Job's spec");
    ensure!(
        specs[0].contains("restore-shard") && specs[0].contains("--confirm-overwrite") && specs[0].contains("--account-key"),
        "{}",
        specs[0]
    );
    Ok(())
}

#[test]
fn azure_shard_and_job_flags_are_checked_before_any_request() -> Result<()> {
    // No Azurite, no cluster: every endpoint at a tripwire, every refusal first, naming its flag.
    let tripwire = Tripwire::new()?;
    let blob: [&str; 4] = ["--blob-endpoint", &tripwire.url, "--account-name", AZURITE_ACCOUNT];
    let job: [&str; 6] = ["backup", "--objects-only", "--in-cluster", "--shards", "4", "--image"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["backup", "--shards", "0"], "shards"),
        (vec!["backup", "--shards", "many"], "shards"),
        (vec!["restore", "--from", "latest", "--shards", "1025"], "shards"),
        (vec!["backup", "--in-cluster", "--shards", "4", "--image", "i", "--service-account", "sa"], "in-cluster"),
        (vec!["backup", "--objects-only", "--in-cluster", "--shards", "4"], "image"),
        (vec!["backup", "--objects-only", "--image", "i"], "image"),
        (vec!["backup", "--objects-only", "--service-account", "sa"], "service-account"),
        (vec!["restore", "--from", "latest", "--objects-only", "--credentials-secret", "k"], "credentials-secret"),
        (vec!["restore", "--from", "latest", "--in-cluster", "--shards", "2", "--image", "i", "--service-account", "sa"], "in-cluster"),
        (vec!["restore", "--from", "latest", "--objects-only", "--in-cluster", "--shards", "2", "--service-account", "sa"], "image"),
        (vec!["restore", "--from", "latest", "--objects-only", "--in-cluster", "--image", "i", "--service-account", "sa"], "shards"),
        ([&job[..], &["i", "--service-account", "sa", "--credentials-secret", "k"]].concat(), "credentials-secret"),
        ([&job[..], &["i", "--service-account", "sa", "--parallelism", "none"]].concat(), "parallelism"),
        ([&job[..], &["i", "--service-account", "sa", "--namespace", "Not_A_Namespace"]].concat(), "namespace"),
        (vec!["backup", "--objects-only", "--in-cluster", "--image", "i", "--service-account", "sa"], "shards"),
    ];
    for (args, field) in cases {
        let all: Vec<&str> = [&args[..], &["--prefix", "pfx", "--json"], &blob[..]].concat();
        let out = isolated_with_env("azure_disaster_recovery", &all, &tripwire, &[("AZURE_STORAGE_KEY", AZURITE_KEY)])?;
        let doc = document(&text(&out.stdout), &format!("{args:?}"))?;
        ensure!(
            out.status.code() == Some(1) && doc["error"]["field"] == field,
            "{args:?}: not refused on {field}: {doc:#}\n{}",
            text(&out.stderr)
        );
        tripwire.untouched(&format!("{args:?}"))?;
    }
    // The Secret of an account key names the account too (the pods sign with it), for a backup or a restore Job.
    let restore_job: [&str; 8] = ["restore", "--from", "latest", "--objects-only", "--in-cluster", "--shards", "4", "--image"];
    for job in [&job[..], &restore_job[..]] {
        let no_account = [job, &["i", "--credentials-secret", "k", "--prefix", "pfx", "--json", "--blob-endpoint", &tripwire.url]].concat();
        let out = isolated_with_env("azure_disaster_recovery", &no_account, &tripwire, &[])?;
        let doc = document(&text(&out.stdout), "--credentials-secret without --account-name")?;
        ensure!(doc["error"]["field"] == "account-name", "{}: {doc:#}", job[0]);
        tripwire.untouched("--credentials-secret without --account-name")?;
    }
    Ok(())
}
