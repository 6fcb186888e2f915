//! What the `aws_*` examples share: the flags `--prefix P`, `--plan`,
//! `--json` (clap), the standard AWS environment, the request log and the
//! last line `mutating requests: N`.
//!
//! Included by each example with `#[path = "aws_support/mod.rs"] mod aws_support;`,
//! beside `#[path = "cli/mod.rs"] mod cli;`.
#![allow(dead_code)]

use std::process::ExitCode;

use deploy::Error;
use deploy::aws::{AwsBackends, RequestLog};

/// The flags every `aws_*` example takes: `--prefix P`, `--plan`, `--json`
/// (flattened into each example's clap parser).
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The prefix every resource name starts with (3 to 30 characters: lowercase letters, digits,
    /// hyphens; starting with a letter)
    #[arg(long, value_name = "P")]
    pub prefix: String,
    #[command(flatten)]
    pub common: crate::cli::Common,
}

impl Args {
    /// Whether `--plan` was given.
    pub fn plan(&self) -> bool {
        self.common.plan
    }
}

/// The prefix rule: it starts bucket, IAM, KMS, RDS and secret names alike, so
/// it keeps to what all of them accept.
pub const PREFIX_RULE: &str =
    "prefixes: 3 to 30 characters, lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen";

/// Check `prefix` before any request.
///
/// # Errors
/// [`Error::InvalidInput`] on field `prefix`.
pub fn validate_prefix(prefix: &str) -> deploy::Result<()> {
    let ok = (3..=30).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && !prefix.ends_with('-')
        && !prefix.contains("--")
        && prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(Error::invalid("prefix", format!("`{prefix}` breaks the rule"), PREFIX_RULE)) }
}

/// The backends over the standard AWS environment (`AWS_REGION`, credentials,
/// `AWS_ENDPOINT_URL`, profiles), recording every request in `log`.
pub async fn backends(log: &RequestLog) -> AwsBackends {
    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let endpoint = sdk_config.endpoint_url().map(|e| format!(" at {e}")).unwrap_or_default();
    let region = sdk_config.region().map(ToString::to_string).unwrap_or_else(|| "(no region)".into());
    println!("AWS region {region}{endpoint}");
    AwsBackends::from_conf(&sdk_config).with_request_log(log)
}

/// The AWS partition of the configured region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs:
/// computed once by the backends' context.
pub fn partition(backends: &AwsBackends) -> &'static str {
    backends.partition()
}

/// The heading of the section being printed, for the JSON document.
static SECTION: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// A section heading.
pub fn section(title: &str) {
    println!("\n== {title}");
    *SECTION.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = title.to_owned();
}

/// Print a plan indented, or `(no changes)`; after `section("changes made")`
/// it is the JSON document's `changes_made`.
pub fn print_plan(plan: &deploy::Plan) {
    if SECTION.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_str() == "changes made" {
        crate::cli::field("changes_made", plan);
    }
    show_plan(plan);
}

fn show_plan(plan: &deploy::Plan) {
    if plan.is_empty() {
        println!("  (no changes)");
    } else {
        for line in plan.to_string().lines() {
            println!("  {line}");
        }
    }
}

/// Under `--plan`, say that nothing changed and answer true: the example stops there.
pub fn stop_if_plan(args: &Args) -> bool {
    if args.plan() {
        println!("\n--plan: nothing changed");
    }
    args.plan()
}

/// Print `plan` (the JSON document's `plan`: changes pending make `--plan`
/// exit 2), then [`stop_if_plan`].
pub fn plan_only(args: &Args, plan: &deploy::Plan) -> bool {
    crate::cli::plan("plan", plan);
    show_plan(plan);
    stop_if_plan(args)
}

/// Check the prefix, run `body`, then print `mutating requests: N` last, and
/// turn the outcome into the exit code (see the `cli` module: 0, 2 under
/// `--plan` with changes pending, 1 on any error, printed to stderr).
pub async fn finish<F>(log: &RequestLog, args: &Args, body: F) -> ExitCode
where
    F: std::future::Future<Output = deploy::Result<()>>,
{
    crate::cli::start(env!("CARGO_CRATE_NAME"), args.plan(), &args.common.output);
    // `DEPLOY_LOG=trace|debug|info|warn|error`: the library's and the SDK's tracing on stderr.
    if let Ok(level) = std::env::var("DEPLOY_LOG") {
        let level: tracing_subscriber::filter::LevelFilter = level.parse().unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).init();
    }
    let outcome = match validate_prefix(&args.prefix) {
        Ok(()) => body.await,
        Err(e) => Err(e),
    };
    if let Err(e) = &outcome {
        eprintln!("error: {e}");
    }
    let mutating = log.mutating().len();
    println!("mutating requests: {mutating}");
    crate::cli::exit(outcome.err().map(|e| (e.to_string(), e.invalid_field().map(ToString::to_string))), Some(mutating))
}

/// An observer printing recipe progress (steps, waits, copies) indented.
pub fn observer() -> deploy::Observer {
    deploy::Observer::new(|event: &deploy::Event| match event {
        deploy::Event::WaitPolled { .. } => {}
        other => println!("    . {other}"),
    })
}

/// `Ok(false)` for [`Error::NotFound`], `Ok(true)` for success.
///
/// # Errors
/// Any other error.
pub fn exists<T>(r: deploy::Result<T>) -> deploy::Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Length of the generated administrator passwords.
pub const PASSWORD_LENGTH: usize = 32;

/// What [`ensure_admin_password`] would do: create secret `secret`, with a
/// generated password, when it is missing.
///
/// # Errors
/// Secrets Manager errors.
pub async fn plan_admin_password(
    secrets: &deploy::aws::secrets::SecretsManagerStore,
    secret: &deploy::SecretName,
    plan: &mut deploy::Plan,
) -> deploy::Result<()> {
    use deploy::SecretStore as _;
    if !secrets.secret_exists(secret).await? {
        plan.push(deploy::Change::create("secret", format!("{secret} (generated admin password)")));
    }
    Ok(())
}

/// Make sure the spec's `admin_password_secret` holds an administrator
/// password (generated to the SIMPHERA rules when missing; recorded in
/// `done`) and put it into `spec.admin_password`. `what` names the resource
/// in the secret's description (`database`, `cluster`).
///
/// # Errors
/// Secrets Manager errors; [`Error::InvalidInput`] on `admin_password_secret`
/// when the stored value breaks the rules.
pub async fn ensure_admin_password(
    secrets: &deploy::aws::secrets::SecretsManagerStore,
    spec: &mut deploy::DatabaseSpec,
    what: &str,
    done: &mut deploy::Plan,
) -> deploy::Result<()> {
    use deploy::SecretStore as _;
    let secret = spec
        .admin_password_secret
        .clone()
        .ok_or_else(|| Error::invalid("admin_password_secret", "is missing", "the examples keep the password in a secret"))?;
    println!("  admin password in secret {secret}");
    let options = deploy::secret_store::PutSecretOptions {
        description: Some(format!("administrator password of {what} {}", spec.name)),
        ..Default::default()
    };
    let rules = deploy::PasswordRules::rds_master();
    if secrets.ensure_password(&secret, &rules, PASSWORD_LENGTH, &options).await?.changed {
        done.push(deploy::Change::create("secret", secret.as_str()));
    }
    let stored = secrets.get_secret(&secret).await?;
    spec.admin_password = Some(
        deploy::Password::new(secrecy::ExposeSecret::expose_secret(&stored.value), &rules)
            .map_err(|e| e.in_field("admin_password_secret"))?,
    );
    Ok(())
}
