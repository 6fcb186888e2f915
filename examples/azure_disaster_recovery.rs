//! Vectice Azure appendix 5, the disaster-recovery plan: back up the blob
//! container and the PostgreSQL flexible server, and restore them.
//!
//! ```text
//! azure_disaster_recovery backup  --prefix P [--id TIMESTAMP] [--plan] [--objects-only] [--shards N] [blob and ARM options]
//! azure_disaster_recovery backup  --prefix P --objects-only --in-cluster --image IMAGE --shards N [--parallelism P]
//!     [--namespace NS] [--service-account SA | --credentials-secret NAME]
//!     [--shard-command /usr/local/bin/azure_disaster_recovery] [--id TIMESTAMP] [blob options]
//! (in each pod of that Job) azure_disaster_recovery backup-shard --prefix P --objects-only [blob options]
//! azure_disaster_recovery restore --prefix P --from TIMESTAMP|latest [--plan] [--objects-only]
//!     [--keep-newer] [--exact] [--confirm-overwrite P-assets] [--shards N] [...]
//! azure_disaster_recovery restore --prefix P --from TIMESTAMP|latest --objects-only --in-cluster --image IMAGE
//!     --shards N [--parallelism P] [the Job flags of backup] [--keep-newer] [--exact] [--confirm-overwrite P-assets]
//! (in each pod of that Job) azure_disaster_recovery restore-shard --prefix P --objects-only [--keep-newer]
//!     [--exact] [--confirm-overwrite P-assets] [blob options]
//! ```
//!
//! - backup: container `P-assets` is copied into container `P-backup`
//!   (created if missing) under a folder named with the backup's timestamp,
//!   its manifest written last; `--id` resumes that backup (or does nothing
//!   when it is complete). The server `P-db` keeps its own daily backups: the
//!   backup prints the point in time that matches the container copy.
//! - restore: every blob of `P-assets` is classified against backup
//!   `--from` (`latest`: the newest backup of `P-assets`), the plan names the
//!   blobs written back, overwritten and deleted; then the backup's blobs are
//!   copied back (identical blobs left alone), each on the condition of the
//!   ETag the backup recorded (a damaged backup blob is refused, the live one
//!   stays) and each overwrite on the condition of the blob's ETag as
//!   classified, and verified; then the server `P-db` is restored to that
//!   point in time into the new server `P-db-restored` through ARM (left
//!   alone when it exists). With blob versioning on (the account default of
//!   `arm::storage`), an overwritten blob stays as a previous version; without
//!   it (`--unversioned-account`), nothing is overwritten or deleted unless
//!   `--confirm-overwrite P-assets` names the container. `--keep-newer` leaves
//!   blobs written after the backup started alone; `--exact` also deletes the
//!   blobs that are not in the backup.
//! - `--objects-only`: only the container part; no ARM call (this is what
//!   runs against Azurite).
//! - `--plan`: print what would change; no mutating call.
//!
//! Shards: `backup --shards N` (and `restore --shards N`) splits the copy in
//! N key ranges run side by side in this process (one adaptive concurrency
//! for all). `backup --in-cluster` runs them as a Kubernetes Indexed Job
//! instead (the kubeconfig or the in-cluster service account of this
//! process): this process plans the ranges (`manifests/<id>/shards.json` in
//! `P-backup`), creates the Job (`completions: N`, `parallelism: P`, default
//! 4; restricted pods of IMAGE running `--shard-command backup-shard --prefix
//! P --objects-only` with this run's `--blob-endpoint` and `--account-name`),
//! waits for it, and writes the manifest's index only when every shard
//! completed; otherwise it fails naming the shards that did not, and `--id
//! ID` (same flags) runs the Job again, where the shards that had completed
//! do nothing. The pods sign in to Blob Storage either with the key of
//! `--credentials-secret NAME` (its key `AZURE_STORAGE_KEY`, given to the
//! pods as a variable from the Secret, never on their command line; they run
//! with `--account-key`) or, with `--service-account SA`, through AKS workload
//! identity (the pods are labelled `azure.workload.identity/use: "true"`, and
//! the webhook gives them `AZURE_CLIENT_ID`, `AZURE_TENANT_ID` and
//! `AZURE_FEDERATED_TOKEN_FILE` of the identity SA is annotated with).
//! `--in-cluster` backs up the container only (`--objects-only` is required).
//! `restore --objects-only --in-cluster` runs the restore's shards as an
//! Indexed Job the same way: this process plans and checks the whole restore
//! first (every blob classified; an unversioned container refused without
//! `--confirm-overwrite P-assets`), ensures `P-assets`, creates the Job (each
//! pod `restore-shard` on the key range of its index, with the same
//! `--keep-newer`, `--exact` and `--confirm-overwrite`), waits for it, then
//! classifies every blob again: the run fails unless nothing is left to
//! write. The pods write `P-assets`: with `--service-account`, its identity
//! needs Storage Blob Data Contributor there (`azure_blob_access` grants it).
//!
//! Blob endpoint: `--blob-endpoint URL` (default
//! `https://ACCOUNT.blob.core.windows.net` of `--account-name`), signed in by
//! `--account-key` (an account SAS signed here from the key in the
//! environment variable `AZURE_STORAGE_KEY`) or else by the service principal
//! of `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`. ARM:
//! `AZURE_SUBSCRIPTION_ID`, the same service principal, `--arm-endpoint URL`,
//! `--resource-group` (default `P-rg`), `--location` (default `westeurope`).

