//! Vectice Azure appendix 3, network: the Private DNS zone of the PostgreSQL
//! server linked to the AKS VNet (auto-registration on), and the AKS and
//! PostgreSQL VNets peered both ways, so that pods reach the server by name.
//!
//! ```text
//! azure_private_network --prefix P [--location L] [--plan] [--arm-endpoint URL]
//! ```
//!
//! Run after `azure_postgres_flexible` and `azure_aks_cluster` (the zone and
//! both VNets must exist). Signs in as the service principal of
//! `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` in
//! `AZURE_SUBSCRIPTION_ID`. `--plan` only reads; a second run changes nothing.

#[path = "azure_support/mod.rs"]
mod azure_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use azure_support::plan_then_apply;
use deploy::Result;
use deploy::azure::runbook::provision::{Stack, private_network};

/// Private DNS zone linked to the AKS network and the peering of the AKS and PostgreSQL networks (idempotent).
///
/// Signs in as the service principal of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or
/// with the token in AZURE_ARM_ACCESS_TOKEN) in AZURE_SUBSCRIPTION_ID. Exit codes: 0 done (under
/// --plan: nothing to change), 2 under --plan with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: azure_support::Provision,
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
    let arm = azure_support::arm_client(&args.arm)?;
    println!(
        "private network: zone {} linked to {}, peering {} <-> {}",
        stack.dns_zone, stack.aks_network, stack.aks_network, stack.postgres_network
    );
    plan_then_apply(args, "private network", |mode| private_network(&arm, &stack, mode)).await?;
    let vnet = |name: &str| arm.resource_id(&stack.resource_group, "Microsoft.Network/virtualNetworks", name);
    azure_support::outputs(
        args,
        &[
            ("resource_group", stack.resource_group.clone()),
            ("aks_vnet_id", vnet(&stack.aks_network)),
            ("postgres_vnet_id", vnet(&stack.postgres_network)),
            ("dns_zone_id", arm.resource_id(&stack.resource_group, "Microsoft.Network/privateDnsZones", &stack.dns_zone)),
        ],
    );
    Ok(())
}
