//! The `azure_disaster_recovery` example, run as a user would (the compiled
//! binary, `--objects-only`) against Azurite: backup, the same backup again,
//! damage, restore of the latest backup, the same restore again.
//!
//! How the binaries are found: [`crate::support::examples`].

use std::path::PathBuf;
use std::process::{Command, Output};

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt as _};
use deploy_azure::blob::BlobStore;
use deploy_azure::sas::{AZURITE_ACCOUNT, AZURITE_KEY};

use crate::support;
use crate::support::examples::{Recorder, example_binary};

/// The example with `args` against the Blob endpoint `blob_endpoint`, the account key in the environment only.
pub(crate) fn command(binary: &PathBuf, blob_endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .args(["--objects-only", "--blob-endpoint", blob_endpoint, "--account-name", AZURITE_ACCOUNT, "--account-key"])
        .env("AZURE_STORAGE_KEY", AZURITE_KEY)
        // Nothing may fall back to a real service principal.
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_SUBSCRIPTION_ID");
    command
}

/// The output of `command`, checked: neither the account key nor a SAS signature printed.
pub(crate) fn output(mut command: Command) -> Result<(std::process::ExitStatus, String, String)> {
    let Output { status, stdout, stderr } = command.output().with_context(|| format!("running {command:?}"))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned());
    for text in [&stdout, &stderr] {
        ensure!(!text.contains(AZURITE_KEY), "the account key was printed");
        ensure!(!text.contains("sig="), "a SAS signature was printed");
    }
    Ok((status, stdout, stderr))
}

/// Run the example with `args` against the Blob endpoint `blob_endpoint`, the account key in the environment only.
pub(crate) fn run(binary: &PathBuf, blob_endpoint: &str, args: &[&str]) -> Result<String> {
    let (status, stdout, stderr) = output(command(binary, blob_endpoint, args))?;
    ensure!(
        status.success() || (args.contains(&"--plan") && status.code() == Some(2)),
        "{args:?} failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("$ azure_disaster_recovery {}\n{stdout}", args.join(" "));
    Ok(stdout)
}

/// The line of `output` starting with `prefix`.
pub(crate) fn line<'a>(output: &'a str, prefix: &str) -> Result<&'a str> {
    output.lines().find(|l| l.starts_with(prefix)).with_context(|| format!("no line starting with {prefix:?} in:\n{output}"))
}

