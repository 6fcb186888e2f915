//! Vectice AWS appendix 2 and the Deeploy seed: the application's bucket and
//! the IAM user that may use it, with a bucket-scoped policy and an access key
//! kept in Secrets Manager.
//!
//! Creates (each only when missing; a second run changes nothing):
//! - bucket `P-assets`: versioned, encrypted (SSE-S3), public access blocked,
//!   a bucket policy denying every request not over TLS;
//! - IAM user `P-app`;
//! - managed policy `P-assets-access`: `s3:ListBucket` on the bucket and object
//!   access on `P-assets/*`, never `Resource: "*"`; attached to `P-app`;
//! - an access key of `P-app`, stored in secret `P-app-access-key` as
//!   `{"AccessKeyId", "SecretAccessKey"}`. The key is never printed.
//!
//! Configured by the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL` for a local endpoint such as moto):
//!
//! ```text
//! cargo run --features aws --example aws_bucket_access -- --prefix acme-prod [--plan] [--rotate-key]
//! ```
//!
//! `--rotate-key` rotates the access key (SIMPHERA's credential rotation): a
//! new key is created and stored in the secret, then the old one deactivated
//! and deleted; the user never has more than two keys, and a failure at any
//! step leaves a working key in the secret (run it again to finish).
//!
//! `--plan` prints what would change and makes no mutating request. The last
//! line is `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::collections::BTreeMap;
use std::process::ExitCode;

use deploy::aws::iam::{IamName, ManagedPolicySpec, RotateOptions, UserPolicySpec, UserSpec};
use deploy::aws::policy::{bucket_access_policy, equivalent};
use deploy::aws::{AwsBackends, RequestLog};
use deploy::{BucketName, BucketSpec, Change, FieldChange, ObjectStore, Plan, Reconcile as _, SecretName, SecretStore};

use aws_support::{plan_only, print_plan, section};

/// The names this example uses for prefix `p`.
struct Names {
    bucket: BucketName,
    user: IamName,
    policy: IamName,
    secret: SecretName,
}

impl Names {
    fn new(p: &str) -> deploy::Result<Self> {
        Ok(Names {
            bucket: BucketName::new(format!("{p}-assets"))?,
            user: IamName::new(format!("{p}-app"))?,
            policy: IamName::new(format!("{p}-assets-access"))?,
            secret: SecretName::new(format!("{p}-app-access-key"))?,
        })
    }
}

/// The application's bucket, its IAM user and policy, an access key in Secrets Manager (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Rotate the access key kept in the secret (a new key, then the old one deleted)
    #[arg(long)]
    rotate_key: bool,
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
    let names = Names::new(&args.prefix)?;
    let aws = aws_support::backends(log).await;
    let policy = ManagedPolicySpec {
        description: format!("access to bucket {} only", names.bucket),
        ..ManagedPolicySpec::new(names.policy.clone(), bucket_access_policy(aws_support::partition(&aws), &names.bucket))
    };
    assert!(!policy.document.has_wildcard_resource(), "the bucket policy names its resources");

    section(&format!("plan for prefix {}", args.prefix));
    let mut plan = plan(&aws, &names, &policy).await?;
    if args.rotate_key {
        plan.push(Change::update(
            "access key",
            names.user.as_str(),
            vec![FieldChange::new("id", "the stored key", "a new key (the old one deactivated, then deleted)")],
        ));
    }
    if plan_only(args, &plan) {
        return Ok(());
    }
    apply(&aws, &names, &policy, args).await
}

