//! One command line for every example (clap): `--help` answers and names the
//! flags, an unknown flag fails before any request, `--json` prints one JSON
//! document on stdout (the human text on stderr; never a secret), and
//! `--plan` exits 2 when changes are pending, 0 when none.
//!
//! The plan exit codes of every provisioning example are checked by
//! [`crate::support::examples::twice`] (a fresh prefix: 2; after the runs: 0);
//! here the JSON documents of a representative set, and the exit codes again.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::{ObjectKey, ObjectStore as _, ObjectStoreExt as _, SecretName, SecretStore as _};
use deploy_aws::s3::S3Store;
use deploy_aws::secrets::SecretsManagerStore;
use secrecy::ExposeSecret as _;
use serde_json::Value;

use crate::support::examples::{Recorder, Run, example_binary, prefix, run};
use crate::support::{self, MotoConfig};

/// Every example and the flags its `--help` must name.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("quickstart", &["--plan", "--json"]),
    ("postgres_bootstrap", &["--url", "--ca-file", "--database", "--extension", "--plan", "--json"]),
    ("k8s_create_databases", &["--print-role", "--host", "--port", "--user", "--ca-file", "--namespace", "--image", "--json"]),
    (
        "k8s_pg_copy",
        &["--confirm", "--database", "--source-host", "--target-host", "--user", "--ca-file", "--port", "--namespace", "--image", "--json"],
    ),
    ("aws_aurora_replicated", &["--prefix", "--plan", "--json", "--replica-region"]),
    ("aws_backup_plan", &["--prefix", "--plan", "--json", "--retention-days"]),
    ("aws_bucket_access", &["--prefix", "--plan", "--json", "--rotate-key"]),
    ("aws_bucket_replication", &["--prefix", "--plan", "--json", "--replica-region"]),
    ("aws_database_ssl", &["--prefix", "--plan", "--json", "--rotate-password"]),
    (
        "aws_disaster_recovery",
        &[
            "backup",
            "restore",
            "--prefix",
            "--plan",
            "--json",
            "--from",
            "--to",
            "--resume",
            "--confirm-overwrite",
            "--objects-only",
            "--skip-bucket-setup",
            "--keep-newer",
            "--exact",
        ],
    ),
    ("aws_dns_records", &["--prefix", "--plan", "--json", "--vpc-id", "--lb-dns", "--lb-zone-id"]),
    ("aws_eks_cluster", &["--prefix", "--plan", "--json", "--version", "--instance-type", "--min", "--desired", "--max", "--kubeconfig"]),
    (
        "aws_health_alarms",
        &["--prefix", "--plan", "--json", "--email", "--kms-key", "--backup-vault", "--cpu-percent", "--free-storage-gib"],
    ),
    ("aws_kms_key", &["--prefix", "--plan", "--json"]),
    ("aws_pod_role", &["--prefix", "--plan", "--json", "--namespace", "--service-account", "--mode"]),
    ("aws_teardown", &["--prefix", "--plan", "--json", "--confirm", "--final-snapshots"]),
    ("azure_aks_cluster", &["--prefix", "--location", "--arm-endpoint", "--plan", "--json", "--version", "--vm-size", "--min", "--max"]),
    ("azure_blob_access", &["--prefix", "--location", "--arm-endpoint", "--plan", "--json", "--principal-id"]),
    (
        "azure_disaster_recovery",
        &[
            "backup",
            "restore",
            "--prefix",
            "--plan",
            "--json",
            "--from",
            "--id",
            "--objects-only",
            "--keep-newer",
            "--exact",
            "--confirm-overwrite",
            "--resource-group",
            "--location",
            "--blob-endpoint",
            "--account-name",
            "--account-key",
            "--arm-endpoint",
            "backup-shard",
            "--shards",
            "--in-cluster",
            "--image",
            "--parallelism",
            "--namespace",
            "--service-account",
            "--credentials-secret",
            "--shard-command",
        ],
    ),
    (
        "azure_postgres_flexible",
        &["--prefix", "--location", "--arm-endpoint", "--plan", "--json", "--version", "--sku", "--start-if-stopped"],
    ),
    ("azure_private_network", &["--prefix", "--location", "--arm-endpoint", "--plan", "--json"]),
];

/// A listener that nothing should connect to: every endpoint of the example
/// points at it, so a request made anyway is seen.
pub(crate) struct Tripwire {
    listener: TcpListener,
    pub(crate) url: String,
}