#[path = "azure_support/mod.rs"]
mod azure_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use azure_support::print_plan;
use deploy::azure::arm::postgres::FlexibleServers;
use deploy::azure::blob::BlobStore;
use deploy::azure::runbook::{self, ContainerBackup, DrNames};
use deploy::k8s::{PodCredentials, RestoreJob, SecretKeyEnv, ShardAssignment, SnapshotJob};
use deploy::recipes::{
    Boundaries, Location, SnapshotId, SnapshotOptions, SnapshotSelector, restore_shard as restore_shard_range, snapshot_shard,
};
use deploy::{BucketSpec, Database, Error, Mode, ObjectStore as _, Observer, ResourceName, Result};

/// Back up the blob container P-assets (and name the PostgreSQL server's restore point), or
/// restore them: the container from a backup, the server into P-db-restored.
///
/// Blobs: --blob-endpoint / --account-name, signed by --account-key (the key in AZURE_STORAGE_KEY)
/// or the service principal of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; ARM:
/// AZURE_SUBSCRIPTION_ID. Exit codes: 0 done (under --plan: nothing to change), 2 under --plan
/// with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Cli {
    /// What to do
    #[arg(value_enum)]
    command: Command,
    /// The prefix every resource name starts with
    #[arg(long, value_name = "P")]
    prefix: String,
    /// restore: the backup to restore, a timestamp or `latest`
    #[arg(long, value_name = "TIMESTAMP|latest")]
    from: Option<String>,
    /// backup: the backup's id (resumes it, or does nothing when it is complete)
    #[arg(long, value_name = "TIMESTAMP")]
    id: Option<String>,
    /// Only the container part; no ARM call
    #[arg(long)]
    objects_only: bool,
    /// restore: leave blobs written after the backup started alone
    #[arg(long)]
    keep_newer: bool,
    /// restore: also delete blobs that are not in the backup
    #[arg(long)]
    exact: bool,
    /// restore: allow overwriting blobs of an unversioned account, by naming the container (P-assets)
    #[arg(long, value_name = "CONTAINER")]
    confirm_overwrite: Option<String>,
    /// The resource group of the servers (default P-rg)
    #[arg(long, value_name = "G")]
    resource_group: Option<String>,
    /// The Azure region of the restored server
    #[arg(long, value_name = "L", default_value = "westeurope")]
    location: String,
    #[command(flatten)]
    blob: azure_support::Blob,
    #[command(flatten)]
    arm: azure_support::Arm,
    #[command(flatten)]
    shard: cli::Shards<PodAccess>,
    #[command(flatten)]
    common: cli::Common,
}

