//! Quickstart: the whole lifecycle of a production environment on the
//! in-memory backends, with no credentials and no network.
//!
//! Plans and ensures the `production` environment of `environments.toml`
//! (cluster with node pools, PostgreSQL with TLS required and `unaccent`
//! allowed, asset bucket, admin password secret, backup vault and plan), writes
//! sample objects, takes a DR backup, simulates a disaster (objects deleted,
//! one corrupted), restores, verifies every object, and prints a report.
//! Exits non-zero if verification fails.
//!
//! ```text
//! cargo run --example quickstart [-- --plan] [--json]
//! ```
//!
//! `--plan` prints the plan of step 1 and stops (exit 2: on a fresh in-memory
//! cloud there is always something to create); `--json` prints the plan, the
//! changes and the report as one JSON document on stdout.

#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use deploy::env::{Backends, Environments};
use deploy::memory::InMemoryCloud;
use deploy::recipes::{
    DatabaseBackup, DatabaseRestore, Location, RestoreBucketOptions, SnapshotLayout, SnapshotOptions, SnapshotSelector, dr_backup,
    dr_restore,
};
use deploy::{
    BucketName, BucketSpec, Cluster, Database, Event, ObjectKey, ObjectStore, ObjectStoreExt, Observer, ResourceName, RestorePoint,
    RestoreTarget,
};

const OBJECTS: usize = 250;

fn sample(i: usize) -> Bytes {
    Bytes::from(format!("asset {i}: {}\n", "model-metadata ".repeat(i % 13 + 1)))
}

fn key(i: usize) -> ObjectKey {
    let folder = ["models", "datasets", "notes", "graphs"][i % 4];
    ObjectKey::new(format!("{folder}/item {i:04}.json")).expect("valid key")
}

/// The whole lifecycle of a production environment on the in-memory backends: plan, ensure,
/// back up, lose data, restore, verify. No credentials, no network.
///
/// Exit codes: 0 done and every object verified (under --plan: nothing to change), 2 under --plan
/// with changes pending, 1 on error or a failed verification.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    common: cli::Common,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = <Cli as clap::Parser>::parse();
    cli::start(env!("CARGO_CRATE_NAME"), args.common.plan, &args.common.output);
    let outcome = match run(&args).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(deploy::Error::Verification { what: "quickstart".into(), detail: "objects differ after the restore".into() }),
        Err(e) => Err(e),
    };
    cli::exit_with(outcome, None)
}

