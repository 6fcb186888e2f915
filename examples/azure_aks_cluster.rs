//! Vectice Azure appendix 2: the AKS cluster `P-aks` in its VNet
//! `P-aks-vnet`, one autoscaling system node pool.
//!
//! ```text
//! azure_aks_cluster --prefix P [--location L] [--version 1.31] [--vm-size Standard_D4s_v5] [--min 1] [--max 5] [--plan] [--arm-endpoint URL]
//! ```
//!
//! Signs in as the service principal of `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET` in `AZURE_SUBSCRIPTION_ID`. Creation takes about 30
//! minutes and is awaited. `--plan` only reads; a second run changes nothing.
//! The pool starts at 2 nodes (inside `--min`..`--max`); later runs change min
//! and max with the pool's own `agentPools` operation and leave its node count
//! to the autoscaler unless it lies outside them (then it is clamped, and the
//! plan says so). The system pool's `--min` is at least 1.

#[path = "azure_support/mod.rs"]
mod azure_support;

use azure_support::{Args, PROVISION_OPTIONS, exit_on_error, plan_then_apply};
use deploy::azure::runbook::provision::{AksSettings, Stack, aks_cluster};
use deploy::core::{Error, KubernetesVersion, Result};

const USAGE: &str = "usage: azure_aks_cluster --prefix P [--location L] [--version 1.31] [--vm-size SIZE] [--min N] [--max N] [--plan] [--arm-endpoint URL]";

#[tokio::main]
async fn main() {
    exit_on_error(run().await, USAGE);
}

fn count(args: &Args, name: &str, default: u32) -> Result<u32> {
    args.get(name).map_or(Ok(default), |v| v.parse().map_err(|_| Error::invalid(name, format!("{v:?} is not a number"), "a node count")))
}

async fn run() -> Result<()> {
    let args = Args::parse(&[PROVISION_OPTIONS, &["version", "vm-size", "min", "max"]].concat(), &["plan"])?;
    let stack = Stack::new(args.require("prefix")?, args.get("location").unwrap_or("westeurope"))?;
    let defaults = AksSettings::default();
    let settings = AksSettings {
        version: args.get("version").map(KubernetesVersion::new).transpose()?.unwrap_or(defaults.version),
        vm_size: args.get("vm-size").map_or(defaults.vm_size, str::to_owned),
        min: count(&args, "min", defaults.min)?,
        max: count(&args, "max", defaults.max)?,
        desired: defaults.desired,
    };
    let settings = AksSettings { desired: settings.desired.clamp(settings.min, settings.max.max(settings.min)), ..settings };
    let arm = azure_support::arm_client(&args)?;
    println!(
        "aks: cluster {} (Kubernetes {}, {} x {}..{}) in {}, VNet {}",
        stack.cluster, settings.version, settings.vm_size, settings.min, settings.max, stack.resource_group, stack.aks_network
    );
    plan_then_apply(&args, "aks cluster", |mode| aks_cluster(&arm, &stack, &settings, mode)).await
}