#[tokio::test]
async fn disaster_recovery_example_backs_up_and_restores_a_container_on_azurite() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else {
        return Ok(());
    };
    let binary = example_binary("azure_disaster_recovery")?;
    let store = BlobStore::azurite(&azurite.blob_endpoint, &azurite.account_sas())?;
    // The example goes through a recording proxy; the test's own calls go straight to Azurite.
    let recorder = Recorder::start(&azurite.blob_endpoint)?;
    let blob = recorder.endpoint.clone();
    let prefix = format!("dr{}", support::unique_suffix());
    let assets = BucketName::new(format!("{prefix}-assets"))?;
    let backup = BucketName::new(format!("{prefix}-backup"))?;
    store.ensure_bucket(&BucketSpec::new(assets.clone())).await?;
    let blobs: Vec<(&str, Bytes)> = vec![
        ("models/m1.json", Bytes::from_static(b"{\"model\":1}")),
        ("datasets/d 1.csv", Bytes::from(b"a,b\n1,2\n".repeat(500))),
        ("notes/empty", Bytes::new()),
    ];
    for (key, body) in &blobs {
        store.put_bytes(&assets, &ObjectKey::new(*key)?, body.clone()).await?;
    }

    // Plan first: nothing is created.
    recorder.proxy.clear();
    let planned = run(&binary, &blob, &["backup", "--prefix", &prefix, "--plan"])?;
    ensure!(planned.contains(&format!("+ create bucket {backup}")), "plan names the backup container:\n{planned}");
    ensure!(planned.contains("3 objects"), "plan counts the blobs:\n{planned}");
    assert!(store.describe_bucket(&backup).await.is_err_and(|e| e.is_not_found()), "--plan created nothing");
    recorder.none_mutating("backup --plan")?;

    // Backup: P-backup created, one timestamped folder with every blob.
    let out = run(&binary, &blob, &["backup", "--prefix", &prefix])?;
    let summary = line(&out, "summary: backup ")?;
    let id = summary["summary: backup ".len()..].split_whitespace().next().context("backup id")?.to_owned();
    ensure!(line(&out, &format!("backup {id}: 3 objects"))?.contains("(3 copied, 0 already there)"));
    for (key, body) in &blobs {
        let copy = store.get_bytes(&backup, &ObjectKey::new(format!("{id}/{key}"))?).await?;
        ensure!(copy == *body, "backup copy of {key} differs");
    }

    // The same backup again changes nothing, planned or run.
    recorder.proxy.clear();
    let again = run(&binary, &blob, &["backup", "--prefix", &prefix, "--id", &id, "--plan"])?;
    ensure!(again.contains("(no changes"), "second plan is empty:\n{again}");
    let again = run(&binary, &blob, &["backup", "--prefix", &prefix, "--id", &id])?;
    ensure!(again.contains(&format!("summary: backup {id} is already complete; nothing changed")), "{again}");
    recorder.none_mutating("the second backup")?;

    // Damage: one blob lost, one overwritten.
    store.delete(&assets, &ObjectKey::new("models/m1.json")?).await?;
    store.put_bytes(&assets, &ObjectKey::new("datasets/d 1.csv")?, Bytes::from_static(b"garbage")).await?;

    // Restore the latest backup: exactly the two damaged blobs are written,
    // one of them over the live blob, which Azurite keeps no version of: only
    // with the confirmation naming the container.
    let planned = run(&binary, &blob, &["restore", "--prefix", &prefix, "--from", "latest", "--plan"])?;
    ensure!(planned.contains(&format!("plan: container restore of backup {id}")), "{planned}");
    ensure!(planned.matches("+ create blob").count() == 1, "one blob to write back:\n{planned}");
    ensure!(planned.contains(&format!("~ update blob {assets}/datasets/d 1.csv")), "one blob to overwrite, named:\n{planned}");
    ensure!(planned.contains("current content lost"), "the plan does not say the overwrite loses the live blob:\n{planned}");
    recorder.proxy.clear();
    let refused = Command::new(&binary)
        .args([
            "restore",
            "--prefix",
            &prefix,
            "--from",
            "latest",
            "--objects-only",
            "--blob-endpoint",
            &blob,
            "--account-name",
            AZURITE_ACCOUNT,
            "--account-key",
        ])
        .env("AZURE_STORAGE_KEY", AZURITE_KEY)
        .output()?;
    ensure!(
        !refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains(&format!("{prefix}-assets")),
        "an unconfirmed overwrite was not refused"
    );
    recorder.none_mutating("the refused restore")?;
    let out =
        run(&binary, &blob, &["restore", "--prefix", &prefix, "--from", "latest", "--confirm-overwrite", &format!("{prefix}-assets")])?;
    ensure!(out.contains(&format!("summary: restore of backup {id}: 2 blobs written, 1 already identical, 3 verified")), "{out}");
    for (key, body) in &blobs {
        let got = store.get_bytes(&assets, &ObjectKey::new(*key)?).await?;
        ensure!(got == *body, "restored {key} differs");
    }

    // The same restore again writes nothing.
    recorder.proxy.clear();
    let out = run(&binary, &blob, &["restore", "--prefix", &prefix, "--from", &id])?;
    ensure!(out.contains("0 blobs written, 3 already identical, 3 verified"), "{out}");
    let planned = run(&binary, &blob, &["restore", "--prefix", &prefix, "--from", &id, "--plan"])?;
    ensure!(planned.contains("(no changes"), "{planned}");
    recorder.none_mutating("the second restore")?;
    Ok(())
}

#[path = "../../crates/deploy-azure/tests/azure/contract.rs"]
pub(crate) mod contract;
/// The fake ARM endpoint of deploy-azure's own tests, and the contracts (from the public REST API specs) it
/// checks every request against.
#[path = "../../crates/deploy-azure/tests/azure/fake_arm.rs"]
pub(crate) mod fake_arm;

/// The fake ARM endpoint behind a recording proxy: the examples talk to the
/// proxy, which counts what they send; the test reads and seeds the fake's state.
struct Arm {
    fake: fake_arm::FakeArm,
    recorder: Recorder,
}

