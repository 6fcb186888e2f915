//! Bootstrap application databases directly over TLS (verify-full).
//!
//! ```text
//! cargo run --features postgres --example postgres_bootstrap -- --url postgres://postgres@db.example.com/postgres \
//!     --ca-file rds-global-bundle.pem --database vectice --database keycloak --extension unaccent [--plan]
//! ```
//!
//! For each `--database NAME` a login role of the same name owns the database;
//! its password comes from `DEPLOY_DB_PASSWORD_<NAME>` (the name upper-cased,
//! every character that is not a letter or digit turned into `_`), and is sent
//! to the server only as a SCRAM-SHA-256 verifier. Every `--extension` is
//! created in every database. The administrator's password comes from the URL
//! or, when the URL has none, from `PGPASSWORD`. Running it again changes
//! nothing; `--plan` only shows what would change. A password in `--url` is
//! refused (the command line is visible to other users): the URL may carry
//! one only in `DEPLOY_PG_URL`.

#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};
use deploy::bootstrap::direct::{Bootstrapper, PgConnection};
use deploy::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy::{PgIdentifier, Reconcile as _};

/// Bootstrap application databases directly over TLS (verify-full): a login role owning each
/// database, its extensions; idempotent.
///
/// Passwords come from the environment only: the administrator's from PGPASSWORD (or a URL given
/// in DEPLOY_PG_URL), each role's from DEPLOY_DB_PASSWORD_<NAME>. Exit codes: 0 done (under
/// --plan: nothing to change), 2 under --plan with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Args {
    /// The administrator's connection, postgres://USER@HOST[:PORT]/DATABASE (a password in it only
    /// through DEPLOY_PG_URL, never on the command line)
    #[arg(long, env = "DEPLOY_PG_URL", value_name = "URL", hide_env_values = true)]
    url: String,
    /// The CA bundle (PEM) the server's certificate is verified against (default: the system's)
    #[arg(long, value_name = "PATH")]
    ca_file: Option<String>,
    /// A database to make, owned by a login role of the same name (repeat it)
    #[arg(long = "database", value_name = "NAME", required = true)]
    databases: Vec<String>,
    /// An extension to create in every database (repeat it)
    #[arg(long = "extension", value_name = "NAME")]
    extensions: Vec<String>,
    #[command(flatten)]
    common: cli::Common,
}

/// Whether the URL holds a password (`user:password@` or `password=`).
fn holds_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':')) || url.contains("password=")
}

/// The command line; a URL with a password given as a flag is refused (`ps` shows the command line).
fn parse_args() -> anyhow::Result<Args> {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if matches.value_source("url") == Some(clap::parser::ValueSource::CommandLine) && holds_password(&args.url) {
        return Err(deploy::Error::invalid(
            "url",
            "holds a password on the command line, where other users see it",
            "the password in PGPASSWORD, or the whole URL in DEPLOY_PG_URL",
        )
        .into());
    }
    Ok(args)
}

/// `DEPLOY_DB_PASSWORD_<NAME>`: upper-cased, every non-alphanumeric character as `_`.
fn password_variable(database: &str) -> String {
    let name: String = database.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("DEPLOY_DB_PASSWORD_{name}")
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => return cli::exit_anyhow(Err(e)),
    };
    cli::start(env!("CARGO_CRATE_NAME"), args.common.plan, &args.common.output);
    cli::exit_anyhow(run(args).await)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let plan_only = args.common.plan;
    let mut connection = PgConnection::from_url(&args.url)?.with_default_password(std::env::var("PGPASSWORD").ok().map(Into::into));
    if let Some(ca) = &args.ca_file {
        connection = connection.with_ca_file(ca);
    }

    let mut spec = BootstrapSpec::new();
    for name in &args.databases {
        let id = PgIdentifier::new(name.as_str())?;
        let variable = password_variable(name);
        let password = std::env::var(&variable).map_err(|_| anyhow::anyhow!("set {variable} to the password of role `{name}`"))?;
        spec = spec.role(RoleSpec::login(id.clone()).password(RolePassword::plain(password.into())?));
        let mut database = DatabaseSetup::new(id.clone(), id);
        for extension in &args.extensions {
            database = database.extension(PgIdentifier::new(extension.as_str())?);
        }
        spec = spec.database(database);
    }

    let bootstrapper = Bootstrapper::new(connection);
    let changes = if plan_only { bootstrapper.plan(&spec).await? } else { bootstrapper.ensure(&spec).await?.plan };
    println!("{}", if plan_only { "would change:" } else { "changed:" });
    println!("{changes}");
    if plan_only {
        cli::plan("plan", &changes);
    } else {
        cli::field("changes_made", &changes);
    }
    Ok(())
}