/// The shard Job's pods' Blob credentials: AKS workload identity or a Secret's account key.
#[derive(clap::Args, Debug, Clone, Default)]
struct PodAccess {
    /// With --in-cluster: the pods' service account, federated with a managed identity (AKS workload identity)
    /// that may write the containers
    #[arg(long, value_name = "SA")]
    service_account: Option<String>,
    /// With --in-cluster: a Secret whose key AZURE_STORAGE_KEY holds the storage account key for the pods
    /// (they run with --account-key)
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

    fn pod_access(&self) -> Result<cli::PodAccessSettings> {
        match (self.service_account.as_deref(), self.credentials_secret.as_deref()) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "credentials-secret",
                "is given with --service-account",
                "the pods sign in either through workload identity (--service-account SA) or with an account key \
                 (--credentials-secret NAME), not both",
            )),
            (None, Some(secret)) => Ok(cli::PodAccessSettings {
                service_account: None,
                // The key goes from the Secret to the pod's variable: never through this process or the Job's spec.
                credentials: PodCredentials::SecretKeys(vec![SecretKeyEnv::new(
                    azure_support::ACCOUNT_KEY_VAR,
                    secret,
                    azure_support::ACCOUNT_KEY_VAR,
                )]),
                pod_labels: Default::default(),
                args: vec!["--account-key".into()],
            }),
            (account, None) => Ok(cli::PodAccessSettings {
                service_account: account.map(str::to_owned),
                credentials: PodCredentials::ServiceAccount,
                // The workload identity webhook injects AZURE_CLIENT_ID, AZURE_TENANT_ID and
                // AZURE_FEDERATED_TOKEN_FILE into the pods labelled so.
                pod_labels: [("azure.workload.identity/use".to_owned(), "true".to_owned())].into(),
                args: vec![],
            }),
        }
    }
}

/// What the example does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// Copy the container into a new backup
    Backup,
    /// Restore the container from a backup, and the server to its point in time
    Restore,
    /// One shard of a backup, in a pod of the shard Job (its index and the backup id from the environment)
    BackupShard,
    /// One shard of a restore, in a pod of the restore's shard Job (its index and the backup id from the
    /// environment)
    RestoreShard,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    cli::start(env!("CARGO_CRATE_NAME"), cli.common.plan, &cli.common.output);
    cli::exit_with(run(&cli).await, None)
}

/// Progress: a bar (bytes and objects) on a terminal, plain lines otherwise.
fn observer() -> Observer {
    cli::progress_observer("  .. ")
}

