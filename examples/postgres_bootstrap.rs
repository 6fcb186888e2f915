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
//! nothing; `--plan` only shows what would change.

use deploy::bootstrap::direct::{Bootstrapper, PgConnection};
use deploy::bootstrap::{BootstrapSpec, DatabaseSetup, RolePassword, RoleSpec};
use deploy::PgIdentifier;

struct Args {
    url: String,
    ca_file: Option<String>,
    databases: Vec<String>,
    extensions: Vec<String>,
    plan_only: bool,
}

const USAGE: &str = "usage: postgres_bootstrap --url URL [--ca-file PATH] --database NAME ... [--extension NAME ...] [--plan]";

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { url: String::new(), ca_file: None, databases: Vec::new(), extensions: Vec::new(), plan_only: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| anyhow::anyhow!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--url" => args.url = value("--url")?,
            "--ca-file" => args.ca_file = Some(value("--ca-file")?),
            "--database" => args.databases.push(value("--database")?),
            "--extension" => args.extensions.push(value("--extension")?),
            "--plan" => args.plan_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if args.url.is_empty() || args.databases.is_empty() {
        anyhow::bail!("--url and at least one --database are required\n{USAGE}");
    }
    Ok(args)
}

/// `DEPLOY_DB_PASSWORD_<NAME>`: upper-cased, every non-alphanumeric character as `_`.
fn password_variable(database: &str) -> String {
    let name: String = database.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("DEPLOY_DB_PASSWORD_{name}")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let mut connection = PgConnection::from_url(&args.url)?
        .with_default_password(std::env::var("PGPASSWORD").ok().map(Into::into));
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
    let changes = if args.plan_only { bootstrapper.plan(&spec).await? } else { bootstrapper.ensure(&spec).await? };
    println!("{}", if args.plan_only { "would change:" } else { "changed:" });
    println!("{changes}");
    Ok(())
}
