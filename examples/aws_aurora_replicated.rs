//! Okera on AWS: the shared RDBMS as Amazon Aurora (MySQL compatible),
//! replicated to a reader in another availability zone and to another region.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - secret `P-db-admin`: the administrator's password, generated to the
//!   SIMPHERA rules, only when the secret is missing. The password is never printed;
//! - DB cluster parameter group `P-db-aurora-mysql8-0` (family aurora-mysql8.0):
//!   `require_secure_transport=ON`;
//! - Aurora MySQL 8.0 cluster `P-db`: storage encrypted, deletion protection on,
//!   7 days of backups, administrator `dbadmin`;
//! - its writer `P-db-1` (`db.r6g.large`) in zone `REGIONa` and its reader
//!   `P-db-2` in zone `REGIONb`, so a copy survives the loss of the writer's zone;
//! - the Aurora global database `P-db-global`, and its secondary cluster
//!   `P-db-replica` with the instance `P-db-replica-1` in the replica region.
//!
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_aurora_replicated -- --prefix acme-prod [--replica-region eu-west-1] [--plan]
//! ```
//!
//! `--replica-region` defaults to `eu-west-1` (`eu-central-1` when the
//! configured region is `eu-west-1`); the same region as the cluster's is
//! refused before any request. `--plan` prints what would change and makes no
//! mutating request. The last line is `mutating requests: N`. Creating a
//! cluster and its instances on AWS takes 10 to 30 minutes.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::rds::parameter_group_name;
use deploy::database::{CrossRegionReplica, Engine, Reader};
use deploy::{Database, DatabaseSpec, PgIdentifier, Plan, ResourceName, SecretName};

use aws_support::{plan_only, print_plan, section};

/// Aurora MySQL cluster, replicated to another zone and another region (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Region of the global database's secondary cluster (default eu-west-1; eu-central-1 when AWS_REGION is eu-west-1)
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

fn spec(prefix: &str, region: &str, replica_region: &str) -> deploy::Result<DatabaseSpec> {
    let mut spec = DatabaseSpec::with_engine(
        ResourceName::new(format!("{prefix}-db"))?,
        Engine::AuroraMysql,
        "8.0.mysql_aurora.3.05.2",
        "db.r6g.large",
        PgIdentifier::new("dbadmin")?,
    );
    spec.require_tls = true;
    spec.deletion_protection = true;
    spec.backup_retention_days = 7;
    spec.high_availability = true;
    spec.topology.writer_zone = Some(format!("{region}a"));
    spec.topology.readers = vec![Reader { zone: format!("{region}b") }];
    spec.topology.cross_region_replica = Some(CrossRegionReplica { region: replica_region.to_owned(), network: Default::default() });
    spec.admin_password_secret = Some(SecretName::new(format!("{prefix}-db-admin"))?);
    spec.tags.insert("deploy-prefix".into(), prefix.into());
    spec.validate()?;
    Ok(spec)
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let aws = aws_support::backends(log).await;
    let region = aws.sdk_config().region().map(|r| r.as_ref().to_owned()).ok_or_else(|| {
        deploy::Error::invalid("AWS_REGION", "is not set", "the cluster's region comes from the standard AWS environment")
    })?;
    let default_replica = if region == "eu-west-1" { "eu-central-1" } else { "eu-west-1" };
    let replica_region = args.replica_region.as_deref().unwrap_or(default_replica).to_owned();
    let mut spec = spec(&args.prefix, &region, &replica_region)?;
    let secret = spec.admin_password_secret.clone().expect("set above");
    let (rds, secrets) = (aws.rds(), aws.secrets());

    section(&format!("plan for prefix {}", args.prefix));
    println!("  cluster parameter group {}: require_secure_transport=ON", parameter_group_name(&spec));
    println!("  writer in {region}a, reader in {region}b, replica in {replica_region}");
    let mut plan = Plan::new();
    aws_support::plan_admin_password(&secrets, &secret, &mut plan).await?;
    plan.extend(rds.plan_database(&spec).await?);
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    aws_support::ensure_admin_password(&secrets, &mut spec, "cluster", &mut done).await?;
    println!("  cluster {} with its writer, reader and replica in {replica_region} (waits until all are available)", spec.name);
    done.extend(rds.ensure_database(&spec).await?);

    section("changes made");
    print_plan(&done);

    section("summary");
    let db = rds.describe_database(&spec.name).await?;
    let endpoint = db.endpoint.as_ref().map(|e| format!("{}:{}", e.host, e.port)).unwrap_or_else(|| "-".into());
    println!("  cluster {} ({}, {}): {} at {endpoint}", db.name, db.engine, db.engine_version, db.status);
    println!("  writer in {}", db.topology.writer_zone.as_deref().unwrap_or("-"));
    for reader in &db.topology.readers {
        println!("  reader in {}", reader.zone);
    }
    let replica = db.topology.cross_region_replica.as_ref().map_or("-", |r| r.region.as_str());
    println!("  cross-region replica in {replica}");
    cli::output("cluster", db.name.as_str());
    cli::output("endpoint", &endpoint);
    cli::output("writer_zone", &db.topology.writer_zone);
    cli::output("reader_zones", db.topology.readers.iter().map(|r| r.zone.as_str()).collect::<Vec<_>>());
    cli::output("cross_region_replica", replica);
    cli::output("admin_password_secret", secret.to_string());
    println!(
        "  TLS required {}, deletion protection {}, backups kept {} days",
        db.require_tls, db.deletion_protection, db.backup_retention_days
    );
    println!("  admin dbadmin, password in secret {secret} (not shown)");
    Ok(())
}