impl Tripwire {
    pub(crate) fn new() -> Result<Tripwire> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        Ok(Tripwire { listener, url })
    }

    pub(crate) fn untouched(&self, what: &str) -> Result<()> {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e.into()),
            Ok((_, from)) => anyhow::bail!("{what} made a request (a connection from {from})"),
        }
    }
}

/// The example `name` with `args`, every endpoint at `tripwire`, no credentials.
fn isolated(name: &str, args: &[&str], tripwire: &Tripwire) -> Result<Output> {
    isolated_with_env(name, args, tripwire, &[])
}

/// [`isolated`], with more environment variables. An example still running
/// after 30 s (stuck on the tripwire, which never answers) is killed: an error.
pub(crate) fn isolated_with_env(name: &str, args: &[&str], tripwire: &Tripwire, env: &[(&str, &str)]) -> Result<Output> {
    let kubeconfig = std::env::temp_dir().join(format!("deploy-cli-{}.kubeconfig", support::unique_suffix()));
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{}'}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\n\
             contexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n",
            tripwire.url
        ),
    )?;
    let mut child = Command::new(example_binary(name)?)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", &tripwire.url)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KUBECONFIG", &kubeconfig)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("running {name}"))?;
    let started = std::time::Instant::now();
    while child.try_wait()?.is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill()?;
            child.wait()?;
            std::fs::remove_file(&kubeconfig).ok();
            anyhow::bail!("{name} {args:?} still ran after 30 s (waiting on the tripwire?)");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::remove_file(&kubeconfig).ok();
    Ok(child.wait_with_output()?)
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_example_answers_help_naming_its_flags_and_refuses_an_unknown_flag_before_any_request() -> Result<()> {
    let tripwire = Tripwire::new()?;
    for (name, flags) in EXAMPLES {
        let help = isolated(name, &["--help"], &tripwire)?;
        let (out, err) = (text(&help.stdout), text(&help.stderr));
        ensure!(help.status.code() == Some(0), "{name} --help exited {:?}\n{out}\n{err}", help.status.code());
        ensure!(out.contains("Usage:"), "{name} --help prints no usage\n{out}");
        // The one-line about comes first.
        ensure!(out.lines().next().is_some_and(|l| l.len() > 20), "{name} --help has no about line\n{out}");
        for flag in *flags {
            ensure!(out.contains(flag), "{name} --help does not name {flag}\n{out}");
        }
        // Every flag is documented: its description beside it, or on the next line (long help).
        let lines: Vec<&str> = out.lines().collect();
        for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.trim_start().starts_with("--")) {
            let beside = line.trim().contains("  ");
            let below = lines.get(i + 1).is_some_and(|next| next.starts_with("          ") && !next.trim().is_empty());
            ensure!(beside || below, "{name}: flag without a description: `{line}`\n{out}");
        }

        let unknown = isolated(name, &["--no-such-flag"], &tripwire)?;
        let err = text(&unknown.stderr);
        ensure!(unknown.status.code() == Some(2), "{name} --no-such-flag exited {:?}, not clap's 2\n{err}", unknown.status.code());
        ensure!(err.contains("--no-such-flag"), "{name}: the usage error does not name the flag\n{err}");
        tripwire.untouched(&format!("{name} --no-such-flag"))?;
        // `--x=y` and `--x y` alike (clap): a value given with `=` is parsed, not an unknown flag.
        if flags.contains(&"--prefix") {
            let spelled = isolated(name, &["--prefix=UPPER_case", "--no-such-flag"], &tripwire)?;
            ensure!(
                text(&spelled.stderr).contains("--no-such-flag"),
                "{name}: `--prefix=VALUE` was not taken as a value\n{}",
                text(&spelled.stderr)
            );
        }
    }
    Ok(())
}

/// The whole stdout as one JSON document.
pub(crate) fn document(stdout: &str, what: &str) -> Result<Value> {
    serde_json::from_str(stdout).with_context(|| format!("{what}: stdout is not one JSON document\n{stdout}"))
}

fn changes(plan: &Value) -> usize {
    plan["changes"].as_array().map_or(0, Vec::len)
}

