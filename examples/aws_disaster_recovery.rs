//! Vectice AWS appendix 5, the disaster recovery plan: back up the database
//! and the application bucket, and restore them.
//!
//! ```text
//! cargo run --features aws,k8s --example aws_disaster_recovery -- backup  --prefix acme-prod [--plan] [--objects-only] [--skip-bucket-setup] [--resume ID]
//!     [--shards N]
//! cargo run --features aws,k8s --example aws_disaster_recovery -- backup --prefix acme-prod --objects-only --in-cluster
//!     --image IMAGE --shards N [--parallelism P] [--namespace NS] [--service-account SA | --credentials-secret NAME]
//!     [--shard-command /usr/local/bin/aws_disaster_recovery] [--resume ID]
//! (in each pod of that Job) aws_disaster_recovery backup-shard --prefix acme-prod [--skip-bucket-setup]
//! cargo run --features aws,k8s --example aws_disaster_recovery -- restore --prefix acme-prod --from <SNAPSHOT-ID|latest>
//!     [--to <RFC 3339 time|latest>] [--objects-only] [--plan] [--skip-bucket-setup]
//!     [--keep-newer] [--exact] [--confirm-overwrite acme-prod-assets] [--shards N]
//! cargo run --features aws,k8s --example aws_disaster_recovery -- restore --prefix acme-prod --from ID --objects-only
//!     --in-cluster --image IMAGE --shards N [--parallelism P] [...the Job flags of backup] [--keep-newer] [--exact]
//!     [--confirm-overwrite acme-prod-assets]
//! (in each pod of that Job) aws_disaster_recovery restore-shard --prefix acme-prod [--keep-newer] [--exact] [--confirm-overwrite B]
//! ```
//!
//! Names:
//! - `P-assets`: the application bucket (made by `aws_bucket_access`);
//! - `P-backup`: the backup bucket, created if missing with the bucket defaults
//!   (versioned, encrypted, private, TLS only); each backup copies `P-assets`
//!   server-side into the folder `P-backup/<SNAPSHOT-ID>/` (the snapshot id is
//!   its UTC start time, `2026-11-23T20-21-40.123Z`) and writes the manifest
//!   `P-backup/manifests/<SNAPSHOT-ID>.json` last;
//! - `P-db`: the database (made by `aws_database_ssl`); `backup` takes the
//!   manual snapshot `P-db-<snapshot id, lowercase alphanumerics>` when the
//!   instance exists, and says so when it does not;
//! - `P-db-restored`: `restore` restores `P-db` to a point in time (`--to`,
//!   default the latest restorable time) into this new instance, placed like
//!   the source; when it exists already it is left alone.
//!
//! `restore` first classifies every key of `P-assets` against the snapshot's
//! manifest — missing, identical, differs, not in the snapshot — and its plan
//! (and report) names the objects it overwrites (count, the first 20, and how
//! many were written after the snapshot started). Then it copies the
//! snapshot's objects back (identical ones are left alone) and verifies every
//! object against the manifest:
//! - on a versioned `P-assets` (the default), an overwritten object's current
//!   content stays as a noncurrent version: nothing is lost;
//! - on an unversioned one, nothing is written while any object would be
//!   overwritten or deleted, unless `--confirm-overwrite P-assets` names the
//!   bucket (missing objects alone need no confirmation);
//! - `--keep-newer` leaves objects written after the snapshot started as they are;
//! - `--exact` also deletes the objects that are not in the snapshot (on an
//!   unversioned bucket only with `--confirm-overwrite`);
//! - each snapshot object is copied on the condition of the ETag its manifest
//!   recorded (a damaged or replaced one is refused, the live object stays,
//!   the restore ends with an error naming it) and each overwrite on the
//!   condition of the ETag the object was classified with;
//! - `latest` picks the newest snapshot of `P-assets` only.
//!
//! `--objects-only` skips the database part (of `backup` too: no RDS request
//! at all, for S3-only endpoints).
//!
//! `backup --resume ID` finishes a backup that was interrupted (killed,
//! cancelled): the database snapshot `P-db-<id>` the interrupted run took
//! counts as taken (waited for while still being taken; a snapshot of that
//! name of another instance is refused), it copies only what the folder of
//! snapshot ID lacks, then writes the manifest; until then `restore --from ID`
//! refuses the snapshot. Resuming a complete backup succeeds and changes
//! nothing.
//!
//! `--skip-bucket-setup` uses the destination bucket (`P-backup` for backup,
//! `P-assets` for restore) as it is, without applying the bucket defaults: for
//! S3-compatible servers that answer NotImplemented to bucket configuration.
//! Never the default.
//!
//! A restore run again changes nothing. A backup run again takes a new
//! snapshot, by design: each backup is a new timestamped folder.
//!
//! Shards: `backup --shards N` splits the copy in N key ranges run side by
//! side in this process (one adaptive concurrency for all). `--in-cluster`
//! runs them as a Kubernetes Indexed Job instead (the kubeconfig or the
//! in-cluster service account of this process): this process plans the
//! ranges (`manifests/<id>/shards.json`), creates the Job (`completions: N`,
//! `parallelism: P`, default 4; restricted pods of IMAGE running
//! `--shard-command backup-shard --prefix P`), waits for it, and writes the
//! manifest's index only when every shard completed; otherwise it fails
//! naming the shards that did not, and `--resume ID` (same flags) runs the
//! Job again, where the shards that had completed do nothing. The pods get
//! `AWS_REGION` and `AWS_ENDPOINT_URL` of this process (when set) and their
//! credentials from the service account `SA` (EKS IRSA or Pod Identity) or
//! from the keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` of Secret
//! `NAME` in the namespace (never through their command line). `--in-cluster`
//! backs up the objects only (`--objects-only` is required): the database
//! snapshot is taken by a run without `--in-cluster` or the RDS backup
//! schedule.
//!
//! `--plan` prints what would be done and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::error::{Op, SdkResultExt};
use deploy::aws::s3::S3Store;
use deploy::aws::{AwsBackends, RequestLog};
use deploy::k8s::{PodCredentials, RestoreJob, SecretKeyEnv, ShardAssignment, SnapshotJob};
use deploy::object_store::ListOptions;
use deploy::recipes::dr::snapshot_name;
use deploy::recipes::{
    Boundaries, DatabaseBackup, DatabaseRestore, Location, RestoreBucketOptions, SnapshotId, SnapshotLayout, SnapshotOptions,
    SnapshotSelector, dr_backup, dr_restore, latest_snapshot_of, plan_restore, read_manifest_info, restore_shard as restore_shard_range,
    snapshot_shard,
};
use deploy::{BucketName, BucketSpec, Confirm, Database, Error, ObjectStore, ObjectStoreExt, ResourceName, RestorePoint, RestoreTarget};

