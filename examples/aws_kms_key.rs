//! The Deeploy seed's KMS key: a symmetric key named by an alias, with yearly
//! rotation and the Deeploy key policy, which lets the application's IAM user
//! use the key (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey)
//! while the account root keeps its administration.
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - IAM user `P-app` (the application principal; `aws_bucket_access` makes
//!   the same user), when missing;
//! - KMS key with alias `alias/P-app`: rotation on, description
//!   `application key of P`, the Deeploy key policy for `P-app`'s ARN.
//!
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_kms_key -- --prefix acme-prod [--plan]
//! ```
//!
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::collections::BTreeMap;
use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::iam::{IamName, UserSpec};
use deploy::aws::kms::{KeyAlias, KeyPolicy, KeySpec};
use deploy::{Change, Plan, Reconcile as _};

use aws_support::{plan_only, print_plan, section};

/// KMS key with alias, yearly rotation and the Deeploy key policy for the application user (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
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

fn key_spec(alias: &KeyAlias, prefix: &str, principal: String) -> KeySpec {
    KeySpec { description: format!("application key of {prefix}"), ..KeySpec::new(alias.clone()) }
        .with_policy(KeyPolicy::Application { application_principal: principal })
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let user = IamName::new(format!("{}-app", args.prefix))?;
    let alias = KeyAlias::new(format!("alias/{}-app", args.prefix))?;
    let aws = aws_support::backends(log).await;
    let (iam, kms) = (aws.iam(), aws.kms());

    section(&format!("plan for prefix {}", args.prefix));
    let mut plan = Plan::new();
    match iam.describe_user(&user).await {
        Ok(info) => plan.extend(kms.plan(&key_spec(&alias, &args.prefix, info.arn)).await?),
        Err(e) if e.is_not_found() => {
            plan.push(Change::create("iam user", user.as_str()));
            plan.push(Change::create("kms key", format!("{alias} (rotated, Deeploy key policy for user {user})")));
        }
        Err(e) => return Err(e),
    }
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    println!("  iam user {user}");
    let principal =
        iam.ensure(&UserSpec { name: user.clone(), tags: BTreeMap::from([("deploy-prefix".to_owned(), args.prefix.clone())]) }).await?;
    done.extend(principal.plan);
    println!("  kms key {alias} for {}", principal.info.arn);
    let key = kms.ensure(&key_spec(&alias, &args.prefix, principal.info.arn.clone())).await?;
    done.extend(key.plan);

    section("changes made");
    print_plan(&done);

    section("summary");
    let k = &key.info;
    cli::output("key_alias", k.alias.to_string());
    cli::output("key_arn", &k.arn);
    cli::output("user_arn", &principal.info.arn);
    println!("  key      {} ({}), {}", k.alias, k.arn, k.state);
    println!("  rotation {}", if k.rotation { "on (yearly)" } else { "off" });
    println!("  policy   {} may use the key; arn:aws:iam::{}:root administers it", principal.info.arn, k.account_id);
    Ok(())
}