#[test]
fn quickstart_plan_and_report_as_json() -> Result<()> {
    let binary = example_binary("quickstart")?;
    let planned = Command::new(&binary).args(["--plan", "--json"]).output()?;
    let (out, err) = (text(&planned.stdout), text(&planned.stderr));
    ensure!(
        planned.status.code() == Some(2),
        "quickstart --plan on a fresh in-memory cloud exited {:?}, not 2\n{err}",
        planned.status.code()
    );
    let doc = document(&out, "quickstart --plan --json")?;
    ensure!(doc["example"] == "quickstart" && doc["mode"] == "plan" && doc["ok"] == true && doc["changes_pending"] == true, "{doc:#}");
    ensure!(changes(&doc["plan"]) > 3, "the plan lists no changes: {doc:#}");
    ensure!(err.contains("== 1. plan the production environment"), "the human text is not on stderr\n{err}");
    ensure!(doc.get("changes_made").is_none(), "--plan made changes: {doc:#}");

    let applied = Command::new(&binary).arg("--json").output()?;
    let (out, err) = (text(&applied.stdout), text(&applied.stderr));
    ensure!(applied.status.code() == Some(0), "quickstart --json exited {:?}\n{err}", applied.status.code());
    let doc = document(&out, "quickstart --json")?;
    ensure!(doc["mode"] == "apply" && doc["ok"] == true && doc.get("changes_pending").is_none(), "{doc:#}");
    ensure!(changes(&doc["plan"]) > 3 && changes(&doc["changes_made"]) > 3, "no plan or no changes in the document: {doc:#}");
    ensure!(doc["backup"]["bucket"]["objects"] == 250 && doc["verified"]["identical"] == 250, "{doc:#}");
    ensure!(doc["restore"]["bucket"]["verified"].as_u64().is_some_and(|n| n > 0), "{doc:#}");
    ensure!(err.contains("RESULT: OK"), "{err}");

    // Without --json the text stays on stdout, as before.
    let plain = Command::new(&binary).arg("--plan").output()?;
    ensure!(plain.status.code() == Some(2) && text(&plain.stdout).contains("== 1. plan"), "{}", text(&plain.stdout));
    Ok(())
}

/// Run an AWS example against moto with `--json`: the document, the run.
fn aws_json(moto: &MotoConfig, name: &str, args: &[&str]) -> Result<(Value, Run)> {
    let args: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
    let r = run(moto, name, &args)?;
    let doc = document(&r.stdout, &format!("{name} {args:?}")).with_context(|| r.show())?;
    ensure!(r.mutating.is_none(), "`mutating requests:` is on stdout beside the document\n{}", r.show());
    let last = r.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_owned();
    ensure!(
        last == format!("mutating requests: {}", doc["mutating_requests"]),
        "the last text line (stderr) `{last}` does not match the document's count {}\n{}",
        doc["mutating_requests"],
        r.show()
    );
    Ok((doc, r))
}

#[tokio::test]
async fn aws_kms_key_plan_apply_plan_as_json_with_exit_codes() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (doc, r) = aws_json(&moto, "aws_kms_key", &["--prefix", &p, "--plan"])?;
    ensure!(r.code == Some(2), "--plan on a fresh prefix exited {:?}\n{}", r.code, r.show());
    ensure!(doc["mode"] == "plan" && doc["changes_pending"] == true && doc["mutating_requests"] == 0, "{doc:#}");
    let kinds: Vec<&str> = doc["plan"]["changes"].as_array().context("no plan")?.iter().filter_map(|c| c["kind"].as_str()).collect();
    ensure!(kinds == ["iam user", "kms key"], "{doc:#}");

    let (doc, r) = aws_json(&moto, "aws_kms_key", &["--prefix", &p])?;
    ensure!(r.code == Some(0) && doc["mode"] == "apply" && doc["ok"] == true, "{}", r.show());
    ensure!(changes(&doc["changes_made"]) >= 2 && doc["mutating_requests"].as_u64().is_some_and(|n| n > 0), "{doc:#}");
    // The outputs: what was made, as moto knows it.
    let outputs = &doc["outputs"];
    ensure!(outputs["key_alias"] == format!("alias/{p}-app"), "{doc:#}");
    let sdk = moto.sdk_config().await;
    let alias = deploy_aws::kms::KeyAlias::new(format!("alias/{p}-app"))?;
    let key = deploy_aws::kms::Kms::new(&deploy_aws::AwsContext::new(&sdk)).describe_key(&alias).await?;
    ensure!(outputs["key_arn"] == key.arn, "{doc:#}");
    ensure!(outputs["user_arn"].as_str().is_some_and(|a| a.ends_with(&format!(":user/{p}-app"))), "{doc:#}");

    let (doc, r) = aws_json(&moto, "aws_kms_key", &["--prefix", &p, "--plan"])?;
    ensure!(r.code == Some(0), "--plan with nothing to change exited {:?}\n{}", r.code, r.show());
    ensure!(doc["changes_pending"] == false && changes(&doc["plan"]) == 0 && doc["mutating_requests"] == 0, "{doc:#}");

    // Bad input: the typed error in the document, exit 1, no request.
    let (doc, r) = aws_json(&moto, "aws_kms_key", &["--prefix", "UPPER_case"])?;
    ensure!(r.code == Some(1) && doc["ok"] == false && doc["error"]["field"] == "prefix" && doc["mutating_requests"] == 0, "{doc:#}");
    Ok(())
}

