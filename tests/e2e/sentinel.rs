//! Secrets appear only where they must.
//!
//! [`secrets_show_only_where_they_must`]: two examples that make secrets (a
//! generated RDS master password, an IAM secret access key) run against moto
//! through a recording proxy with `DEPLOY_LOG=trace`; their values, read back
//! from Secrets Manager, are then searched for in everything the runs emitted
//! (stdout, stderr with the TRACE output of the library and the SDK) and in
//! every captured request. Only the requests that must carry them may: the
//! Secrets Manager call that stores each, and `CreateDBInstance` for the
//! master password.
//!
//! [`a_library_run_shows_the_sentinel_only_where_it_must`]: the same search
//! in-process, with a sentinel value chosen by the test, over what only a
//! program using the library sees: the TRACE output (library and SDK), the
//! `Debug` and `Display` of specs, reports and errors, and the messages of
//! panics (`unwrap`, `expect` and `panic!` on each of them), besides the
//! captured requests.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, ensure};
use deploy::bootstrap::direct::PgConnection;
use deploy::secret_store::PutSecretOptions;
use deploy::{Database as _, DatabaseSpec, Password, PasswordRules, PgIdentifier, ResourceName, SecretName, SecretStore as _};
use deploy_aws::AwsBackends;
use deploy_aws::secrets::SecretsManagerStore;
use secrecy::{ExposeSecret as _, SecretString};

use crate::support::examples::{prefix, run_with_env};
use crate::support::fault_proxy::{Captured, FaultConfig, FaultProxy};
use crate::support::{self, MotoConfig};

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
    let secrets = SecretsManagerStore::new(&deploy_aws::AwsContext::new(&sdk));
    let password = secrets.get_secret(&SecretName::new(format!("{p}-db-admin"))?).await?.value.expose_secret().to_owned();
    let key: serde_json::Value =
        serde_json::from_str(secrets.get_secret(&SecretName::new(format!("{p}-app-access-key"))?).await?.value.expose_secret())?;
    let secret_key = key["SecretAccessKey"].as_str().context("no SecretAccessKey")?.to_owned();

    for (what, secret, allowed) in [
        ("the master password", &password, &["secretsmanager.CreateSecret", "secretsmanager.PutSecretValue", "CreateDBInstance"][..]),
        ("the secret access key", &secret_key, &["secretsmanager.CreateSecret", "secretsmanager.PutSecretValue"][..]),
    ] {
        for r in &runs {
            ensure!(
                !r.stdout.contains(secret.as_str()) && !r.stderr.contains(secret.as_str()),
                "{what} is in an example's output or TRACE log"
            );
        }
        let carriers: Vec<String> = proxy.captured().iter().filter(|c| carries(c, secret)).map(Captured::operation).collect();
        ensure!(!carriers.is_empty(), "{what} is in no captured request: the capture would prove nothing");
        ensure!(carriers.iter().all(|op| allowed.contains(&op.as_str())), "{what} was sent by {carriers:?}; only {allowed:?} may carry it");
    }
    Ok(())
}

/// A `tracing` writer into memory.
#[derive(Clone, Default)]
pub(crate) struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// A TRACE-level subscriber writing into a new log (no colours).
    pub(crate) fn subscriber() -> (tracing::Dispatch, CapturedLog) {
        let log = CapturedLog::default();
        let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(log.clone()).finish();
        (tracing::Dispatch::new(subscriber), log)
    }

    /// What was written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;
    fn make_writer(&'a self) -> CapturedLog {
        self.clone()
    }
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it panics");
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned())).unwrap_or_default()
}

/// Everything a program sees of `err`: its `Display` and `Debug`, and the
/// messages of the panics `unwrap`, `expect` and `panic!` raise with it.
fn everything_of(err: deploy::Error) -> Vec<String> {
    let mut seen = vec![format!("{err}"), format!("{err:?}"), format!("{err:#}")];
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        seen.push(format!("{s} {s:?}"));
        source = s.source();
    }
    seen.push(panic_message(|| panic!("failed: {err}")));
    seen.push(panic_message(|| panic!("failed: {err:?}")));
    seen.push(panic_message(|| panic!("{1}: {:?}", err, "the call")));
    seen
}

