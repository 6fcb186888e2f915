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

use azure_support::{Args, PROVISION_OPTIONS, exit_on_error, plan_then_apply};
use deploy::azure::runbook::provision::{Stack, private_network};
use deploy::core::Result;

const USAGE: &str = "usage: azure_private_network --prefix P [--location L] [--plan] [--arm-endpoint URL]";

#[tokio::main]
async fn main() {
    exit_on_error(run().await, USAGE);
}

async fn run() -> Result<()> {
    let args = Args::parse(PROVISION_OPTIONS, &["plan"])?;
    let stack = Stack::new(args.require("prefix")?, args.get("location").unwrap_or("westeurope"))?;
    let arm = azure_support::arm_client(&args)?;
    println!(
        "private network: zone {} linked to {}, peering {} <-> {}",
        stack.dns_zone, stack.aks_network, stack.aks_network, stack.postgres_network
    );
    plan_then_apply(&args, "private network", |mode| private_network(&arm, &stack, mode)).await
}
