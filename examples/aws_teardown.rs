//! SIMPHERA's teardown order over the resources of one prefix, through
//! `deploy_core::recipes::Teardown`: recovery points, the backup plan and
//! vault, deletion protection off, databases, buckets (emptied, every object
//! version), node groups, the cluster.
//!
//! Tears down (whatever of it exists):
//! - every recovery point in vault `P-vault`, backup plan `P-plan` (its
//!   selections first) and vault `P-vault` (`aws_backup_plan`);
//! - databases `P-db-restored` and `P-db` (deletion protection turned off
//!   first; no final snapshot unless `--final-snapshots`);
//! - buckets `P-assets` and `P-backup`, with every object;
//! - EKS cluster `P-eks` with its node groups (`aws_eks_cluster`).
//!
//! Every data-bearing deletion (a recovery point, a database, a bucket holding
//! objects) needs `--confirm P` (the prefix); without it nothing at all is
//! deleted and the example exits non-zero naming the first refused deletion.
//! Left in place: IAM users, roles and policies, KMS keys (they cannot be
//! deleted at once, only scheduled), secrets, the parameter group, the VPC.
//!
//! ```text
//! cargo run --features aws --example aws_teardown -- --prefix acme-prod [--plan] [--confirm acme-prod] [--final-snapshots]
//! ```
//!
//! `--plan` prints the teardown plan and makes no mutating request. A second
//! run finds nothing to do. The last line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::eks::EksRoles;
use deploy::recipes::Teardown;
use deploy::{BucketName, Confirm, Error, ObjectStore, ResourceName};

use aws_support::{exists, section, stop_if_plan};

/// Delete everything the aws_* examples made for a prefix (needs --confirm P).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Confirm the teardown by naming the prefix again
    #[arg(long, value_name = "P")]
    confirm: Option<String>,
    /// Take a final snapshot of each database before deleting it
    #[arg(long)]
    final_snapshots: bool,
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

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let p = &args.prefix;
    let confirm = match args.confirm.as_deref() {
        None => None,
        Some(c) if c == p => Some(Confirm::prefix(p.clone())),
        Some(c) => {
            return Err(Error::invalid(
                "confirm",
                format!("`{c}` is not the prefix"),
                format!("--confirm {p} confirms the deletions of prefix {p}"),
            ));
        }
    };
    let databases = vec![ResourceName::new(format!("{p}-db-restored"))?, ResourceName::new(format!("{p}-db"))?];
    let buckets = [BucketName::new(format!("{p}-assets"))?, BucketName::new(format!("{p}-backup"))?];
    let aws = aws_support::backends(log).await;
    let (s3, rds, backup) = (aws.s3(), aws.rds(), aws.backup());
    // Deleting a cluster and its node groups needs none of the roles they run as.
    let eks = aws.eks(EksRoles { cluster_role_arn: String::new(), node_role_arn: String::new() });

    // Only buckets that exist: the recipe deletes listed buckets without asking first.
    let mut present = Vec::new();
    for bucket in buckets {
        if exists(s3.describe_bucket(&bucket).await)? {
            present.push(bucket);
        }
    }
    let teardown = Teardown {
        backup: Some(&backup),
        vaults: vec![ResourceName::new(format!("{p}-vault"))?],
        backup_plans: vec![ResourceName::new(format!("{p}-plan"))?],
        database: Some(&rds),
        databases,
        final_snapshots: args.final_snapshots,
        objects: Some(&s3 as &dyn ObjectStore),
        buckets: present,
        cluster: Some(&eks),
        clusters: vec![ResourceName::new(format!("{p}-eks"))?],
        confirm,
        observer: aws_support::observer(),
    };

    section(&format!("teardown plan for prefix {p}"));
    let plan = teardown.plan().await?;
    println!("{plan}");
    // The teardown plan has no serde form: its lines, one string each.
    cli::field("plan", plan.to_string().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>());
    cli::pending(!plan.steps.is_empty());
    if stop_if_plan(args) {
        return Ok(());
    }
    if plan.steps.is_empty() {
        println!("\nnothing to tear down");
        return Ok(());
    }
    if teardown.confirm.is_none() && plan.steps.iter().any(|s| s.destroys.is_some()) {
        println!("\nrefusing: the plan destroys data; run again with --confirm {p}");
    }

    section("teardown");
    let done = teardown.run().await?;
    section("summary");
    println!("  {} steps done", done.steps.len());
    cli::field("steps_done", done.steps.len());
    Ok(())
}