impl Arm {
    async fn start() -> Result<Arm> {
        let fake = fake_arm::FakeArm::start().await;
        let recorder = Recorder::start(&fake.server.uri())?;
        // The examples reach the fake through the recorder: polling URLs name the recorder's host (the
        // client refuses polling URLs on any other host than its endpoint's).
        fake.polling_base(&recorder.endpoint);
        // Each example run is a new process: a role assignment made by the first run is read by the next one
        // at once here, minutes later in real use. The lag within one run is deploy-azure's own test
        // (arm::role_assignment_is_done_at_201_and_replication_lag_is_tolerated).
        fake.role_assignment_lag(0);
        Ok(Arm { fake, recorder })
    }
}

/// Run a provisioning example against the fake ARM endpoint, signed in with
/// the fake's token through `AZURE_ARM_ACCESS_TOKEN`.
fn run_arm(binary: &PathBuf, arm: &Arm, args: &[&str]) -> Result<String> {
    run_arm_command(Command::new(binary), arm, args)
}

/// [`run_arm`] of a command prepared by the caller (more environment).
fn run_arm_command(mut command: Command, arm: &Arm, args: &[&str]) -> Result<String> {
    const PASSWORD: &str = "SENTINEL-Pw-42!x";
    let binary = PathBuf::from(command.get_program());
    let Output { status, stdout, stderr } = command
        .args(args)
        .args(["--arm-endpoint", &arm.recorder.endpoint])
        .env("AZURE_ARM_ACCESS_TOKEN", "fake-arm-token")
        .env("AZURE_SUBSCRIPTION_ID", fake_arm::SUBSCRIPTION)
        .env("PG_ADMIN_PASSWORD", PASSWORD)
        .env_remove("AZURE_CLIENT_SECRET")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    for text in [&stdout, &stderr] {
        ensure!(
            !text.contains("fake-arm-token") && !text.contains(PASSWORD) && !text.contains(AZURITE_KEY) && !text.contains("sig="),
            "a secret was printed"
        );
    }
    ensure!(
        status.success() || (args.contains(&"--plan") && status.code() == Some(2)),
        "{args:?} failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("$ {} {}\n{stdout}", binary.file_name().unwrap_or_default().to_string_lossy(), args.join(" "));
    Ok(stdout.into_owned())
}

#[tokio::test]
async fn provisioning_examples_plan_apply_and_change_nothing_the_second_time_on_fake_arm() -> Result<()> {
    let names = ["azure_postgres_flexible", "azure_aks_cluster", "azure_private_network", "azure_blob_access"];
    let mut binaries = Vec::new();
    for name in names {
        binaries.push(example_binary(name)?);
    }
    let arm = Arm::start().await?;
    const PRINCIPAL: [&str; 2] = ["--principal-id", "11111111-2222-4333-8444-555555555555"];
    for binary in &binaries {
        let extra: &[&'static str] = if binary.ends_with("azure_blob_access") { &PRINCIPAL } else { &[] };
        let with = |more: &[&'static str]| -> Vec<&'static str> { [&["--prefix", "vectice"], extra, more].concat() };

        arm.recorder.proxy.clear();
        let planned = run_arm(binary, &arm, &with(&["--plan"]))?;
        ensure!(planned.contains("  + create "), "a fresh subscription needs creating:\n{planned}");
        ensure!(planned.contains("summary: --plan given, nothing changed"), "{planned}");
        arm.recorder.none_mutating("--plan")?;

        arm.recorder.proxy.clear();
        let made = run_arm(binary, &arm, &with(&[]))?;
        ensure!(made.contains(" changes made"), "{made}");
        ensure!(!arm.recorder.mutating().is_empty(), "the first run sent no PUT through the proxy");

        arm.recorder.proxy.clear();
        let again = run_arm(binary, &arm, &with(&[]))?;
        ensure!(again.contains("everything already matches, nothing changed"), "{again}");
        arm.recorder.none_mutating("the second run")?;
    }
    Ok(())
}

/// An Azure Policy that tags every resource (`CreatedOnDate`) makes each run plan and write tag updates;
/// with `--ignore-tag CreatedOnDate` the example plans nothing and writes nothing.
#[tokio::test]
async fn provisioning_example_ignores_a_tag_a_policy_adds_when_told() -> Result<()> {
    let binary = example_binary("azure_postgres_flexible")?;
    let arm = Arm::start().await?;
    run_arm(&binary, &arm, &["--prefix", "policy"])?;
    arm.fake.policy_tag("CreatedOnDate", "2026-12-01T10:00:00Z");
    let planned = run_arm(&binary, &arm, &["--prefix", "policy", "--plan"])?;
    ensure!(planned.contains("  ~ update ") && planned.contains("tags"), "the policy's tag is not a change without the flag:\n{planned}");
    arm.recorder.proxy.clear();
    let ignoring = run_arm(&binary, &arm, &["--prefix", "policy", "--plan", "--ignore-tag", "CreatedOnDate"])?;
    ensure!(!ignoring.contains("  ~ update "), "{ignoring}");
    let applied = run_arm(&binary, &arm, &["--prefix", "policy", "--ignore-tag", "createdondate"])?;
    ensure!(applied.contains("everything already matches, nothing changed"), "{applied}");
    arm.recorder.none_mutating("the runs ignoring the tag")?;
    Ok(())
}

#[tokio::test]
async fn disaster_recovery_example_with_its_server_part_on_azurite_and_fake_arm() -> Result<()> {
    let Some(azurite) = support::azurite_peer() else {
        return Ok(());
    };
    let (dr, postgres) = (example_binary("azure_disaster_recovery")?, example_binary("azure_postgres_flexible")?);
    let arm = Arm::start().await?;
    let fake = &arm.fake;
    let prefix = format!("dr{}", support::unique_suffix());
    run_arm(&postgres, &arm, &["--prefix", &prefix])?;
    // ARM reports a restorable window once the first automatic backup ran: an hour ago here.
    let server_path = format!(
        "/subscriptions/{}/resourceGroups/{prefix}-rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/{prefix}-db",
        fake_arm::SUBSCRIPTION
    );
    let mut server = fake.resource(&server_path).context("the server the example made")?;
    server["properties"]["backup"]["earliestRestoreDate"] =
        serde_json::json!((jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string());
    fake.seed(&server_path, server);

    let store = BlobStore::azurite(&azurite.blob_endpoint, &azurite.account_sas())?;
    let blob_recorder = Recorder::start(&azurite.blob_endpoint)?;
    let blob = blob_recorder.endpoint.clone();
    let assets = BucketName::new(format!("{prefix}-assets"))?;
    store.ensure_bucket(&BucketSpec::new(assets.clone())).await?;
    store.put_bytes(&assets, &ObjectKey::new("models/m.json")?, Bytes::from_static(b"{}")).await?;

    let blob_args = ["--blob-endpoint", blob.as_str(), "--account-name", AZURITE_ACCOUNT, "--account-key"];
    let run_dr = |args: &[&str]| -> Result<String> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&blob_args);
        let mut command = Command::new(&dr);
        command.env("AZURE_STORAGE_KEY", AZURITE_KEY);
        run_arm_command(command, &arm, &all)
    };
    let out = run_dr(&["backup", "--prefix", &prefix])?;
    ensure!(out.contains(&format!("server {prefix}-db: automatic backups, 7 days kept")), "{out}");
    let id = line(&out, "summary: backup ")?["summary: backup ".len()..].split_whitespace().next().context("backup id")?.to_owned();
    ensure!(out.contains(&format!("server {prefix}-db: restore point ")), "{out}");

    let planned = run_dr(&["restore", "--prefix", &prefix, "--from", "latest", "--plan"])?;
    ensure!(planned.contains(&format!("+ create database {prefix}-db-restored (point-in-time restore of {prefix}-db")), "{planned}");
    let out = run_dr(&["restore", "--prefix", &prefix, "--from", "latest"])?;
    ensure!(out.contains(&format!("server {prefix}-db-restored: restored")), "{out}");
    let restored = fake.resource(&format!("{server_path}-restored")).context("the restored server")?;
    ensure!(restored["properties"]["createMode"] == "PointInTimeRestore");
    let point = restored["properties"]["pointInTimeUTC"].as_str().unwrap_or_default().to_owned();
    let expected: deploy::recipes::SnapshotId = id.parse()?;
    ensure!(point == expected.timestamp().to_string(), "restored to {point}, backup {id}");

    arm.recorder.proxy.clear();
    blob_recorder.proxy.clear();
    let again = run_dr(&["restore", "--prefix", &prefix, "--from", &id])?;
    ensure!(again.contains(&format!("server {prefix}-db-restored: exists, left alone")), "{again}");
    ensure!(again.contains("0 blobs written"), "{again}");
    arm.recorder.none_mutating("the second restore (ARM)")?;
    blob_recorder.none_mutating("the second restore (Blob)")?;
    Ok(())
}

/// `--credential managed-identity` (and `auto`, which finds App Service's
/// variables): the example asks the host's identity endpoint, in App
/// Service's documented shape (`IDENTITY_ENDPOINT`, header
/// `X-IDENTITY-HEADER`, api-version 2019-08-01), for a token of the ARM
/// endpoint it was given (the scope is the endpoint's origin), and signs in
/// to the fake ARM with it. With nothing configured, `auto` fails before any
/// ARM request, naming the ways to sign in.
#[tokio::test]
async fn provisioning_example_signs_in_with_a_managed_identity_for_its_endpoint() -> Result<()> {
    use wiremock::matchers::{method, path};
    const HOST_SECRET: &str = "identity-header-SENTINEL";
    let binary = example_binary("azure_private_network")?;
    let arm = Arm::start().await?;
    let identity = wiremock::MockServer::start().await;
    let expires_on = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).as_second().to_string();
    wiremock::Mock::given(method("GET"))
        .and(path("/msi/token"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "fake-arm-token", "expires_on": expires_on, "resource": arm.recorder.endpoint, "token_type": "Bearer",
        })))
        .mount(&identity)
        .await;
    let example = |how: &str, host: bool| -> Result<(Option<i32>, String, String)> {
        let mut command = Command::new(&binary);
        command
            .args(["--prefix", "mi", "--plan", "--credential", how, "--arm-endpoint", &arm.recorder.endpoint])
            .env("AZURE_SUBSCRIPTION_ID", fake_arm::SUBSCRIPTION);
        for var in ["AZURE_ARM_ACCESS_TOKEN", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT"] {
            command.env_remove(var);
        }
        if host {
            command.env("IDENTITY_ENDPOINT", format!("{}/msi/token", identity.uri())).env("IDENTITY_HEADER", HOST_SECRET);
        } else {
            command.env_remove("IDENTITY_ENDPOINT").env_remove("IDENTITY_HEADER");
        }
        let Output { status, stdout, stderr } = command.output()?;
        let (stdout, stderr) = (String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned());
        for text in [&stdout, &stderr] {
            ensure!(!text.contains(HOST_SECRET) && !text.contains("fake-arm-token"), "a secret was printed:\n{text}");
        }
        Ok((status.code(), stdout, stderr))
    };
    for how in ["managed-identity", "auto"] {
        let (code, stdout, stderr) = example(how, true)?;
        ensure!(code == Some(2) && stdout.contains("  + create "), "--credential {how}: {code:?}\n{stdout}\n{stderr}");
    }
    let asked = identity.received_requests().await.unwrap_or_default();
    ensure!(asked.len() >= 2, "one token request per run: {}", asked.len());
    for request in &asked {
        let query: std::collections::HashMap<_, _> = request.url.query_pairs().into_owned().collect();
        ensure!(query.get("api-version").map(String::as_str) == Some("2019-08-01"), "{query:?}");
        ensure!(
            query.get("resource") == Some(&arm.recorder.endpoint.trim_end_matches('/').to_owned()),
            "the scope is the endpoint's: {query:?}"
        );
        ensure!(request.headers.get("x-identity-header").and_then(|v| v.to_str().ok()) == Some(HOST_SECRET), "{:?}", request.headers);
    }

    arm.recorder.proxy.clear();
    let (code, _, stderr) = example("auto", false)?;
    ensure!(code == Some(1) && stderr.contains("credential") && stderr.contains("AZURE_FEDERATED_TOKEN_FILE"), "{code:?}\n{stderr}");
    ensure!(arm.recorder.proxy.captured().is_empty(), "no ARM request without a credential");
    let (code, _, stderr) = example("sp", false)?;
    ensure!(code != Some(0) && stderr.contains("service-principal"), "a wrong --credential names the choices: {stderr}");
    Ok(())
}
