//! The Kubernetes examples as real processes. There is no API server on this
//! machine: deploy-k8s's fake API server (crates/deploy-k8s/tests/k8s/fake_api.rs)
//! is served over HTTP here and named by a kubeconfig, in its `Exec` mode,
//! where a Job's container command runs for real on this machine (a fake
//! kubelet) against the PostgreSQL peer.
//!
//! `k8s_create_databases` twice: every run makes a Job (a Job is how the
//! database is reached from inside the cluster, so the API server sees one
//! per run, and its Secret and ConfigMap, all deleted afterwards); the
//! database sees the roles, databases and extension made the first time, and
//! the second time only the two passwords set again (the Job holds SCRAM
//! verifiers, not passwords, so it cannot compare them), counted in the
//! server's statement log. `k8s_pg_copy` without `--confirm TARGET_HOST/DATABASE`
//! (the database name alone no longer does), or into its own source, sends nothing.

use std::convert::Infallible;

use anyhow::{Context as _, Result, ensure};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use secrecy::ExposeSecret as _;

use crate::support::examples::example_binary;
use crate::support::{self, changing_statements};

#[path = "../../crates/deploy-k8s/tests/k8s/fake_api.rs"]
#[allow(dead_code)]
pub(crate) mod fake_api;

use fake_api::{Behavior, FakeApi};

/// Serve `fake` on a free loopback port; a kubeconfig file naming it.
pub(crate) async fn serve(fake: FakeApi) -> Result<Kubeconfig> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let fake = fake.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let fake = fake.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let req = hyper::Request::from_parts(parts, kube::client::Body::from(bytes.to_vec()));
                        Ok::<_, Infallible>(fake.handle(req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Kubeconfig::write(port)
}

/// A kubeconfig file in the temp dir naming the fake at `http://127.0.0.1:PORT`, removed on drop.
pub(crate) struct Kubeconfig(pub(crate) std::path::PathBuf);

impl Kubeconfig {
    fn write(port: u16) -> Result<Kubeconfig> {
        let path = std::env::temp_dir().join(format!("deploy-e2e-kubeconfig-{}-{port}", std::process::id()));
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: nobody\n  user: {{}}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: nobody\n\
             current-context: fake\n"
        );
        std::fs::write(&path, yaml)?;
        Ok(Kubeconfig(path))
    }
}

