//! The `aws_*` examples as real processes against moto: each runs twice (the
//! second run makes no mutating request), `--plan` makes none, bad input fails
//! before any request naming the field, and the state they leave is read back
//! through deploy-aws and the SDK.
//!
//! The binaries are those `cargo test --workspace --all-features` builds
//! (`target/<profile>/examples/NAME`); build them with
//! `cargo build --features aws --examples` when running this test alone.

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{Context as _, Result, bail, ensure};
use deploy::{SecretName, SecretStore};
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::kms::{KeyAlias, Kms};
use deploy_aws::policy::{PolicyDocument, denies_insecure_transport};
use deploy_aws::secrets::SecretsManagerStore;
use secrecy::ExposeSecret as _;

use crate::support::{self, MOTO_REGION, MotoConfig};

/// One finished run of an example.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
    /// The number on the last line `mutating requests: N`, when printed.
    mutating: Option<usize>,
}

impl Run {
    fn mutating(&self) -> usize {
        self.mutating.unwrap_or_else(|| panic!("no `mutating requests:` line\n{}", self.show()))
    }

    fn show(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    fn assert_ok(&self, what: &str) -> &Self {
        assert!(self.ok, "{what} failed\n{}", self.show());
        self
    }
}

/// `target/<profile>/examples/NAME`, next to this test binary's `deps/`.
fn example_binary(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).context("test binary has no profile directory")?;
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "example binary {} is missing: build the examples first (`cargo build --features aws --examples`, \
             or `cargo test --workspace --all-features`, which builds them)",
            path.display()
        );
    }
    Ok(path)
}

/// Run example `name` with `args` against moto, in the standard AWS environment.
fn run(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<Run> {
    let binary = example_binary(name)?;
    let Output { status, stdout, stderr } = Command::new(&binary)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", MOTO_REGION)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned());
    let mutating = stdout.lines().rev().find_map(|l| l.strip_prefix("mutating requests: ")).map(|n| n.trim().parse().expect("a count"));
    Ok(Run { ok: status.success(), stdout, stderr, mutating })
}

/// A prefix no other test or run uses.
fn prefix() -> String {
    format!("e{}", &support::unique_suffix()[..10])
}

/// The shared checks: `--plan` first makes no mutating request; the first run
/// makes some; the second none and says so; a later `--plan` none.
fn twice(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<(Run, Run)> {
    let planned: Vec<&str> = args.iter().copied().chain(["--plan"]).collect();
    let plan = run(moto, name, &planned)?;
    plan.assert_ok("--plan");
    ensure!(plan.mutating() == 0, "--plan made mutating requests\n{}", plan.show());
    let first = run(moto, name, args)?;
    first.assert_ok("first run");
    ensure!(first.mutating() > 0, "the first run made no mutating request\n{}", first.show());
    let second = run(moto, name, args)?;
    second.assert_ok("second run");
    ensure!(second.mutating() == 0, "the second run changed something\n{}", second.show());
    let replan = run(moto, name, &planned)?;
    replan.assert_ok("--plan after the runs");
    ensure!(replan.mutating() == 0 && replan.stdout.contains("(no changes)"), "--plan after the runs still plans changes\n{}", replan.show());
    Ok((first, second))
}

/// Bad input: non-zero exit, the field named, no mutating request.
fn refuses_bad_prefix(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<()> {
    let bad = run(moto, name, &[args, &["--prefix", "UPPER_case"]].concat())?;
    ensure!(!bad.ok, "a bad prefix was accepted\n{}", bad.show());
    ensure!(bad.stderr.contains("prefix"), "the error does not name the field `prefix`\n{}", bad.show());
    ensure!(bad.mutating.unwrap_or(0) == 0, "a bad prefix made requests\n{}", bad.show());
    Ok(())
}

#[tokio::test]
async fn aws_bucket_access_makes_a_tls_only_bucket_and_a_scoped_user() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, second) = twice(&moto, "aws_bucket_access", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_bucket_access", &[])?;

    let sdk = moto.sdk_config().await;
    // The bucket refuses plain HTTP.
    let s3 = moto.s3_client().await;
    let policy = s3.get_bucket_policy().bucket(format!("{p}-assets")).send().await?;
    let policy: serde_json::Value = serde_json::from_str(policy.policy().context("no bucket policy")?)?;
    let statements = policy["Statement"].as_array().context("no statements")?;
    ensure!(statements.iter().any(denies_insecure_transport), "the bucket policy does not deny non-TLS requests: {policy}");

    // The user's policy names the bucket, never "*", and is attached.
    let iam = Iam::new(&sdk);
    let user = IamName::new(format!("{p}-app"))?;
    let info = iam.describe_policy(&IamName::new(format!("{p}-assets-access"))?).await?;
    let document = PolicyDocument::from_json(&info.document.to_string())?;
    ensure!(!document.has_wildcard_resource(), "the access policy has Resource \"*\": {}", info.document);
    ensure!(info.document.to_string().contains(&format!("arn:aws:s3:::{p}-assets/*")), "the policy does not name the bucket's objects");
    let attached = iam.client().list_attached_user_policies().user_name(user.as_str()).send().await?;
    ensure!(attached.attached_policies().iter().any(|a| a.policy_arn() == Some(info.arn.as_str())), "the policy is not attached");

    // The key is in Secrets Manager, is the user's only key, and was never printed.
    let keys = iam.list_access_keys(&user).await?;
    ensure!(keys.len() == 1, "expected one access key, found {keys:?}");
    let secret = SecretsManagerStore::new(&sdk).get_secret(&SecretName::new(format!("{p}-app-access-key"))?).await?;
    let stored: serde_json::Value = serde_json::from_str(secret.value.expose_secret())?;
    ensure!(stored["AccessKeyId"] == keys[0].as_str(), "the stored key is not the user's");
    let secret_key = stored["SecretAccessKey"].as_str().context("no SecretAccessKey")?;
    for r in [&first, &second] {
        ensure!(!r.stdout.contains(secret_key) && !r.stderr.contains(secret_key), "the secret access key was printed");
    }
    Ok(())
}

#[tokio::test]
async fn aws_kms_key_grants_the_application_principal() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    twice(&moto, "aws_kms_key", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_kms_key", &[])?;

    let sdk = moto.sdk_config().await;
    let user = Iam::new(&sdk).describe_user(&IamName::new(format!("{p}-app"))?).await?;
    let key = Kms::new(&sdk).describe_key(&KeyAlias::new(format!("alias/{p}-app"))?).await?;
    ensure!(key.rotation, "rotation is off");
    let statements = key.policy["Statement"].as_array().context("no statements")?;
    let grants = statements.iter().find(|s| s.to_string().contains(&user.arn)).context("no statement for the application principal")?;
    for action in ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"] {
        ensure!(grants.to_string().contains(action), "the principal lacks {action}: {grants}");
    }
    ensure!(key.policy.to_string().contains(&format!("arn:aws:iam::{}:root", key.account_id)), "the account root lost the key");
    Ok(())
}
