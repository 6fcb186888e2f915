//! Vectice AWS appendix 1: the RDS parameter group that forces TLS and allows
//! `unaccent`, and an encrypted, deletion-protected PostgreSQL instance using it.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - secret `P-db-admin`: the administrator's password, generated to the
//!   SIMPHERA rules (8-128 printable ASCII characters, none of `/ ' " @`),
//!   only when the secret is missing. The password is never printed;
//! - parameter group `P-db-postgres15` (family postgres15): `rds.force_ssl=1`,
//!   `rds.allowed_extensions=unaccent`;
//! - instance `P-db`: PostgreSQL 15, `db.t4g.medium`, 20 GiB autoscaling to
//!   100 GiB, storage encrypted, deletion protection on, 7 days of backups,
//!   administrator `dbadmin`.
//!
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_database_ssl -- --prefix acme-prod [--plan] [--rotate-password]
//! ```
//!
//! `--rotate-password` rotates the administrator's password (SIMPHERA's
//! credential rotation, `deploy::recipes::rotate_admin_password`): the new
//! password goes to secret `P-db-admin-pending`, then to the instance (waiting
//! until RDS applied it), then to `P-db-admin` (the old one stays its previous
//! version), and the pending secret is deleted. Run it again after a failure:
//! it finishes with the pending password.
//!
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`. Creating an instance on AWS takes 5 to 20 minutes.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::rds::parameter_group_name;
use deploy::{Change, Database, DatabaseSpec, FieldChange, PgIdentifier, Plan, ResourceName, SecretName};

use aws_support::{plan_only, print_plan, section};

/// RDS PostgreSQL instance with TLS forced and unaccent allowed, its parameter group and admin password secret (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Rotate the administrator's password (pending secret, instance, secret)
    #[arg(long)]
    rotate_password: bool,
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

fn spec(prefix: &str) -> deploy::Result<DatabaseSpec> {
    let mut spec = DatabaseSpec::postgres(ResourceName::new(format!("{prefix}-db"))?, "15", "db.t4g.medium", PgIdentifier::new("dbadmin")?);
    spec.storage_gib = 20;
    spec.max_storage_gib = Some(100);
    spec.require_tls = true;
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent")?];
    spec.deletion_protection = true;
    spec.backup_retention_days = 7;
    spec.admin_password_secret = Some(SecretName::new(format!("{prefix}-db-admin"))?);
    spec.tags.insert("deploy-prefix".into(), prefix.into());
    spec.validate()?;
    Ok(spec)
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let mut spec = spec(&args.prefix)?;
    let secret = spec.admin_password_secret.clone().expect("set above");
    let aws = aws_support::backends(log).await;
    let (rds, secrets) = (aws.rds(), aws.secrets());

    section(&format!("plan for prefix {}", args.prefix));
    println!("  parameter group {}: rds.force_ssl=1, rds.allowed_extensions=unaccent", parameter_group_name(&spec));
    let mut plan = Plan::new();
    aws_support::plan_admin_password(&secrets, &secret, &mut plan).await?;
    plan.extend(rds.plan_database(&spec).await?);
    if args.rotate_password {
        plan.push(Change::update(
            "admin password",
            spec.name.as_str(),
            vec![FieldChange::new("secret", secret.as_str(), "a new password (pending secret, instance, then secret)")],
        ));
    }
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    aws_support::ensure_admin_password(&secrets, &mut spec, "database", &mut done).await?;
    println!("  database {} with parameter group {} (waits until available)", spec.name, parameter_group_name(&spec));
    done.extend(rds.ensure_database(&spec).await?);
    if args.rotate_password {
        println!("  rotate the admin password of {} (pending secret, instance, then {secret})", spec.name);
        let rotated = deploy::recipes::rotate_admin_password(
            &rds,
            &spec.name,
            &secrets,
            &secret,
            &deploy::PasswordRules::rds_master(),
            aws_support::PASSWORD_LENGTH,
        )
        .await?;
        println!("  {rotated}");
        done.push(rotated.into());
    }

    section("changes made");
    print_plan(&done);

    section("summary");
    let db = rds.describe_database(&spec.name).await?;
    let endpoint = db.endpoint.as_ref().map(|e| format!("{}:{}", e.host, e.port)).unwrap_or_else(|| "-".into());
    println!("  database {}: {} at {endpoint}", db.name, db.status);
    println!(
        "  TLS required {}, extensions {:?}",
        db.require_tls,
        db.allowed_extensions.iter().map(PgIdentifier::as_str).collect::<Vec<_>>()
    );
    println!("  deletion protection {}, backups kept {} days", db.deletion_protection, db.backup_retention_days);
    println!("  admin dbadmin, password in secret {secret} (not shown)");
    cli::output("database", db.name.as_str());
    cli::output("endpoint", &endpoint);
    cli::output("require_tls", db.require_tls);
    cli::output("admin_password_secret", secret.to_string());
    Ok(())
}