use aws_support::{exists, print_plan, section, stop_if_plan};

/// Back up the database and the application bucket P-assets into P-backup, or restore them.
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    /// What to do
    #[arg(value_enum)]
    command: Command,
    #[command(flatten)]
    aws: aws_support::Args,
    /// restore: the snapshot to restore, an id or `latest`
    #[arg(long, value_name = "SNAPSHOT-ID|latest")]
    from: Option<String>,
    /// restore: the database's point in time, an RFC 3339 time or `latest` (default)
    #[arg(long, value_name = "TIME|latest")]
    to: Option<String>,
    /// backup: finish the interrupted backup ID (what its folder holds is not copied again)
    #[arg(long, value_name = "ID")]
    resume: Option<String>,
    /// restore: allow overwriting objects of an unversioned bucket, by naming it (P-assets)
    #[arg(long, value_name = "BUCKET")]
    confirm_overwrite: Option<String>,
    /// Leave the database out: the bucket only
    #[arg(long)]
    objects_only: bool,
    /// Use the bucket written to as it is (no bucket settings changed; it must exist)
    #[arg(long)]
    skip_bucket_setup: bool,
    /// restore: keep objects written after the snapshot started
    #[arg(long)]
    keep_newer: bool,
    /// restore: also delete objects that are not in the snapshot
    #[arg(long)]
    exact: bool,
    #[command(flatten)]
    shard: cli::Shards<PodAccess>,
}