async fn run(args: &Cli) -> Result<()> {
    let command = match args.command {
        Command::Backup => "backup",
        Command::Restore => "restore",
        Command::BackupShard => "backup-shard",
        Command::RestoreShard => "restore-shard",
    };
    let prefix = args.prefix.as_str();
    let names = DrNames::new(prefix)?;
    // A confirmation naming another container is a mistake: refused before any request.
    if let Some(named) = args.confirm_overwrite.as_deref()
        && named != names.assets.as_str()
    {
        return Err(deploy::Error::invalid(
            "confirm-overwrite",
            format!("names `{named}`, but the restore writes into `{}`", names.assets),
            "--confirm-overwrite takes the name of the container the restore overwrites",
        ));
    }
    // The shard flags, checked before any request: the count, and the Job of `backup` or `restore --in-cluster`.
    let shards = args.shard.count()?;
    let (job, restore_job) = match args.command {
        Command::Backup => (shard_flags(args)?, None),
        Command::Restore => (None, restore_flags(args)?),
        Command::BackupShard | Command::RestoreShard => (None, None),
    };
    if matches!(args.command, Command::BackupShard | Command::RestoreShard) {
        let store = azure_support::blob_store_as(&args.blob, args.arm.credential)?;
        let assignment = ShardAssignment::from_env()?;
        return if args.command == Command::BackupShard {
            backup_shard(&store, &names, &assignment).await
        } else {
            restore_shard(&store, &names, &assignment, args).await
        };
    }
    let plan_only = args.common.plan;
    let objects_only = args.objects_only;
    let store = azure_support::blob_store_as(&args.blob, args.arm.credential)?;
    let servers = if objects_only {
        None
    } else {
        let group = args.resource_group.clone().unwrap_or_else(|| format!("{prefix}-rg"));
        let location = args.location.as_str();
        Some(FlexibleServers::new(azure_support::arm_client(&args.arm)?, group, location)?)
    };
    println!(
        "{command} for prefix {prefix}: containers {} and {}{}{}",
        names.assets,
        names.backup,
        if objects_only { String::new() } else { format!(", servers {} and {}", names.server, names.restored_server) },
        if plan_only { " (plan only: no changes are made)" } else { "" }
    );
    match command {
        "backup" => {
            // One id for the plan and the run, so that what is printed is what is written.
            let id: SnapshotId = match args.id.as_deref() {
                Some(id) => id.parse().map_err(|e: deploy::Error| e.in_field("id"))?,
                None => SnapshotId::now(),
            };
            if let Some(job) = job {
                return backup_in_cluster(&store, &names, args, job, id).await;
            }
            let plan = runbook::plan_container_backup(&store, &names, Some(&id)).await?;
            print_plan("container backup", &plan);
            cli::plan("plan", &plan);
            if let Some(servers) = &servers {
                let info = servers.describe_database(&ResourceName::new(names.server.clone())?).await?;
                println!(
                    "server {}: automatic backups, {} days kept, restorable from {}",
                    names.server,
                    info.backup_retention_days,
                    info.earliest_restorable_time.map_or_else(|| "(not reported)".to_owned(), |t| t.to_string())
                );
            }
            if plan_only {
                return Ok(());
            }
            match runbook::container_backup(&store, &names, Some(id), shards, observer()).await? {
                ContainerBackup::Taken(report) => {
                    cli::field("report", &report);
                    println!(
                        "backup {}: {} objects, {} bytes in {}/{} ({} copied, {} already there)",
                        report.id, report.objects, report.bytes, names.backup, report.folder, report.copied, report.skipped
                    );
                    if servers.is_some() {
                        println!("server {}: restore point {}", names.server, report.id.timestamp());
                    }
                    println!("summary: backup {} complete; restore it with: restore --prefix {prefix} --from {}", report.id, report.id);
                }
                ContainerBackup::AlreadyComplete(id) => {
                    println!("summary: backup {id} is already complete; nothing changed");
                }
            }
        }
        "restore" => {
            let from: SnapshotSelector = args
                .from
                .as_deref()
                .ok_or_else(|| deploy::Error::invalid("from", "is missing", "restore --from TIMESTAMP|latest"))?
                .parse()
                .map_err(|e: deploy::Error| e.in_field("from"))?;
            let mut options = runbook::restore_options(from);
            options.keep_newer = args.keep_newer;
            options.exact = args.exact;
            options.confirm = args.confirm_overwrite.as_deref().map(deploy::Confirm::new);
            options.shards = shards;
            let (id, plan) = runbook::plan_container_restore(&store, &names, &options).await?;
            print_plan(&format!("container restore of backup {id}"), &plan);
            cli::plan("plan", &plan);
            if let Some(servers) = &servers {
                let server = runbook::server_restore(servers, &names, id.timestamp(), Mode::Plan).await?;
                print_plan("server restore", &server);
                cli::plan("server_plan", &server);
            }
            if let Some(job) = &restore_job {
                println!(
                    "  run one pod per key range ({} shards, Job {}), each restoring its range with the checks above",
                    job.shards(),
                    job.name()
                );
                println!("  verify every blob against the manifest");
            }
            if plan_only {
                return Ok(());
            }
            options.snapshot = SnapshotSelector::Id(id.clone());
            if let Some(job) = restore_job {
                store.ensure_bucket(&BucketSpec::new(names.assets.clone())).await?;
                cli::restore_in_cluster(&store, (&names.backup, &names.assets), &options, job, &id, "blobs").await?;
                println!("summary: restore of backup {id} complete, as Job shards");
                return Ok(());
            }
            let report = runbook::container_restore(&store, &names, options, observer()).await?;
            println!("{report}");
            cli::field("report", &report);
            if let Some(servers) = &servers {
                let made = runbook::server_restore(servers, &names, id.timestamp(), Mode::Apply).await?;
                println!("server {}: {}", names.restored_server, if made.is_empty() { "exists, left alone" } else { "restored" });
            }
            println!(
                "summary: restore of backup {id}: {} blobs written, {} already identical, {} verified",
                report.restored, report.unchanged, report.verified
            );
            if !report.overwritten.is_empty() || !report.deleted.is_empty() || !report.kept_newer.is_empty() {
                println!(
                    "summary: overwrote {} ({} written after the backup started), deleted {}, kept {} newer than the backup",
                    report.overwritten.describe(),
                    report.overwritten_newer,
                    report.deleted.describe(),
                    report.kept_newer.describe()
                );
            }
        }
        other => unreachable!("the shard commands returned above, clap accepts nothing else: {other}"),
    }
    Ok(())
}