impl Drop for Kubeconfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Run example `name` with the kubeconfig and `env`; (success, stdout, stderr).
fn run(name: &str, kubeconfig: &Kubeconfig, args: &[&str], env: &[(&str, &str)]) -> Result<(bool, String, String)> {
    let out = std::process::Command::new(example_binary(name)?)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", &kubeconfig.0)
        .envs(env.iter().copied())
        .output()?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the fake API serves while the test blocks on the example
async fn k8s_create_databases_twice_the_second_run_only_sets_the_passwords_again() -> Result<()> {
    let Some(pg) = support::postgres_peer() else { return Ok(()) };
    // The example's names are fixed (vectice, keycloak): start from a server without them.
    let admin = pg.connect().await?;
    for sql in [
        "DROP DATABASE IF EXISTS vectice",
        "DROP DATABASE IF EXISTS keycloak",
        "DROP ROLE IF EXISTS vectice",
        "DROP ROLE IF EXISTS keycloak",
    ] {
        admin.batch_execute(sql).await.with_context(|| sql.to_owned())?;
    }
    let fake = FakeApi::new(Behavior::Exec);
    let kubeconfig = serve(fake.clone()).await?;
    let port = pg.port.to_string();
    let ca = pg.ca_file.to_str().context("CA path")?.to_owned();
    let env = [
        ("DEPLOY_PG_HOST", pg.host.as_str()),
        ("DEPLOY_PG_PORT", port.as_str()),
        ("DEPLOY_PG_USER", pg.user.as_str()),
        ("DEPLOY_PG_CA_FILE", ca.as_str()),
        ("PGPASSWORD", pg.password.expose_secret()),
        ("DEPLOY_DB_PASSWORD_VECTICE", "Vectice-e2e-pw-1"),
        ("DEPLOY_DB_PASSWORD_KEYCLOAK", "Keycloak-e2e-pw-1"),
    ];
    let show = |(ok, out, err): &(bool, String, String)| format!("ok={ok}\n--- stdout\n{out}--- stderr\n{err}");

    let (first, log) = pg.logged_during(|| run("k8s_create_databases", &kubeconfig, &[], &env))?;
    ensure!(first.0, "the first run failed\n{}", show(&first));
    let made = changing_statements(&log, &["vectice", "keycloak"]);
    ensure!(
        ["CREATE ROLE", "CREATE DATABASE", "CREATE EXTENSION"].iter().all(|s| made.iter().any(|m| m.starts_with(s))),
        "the first run did not create roles, databases and the extension: {made:?}\n{}",
        show(&first)
    );
    let (second, log) = pg.logged_during(|| run("k8s_create_databases", &kubeconfig, &[], &env))?;
    // A Job holds SCRAM verifiers, never the passwords, so it cannot tell whether
    // a stored password matches: it sets the two passwords again, and nothing else.
    ensure!(second.0, "the second run failed\n{}", show(&second));
    let reported: Vec<&str> = second.1.lines().filter(|l| l.starts_with(['+', '~', '-'])).collect();
    ensure!(
        reported.len() == 2 && reported.iter().all(|l| l.contains("password")),
        "the second run reports more than the passwords\n{}",
        show(&second)
    );
    let again = changing_statements(&log, &["vectice", "keycloak"]);
    ensure!(
        again.len() == 2 && again.iter().all(|sql| sql.starts_with("ALTER ROLE") && sql.contains(" PASSWORD ")),
        "the second run changed more than the passwords: {again:?}"
    );
    for (_, out, err) in [&first, &second] {
        ensure!(!out.contains("Vectice-e2e-pw-1") && !err.contains("Vectice-e2e-pw-1"), "a password was printed");
        ensure!(!out.contains(pg.password.expose_secret()) && !err.contains(pg.password.expose_secret()), "the admin password was printed");
    }
    // Each run left nothing behind in the cluster: its Job (with its pods), Secret and ConfigMap are gone.
    let (secrets, config_maps, jobs, pods) = fake.existing();
    ensure!(
        jobs.is_empty() && pods.is_empty() && secrets.is_empty() && config_maps.is_empty(),
        "left in the cluster: {jobs:?} {pods:?} {secrets:?} {config_maps:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k8s_pg_copy_without_confirmation_sends_nothing() -> Result<()> {
    let fake = FakeApi::new(Behavior::Stuck);
    let kubeconfig = serve(fake.clone()).await?;
    let env = [
        ("DEPLOY_SOURCE_PG_HOST", "restored.example"),
        ("DEPLOY_TARGET_PG_HOST", "production.example"),
        ("DEPLOY_PG_USER", "dbuser"),
        ("DEPLOY_PG_DATABASE", "simphera"),
        ("DEPLOY_SOURCE_PG_PASSWORD", "src-pw"),
        ("DEPLOY_TARGET_PG_PASSWORD", "dst-pw"),
    ];
    // The database name is the same on both sides: the confirmation names the target's host too.
    for args in
        [&[][..], &["--confirm", "not-simphera"][..], &["--confirm", "simphera"][..], &["--confirm", "restored.example/simphera"][..]]
    {
        let (ok, out, err) = run("k8s_pg_copy", &kubeconfig, args, &env)?;
        ensure!(!ok && err.contains("production.example/simphera"), "{args:?} was not refused naming the target\n{out}\n{err}");
    }
    // Confirmed, but into its own source: refused before any request, naming the field.
    let ca = kubeconfig.0.to_str().context("path")?.to_owned();
    let mut same = env.to_vec();
    same[0] = ("DEPLOY_SOURCE_PG_HOST", "Production.example");
    same.push(("DEPLOY_PG_CA_FILE", ca.as_str()));
    let (ok, out, err) = run("k8s_pg_copy", &kubeconfig, &["--confirm", "production.example/simphera"], &same)?;
    ensure!(!ok && err.contains("target") && err.contains("source itself"), "a copy into its own source was not refused\n{out}\n{err}");
    ensure!(fake.requests().is_empty(), "the refused copies reached the API server: {:?}", fake.requests());
    Ok(())
}