/// The shard Job's pods' AWS credentials: a service account or a Secret's keys.
#[derive(clap::Args, Debug, Clone, Default)]
struct PodAccess {
    /// With --in-cluster: the pods' service account (EKS IRSA or Pod Identity) for their AWS credentials
    #[arg(long, value_name = "SA")]
    service_account: Option<String>,
    /// With --in-cluster: a Secret holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the pods
    #[arg(long, value_name = "NAME")]
    credentials_secret: Option<String>,
}

impl cli::PodAccess for PodAccess {
    fn given(&self) -> Vec<&'static str> {
        [("service-account", self.service_account.is_some()), ("credentials-secret", self.credentials_secret.is_some())]
            .into_iter()
            .filter_map(|(flag, given)| given.then_some(flag))
            .collect()
    }

    fn pod_access(&self) -> deploy::Result<cli::PodAccessSettings> {
        let credentials = match self.credentials_secret.as_deref() {
            Some(secret) => PodCredentials::SecretKeys(
                ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].iter().map(|k| SecretKeyEnv::new(*k, secret, *k)).collect(),
            ),
            None => PodCredentials::ServiceAccount,
        };
        Ok(cli::PodAccessSettings {
            service_account: self.service_account.clone(),
            credentials,
            pod_labels: Default::default(),
            args: vec![],
        })
    }
}

/// What the example does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// Snapshot the database and copy the bucket into a new snapshot
    Backup,
    /// Restore the database into P-db-restored and the bucket from a snapshot
    Restore,
    /// One shard of a backup, in a pod of the shard Job (its index and the snapshot id from the environment)
    BackupShard,
    /// One shard of a restore, in a pod of the restore's shard Job (its index and the snapshot id from the environment)
    RestoreShard,
}