/// What the pods of a shard Job run: `command` (`backup-shard`, `restore-shard`) with `more`, reaching
/// the blobs where this process does (never a secret on their command line).
fn shard_pods(args: &Cli, command: &str, job: &str, more: &[String]) -> cli::ShardPods {
    let mut pod_args = vec![command.to_owned(), "--prefix".to_owned(), args.prefix.clone(), "--objects-only".to_owned()];
    pod_args.extend_from_slice(more);
    if let Some(endpoint) = &args.blob.blob_endpoint {
        pod_args.extend(["--blob-endpoint".to_owned(), endpoint.clone()]);
    }
    if let Some(account) = &args.blob.account_name {
        pod_args.extend(["--account-name".to_owned(), account.clone()]);
    }
    cli::ShardPods {
        job_name: format!("{}-{job}", args.prefix),
        default_binary: "/usr/local/bin/azure_disaster_recovery",
        args: pod_args,
        env: Vec::new(),
    }
}

/// The Secret of an account key (`--credentials-secret`) names its account too: the pods sign with it.
fn check_pod_account(args: &Cli, in_cluster: bool) -> Result<()> {
    if in_cluster && args.shard.access.credentials_secret.is_some() && args.blob.account_name.is_none() {
        return Err(Error::invalid(
            "account-name",
            "is missing",
            "--credentials-secret holds an account key: name its account with --account-name",
        ));
    }
    Ok(())
}

/// `backup --in-cluster` and its flags: the shard Job, checked before any request (`None` without `--in-cluster`).
fn shard_flags(args: &Cli) -> Result<Option<SnapshotJob>> {
    let job = args.shard.job(args.objects_only, shard_pods(args, "backup-shard", "backup", &[]))?;
    check_pod_account(args, job.is_some())?;
    Ok(job)
}

/// `restore --in-cluster` and its flags: the restore's shard Job, checked before any request (`None`
/// without `--in-cluster`). Each pod restores its key range with the same `--keep-newer`, `--exact` and
/// `--confirm-overwrite` as this process.
fn restore_flags(args: &Cli) -> Result<Option<RestoreJob>> {
    let mut more = Vec::new();
    for (flag, on) in [("--keep-newer", args.keep_newer), ("--exact", args.exact)] {
        if on {
            more.push(flag.to_owned());
        }
    }
    if let Some(container) = &args.confirm_overwrite {
        more.extend(["--confirm-overwrite".to_owned(), container.clone()]);
    }
    let job = args.shard.restore_job(args.objects_only, shard_pods(args, "restore-shard", "restore", &more))?;
    check_pod_account(args, job.is_some())?;
    Ok(job)
}

