//! The CloudWatch alarms the Deeploy seed advises ("set up CloudWatch for
//! monitoring and alerting resource health and credit balance"), notifying an
//! SNS topic.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - KMS key `alias/P-alerts` (rotated; its policy lets CloudWatch publish to
//!   a topic encrypted with it, which the AWS-managed `alias/aws/sns` key does
//!   not), unless `--kms-key KEY` names an existing key to use instead (its
//!   policy must let `cloudwatch.amazonaws.com` `kms:Decrypt` and
//!   `kms:GenerateDataKey*`);
//! - SNS topic `P-alerts`, encrypted with that key, with an
//!   e-mail subscription when `--email ADDRESS` is given (AWS mails a
//!   confirmation link; until it is followed the subscription is pending);
//! - alarms on database `P-db`, each notifying the topic on ALARM and on OK:
//!   `P-db-cpu` (CPUUtilization > 80 %), `P-db-free-storage` (FreeStorageSpace
//!   < 2 GiB), `P-db-connections` (DatabaseConnections > 100),
//!   `P-db-burst-balance` (BurstBalance < 20 %), `P-db-cpu-credits`
//!   (CPUCreditBalance < 20), each over 3 periods of 5 minutes;
//! - `P-backup-jobs-failed`: AWS/Backup NumberOfBackupJobsFailed >= 1 in an hour,
//!   for the account, or for one vault with `--backup-vault NAME`.
//!
//! The database does not have to exist: CloudWatch accepts alarms on any
//! dimension value, so the alarms can be set up before `aws_database_ssl`
//! makes `P-db` (they stay INSUFFICIENT_DATA until it reports). Thresholds can
//! be changed with `--cpu-percent N` and `--free-storage-gib N`, checked before
//! any request.
//!
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_health_alarms -- --prefix acme-prod [--plan] [--email ops@example.com] [--kms-key alias/KEY] [--backup-vault NAME]
//! ```
//!
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::alarms::{EmailAddress, HealthAlarmsSpec, TopicName, TopicSpec};
use deploy::aws::kms::{KeyAlias, KeyPolicy, KeySpec};
use deploy::{Error, Reconcile as _, ResourceName};

use aws_support::{plan_only, print_plan, section};

/// CloudWatch alarms on the database and AWS Backup, notifying an encrypted SNS topic (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Subscribe this e-mail address to the topic (AWS mails a confirmation link)
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// Encrypt the topic with this existing key instead of alias/P-alerts
    #[arg(long, value_name = "KEY")]
    kms_key: Option<String>,
    /// Watch failed backup jobs of this vault only (default: the whole account)
    #[arg(long, value_name = "NAME")]
    backup_vault: Option<String>,
    /// CPU alarm threshold in percent (default 80)
    #[arg(long, value_name = "PERCENT")]
    cpu_percent: Option<String>,
    /// Free storage alarm threshold in GiB (default 2)
    #[arg(long, value_name = "GIB")]
    free_storage_gib: Option<String>,
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

fn number(value: Option<&str>, name: &str) -> deploy::Result<Option<f64>> {
    value
        .map(|v| v.parse::<f64>().map_err(|_| Error::invalid(name, format!("`{v}` is not a number"), format!("--{name} NUMBER"))))
        .transpose()
}

fn spec(args: &Cli) -> deploy::Result<HealthAlarmsSpec> {
    let p = &args.prefix;
    let mut topic = TopicSpec::new(TopicName::new(format!("{p}-alerts"))?);
    if let Some(email) = args.email.as_deref() {
        topic = topic.with_email(EmailAddress::new(email)?);
    }
    topic = topic.with_kms_key(args.kms_key.as_deref().map_or_else(|| format!("alias/{p}-alerts"), str::to_owned));
    let db = ResourceName::new(format!("{p}-db"))?;
    let mut spec = HealthAlarmsSpec::database_and_backups(p, &db, args.backup_vault.as_deref(), topic)?;
    if let Some(percent) = number(args.cpu_percent.as_deref(), "cpu-percent")? {
        spec.alarm_mut(&format!("{p}-db-cpu")).expect("the cpu alarm").threshold = percent;
    }
    if let Some(gib) = number(args.free_storage_gib.as_deref(), "free-storage-gib")? {
        spec.alarm_mut(&format!("{p}-db-free-storage")).expect("the storage alarm").threshold = gib * 1024.0 * 1024.0 * 1024.0;
    }
    spec.validate()?;
    Ok(spec)
}

/// The topic's own key, unless `--kms-key` names one.
fn topic_key(args: &Cli) -> deploy::Result<Option<KeySpec>> {
    if args.kms_key.as_deref().is_some() {
        return Ok(None);
    }
    let mut key = KeySpec::new(KeyAlias::new(format!("alias/{}-alerts", args.prefix))?)
        .with_policy(KeyPolicy::ServiceUse { services: vec!["cloudwatch.amazonaws.com".into()] });
    key.description = format!("{}-alerts SNS topic (CloudWatch alarms)", args.prefix);
    key.validate()?;
    Ok(Some(key))
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let (spec, key) = (spec(args)?, topic_key(args)?);
    let aws = aws_support::backends(log).await;
    let (alarms, kms) = (aws.alarms(), aws.kms());

    section(&format!("plan for prefix {}", args.prefix));
    let mut plan = match &key {
        Some(key) => kms.plan(key).await?,
        None => deploy::Plan::new(),
    };
    plan.extend(alarms.plan(&spec).await?);
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = deploy::Plan::new();
    if let Some(key) = &key {
        println!("  kms key {}", key.alias);
        done.extend(kms.ensure(key).await?.plan);
    }
    println!("  sns topic {}", spec.topic.name);
    for a in &spec.alarms {
        println!("  alarm {}", a.name);
    }
    let deploy::Ensured { plan: made, info } = alarms.ensure(&spec).await?;
    done.extend(made);

    section("changes made");
    print_plan(&done);

    section("summary");
    let t = &info.topic;
    cli::output("topic_arn", &t.arn);
    cli::output("alarms", info.alarms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>());
    println!("  topic    {} ({})", t.arn, t.kms_key_id.as_deref().map_or("not encrypted".to_owned(), |k| format!("KMS key {k}")));
    for s in &t.subscriptions {
        println!("  notifies {} {}{}", s.protocol, s.endpoint, if s.pending { " (pending confirmation)" } else { "" });
    }
    for a in &info.alarms {
        let dims: Vec<String> = a.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  alarm    {:<32} {} {} [{}] {} {} over {}x{}s, {}",
            a.name,
            a.namespace,
            a.metric_name,
            dims.join(","),
            a.comparison,
            a.threshold,
            a.evaluation_periods,
            a.period_seconds,
            a.state
        );
    }
    Ok(())
}