impl std::ops::Deref for Cli {
    type Target = aws_support::Args;
    fn deref(&self) -> &aws_support::Args {
        &self.aws
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let log = RequestLog::new();
    aws_support::finish(&log, &cli.aws, run(&log, &cli)).await
}

struct Names {
    assets: BucketName,
    backup: BucketName,
    db: ResourceName,
    restored: ResourceName,
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let names = Names {
        assets: BucketName::new(format!("{}-assets", args.prefix))?,
        backup: BucketName::new(format!("{}-backup", args.prefix))?,
        db: ResourceName::new(format!("{}-db", args.prefix))?,
        restored: ResourceName::new(format!("{}-db-restored", args.prefix))?,
    };
    let layout = SnapshotLayout::new("")?;
    match args.command {
        Command::Backup => {
            let shards = shard_flags(args)?;
            let aws = aws_support::backends(log).await;
            match shards {
                Some(job) => backup_in_cluster(&aws, &names, layout, args, job).await,
                None => backup(&aws, &names, layout, args).await,
            }
        }
        Command::BackupShard => {
            let assignment = ShardAssignment::from_env()?;
            let aws = aws_support::backends(log).await;
            backup_shard(&aws, &names, layout, assignment).await
        }
        Command::Restore => {
            let snapshot: SnapshotSelector = args
                .from
                .as_deref()
                .ok_or_else(|| Error::invalid("from", "is missing", "restore --from <SNAPSHOT-ID|latest>"))?
                .parse()
                .map_err(|e: Error| e.in_field("from"))?;
            let point = match args.to.as_deref() {
                None | Some("latest") => RestorePoint::Latest,
                Some(t) => RestorePoint::At(
                    t.parse()
                        .map_err(|e| Error::invalid("to", format!("`{t}`: {e}"), "an RFC 3339 time (2026-11-23T20:00:00Z) or `latest`"))?,
                ),
            };
            // A confirmation naming another bucket is a mistake: refused before any request.
            if let Some(named) = args.confirm_overwrite.as_deref()
                && named != names.assets.as_str()
            {
                return Err(Error::invalid(
                    "confirm-overwrite",
                    format!("names `{named}`, but the restore writes into `{}`", names.assets),
                    "--confirm-overwrite takes the name of the bucket the restore overwrites",
                ));
            }
            let job = restore_flags(args)?;
            let aws = aws_support::backends(log).await;
            restore(&aws, &names, layout, snapshot, point, args, job).await
        }
        Command::RestoreShard => {
            let assignment = ShardAssignment::from_env()?;
            let aws = aws_support::backends(log).await;
            restore_shard(&aws, &names, layout, assignment, args).await
        }
    }
}

/// Whether `bucket` exists: one `HeadBucket`, which S3-compatible servers
/// without bucket configuration answer too (`describe_bucket` reads five settings).
async fn bucket_exists(s3: &S3Store, bucket: &BucketName) -> deploy::Result<bool> {
    let head = s3.client().head_bucket().bucket(bucket.as_str()).send().await;
    exists(head.on(Op::new("aws-s3", "HeadBucket"), "bucket", bucket.as_str()))
}

/// Make sure `bucket` exists with the defaults, or (`--skip-bucket-setup`) that it exists.
async fn setup_bucket(store: &S3Store, bucket: &BucketName, args: &Cli) -> deploy::Result<()> {
    if args.skip_bucket_setup {
        println!("  bucket {bucket}: used as it is (--skip-bucket-setup)");
        if bucket_exists(store, bucket).await? { Ok(()) } else { Err(Error::not_found("bucket", bucket.as_str())) }
    } else {
        println!("  bucket {bucket} (versioned, encrypted, private, TLS only)");
        print_plan(&store.ensure_bucket(&BucketSpec::new(bucket.clone())).await?);
        Ok(())
    }
}

async fn backup(aws: &AwsBackends, names: &Names, layout: SnapshotLayout, args: &Cli) -> deploy::Result<()> {
    let (s3, rds) = (aws.s3(), aws.rds());
    // --objects-only: the database is not part of this backup, and not even asked about.
    let objects_only = args.objects_only;
    let database_exists = !objects_only && exists(rds.describe_database(&names.db).await)?;
    // --resume ID: finish an interrupted backup; what its folder already holds is not copied again.
    let id = match args.resume.as_deref() {
        Some(v) => v.parse::<SnapshotId>().map_err(|e| e.in_field("resume"))?,
        None => SnapshotId::now(),
    };

    section(&format!("plan: backup {id} of prefix {}", args.prefix));
    if !bucket_exists(&s3, &names.assets).await? {
        return Err(Error::not_found("bucket", names.assets.as_str()));
    }
    // Counting the objects is a listing of the whole bucket: for --plan only; a
    // backup lists it once, copying while the pages arrive, and reports the count.
    let objects = if args.plan() { Some(s3.list_all(&names.assets, ListOptions::default()).await?.len()) } else { None };
    if args.skip_bucket_setup {
        println!("  use bucket {} as it is", names.backup);
    } else {
        print_plan(&s3.plan_bucket(&BucketSpec::new(names.backup.clone())).await?);
    }
    if objects_only {
        println!("  database: not part of this backup (--objects-only)");
    } else if database_exists {
        let snapshot = snapshot_name(&names.db, &id)?;
        let resumed = args.resume.as_deref().is_some() && rds.list_snapshots(&names.db).await?.iter().any(|s| s.name == snapshot);
        if resumed {
            println!("  database snapshot {snapshot} of {}: taken by the interrupted run, kept", names.db);
        } else {
            println!("  snapshot database {} as {snapshot}", names.db);
        }
    } else {
        println!("  database {} does not exist: no database snapshot", names.db);
    }
    let what = objects.map_or_else(|| "every object".to_owned(), |n| format!("{n} objects"));
    println!("  copy {what} of {} into {}/{}", names.assets, names.backup, layout.folder(&id));
    // A backup always makes a snapshot: changes are pending.
    cli::field("plan", serde_json::json!({ "backup": id.to_string(), "objects": objects, "database_snapshot": database_exists }));
    cli::pending(true);
    if stop_if_plan(args) {
        return Ok(());
    }

    section("backup");
    setup_bucket(&s3, &names.backup, args).await?;
    let database = if database_exists { DatabaseBackup::Snapshot { backend: &rds, instance: &names.db } } else { DatabaseBackup::None };
    let mut options = SnapshotOptions::new(layout);
    options.id = Some(id);
    options.shards = args.shard.count()?;
    options.observer = cli::progress_observer("    . ");
    let report = dr_backup(database, Location::new(&s3, &names.assets), Location::new(&s3, &names.backup), &options).await?;

    section("report");
    println!("{report}");
    cli::field("report", &report);
    println!("  restore with: restore --prefix {} --from {}", args.prefix, report.bucket.id);
    Ok(())
}

async fn restore(
    aws: &AwsBackends,
    names: &Names,
    layout: SnapshotLayout,
    snapshot: SnapshotSelector,
    point: RestorePoint,
    args: &Cli,
    job: Option<RestoreJob>,
) -> deploy::Result<()> {
    let (s3, rds) = (aws.s3(), aws.rds());
    let backup = Location::new(&s3, &names.backup);
    // Resolve `latest` once: the plan and the restore name the same snapshot.
    let id = match snapshot {
        SnapshotSelector::Id(id) => id,
        // The newest snapshot of P-assets, never one of another bucket backed up into P-backup.
        SnapshotSelector::Latest => latest_snapshot_of(backup, &layout, Location::new(&s3, &names.assets)).await?,
    };
    let manifest = read_manifest_info(backup, &layout, &id).await?;
    let with_database = if args.objects_only {
        false
    } else if exists(rds.describe_database(&names.restored).await)? {
        println!("database {} exists already: left alone (delete it to restore again)", names.restored);
        false
    } else if exists(rds.describe_database(&names.db).await)? {
        true
    } else {
        println!("database {} does not exist: objects only", names.db);
        false
    };

    section(&format!("plan: restore {id} of prefix {}", args.prefix));
    if with_database {
        cli::field(
            "restore_database",
            serde_json::json!({ "source": names.db.as_str(), "point": point.to_string(), "target": names.restored.as_str() }),
        );
        cli::pending(true);
        println!("  restore database {} at {point} into new instance {}", names.db, names.restored);
    }
    if !args.skip_bucket_setup {
        print_plan(&s3.plan_bucket(&BucketSpec::new(names.assets.clone())).await?);
    }
    let mut options = RestoreBucketOptions::new(layout.clone(), SnapshotSelector::Id(id.clone()));
    options.keep_newer = args.keep_newer;
    options.exact = args.exact;
    options.confirm = args.confirm_overwrite.as_deref().map(Confirm::new);
    options.shards = args.shard.count()?;
    let target_location = Location::new(&s3, &names.assets);
    if bucket_exists(&s3, &names.assets).await? {
        // Every key of the target classified against the manifest: what is written, overwritten, kept, deleted.
        let plan = plan_restore(backup, target_location, &options).await?;
        cli::field("plan", &plan);
        cli::pending(!plan.is_empty());
        for line in plan.to_string().lines() {
            println!("  {line}");
        }
        if !plan.versioned && plan.destroys() && options.confirm.is_none() {
            println!("  ! {} is not versioned: the restore is refused unless --confirm-overwrite {} names it", names.assets, names.assets);
        }
    } else {
        cli::field(
            "plan",
            serde_json::json!({ "id": id.to_string(), "target": names.assets.as_str(), "objects": manifest.objects, "bytes": manifest.total_bytes, "new_bucket": true }),
        );
        cli::pending(true);
        println!(
            "  write back all {} objects ({} bytes) of {}/{} into the new bucket {}",
            manifest.objects,
            manifest.total_bytes,
            names.backup,
            layout.folder(&id),
            names.assets
        );
    }
    if let Some(job) = &job {
        println!(
            "  run one pod per key range ({} shards, Job {}), each restoring its range with the checks above",
            job.shards(),
            job.name()
        );
    }
    println!("  verify every object against the manifest");
    if stop_if_plan(args) {
        return Ok(());
    }
    if let Some(job) = job {
        return restore_in_cluster(&s3, names, &id, &options, job, args).await;
    }

    section("restore");
    setup_bucket(&s3, &names.assets, args).await?;
    let target = RestoreTarget::new(names.restored.clone());
    let database = if with_database {
        DatabaseRestore::PointInTime { backend: &rds, source: &names.db, point, target: &target }
    } else {
        DatabaseRestore::None
    };
    options.observer = cli::progress_observer("    . ");
    let report = dr_restore(database, backup, target_location, &options).await?;

    section("report");
    println!("{report}");
    cli::field("report", serde_json::json!({ "database": report.database, "bucket": report.bucket, "checks": report.checks }));
    Ok(())
}

/// `restore --in-cluster` and its flags: the restore's shard Job, checked before any request (`None`
/// without `--in-cluster`). Each pod restores its key range with the same `--keep-newer`, `--exact` and
/// `--confirm-overwrite` as this process.
fn restore_flags(args: &Cli) -> deploy::Result<Option<RestoreJob>> {
    let mut pod_args = vec!["restore-shard".to_owned(), "--prefix".to_owned(), args.prefix.clone()];
    for (flag, on) in [("--keep-newer", args.keep_newer), ("--exact", args.exact)] {
        if on {
            pod_args.push(flag.to_owned());
        }
    }
    if let Some(bucket) = &args.confirm_overwrite {
        pod_args.extend(["--confirm-overwrite".to_owned(), bucket.clone()]);
    }
    let pods = cli::ShardPods {
        job_name: format!("{}-restore", args.prefix),
        default_binary: "/usr/local/bin/aws_disaster_recovery",
        args: pod_args,
        env: ["AWS_REGION", "AWS_ENDPOINT_URL"].iter().filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v))).collect(),
    };
    args.shard.restore_job(args.objects_only, pods)
}

