//! Vectice Azure appendix 1: a PostgreSQL flexible server `P-db` with private
//! access — its own VNet `P-pg-vnet` with a subnet delegated to flexible
//! servers, the Private DNS zone `P.private.postgres.database.azure.com`
//! linked to it — TLS required, `unaccent` allowed, and the databases
//! `vectice` and `keycloak`.
//!
//! ```text
//! azure_postgres_flexible --prefix P [--location L] [--version 13] [--sku Standard_D2ds_v4] [--start-if-stopped] [--plan] [--arm-endpoint URL]
//! ```
//!
//! Signs in as the service principal of `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET` in `AZURE_SUBSCRIPTION_ID`. Creating the server needs
//! the administrator's password in `PG_ADMIN_PASSWORD` (never on the command
//! line, never printed). `--plan` only reads; a second run changes nothing.
//! `--version` is a major version of the api-version's `ServerVersion` enum
//! (13 to 16). A server found `Stopped` is an error unless `--start-if-stopped`
//! is given (then it is started first).

#[path = "azure_support/mod.rs"]
mod azure_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use azure_support::plan_then_apply;
use deploy::azure::runbook::provision::{PostgresSettings, Stack, postgres_flexible};
use deploy::{Password, PasswordRules, PgIdentifier, Result};

/// PostgreSQL flexible server in its delegated subnet with the vectice and keycloak databases (idempotent; PG_ADMIN_PASSWORD from the environment to create it).
///
/// Signs in as the service principal of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or
/// with the token in AZURE_ARM_ACCESS_TOKEN) in AZURE_SUBSCRIPTION_ID. Exit codes: 0 done (under
/// --plan: nothing to change), 2 under --plan with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: azure_support::Provision,
    /// Major PostgreSQL version, 13 to 16 (default: the runbook's)
    #[arg(long, value_name = "MAJOR")]
    version: Option<String>,
    /// Compute SKU (default: the runbook's)
    #[arg(long, value_name = "SKU")]
    sku: Option<String>,
    /// Start the server first when it is found Stopped (otherwise an error)
    #[arg(long)]
    start_if_stopped: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    cli::start(env!("CARGO_CRATE_NAME"), cli.args.common.plan, &cli.args.common.output);
    cli::exit_with(run(&cli).await, None)
}

async fn run(cli: &Cli) -> Result<()> {
    let args = &cli.args;
    let stack = Stack::new(&args.prefix, &args.location)?;
    // The runbook's administrator and databases (the library's defaults name no application).
    let mut settings = PostgresSettings {
        admin: PgIdentifier::new("vecticeadmin")?,
        databases: vec![PgIdentifier::new("vectice")?, PgIdentifier::new("keycloak")?],
        ..PostgresSettings::default()
    };
    if let Some(version) = &cli.version {
        settings.version = version.clone();
    }
    if let Some(sku) = &cli.sku {
        settings.sku = sku.clone();
    }
    settings.start_stopped = cli.start_if_stopped;
    settings.admin_password = match std::env::var("PG_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => Some(Password::new(p, &PasswordRules::azure_postgres()).map_err(|e| e.in_field("PG_ADMIN_PASSWORD"))?),
        _ => None,
    };
    let arm = azure_support::arm_client(&args.arm)?;
    println!(
        "postgres: server {} (PostgreSQL {}, {}) in {}, VNet {}, zone {}, databases vectice and keycloak",
        stack.server, settings.version, settings.sku, stack.resource_group, stack.postgres_network, stack.dns_zone
    );
    plan_then_apply(args, "postgres flexible server", |mode| postgres_flexible(&arm, &stack, &settings, mode)).await?;
    azure_support::outputs(
        args,
        &[
            ("resource_group", stack.resource_group.clone()),
            ("server", stack.server.clone()),
            ("server_id", arm.resource_id(&stack.resource_group, "Microsoft.DBforPostgreSQL/flexibleServers", &stack.server)),
            ("fqdn", format!("{}.postgres.database.azure.com", stack.server)),
            ("databases", settings.databases.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
        ],
    );
    Ok(())
}