/// The backup as a Kubernetes Indexed Job: plan, run, finalize (see the module docs).
async fn backup_in_cluster(store: &BlobStore, names: &DrNames, args: &Cli, job: SnapshotJob, id: SnapshotId) -> Result<()> {
    let prefix = args.prefix.as_str();
    println!("plan: backup {id} of {} in {} shards, as Job {}", names.assets, job.shards(), job.name());
    if store.describe_bucket(&names.assets).await.is_err_and(|e| e.is_not_found()) {
        return Err(Error::not_found("bucket", names.assets.as_str()));
    }
    let plan = store.plan_bucket(&BucketSpec::new(names.backup.clone())).await?;
    print_plan("backup container", &plan);
    println!("  copy every blob of {} into {}/{}", names.assets, names.backup, runbook::backup_layout().folder(&id));
    println!("  plan {} key ranges (manifests/{id}/shards.json), run one pod per range, write the index when all completed", job.shards());
    cli::plan("plan", &plan);
    cli::pending(true);
    if args.common.plan {
        return Ok(());
    }
    store.ensure_bucket(&BucketSpec::new(names.backup.clone())).await?;
    let client = deploy::k8s::client_from_env().await?;
    let mut options = SnapshotOptions::new(runbook::backup_layout());
    options.id = Some(id.clone());
    let source = Location::new(store, &names.assets);
    let done = match job.run(client, source, Location::new(store, &names.backup), &options, Boundaries::Listed).await {
        Ok(done) => done,
        Err(e) => {
            println!("backup {id} is not complete: run again with --id {id} (the completed shards do nothing)");
            return Err(e.into());
        }
    };
    cli::field(
        "report",
        serde_json::json!({ "id": id.to_string(), "objects": done.index.objects, "bytes": done.index.total_bytes, "shards": done.index.shards, "job": done.job.job }),
    );
    println!(
        "backup {id}: {} objects, {} bytes in {} shards (Job {}), manifest index written",
        done.index.objects, done.index.total_bytes, done.index.shards, done.job.job
    );
    println!("summary: backup {id} complete; restore it with: restore --prefix {prefix} --from {id}");
    Ok(())
}

/// One shard of a backup, in a pod of the shard Job: its index, the shard
/// count and the backup id from the environment.
async fn backup_shard(store: &BlobStore, names: &DrNames, assignment: &ShardAssignment) -> Result<()> {
    let mut options = SnapshotOptions::new(runbook::backup_layout());
    options.id = Some(assignment.snapshot_id.clone());
    let report =
        snapshot_shard(Location::new(store, &names.assets), Location::new(store, &names.backup), &options, assignment.index).await?;
    println!(
        "shard {} of {} of backup {}: {} blobs ({} copied, {} already there, {} stale removed), {} parts{}",
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

/// One shard of a restore, in a pod of the restore's shard Job: its key range of the backup.
async fn restore_shard(store: &BlobStore, names: &DrNames, assignment: &ShardAssignment, args: &Cli) -> Result<()> {
    let (index, count, id) = (assignment.index, assignment.count, assignment.snapshot_id.clone());
    if index >= count {
        return Err(Error::invalid("JOB_COMPLETION_INDEX", format!("is {index}"), format!("below the shard count {count}")));
    }
    let mut options = runbook::restore_options(SnapshotSelector::Id(id.clone()));
    options.keep_newer = args.keep_newer;
    options.exact = args.exact;
    options.confirm = args.confirm_overwrite.as_deref().map(deploy::Confirm::new);
    let (backup, target) = (Location::new(store, &names.backup), Location::new(store, &names.assets));
    match restore_shard_range(backup, target, &options, index, count).await? {
        Some(report) => println!("shard {index} of {count} of restore {id}: {report}"),
        None => println!("shard {index} of {count} of restore {id}: no blobs (the backup has fewer manifest parts than shards)"),
    }
    Ok(())
}