/// The bucket's restore as a Kubernetes Indexed Job, after the plan: the
/// target bucket set up, then [`cli::restore_in_cluster`].
async fn restore_in_cluster(
    s3: &S3Store,
    names: &Names,
    id: &SnapshotId,
    options: &RestoreBucketOptions,
    job: RestoreJob,
    args: &Cli,
) -> deploy::Result<()> {
    section("restore");
    setup_bucket(s3, &names.assets, args).await?;
    cli::restore_in_cluster(s3, (&names.backup, &names.assets), options, job, id, "objects").await
}

/// One shard of a restore, in a pod of the restore's shard Job: its key range of the snapshot.
async fn restore_shard(
    aws: &AwsBackends,
    names: &Names,
    layout: SnapshotLayout,
    assignment: ShardAssignment,
    args: &Cli,
) -> deploy::Result<()> {
    let s3 = aws.s3();
    let (index, count, id) = (assignment.index, assignment.count, assignment.snapshot_id.clone());
    if index >= count {
        return Err(Error::invalid("JOB_COMPLETION_INDEX", format!("is {index}"), format!("below the shard count {count}")));
    }
    let mut options = RestoreBucketOptions::new(layout, SnapshotSelector::Id(id.clone()));
    options.keep_newer = args.keep_newer;
    options.exact = args.exact;
    options.confirm = args.confirm_overwrite.as_deref().map(Confirm::new);
    let (backup, target) = (Location::new(&s3, &names.backup), Location::new(&s3, &names.assets));
    // The ranges fall on the manifest's part boundaries: a snapshot of fewer parts than shards leaves the last shards none.
    match restore_shard_range(backup, target, &options, index, count).await? {
        Some(report) => println!("shard {index} of {count} of restore {id}: {report}"),
        None => println!("shard {index} of {count} of restore {id}: no keys (the snapshot has fewer parts than shards)"),
    }
    Ok(())
}