/// The run: a secret stored, a database created with the sentinel as its
/// master password, and three failures with the sentinel in their input.
async fn library_run(moto: &MotoConfig, sentinel: &str, seen: &mut Vec<String>) -> Result<FaultProxy> {
    let proxy = FaultProxy::start(&moto.endpoint, FaultConfig { capture_body_limit: 1 << 20, ..FaultConfig::transparent() }).await?;
    let aws = AwsBackends::from_conf(&MotoConfig { endpoint: proxy.endpoint() }.sdk_config().await);
    let p = prefix();

    let secrets = aws.secrets();
    let name = SecretName::new(format!("{p}-sentinel"))?;
    let version = secrets.put_secret(&name, SecretString::from(sentinel.to_owned()), &PutSecretOptions::default()).await?;
    let value = secrets.get_secret(&name).await?;
    ensure!(value.value.expose_secret() == sentinel, "the secret did not round-trip");
    seen.extend([format!("{version:?}"), format!("{value:?}"), format!("{secrets:?}")]);

    let mut spec = DatabaseSpec::postgres(ResourceName::new(format!("{p}-db"))?, "15", "db.t4g.micro", PgIdentifier::new("dbadmin")?);
    spec.admin_password = Some(Password::new(sentinel, &PasswordRules::rds_master())?);
    let rds = aws.rds();
    let plan = rds.ensure_database(&spec).await?;
    let info = rds.describe_database(&spec.name).await?;
    seen.extend([format!("{spec:?}"), format!("{plan:?}"), format!("{plan}"), format!("{info:?}"), format!("{rds:?}")]);
    seen.push(panic_message(|| panic!("{spec:?}")));

    // Failures with the sentinel in their input: a password the rules refuse,
    // a create RDS refuses (no such subnet group), a connection that fails.
    let refused = Password::new(format!("{sentinel}@"), &PasswordRules::rds_master()).err().context("a password with `@` was accepted")?;
    seen.extend(everything_of(refused));
    seen.push(panic_message(|| {
        Password::new(format!("{sentinel}@"), &PasswordRules::rds_master()).unwrap();
    }));
    let mut misplaced = spec.clone();
    misplaced.name = ResourceName::new(format!("{p}-db-misplaced"))?;
    misplaced.network.subnet_group = Some(format!("{p}-no-such-group"));
    let failed = rds.ensure_database(&misplaced).await.err().context("a database in a missing subnet group was created")?;
    seen.extend(everything_of(failed));
    let connection = PgConnection::new("127.0.0.1", "dbadmin").with_port(1).with_password(SecretString::from(sentinel.to_owned()));
    seen.push(format!("{connection:?}"));
    let failed = connection.connect().await.err().context("a connection to port 1 succeeded")?;
    seen.extend(everything_of(failed));
    Ok(proxy)
}

#[test]
fn a_library_run_shows_the_sentinel_only_where_it_must() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let sentinel = format!("Sntl-{}-x7Q", support::unique_suffix());
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(log.clone()).finish();
    // One thread, the subscriber its default: everything the run and its tasks trace is captured.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut seen = Vec::new();
    let proxy = tracing::subscriber::with_default(subscriber, || runtime.block_on(library_run(&moto, &sentinel, &mut seen)))?;

    let trace = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    let lines = trace.lines().filter(|l| l.contains("TRACE")).count();
    ensure!(lines > 100, "only {lines} TRACE lines: the search would prove nothing");
    ensure!(!trace.contains(&sentinel), "the sentinel is in the TRACE output");
    // The library's spans are in that output (and so were searched): each public operation names its backend,
    // the kind of resource and its name, never a value.
    for span in ["put_secret{", "get_secret{", "reconcile_database{"] {
        ensure!(trace.contains(span), "no `{span}` span in the TRACE output");
    }
    let put = trace.lines().find(|l| l.contains("put_secret{")).context("no put_secret line")?;
    ensure!(put.contains("kind=\"secret\"") && put.contains("-sentinel"), "the put_secret span does not name its kind and secret: {put}");
    ensure!(seen.len() > 20 && seen.iter().any(|s| s.contains("panicked") || s.contains("failed")), "too little was rendered: {seen:?}");
    for text in &seen {
        ensure!(!text.contains(&sentinel), "the sentinel is in what a program sees: {text}");
    }
    let carriers: Vec<String> = proxy.captured().iter().filter(|c| carries(c, &sentinel)).map(Captured::operation).collect();
    let allowed = ["secretsmanager.CreateSecret", "CreateDBInstance"];
    ensure!(
        carriers.contains(&allowed[0].to_owned()) && carriers.contains(&allowed[1].to_owned()),
        "the calls that must carry it did not: {carriers:?}"
    );
    ensure!(
        carriers.iter().all(|op| allowed.contains(&op.as_str())),
        "the sentinel was sent by {carriers:?}; only {allowed:?} may carry it"
    );
    Ok(())
}