async fn plan(aws: &AwsBackends, names: &Names, policy: &ManagedPolicySpec) -> deploy::Result<Plan> {
    let iam = aws.iam();
    let mut plan = aws.s3().plan_bucket(&BucketSpec::new(names.bucket.clone())).await?;
    let user_exists = exists(iam.describe_user(&names.user).await)?;
    if !user_exists {
        plan.push(Change::create("iam user", names.user.as_str()));
    }
    let current = iam.describe_policy(&names.policy).await.map(Some).or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })?;
    let wanted = serde_json::to_value(&policy.document).expect("a policy serializes");
    match &current {
        None => plan.push(Change::create("iam policy", names.policy.as_str())),
        Some(p) if !equivalent(&p.document, &wanted) => {
            plan.push(Change::update("iam policy", names.policy.as_str(), vec![FieldChange::new("document", &p.document, &wanted)]));
        }
        Some(_) => {}
    }
    let attached = match (&current, user_exists) {
        (Some(p), true) => {
            let out = iam.client().list_attached_user_policies().user_name(names.user.as_str()).send().await;
            out.map(|o| o.attached_policies().iter().any(|a| a.policy_arn() == Some(p.arn.as_str()))).unwrap_or(false)
        }
        _ => false,
    };
    if !attached {
        plan.push(Change::create("policy attachment", format!("{} to user {}", names.policy, names.user)));
    }
    let keys = if user_exists { iam.list_access_keys(&names.user).await? } else { Vec::new() };
    let secrets = aws.secrets();
    let stored = secrets.secret_exists(&names.secret).await?;
    // Whether the stored key is still one of the user's is checked by ensure; here
    // a stored secret and a key of the user count as a working key.
    if !stored || keys.is_empty() {
        plan.push(Change::create("access key", format!("{} (stored in secret {})", names.user, names.secret)));
    }
    Ok(plan)
}

fn exists<T>(r: deploy::Result<T>) -> deploy::Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

async fn apply(aws: &AwsBackends, names: &Names, policy: &ManagedPolicySpec, args: &Cli) -> deploy::Result<()> {
    let (s3, iam, secrets) = (aws.s3(), aws.iam(), aws.secrets());
    let mut done = Plan::new();

    section("ensure");
    println!("  bucket {} (versioned, encrypted, private, TLS only)", names.bucket);
    done.extend(s3.ensure_bucket(&BucketSpec::new(names.bucket.clone())).await?);
    println!("  iam user {}", names.user);
    let user = iam
        .ensure(&UserSpec { name: names.user.clone(), tags: BTreeMap::from([("deploy-prefix".to_owned(), args.prefix.clone())]) })
        .await?;
    done.extend(user.plan);
    println!("  iam policy {}", names.policy);
    let policy = iam.ensure(policy).await?;
    done.extend(policy.plan);
    println!("  attach {} to {}", names.policy, names.user);
    done.extend(iam.ensure(&UserPolicySpec { user: names.user.clone(), policy_arn: policy.info.arn.clone() }).await?.plan);
    println!("  access key of {} in secret {}", names.user, names.secret);
    let key = iam.ensure_access_key(&names.user, &secrets as &dyn SecretStore, &names.secret).await?;
    done.extend(key.plan);
    let mut key_id = key.info;
    if args.rotate_key {
        println!("  rotate the access key of {} (new key stored first, then the old one deactivated and deleted)", names.user);
        let rotated = iam.rotate_access_key(&names.user, &secrets as &dyn SecretStore, &names.secret, &RotateOptions::default()).await?;
        done.extend(rotated.plan);
        println!("  retired  {}", rotated.info.retired.join(", "));
        key_id = rotated.info.current;
    }

    section("changes made");
    print_plan(&done);

    section("summary");
    let bucket = s3.describe_bucket(&names.bucket).await?;
    println!(
        "  bucket   {}: versioning {}, public access blocked {}, TLS only {}",
        bucket.name, bucket.versioning, bucket.block_public_access, bucket.require_tls
    );
    println!("  user     {} ({})", user.info.name, user.info.arn);
    println!(
        "  policy   {} ({}, {}), resources: {}",
        policy.info.name,
        policy.info.arn,
        policy.info.default_version,
        resources(&policy.info.document)
    );
    println!("  key id   {key_id} (secret access key in secret {}, not shown)", names.secret);
    cli::output("bucket", bucket.name.as_str());
    cli::output("user_arn", &user.info.arn);
    cli::output("policy_arn", &policy.info.arn);
    cli::output("access_key_id", key_id.to_string());
    cli::output("access_key_secret", names.secret.to_string());
    Ok(())
}

fn resources(document: &serde_json::Value) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in document["Statement"].as_array().into_iter().flatten() {
        match &s["Resource"] {
            serde_json::Value::String(r) => out.push(r.clone()),
            serde_json::Value::Array(rs) => out.extend(rs.iter().filter_map(|r| r.as_str().map(str::to_owned))),
            _ => {}
        }
    }
    out.join(", ")
}
