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
//! Each `DEPLOY_*` variable but the passwords is also a flag (`--help` lists
//! them: `--database`, `--source-host`, `--target-host`, `--user`, `--ca-file`,
//! `--port`, `--namespace`, `--image`); the passwords come from the
//! environment only, never the command line.
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

#[path = "cli/mod.rs"]
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use deploy::Confirm;
use deploy::k8s::{JobSettings, PgCopyJob, PgEndpoint, client_from_env};

/// Stream a database from a restored instance back into production (pg_dump | pg_restore, one
/// transaction) through a Job in the cluster; needs --confirm TARGET_HOST/DATABASE.
///
/// Every flag but --confirm and --json falls back to its environment variable. The passwords
/// come only from DEPLOY_SOURCE_PG_PASSWORD and DEPLOY_TARGET_PG_PASSWORD (never the command
/// line); the kubeconfig from KUBECONFIG or ~/.kube/config. Exit codes: 0 copied, 1 on error,
/// 2 on a command line clap rejects.
#[derive(clap::Parser, Debug)]
struct Cli {
    /// Confirm the overwrite by naming the target: TARGET_HOST/DATABASE
    #[arg(long, value_name = "HOST/DATABASE")]
    confirm: Option<String>,
    /// The database copied (same name on both sides)
    #[arg(long, env = "DEPLOY_PG_DATABASE", value_name = "NAME")]
    database: String,
    /// The restored instance read from
    #[arg(long, env = "DEPLOY_SOURCE_PG_HOST", value_name = "HOST")]
    source_host: String,
    /// The instance overwritten
    #[arg(long, env = "DEPLOY_TARGET_PG_HOST", value_name = "HOST")]
    target_host: String,
    /// The user on both instances
    #[arg(long, env = "DEPLOY_PG_USER", value_name = "USER")]
    user: String,
    /// The CA bundle (PEM) both instances' certificates are verified against
    #[arg(long, env = "DEPLOY_PG_CA_FILE", value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// The port on both instances
    #[arg(long, env = "DEPLOY_PG_PORT", value_name = "PORT", default_value_t = 5432)]
    port: u16,
    /// The namespace of the Job
    #[arg(long, env = "DEPLOY_NAMESPACE", value_name = "NAMESPACE", default_value = "simphera")]
    namespace: String,
    /// The image of the Job (at least the server's major version; default postgres:17)
    #[arg(long, env = "DEPLOY_PG_IMAGE", value_name = "IMAGE")]
    image: Option<String>,
    #[command(flatten)]
    output: cli::Output,
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = <Cli as clap::Parser>::parse();
    cli::start(env!("CARGO_CRATE_NAME"), false, &args.output);
    cli::exit_anyhow(run(args).await)
}

async fn run(args: Cli) -> anyhow::Result<()> {
    let (database, target_host) = (args.database.clone(), args.target_host.clone());
    let confirm = args.confirm.as_deref().map(Confirm::new);
    Confirm::require(confirm.as_ref(), "overwrite database", &format!("{target_host}/{database}"))?;

    let ca_file = args.ca_file.as_ref().ok_or_else(|| anyhow::anyhow!("set DEPLOY_PG_CA_FILE or pass --ca-file"))?;
    let ca_bundle_pem = std::fs::read_to_string(ca_file)?;
    let port = args.port;
    let user = args.user.clone();
    let endpoint = |side: &str| -> anyhow::Result<PgEndpoint> {
        Ok(PgEndpoint {
            host: if side == "SOURCE" { args.source_host.clone() } else { args.target_host.clone() },
            port,
            user: user.clone(),
            dbname: database.clone(),
            password: env(&format!("DEPLOY_{side}_PG_PASSWORD"))?.into(),
            ca_bundle_pem: ca_bundle_pem.clone(),
        })
    };
    let mut settings = JobSettings::new(args.namespace.clone());
    settings.active_deadline = std::time::Duration::from_secs(3 * 3600);
    settings.wait_timeout = settings.active_deadline + std::time::Duration::from_secs(60);
    if let Some(image) = &args.image {
        settings.image = image.clone();
    }
    let copy = PgCopyJob::new("simphera-restore", endpoint("SOURCE")?, endpoint("TARGET")?, settings)?;
    let outcome = copy.run(client_from_env().await?).await?;
    for change in &outcome.changes {
        println!("{change}");
    }
    cli::field("changes_made", outcome.changes.iter().map(ToString::to_string).collect::<Vec<_>>());
    Ok(())
}
