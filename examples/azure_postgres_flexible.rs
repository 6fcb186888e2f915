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

use azure_support::{Args, PROVISION_OPTIONS, exit_on_error, plan_then_apply};
use deploy::azure::runbook::provision::{PostgresSettings, Stack, postgres_flexible};
use deploy::core::{Password, PasswordRules, PgIdentifier, Result};

const USAGE: &str = "usage: azure_postgres_flexible --prefix P [--location L] [--version 13] [--sku SKU] [--start-if-stopped] [--plan] [--arm-endpoint URL] \
(PG_ADMIN_PASSWORD in the environment to create the server)";

#[tokio::main]
async fn main() {
    exit_on_error(run().await, USAGE);
}

async fn run() -> Result<()> {
    let args = Args::parse(&[PROVISION_OPTIONS, &["version", "sku"]].concat(), &["plan", "start-if-stopped"])?;
    let stack = Stack::new(args.require("prefix")?, args.get("location").unwrap_or("westeurope"))?;
    // The runbook's administrator and databases (the library's defaults name no application).
    let mut settings = PostgresSettings {
        admin: PgIdentifier::new("vecticeadmin")?,
        databases: vec![PgIdentifier::new("vectice")?, PgIdentifier::new("keycloak")?],
        ..PostgresSettings::default()
    };
    if let Some(version) = args.get("version") {
        settings.version = version.to_owned();
    }
    if let Some(sku) = args.get("sku") {
        settings.sku = sku.to_owned();
    }
    settings.start_stopped = args.has("start-if-stopped");
    settings.admin_password = match std::env::var("PG_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => Some(Password::new(p, &PasswordRules::azure_postgres()).map_err(|e| e.in_field("PG_ADMIN_PASSWORD"))?),
        _ => None,
    };
    let arm = azure_support::arm_client(&args)?;
    println!(
        "postgres: server {} (PostgreSQL {}, {}) in {}, VNet {}, zone {}, databases vectice and keycloak",
        stack.server, settings.version, settings.sku, stack.resource_group, stack.postgres_network, stack.dns_zone
    );
    plan_then_apply(&args, "postgres flexible server", |mode| postgres_flexible(&arm, &stack, &settings, mode)).await
}