#[tokio::test]
async fn aws_bucket_access_json_never_holds_the_access_key() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, r) = aws_json(&moto, "aws_bucket_access", &["--prefix", &p])?;
    ensure!(r.code == Some(0), "{}", r.show());
    let (rotated, r2) = aws_json(&moto, "aws_bucket_access", &["--prefix", &p, "--rotate-key"])?;
    ensure!(r2.code == Some(0), "{}", r2.show());
    let secrets = SecretsManagerStore::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    let stored = secrets.get_secret(&SecretName::new(format!("{p}-app-access-key"))?).await?;
    let stored: Value = serde_json::from_str(stored.value.expose_secret())?;
    let secret_key = stored["SecretAccessKey"].as_str().context("no secret key stored")?;
    for (doc, run) in [(&first, &r), (&rotated, &r2)] {
        ensure!(
            !doc.to_string().contains(secret_key) && !run.stdout.contains(secret_key) && !run.stderr.contains(secret_key),
            "the secret key was printed"
        );
    }
    ensure!(changes(&first["changes_made"]) > 0, "{first:#}");
    Ok(())
}

/// A bucket on moto without the TLS-only policy (moto cannot evaluate it over plain HTTP).
async fn plain_bucket(store: &S3Store, name: &str, versioned: bool) -> Result<deploy::BucketName> {
    let name = deploy::BucketName::new(name)?;
    store.ensure_bucket(&deploy::BucketSpec { require_tls: false, versioning: versioned, ..deploy::BucketSpec::new(name.clone()) }).await?;
    Ok(name)
}

#[tokio::test]
async fn aws_disaster_recovery_backup_and_restore_as_json_with_plan_exit_codes() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let s3 = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    let bucket = plain_bucket(&s3, &format!("{p}-assets"), true).await?;
    plain_bucket(&s3, &format!("{p}-backup"), false).await?;
    let key = |i: usize| ObjectKey::new(format!("data/{i}.json")).expect("a key");
    for i in 0..4 {
        s3.put_bytes(&bucket, &key(i), Bytes::from(format!("object {i}"))).await?;
    }
    let common = ["--prefix", p.as_str(), "--objects-only", "--skip-bucket-setup"];
    let with = |first: &[&'static str], more: &[&'static str]| -> Vec<String> {
        first.iter().chain(common.iter()).chain(more.iter()).map(|s| (*s).to_owned()).collect()
    };
    let call = |args: Vec<String>| -> Result<(Value, Run)> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        aws_json(&moto, "aws_disaster_recovery", &args)
    };

    let (doc, r) = call(with(&["backup"], &["--plan"]))?;
    ensure!(
        r.code == Some(2) && doc["changes_pending"] == true && doc["plan"]["objects"] == 4 && doc["mutating_requests"] == 0,
        "{doc:#}\n{}",
        r.show()
    );
    let (doc, r) = call(with(&["backup"], &[]))?;
    ensure!(r.code == Some(0) && doc["report"]["bucket"]["objects"] == 4, "{doc:#}\n{}", r.show());
    let id = doc["report"]["bucket"]["id"].as_str().context("no snapshot id in the report")?.to_owned();

    s3.delete(&bucket, &key(0)).await?;
    s3.delete(&bucket, &key(1)).await?;
    let restore = |more: &[&'static str]| -> Vec<String> {
        let mut args = with(&["restore"], more);
        args.extend(["--from".to_owned(), id.clone()]);
        args
    };
    let (doc, r) = call(restore(&["--plan"]))?;
    ensure!(r.code == Some(2) && doc["changes_pending"] == true && doc["mutating_requests"] == 0, "{doc:#}\n{}", r.show());
    ensure!(doc["plan"]["missing"]["count"] == 2 && doc["plan"]["identical"] == 2, "the plan does not count what is missing: {doc:#}");
    let (doc, r) = call(restore(&[]))?;
    ensure!(r.code == Some(0) && doc["report"]["bucket"]["restored"] == 2, "{doc:#}\n{}", r.show());
    let (doc, r) = call(restore(&["--plan"]))?;
    ensure!(
        r.code == Some(0) && doc["changes_pending"] == false,
        "a restore --plan after the restore still has changes: {doc:#}\n{}",
        r.show()
    );
    ensure!(s3.get_bytes(&bucket, &key(0)).await? == "object 0", "the object is not back");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the fake ARM serves while the test blocks on the example