async fn run(args: &Cli) -> deploy::Result<bool> {
    let started = Instant::now();
    let observer = Observer::new(|event: &Event| match event {
        Event::WaitPolled { .. } => {}
        other => println!("    . {other}"),
    });
    // Resources take 40 ms to provision, so waits are real.
    let cloud = InMemoryCloud::with_provisioning_delay(Duration::from_millis(40)).with_observer(observer.clone());
    let mut backends = Backends::in_memory(&cloud);
    backends.observer = observer.clone();

    let envs = Environments::from_toml(include_str!("environments.toml"))?;
    let prod = envs.get("production")?;

    println!("== 1. plan the production environment");
    let plan = prod.plan(&backends).await?;
    println!("{plan}");
    cli::plan("plan", &plan);
    if args.common.plan {
        println!("\n--plan: nothing changed");
        return Ok(true);
    }

    println!("\n== 2. ensure it");
    let done = prod.ensure(&backends).await?;
    println!("  {} changes applied", done.len());
    cli::field("changes_made", &done);
    let db_name = &prod.databases[0].name;
    let db = cloud.describe_database(db_name).await?;
    println!(
        "  database {}: {} (PostgreSQL {}, TLS required: {}, extensions: {:?}, deletion protection: {})",
        db.name,
        db.status,
        db.engine_version,
        db.require_tls,
        db.allowed_extensions.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        db.deletion_protection
    );
    let cluster = prod.cluster.as_ref().expect("the environment has a cluster");
    let info = cloud.describe_cluster(&cluster.name).await?;
    println!("  cluster {}: {} with {} node pools", info.name, info.status, info.node_pools.len());
    for app in &prod.application_databases {
        println!("  to bootstrap in {}: database {} (extensions {:?})", app.instance, app.name, app.extensions);
    }

    println!("\n== 3. ensure again: nothing to do");
    cloud.reset_calls();
    let again = prod.ensure(&backends).await?;
    println!("{again}");
    println!("  mutating calls on the second run: {}", cloud.mutating_calls().len());

    println!("\n== 4. write {OBJECTS} sample objects");
    let assets = prod.buckets[0].name.clone();
    for i in 0..OBJECTS {
        cloud.put_bytes(&assets, &key(i), sample(i)).await?;
    }
    let backup_bucket = BucketName::new("acme-prod-backup")?;
    cloud.ensure_bucket(&BucketSpec::new(backup_bucket.clone())).await?;

    println!("\n== 5. DR backup: database snapshot + bucket snapshot");
    let layout = SnapshotLayout::new("daily")?;
    let mut snap_options = SnapshotOptions::new(layout.clone());
    snap_options.observer = observer.clone();
    let backup = dr_backup(
        DatabaseBackup::Snapshot { backend: &cloud, instance: db_name },
        Location::new(&cloud, &assets),
        Location::new(&cloud, &backup_bucket),
        &snap_options,
    )
    .await?;
    println!("{backup}");
    cli::field("backup", &backup);

    println!("\n== 6. disaster: 40 objects deleted, one corrupted");
    for i in (0..OBJECTS).step_by(OBJECTS / 40).take(40) {
        cloud.delete(&assets, &key(i)).await?;
    }
    cloud.put_bytes(&assets, &key(7), Bytes::from_static(b"garbage")).await?;

    println!("\n== 7. DR restore: point-in-time restore into a new instance + bucket restore");
    let target = RestoreTarget::new(ResourceName::new(format!("{db_name}-restored"))?);
    let mut restore_options = RestoreBucketOptions::new(layout, SnapshotSelector::Latest);
    restore_options.observer = observer.clone();
    let restored = dr_restore(
        DatabaseRestore::PointInTime { backend: &cloud, source: db_name, point: RestorePoint::Latest, target: &target },
        Location::new(&cloud, &backup_bucket),
        Location::new(&cloud, &assets),
        &restore_options,
    )
    .await?;
    println!("{restored}");
    cli::field("restore", serde_json::json!({ "database": restored.database, "bucket": restored.bucket, "checks": restored.checks }));

    println!("== 8. verify every object against what was written");
    let mut bad = Vec::new();
    for i in 0..OBJECTS {
        match cloud.get_bytes(&assets, &key(i)).await {
            Ok(body) if body == sample(i) => {}
            Ok(_) => bad.push(format!("{} differs", key(i))),
            Err(e) => bad.push(format!("{}: {e}", key(i))),
        }
    }
    let listed = cloud.list_all(&assets, Default::default()).await?.len();

    println!("\n== report");
    println!("  environment production: {} resources ensured, second run changed nothing", done.len());
    println!("  backup {}: database snapshot + {} objects ({} bytes)", backup.bucket.id, backup.bucket.objects, backup.bucket.bytes);
    println!(
        "  restore: database {} available; {} objects rewritten, {} already intact, {} verified against the manifest",
        target.name, restored.bucket.restored, restored.bucket.unchanged, restored.bucket.verified
    );
    println!("  bucket {assets}: {listed} objects, {} of {OBJECTS} identical to what was written", OBJECTS - bad.len());
    println!("  took {:.2}s", started.elapsed().as_secs_f64());
    cli::field("verified", serde_json::json!({ "objects": OBJECTS, "listed": listed, "identical": OBJECTS - bad.len() }));
    if bad.is_empty() && listed == OBJECTS {
        println!("  RESULT: OK");
        Ok(true)
    } else {
        for b in bad.iter().take(10) {
            println!("  mismatch: {b}");
        }
        println!("  RESULT: FAILED");
        Ok(false)
    }
}
