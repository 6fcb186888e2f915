//! Secrets appear only where they must: two examples that make secrets (a
//! generated RDS master password, an IAM secret access key) run against moto
//! through a recording proxy with `DEPLOY_LOG=trace`; their values, read back
//! from Secrets Manager, are then searched for in everything the runs emitted
//! (stdout, stderr with the TRACE output of the library and the SDK) and in
//! every captured request. Only the requests that must carry them may: the
//! Secrets Manager call that stores each, and `CreateDBInstance` for the
//! master password.

use anyhow::{Context as _, Result, ensure};
use deploy::{SecretName, SecretStore as _};
use deploy_aws::secrets::SecretsManagerStore;
use secrecy::ExposeSecret as _;

use crate::aws_examples::{prefix, run_with_env};
use crate::support::fault_proxy::{Captured, FaultConfig, FaultProxy};
use crate::support::{self, MotoConfig};

/// What a request is: the `X-Amz-Target` (JSON protocols) or the `Action` (query protocol).
fn operation(c: &Captured) -> String {
    if let Some((_, target)) = c.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target")) {
        return target.clone();
    }
    let body = c.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    body.split('&').find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned)).unwrap_or_else(|| format!("{} {}", c.method, c.path))
}

fn carries(c: &Captured, secret: &str) -> bool {
    let encoded: String = percent_encode(secret);
    let in_body = c.body.as_ref().is_some_and(|b| {
        let text = String::from_utf8_lossy(b);
        text.contains(secret) || text.contains(&encoded) || text.contains(&secret.replace('"', "\\\""))
    });
    in_body || c.path.contains(secret) || c.path.contains(&encoded) || c.headers.iter().any(|(_, v)| v.contains(secret))
}

/// Form encoding as the query protocol writes it.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the examples
async fn secrets_show_only_where_they_must() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { capture_body_limit: 1 << 20, ..FaultConfig::transparent() }).await?;
    let through = MotoConfig { endpoint: proxy.endpoint() };
    let p = prefix();
    let trace = [("DEPLOY_LOG", "trace")];
    let mut runs = Vec::new();
    for example in ["aws_database_ssl", "aws_bucket_access"] {
        let r = run_with_env(&through, example, &["--prefix", &p], &trace)?;
        ensure!(r.ok, "{example} failed\n{}", r.show());
        runs.push(r);
    }
    let traced = runs.iter().map(|r| r.stderr.lines().filter(|l| l.contains("TRACE")).count()).sum::<usize>();
    ensure!(traced > 100, "DEPLOY_LOG=trace produced only {traced} TRACE lines: the search would prove nothing");

    let sdk = moto.sdk_config().await;
    let secrets = SecretsManagerStore::new(&sdk);
    let password = secrets.get_secret(&SecretName::new(format!("{p}-db-admin"))?).await?.value.expose_secret().to_owned();
    let key: serde_json::Value =
        serde_json::from_str(secrets.get_secret(&SecretName::new(format!("{p}-app-access-key"))?).await?.value.expose_secret())?;
    let secret_key = key["SecretAccessKey"].as_str().context("no SecretAccessKey")?.to_owned();

    for (what, secret, allowed) in [
        ("the master password", &password, &["secretsmanager.CreateSecret", "secretsmanager.PutSecretValue", "CreateDBInstance"][..]),
        ("the secret access key", &secret_key, &["secretsmanager.CreateSecret", "secretsmanager.PutSecretValue"][..]),
    ] {
        for r in &runs {
            ensure!(!r.stdout.contains(secret.as_str()) && !r.stderr.contains(secret.as_str()), "{what} is in an example's output or TRACE log");
        }
        let carriers: Vec<String> = proxy.captured().iter().filter(|c| carries(c, secret)).map(operation).collect();
        ensure!(!carriers.is_empty(), "{what} is in no captured request: the capture would prove nothing");
        ensure!(carriers.iter().all(|op| allowed.contains(&op.as_str())), "{what} was sent by {carriers:?}; only {allowed:?} may carry it");
    }
    Ok(())
}