async fn azure_postgres_flexible_plan_apply_plan_as_json_on_the_fake_arm_without_its_password() -> Result<()> {
    const PASSWORD: &str = "SENTINEL-Cli-Pw-42!x";
    let binary = example_binary("azure_postgres_flexible")?;
    let fake = crate::azure_examples::fake_arm::FakeArm::start().await;
    let recorder = Recorder::start(&fake.server.uri())?;
    fake.polling_base(&recorder.endpoint);
    let p = "clijson";
    let call = |more: &[&str]| -> Result<(Option<i32>, Value, String)> {
        let out = Command::new(&binary)
            .args(["--prefix", p, "--json", "--arm-endpoint", &recorder.endpoint])
            .args(more)
            .env("AZURE_ARM_ACCESS_TOKEN", "fake-arm-token")
            .env("AZURE_SUBSCRIPTION_ID", crate::azure_examples::fake_arm::SUBSCRIPTION)
            .env("PG_ADMIN_PASSWORD", PASSWORD)
            .env_remove("AZURE_CLIENT_SECRET")
            .output()?;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        for t in [&stdout, &stderr] {
            ensure!(!t.contains(PASSWORD) && !t.contains("fake-arm-token"), "a secret was printed");
        }
        Ok((out.status.code(), document(&stdout, "azure_postgres_flexible --json").with_context(|| stderr.clone())?, stderr))
    };
    let (code, doc, err) = tokio::task::block_in_place(|| call(&["--plan"]))?;
    ensure!(code == Some(2) && doc["changes_pending"] == true && changes(&doc["plan"]) > 0, "{doc:#}\n{err}");
    recorder.none_mutating("--plan --json")?;
    let (code, doc, err) = tokio::task::block_in_place(|| call(&[]))?;
    ensure!(code == Some(0) && changes(&doc["changes_made"]) > 0, "{doc:#}\n{err}");
    // The outputs name the server ARM made, by its id.
    let server_id = doc["outputs"]["server_id"].as_str().context("no server_id output")?.to_owned();
    ensure!(fake.resource(&server_id).is_some_and(|r| r["name"] == format!("{p}-db")), "{doc:#}");
    ensure!(doc["outputs"]["databases"] == "vectice,keycloak", "{doc:#}");
    let (code, doc, err) = tokio::task::block_in_place(|| call(&["--plan"]))?;
    ensure!(code == Some(0) && doc["changes_pending"] == false && doc.get("outputs").is_none(), "{doc:#}\n{err}");
    Ok(())
}

/// The path of a file in the repository, for reading the README.
fn repository_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[test]
fn the_readme_documents_the_common_flags_and_exit_codes() -> Result<()> {
    let readme = std::fs::read_to_string(repository_file("README.md"))?;
    for needle in ["--json", "--plan", "exit code", "`2`"] {
        ensure!(readme.contains(needle), "the README does not mention {needle}");
    }
    Ok(())
}

#[test]
fn postgres_bootstrap_refuses_a_password_on_the_command_line_before_connecting() -> Result<()> {
    const SENTINEL: &str = "Sentinel-Argv-Pw-7";
    let tripwire = Tripwire::new()?;
    let port = tripwire.listener.local_addr()?.port();
    let url = format!("postgres://postgres:{SENTINEL}@127.0.0.1:{port}/postgres");
    // Everything else it needs is there: without the refusal it would connect.
    let out = isolated_with_env(
        "postgres_bootstrap",
        &["--url", &url, "--database", "vectice", "--json"],
        &tripwire,
        &[("DEPLOY_DB_PASSWORD_VECTICE", "Role-Pw-1")],
    )?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    tripwire.untouched("postgres_bootstrap with a password in --url")?;
    ensure!(out.status.code() == Some(1), "a password in --url was not refused (exit {:?})\n{stdout}\n{stderr}", out.status.code());
    ensure!(stderr.contains("url") && stderr.contains("DEPLOY_PG_URL"), "the refusal does not name the field and the way out\n{stderr}");
    ensure!(!stdout.contains(SENTINEL) && !stderr.contains(SENTINEL), "the password was printed");
    Ok(())
}
