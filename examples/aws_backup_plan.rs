//! SIMPHERA's backup service: an AWS Backup vault encrypted with its own KMS
//! key, a plan with continuous backup (point-in-time restore of the database
//! and the bucket for 35 days) and a selection of the database and the bucket,
//! backed up as the role AWS Backup assumes.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - KMS key `alias/P-backup` (rotated) that encrypts the vault;
//! - IAM role `P-backup` (trusts `backup.amazonaws.com`; the AWS-managed
//!   policies for RDS and S3 backups and restores);
//! - backup vault `P-vault`;
//! - backup plan `P-plan`: rule `continuous` (daily at 05:00 UTC, continuous
//!   backup, kept `--retention-days`, default 35, at most 35 for continuous
//!   backups), and its selection `deploy-resources` of database `P-db` and bucket
//!   `P-assets` (by ARN: they need not exist yet; `aws_database_ssl` and
//!   `aws_bucket_access` make them).
//!
//! ```text
//! cargo run --features aws --example aws_backup_plan -- --prefix acme-prod [--plan] [--retention-days 35]
//! ```
//!
//! Configured by the standard AWS environment. `--plan` prints what would
//! change and makes no mutating request. The last line is `mutating requests: N`.
//! `aws_teardown --confirm P` deletes the recovery points, the plan and the vault.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::collections::BTreeMap;
use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::backup::{SELECTION_NAME, role_spec};
use deploy::aws::kms::{KeyAlias, KeySpec};
use deploy::backup::{BackupPlanSpec, BackupRule, BackupSpec, VaultSpec};
use deploy::{BackupVault as _, Change, CronSchedule, Error, Plan, Reconcile as _, ResourceName, RetentionDays};

use aws_support::{plan_only, print_plan, section};

/// AWS Backup vault, plan with continuous backup and its selection of the database and the bucket (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Days the continuous backups are kept (default 35, at most 35)
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<String>,
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

/// The vault and plan; `key_arn` and `role_arn` once they exist.
fn backup_spec(
    prefix: &str,
    retention: RetentionDays,
    resources: Vec<String>,
    key_arn: Option<String>,
    role_arn: Option<String>,
) -> deploy::Result<BackupSpec> {
    let tags = BTreeMap::from([("deploy-prefix".to_owned(), prefix.to_owned())]);
    let spec = BackupSpec {
        vault: VaultSpec { name: ResourceName::new(format!("{prefix}-vault"))?, encryption_key: key_arn, tags },
        plan: Some(BackupPlanSpec {
            name: ResourceName::new(format!("{prefix}-plan"))?,
            rules: vec![BackupRule {
                name: ResourceName::new("continuous")?,
                schedule: CronSchedule::new("cron(0 5 * * ? *)")?,
                retention,
                continuous: true,
            }],
            resources,
            role: role_arn,
        }),
    };
    spec.validate()?;
    Ok(spec)
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let p = args.prefix.clone();
    let days = match args.retention_days.as_deref() {
        None => 35,
        Some(v) => {
            v.parse().map_err(|_| Error::invalid("retention-days", format!("`{v}` is not a number"), "continuous backups: 1 to 35 days"))?
        }
    };
    if !(1..=35).contains(&days) {
        return Err(Error::invalid("retention-days", format!("is {days}"), "continuous backups: 1 to 35 days"));
    }
    let retention = RetentionDays::new(days)?;
    let alias = KeyAlias::new(format!("alias/{p}-backup"))?;
    let key_spec = KeySpec { description: format!("backup vault of {p}"), ..KeySpec::new(alias.clone()) };
    backup_spec(&p, retention, Vec::new(), None, None)?;
    let aws = aws_support::backends(log).await;
    let partition = aws_support::partition(&aws);
    let role = role_spec(&p, partition)?;
    let (iam, kms, backup) = (aws.iam(), aws.kms(), aws.backup());
    let me = aws.caller_identity().await?;
    let region = aws
        .sdk_config()
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| Error::invalid("AWS_REGION", "is not set", "the standard AWS environment names a region"))?;
    let resources = vec![format!("arn:{partition}:rds:{region}:{}:db:{p}-db", me.account), format!("arn:{partition}:s3:::{p}-assets")];

    section(&format!("plan for prefix {p}"));
    let mut plan = kms.plan(&key_spec).await?;
    let key_arn = match kms.describe_key(&alias).await {
        Ok(key) => Some(key.arn),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let role_arn = match iam.describe_role(&role.name).await {
        Ok(info) => Some(info.arn),
        Err(e) if e.is_not_found() => {
            plan.push(Change::create("iam role", format!("{} (assumed by AWS Backup)", role.name)));
            None
        }
        Err(e) => return Err(e),
    };
    // Before the key and role exist the vault and plan are compared without them.
    plan.extend(backup.plan_backup(&backup_spec(&p, retention, resources.clone(), key_arn, role_arn)?).await?);
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    println!("  kms key {alias}");
    let key = kms.ensure(&key_spec).await?;
    done.extend(key.plan);
    println!("  iam role {} for AWS Backup", role.name);
    let role = iam.ensure(&role_spec(&p, partition)?).await?;
    done.extend(role.plan);
    let spec = backup_spec(&p, retention, resources, Some(key.info.arn.clone()), Some(role.info.arn.clone()))?;
    println!(
        "  vault {}, plan {} and its selection {SELECTION_NAME}",
        spec.vault.name,
        spec.plan.as_ref().map_or("-", |pl| pl.name.as_str())
    );
    done.extend(backup.ensure_backup(&spec).await?);

    section("changes made");
    print_plan(&done);

    section("summary");
    let vault = backup.describe_vault(&spec.vault.name).await?;
    println!(
        "  vault {}: encrypted with {}, {} recovery points",
        vault.name,
        vault.encryption_key.as_deref().unwrap_or("-"),
        vault.recovery_points
    );
    cli::output("vault", vault.name.as_str());
    cli::output("vault_key", &vault.encryption_key);
    if let Some(plan) = &spec.plan {
        cli::output("plan", plan.name.as_str());
        cli::output("selection", SELECTION_NAME);
        cli::output("role", &role.info.arn);
        for rule in &plan.rules {
            println!(
                "  plan {} rule {}: {}, kept {} days, continuous {}",
                plan.name,
                rule.name,
                rule.schedule.to_aws(),
                rule.retention.days(),
                rule.continuous
            );
        }
        println!("  selection {SELECTION_NAME}: {} as {}", plan.resources.join(", "), role.info.arn);
    }
    Ok(())
}
