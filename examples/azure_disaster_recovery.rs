//! Vectice Azure appendix 5, the disaster-recovery plan: back up the blob
//! container and the PostgreSQL flexible server, and restore them.
//!
//! ```text
//! azure_disaster_recovery backup  --prefix P [--id TIMESTAMP] [--plan] [--objects-only] [blob and ARM options]
//! azure_disaster_recovery restore --prefix P --from TIMESTAMP|latest [--plan] [--objects-only]
//!     [--keep-newer] [--exact] [--confirm-overwrite P-assets] [...]
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
use deploy::azure::runbook::{self, ContainerBackup, DrNames};
use deploy::recipes::{SnapshotId, SnapshotSelector};
use deploy::{Database, Mode, Observer, ResourceName, Result};

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
    common: cli::Common,
}

/// What the example does.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// Copy the container into a new backup
    Backup,
    /// Restore the container from a backup, and the server to its point in time
    Restore,
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
    let plan_only = args.common.plan;
    let objects_only = args.objects_only;
    let store = azure_support::blob_store(&args.blob)?;
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
            match runbook::container_backup(&store, &names, Some(id), observer()).await? {
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
            let (id, plan) = runbook::plan_container_restore(&store, &names, &options).await?;
            print_plan(&format!("container restore of backup {id}"), &plan);
            cli::plan("plan", &plan);
            if let Some(servers) = &servers {
                let server = runbook::server_restore(servers, &names, id.timestamp(), Mode::Plan).await?;
                print_plan("server restore", &server);
                cli::plan("server_plan", &server);
            }
            if plan_only {
                return Ok(());
            }
            options.snapshot = SnapshotSelector::Id(id.clone());
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
        other => unreachable!("clap accepts backup and restore only, not {other}"),
    }
    Ok(())
}
