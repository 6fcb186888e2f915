//! SIMPHERA's restore step: stream a database from a restored instance back into
//! production, `pg_dump -Fc | pg_restore --clean --if-exists --single-transaction`,
//! through a Job in the cluster.
//!
//! ```text
//! export DEPLOY_SOURCE_PG_HOST=simphera-backup.abc.eu-central-1.rds.amazonaws.com
//! export DEPLOY_TARGET_PG_HOST=simphera.abc.eu-central-1.rds.amazonaws.com
//! export DEPLOY_PG_USER=dbuser DEPLOY_PG_DATABASE=simpherareferenceproductionsimphera DEPLOY_PG_CA_FILE=global-bundle.pem
//! export DEPLOY_SOURCE_PG_PASSWORD=... DEPLOY_TARGET_PG_PASSWORD=...
//! cargo run --features k8s --example k8s_pg_copy -- \
//!     --confirm simphera.abc.eu-central-1.rds.amazonaws.com/simpherareferenceproductionsimphera
//! ```
//!
//! The kubeconfig comes from the environment. The copy overwrites what the dump
//! holds in the target database, so it runs only with `--confirm TARGET_HOST/DATABASE`
//! naming the target instance and database (the database name alone is the same on
//! both sides, so it would not say which one is overwritten). A source equal to
//! the target (host, port and database) is refused before any request. The restore
//! is one transaction: a copy that fails leaves the target as it was. Each run is a
//! Job `simphera-restore-xxxxx` that owns its Secret and ConfigMap; a run is refused
//! while another one runs. Optional: `DEPLOY_NAMESPACE` (default `simphera`),
//! `DEPLOY_PG_PORT` (5432), `DEPLOY_PG_IMAGE` (`postgres:17`; at least the server's
//! major version).

use deploy::Confirm;
use deploy::k8s::{JobSettings, PgCopyJob, PgEndpoint, client_from_env};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let database = env("DEPLOY_PG_DATABASE")?;
    let target_host = env("DEPLOY_TARGET_PG_HOST")?;
    let args: Vec<String> = std::env::args().collect();
    let confirm = args.iter().position(|a| a == "--confirm").and_then(|i| args.get(i + 1)).map(Confirm::new);
    Confirm::require(confirm.as_ref(), "overwrite database", &format!("{target_host}/{database}"))?;

    let ca_bundle_pem = std::fs::read_to_string(env("DEPLOY_PG_CA_FILE")?)?;
    let port = std::env::var("DEPLOY_PG_PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(5432);
    let user = env("DEPLOY_PG_USER")?;
    let endpoint = |side: &str| -> anyhow::Result<PgEndpoint> {
        Ok(PgEndpoint {
            host: env(&format!("DEPLOY_{side}_PG_HOST"))?,
            port,
            user: user.clone(),
            dbname: database.clone(),
            password: env(&format!("DEPLOY_{side}_PG_PASSWORD"))?.into(),
            ca_bundle_pem: ca_bundle_pem.clone(),
        })
    };
    let mut settings = JobSettings::new(std::env::var("DEPLOY_NAMESPACE").unwrap_or_else(|_| "simphera".into()));
    settings.active_deadline = std::time::Duration::from_secs(3 * 3600);
    settings.wait_timeout = settings.active_deadline + std::time::Duration::from_secs(60);
    if let Ok(image) = std::env::var("DEPLOY_PG_IMAGE") {
        settings.image = image;
    }
    let copy = PgCopyJob::new("simphera-restore", endpoint("SOURCE")?, endpoint("TARGET")?, settings)?;
    let outcome = copy.run(client_from_env().await?).await?;
    for change in &outcome.changes {
        println!("{change}");
    }
    Ok(())
}
