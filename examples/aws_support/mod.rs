//! What the `aws_*` examples share: the command line (`--prefix P`, `--plan`,
//! flags), the standard AWS environment, the request log and the last line
//! `mutating requests: N`.
//!
//! Included by each example with `#[path = "aws_support/mod.rs"] mod aws_support;`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use deploy::Error;
use deploy::aws::{AwsBackends, RequestLog};

/// The parsed command line.
#[derive(Debug, Clone)]
pub struct Args {
    /// The prefix every resource name starts with.
    pub prefix: String,
    /// Print the plan only; make no mutating request.
    pub plan: bool,
    /// Positional words (a subcommand).
    pub words: Vec<String>,
    /// `--name value` options other than `--prefix`.
    pub options: BTreeMap<String, String>,
    /// `--flag` switches other than `--plan`.
    pub flags: Vec<String>,
}

impl Args {
    /// Whether `--flag` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// The value of `--name`.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }
}

/// The prefix rule: it starts bucket, IAM, KMS, RDS and secret names alike, so
/// it keeps to what all of them accept.
pub const PREFIX_RULE: &str = "prefixes: 3 to 30 characters, lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen";

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

/// Parse `std::env::args`: `--prefix P` (required), `--plan`, the `value_options`
/// (`--name value`), the `switches` (`--name`) and positional words.
///
/// # Errors
/// [`Error::InvalidInput`] naming the argument.
pub fn parse_args(value_options: &[&str], switches: &[&str]) -> deploy::Result<Args> {
    let mut args = std::env::args().skip(1);
    let (mut prefix, mut plan) = (None, false);
    let (mut words, mut options, mut flags) = (Vec::new(), BTreeMap::new(), Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prefix" => prefix = Some(args.next().ok_or_else(|| Error::invalid("prefix", "has no value", "--prefix P"))?),
            "--plan" => plan = true,
            a if a.starts_with("--") && value_options.contains(&&a[2..]) => {
                let name = a[2..].to_owned();
                let value = args.next().ok_or_else(|| Error::invalid(name.clone(), "has no value", format!("--{name} VALUE")))?;
                options.insert(name, value);
            }
            a if a.starts_with("--") && switches.contains(&&a[2..]) => flags.push(a[2..].to_owned()),
            a if a.starts_with("--") => return Err(Error::invalid(a.trim_start_matches('-'), "is not an option of this example", usage(value_options, switches))),
            _ => words.push(arg),
        }
    }
    let prefix = prefix.ok_or_else(|| Error::invalid("prefix", "is missing", "--prefix P is required"))?;
    validate_prefix(&prefix)?;
    Ok(Args { prefix, plan, words, options, flags })
}

fn usage(value_options: &[&str], switches: &[&str]) -> String {
    let mut usage = String::from("usage: --prefix P [--plan]");
    for o in value_options {
        usage.push_str(&format!(" [--{o} VALUE]"));
    }
    for s in switches {
        usage.push_str(&format!(" [--{s}]"));
    }
    usage
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

/// A section heading.
pub fn section(title: &str) {
    println!("\n== {title}");
}

/// Print a plan indented, or `(no changes)`.
pub fn print_plan(plan: &deploy::Plan) {
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
    if args.plan {
        println!("\n--plan: nothing changed");
    }
    args.plan
}

/// Print `plan`, then [`stop_if_plan`].
pub fn plan_only(args: &Args, plan: &deploy::Plan) -> bool {
    print_plan(plan);
    stop_if_plan(args)
}

/// Run `body`, then print `mutating requests: N` last, and turn the outcome
/// into the exit code (1 on any error, printed to stderr).
pub async fn finish<F>(log: &RequestLog, body: F) -> ExitCode
where
    F: std::future::Future<Output = deploy::Result<()>>,
{
    // `DEPLOY_LOG=trace|debug|info|warn|error`: the library's and the SDK's tracing on stderr.
    if let Ok(level) = std::env::var("DEPLOY_LOG") {
        let level: tracing_subscriber::filter::LevelFilter = level.parse().unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).init();
    }
    let outcome = body.await;
    let code = match &outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    };
    println!("mutating requests: {}", log.mutating().len());
    code
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
    let secret = spec.admin_password_secret.clone().ok_or_else(|| Error::invalid("admin_password_secret", "is missing", "the examples keep the password in a secret"))?;
    println!("  admin password in secret {secret}");
    let options = deploy::core::secret_store::PutSecretOptions {
        description: Some(format!("administrator password of {what} {}", spec.name)),
        ..Default::default()
    };
    let rules = deploy::PasswordRules::simphera();
    if secrets.ensure_password(&secret, &rules, PASSWORD_LENGTH, &options).await?.changed {
        done.push(deploy::Change::create("secret", secret.as_str()));
    }
    let stored = secrets.get_secret(&secret).await?;
    spec.admin_password =
        Some(deploy::Password::new(secrecy::ExposeSecret::expose_secret(&stored.value), &rules).map_err(|e| e.in_field("admin_password_secret"))?);
    Ok(())
}
