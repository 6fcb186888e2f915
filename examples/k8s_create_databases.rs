//! Vectice appendix 4: create the `vectice` and `keycloak` databases from inside
//! the cluster, through a Job (the instance is reachable only there).
//!
//! ```text
//! export DEPLOY_PG_HOST=vectice.abc.eu-west-1.rds.amazonaws.com DEPLOY_PG_CA_FILE=global-bundle.pem
//! export PGPASSWORD=... DEPLOY_DB_PASSWORD_VECTICE=... DEPLOY_DB_PASSWORD_KEYCLOAK=...
//! cargo run --features k8s --example k8s_create_databases [-- --print-role]
//! ```
//!
//! The kubeconfig comes from the environment (`KUBECONFIG` or `~/.kube/config`).
//! Optional: `DEPLOY_NAMESPACE` (default `vectice`), `DEPLOY_PG_PORT` (5432),
//! `DEPLOY_PG_USER` (`postgres`), `DEPLOY_PG_IMAGE` (`postgres:17`). Each
//! database is owned by a login role of the same name; `unaccent` is created in
//! `vectice`. Running it again changes nothing but the two role passwords,
//! which the Job sets every time: it receives SCRAM verifiers, never the
//! passwords, so it cannot tell whether the stored ones match (the direct path,
//! `postgres_bootstrap`, can, and changes nothing). Each run is a Job
//! `vectice-create-databases-xxxxx` owning its Secret and ConfigMap, deleted
//! afterwards; a run is refused while another one runs. `--print-role` prints
//! the minimal RBAC Role the caller needs and exits.

use deploy::PgIdentifier;
use deploy::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy::k8s::{DatabaseBootstrapJob, JobSettings, PgEndpoint, client_from_env, minimal_role_yaml};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let namespace = std::env::var("DEPLOY_NAMESPACE").unwrap_or_else(|_| "vectice".into());
    if std::env::args().any(|a| a == "--print-role") {
        print!("{}", minimal_role_yaml(&namespace, "deploy-database-jobs"));
        return Ok(());
    }
    let endpoint = PgEndpoint {
        host: env("DEPLOY_PG_HOST")?,
        port: std::env::var("DEPLOY_PG_PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(5432),
        user: std::env::var("DEPLOY_PG_USER").unwrap_or_else(|_| "postgres".into()),
        dbname: "postgres".into(),
        password: env("PGPASSWORD")?.into(),
        ca_bundle_pem: std::fs::read_to_string(env("DEPLOY_PG_CA_FILE")?)?,
    };
    let mut spec = BootstrapSpec::new();
    for name in ["vectice", "keycloak"] {
        let id = PgIdentifier::new(name)?;
        let password = env(&format!("DEPLOY_DB_PASSWORD_{}", name.to_uppercase()))?;
        spec = spec.role(RoleSpec::login(id.clone()).password(RolePassword::plain(password.into())?));
        let mut database = DatabaseSetup::new(id.clone(), id);
        if name == "vectice" {
            database = database.extension(PgIdentifier::new("unaccent")?);
        }
        spec = spec.database(database);
    }
    let mut settings = JobSettings::new(namespace);
    if let Ok(image) = std::env::var("DEPLOY_PG_IMAGE") {
        settings.image = image;
    }
    let job = DatabaseBootstrapJob::new("vectice-create-databases", endpoint, spec, settings)?;
    let outcome = job.run(client_from_env().await?).await?;
    if outcome.changes.is_empty() {
        println!("no changes: the databases match");
    }
    for change in &outcome.changes {
        println!("{change}");
    }
    Ok(())
}
