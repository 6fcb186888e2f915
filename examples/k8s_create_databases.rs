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
//! Each `DEPLOY_PG_*` variable and `DEPLOY_NAMESPACE` is also a flag (`--host`,
//! `--port`, `--user`, `--ca-file`, `--image`, `--namespace`; `--help` lists
//! them); the passwords come from the environment only.
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

#[path = "cli/mod.rs"]
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use deploy::PgIdentifier;
use deploy::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy::k8s::{DatabaseBootstrapJob, JobSettings, PgEndpoint, client_from_env, minimal_role_yaml};

/// Create the vectice and keycloak databases (roles, unaccent) from inside the cluster, through
/// a Job.
///
/// Every flag but --print-role and --json falls back to its environment variable. The passwords
/// come only from PGPASSWORD and DEPLOY_DB_PASSWORD_VECTICE / _KEYCLOAK (never the command line);
/// the kubeconfig from KUBECONFIG or ~/.kube/config. Exit codes: 0 done, 1 on error, 2 on a
/// command line clap rejects.
#[derive(clap::Parser, Debug)]
struct Cli {
    /// Print the minimal RBAC Role the caller needs, and exit
    #[arg(long)]
    print_role: bool,
    /// The instance's host
    #[arg(long, env = "DEPLOY_PG_HOST", value_name = "HOST")]
    host: Option<String>,
    /// The instance's port
    #[arg(long, env = "DEPLOY_PG_PORT", value_name = "PORT", default_value_t = 5432)]
    port: u16,
    /// The administrator
    #[arg(long, env = "DEPLOY_PG_USER", value_name = "USER", default_value = "postgres")]
    user: String,
    /// The CA bundle (PEM) the instance's certificate is verified against
    #[arg(long, env = "DEPLOY_PG_CA_FILE", value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// The namespace of the Job
    #[arg(long, env = "DEPLOY_NAMESPACE", value_name = "NAMESPACE", default_value = "vectice")]
    namespace: String,
    /// The image of the Job (default postgres:17)
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
    let namespace = args.namespace.clone();
    if args.print_role {
        let role = minimal_role_yaml(&namespace, "deploy-database-jobs");
        print!("{role}");
        cli::field("role_yaml", role);
        return Ok(());
    }
    let endpoint = PgEndpoint {
        host: args.host.clone().ok_or_else(|| anyhow::anyhow!("set DEPLOY_PG_HOST or pass --host"))?,
        port: args.port,
        user: args.user.clone(),
        dbname: "postgres".into(),
        password: env("PGPASSWORD")?.into(),
        ca_bundle_pem: std::fs::read_to_string(
            args.ca_file.as_ref().ok_or_else(|| anyhow::anyhow!("set DEPLOY_PG_CA_FILE or pass --ca-file"))?,
        )?,
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
    if let Some(image) = &args.image {
        settings.image = image.clone();
    }
    let job = DatabaseBootstrapJob::new("vectice-create-databases", endpoint, spec, settings)?;
    let outcome = job.run(client_from_env().await?).await?;
    if outcome.changes.is_empty() {
        println!("no changes: the databases match");
    }
    for change in &outcome.changes {
        println!("{change}");
    }
    cli::field("changes_made", outcome.changes.iter().map(ToString::to_string).collect::<Vec<_>>());
    Ok(())
}