/// `--in-cluster` and its flags: the shard Job, checked before any request (`None` without `--in-cluster`).
fn shard_flags(args: &Cli) -> deploy::Result<Option<SnapshotJob>> {
    let mut pod_args = vec!["backup-shard".to_owned(), "--prefix".to_owned(), args.prefix.clone()];
    if args.skip_bucket_setup {
        pod_args.push("--skip-bucket-setup".into());
    }
    let pods = cli::ShardPods {
        job_name: format!("{}-backup", args.prefix),
        default_binary: "/usr/local/bin/aws_disaster_recovery",
        args: pod_args,
        // Region and endpoint (never secrets) as this process has them.
        env: ["AWS_REGION", "AWS_ENDPOINT_URL"].iter().filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v))).collect(),
    };
    args.shard.job(args.objects_only, pods)
}

/// The backup as a Kubernetes Indexed Job: plan, run, finalize (see the module docs).
async fn backup_in_cluster(aws: &AwsBackends, names: &Names, layout: SnapshotLayout, args: &Cli, job: SnapshotJob) -> deploy::Result<()> {
    let s3 = aws.s3();
    let id = match args.resume.as_deref() {
        Some(v) => v.parse::<SnapshotId>().map_err(|e| e.in_field("resume"))?,
        None => SnapshotId::now(),
    };
    section(&format!("plan: backup {id} of prefix {} in {} shards, as Job {}", args.prefix, job.shards(), job.name()));
    if !bucket_exists(&s3, &names.assets).await? {
        return Err(Error::not_found("bucket", names.assets.as_str()));
    }
    println!("  snapshot {id}: copy every object of {} into {}/{}", names.assets, names.backup, layout.folder(&id));
    println!("  plan {} key ranges (manifests/{id}/shards.json), run one pod per range, write the index when all completed", job.shards());
    if stop_if_plan(args) {
        return Ok(());
    }
    section("backup");
    setup_bucket(&s3, &names.backup, args).await?;
    let client = deploy::k8s::client_from_env().await.map_err(deploy::Error::from)?;
    let mut options = SnapshotOptions::new(layout);
    options.id = Some(id.clone());
    let outcome = job.run(client, Location::new(&s3, &names.assets), Location::new(&s3, &names.backup), &options, Boundaries::Listed).await;
    let done = match outcome {
        Ok(done) => done,
        Err(e) => {
            println!("  the snapshot is not complete: run again with --resume {id} (the completed shards do nothing)");
            return Err(e.into());
        }
    };
    section("report");
    println!(
        "  snapshot {id}: {} objects, {} bytes, {} shards (Job {}), manifest index written",
        done.index.objects, done.index.total_bytes, done.index.shards, done.job.job
    );
    println!("  restore with: restore --prefix {} --from {id}", args.prefix);
    Ok(())
}

/// One shard of a backup, in a pod of the shard Job: its index, the shard
/// count and the snapshot id from the environment.
async fn backup_shard(aws: &AwsBackends, names: &Names, layout: SnapshotLayout, assignment: ShardAssignment) -> deploy::Result<()> {
    let s3 = aws.s3();
    let mut options = SnapshotOptions::new(layout);
    options.id = Some(assignment.snapshot_id.clone());
    let report = snapshot_shard(Location::new(&s3, &names.assets), Location::new(&s3, &names.backup), &options, assignment.index).await?;
    println!(
        "shard {} of {} of snapshot {}: {} objects ({} copied, {} already there, {} stale removed), {} parts{}",
        report.index,
        report.count,
        report.id,
        report.objects,
        report.copied,
        report.skipped,
        report.removed,
        report.parts,
        if report.already_complete { ", complete already" } else { "" }
    );
    Ok(())
}
