//! The Okera/ODAS AWS overview ("for fail-over safety, it is also recommended
//! to have S3 buckets replicated across the multiple regions"): the assets
//! bucket replicated to a bucket in another region.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - bucket `P-assets` in `AWS_REGION` with the bucket defaults (versioned,
//!   encrypted, public access blocked, TLS only), when missing;
//! - bucket `P-assets-replica` in the replica region (`--replica-region`,
//!   default `us-west-2`) with the same defaults;
//! - managed policy `P-replication`, least privilege: read the source's
//!   replication configuration and object versions, replicate into
//!   `P-assets-replica/*`, never `Resource: "*"`;
//! - role `P-replication` trusting `s3.amazonaws.com`, with that policy;
//! - replication rule `replicate-to-P-assets-replica` on `P-assets`: every key,
//!   delete markers not replicated.
//!
//! The summary prints the check of the setup as S3 and IAM read it back.
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_bucket_replication -- --prefix acme-prod [--replica-region us-west-2] [--plan]
//! ```
//!
//! A replica region equal to `AWS_REGION` is refused before any request.
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::iam::IamName;
use deploy::aws::s3::ReplicationSpec;
use deploy::{BucketName, BucketSpec, ObjectStore, Plan, Reconcile as _};

use aws_support::{plan_only, print_plan, section};

/// Where the replica goes unless `--replica-region` says otherwise.
const DEFAULT_REPLICA_REGION: &str = "us-west-2";

/// The assets bucket replicated to a bucket in another region (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Region of the replica bucket (default us-west-2; must differ from AWS_REGION)
    #[arg(long, value_name = "REGION")]
    replica_region: Option<String>,
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
    let spec = ReplicationSpec::new(
        BucketName::new(format!("{p}-assets"))?,
        BucketName::new(format!("{p}-assets-replica"))?,
        args.replica_region.as_deref().unwrap_or(DEFAULT_REPLICA_REGION),
        IamName::new(format!("{p}-replication"))?,
    );
    let aws = aws_support::backends(log).await;
    let (s3, iam) = (aws.s3(), aws.iam());
    // Before any request: the replica region must be another region than the source's.
    spec.validate(s3.region())?;
    let source = BucketSpec::new(spec.source.clone());

    section(&format!("plan for prefix {p}: {} -> {} in {}", spec.source, spec.destination, spec.destination_region));
    let mut plan = s3.plan_bucket(&source).await?;
    let source_exists = aws_support::exists(s3.describe_bucket(&spec.source).await)?;
    if source_exists {
        plan.extend(s3.replication(&iam).plan(&spec).await?);
    } else {
        // Everything else follows from a new source: the replica, role, policy and rule are new or read when ensured.
        plan.extend(s3.in_region(&spec.destination_region).plan_bucket(&BucketSpec::new(spec.destination.clone())).await?);
        plan.push(deploy::Change::create("replication setup", format!("role and policy {}, rule {}", spec.role, spec.rule_id())));
    }
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    println!("  source bucket {} (versioned, encrypted, private, TLS only)", spec.source);
    done.extend(s3.ensure_bucket(&source).await?);
    println!(
        "  replica bucket {} in {}, role and policy {}, rule {}",
        spec.destination,
        spec.destination_region,
        spec.role,
        spec.rule_id()
    );
    done.extend(s3.replication(&iam).ensure(&spec).await?.plan);

    section("changes made");
    print_plan(&done);

    section("summary");
    let report = s3.check_replication(&spec, &iam).await?;
    for line in report.to_string().lines() {
        println!("  {line}");
    }
    println!("  replication as specified: {}", if report.is_ok() { "yes" } else { "NO" });
    cli::output("source", spec.source.as_str());
    cli::output("replication_ok", report.is_ok());
    if !report.is_ok() {
        return Err(deploy::Error::conflict("replication", spec.source.as_str(), "the check read back differs from the spec"));
    }
    Ok(())
}
