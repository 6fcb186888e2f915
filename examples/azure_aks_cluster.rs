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
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use azure_support::plan_then_apply;
use deploy::azure::runbook::provision::{AksSettings, Stack, aks_cluster};
use deploy::{Error, KubernetesVersion, Result};

/// AKS cluster with its system node pool in its own VNet (idempotent).
///
/// Signs in as the service principal of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or
/// with the token in AZURE_ARM_ACCESS_TOKEN) in AZURE_SUBSCRIPTION_ID. Exit codes: 0 done (under
/// --plan: nothing to change), 2 under --plan with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: azure_support::Provision,
    /// Kubernetes version (default: the runbook's)
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// VM size of the system pool (default: the runbook's)
    #[arg(long, value_name = "SIZE")]
    vm_size: Option<String>,
    /// Minimum node count (at least 1)
    #[arg(long, value_name = "N")]
    min: Option<String>,
    /// Maximum node count
    #[arg(long, value_name = "N")]
    max: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    cli::start(env!("CARGO_CRATE_NAME"), cli.args.common.plan, &cli.args.common.output);
    cli::exit_with(run(&cli).await, None)
}

fn count(value: Option<&str>, name: &str, default: u32) -> Result<u32> {
    value.map_or(Ok(default), |v| v.parse().map_err(|_| Error::invalid(name, format!("{v:?} is not a number"), "a node count")))
}

async fn run(cli: &Cli) -> Result<()> {
    let args = &cli.args;
    let stack = Stack::new(&args.prefix, &args.location)?;
    let defaults = AksSettings::default();
    let settings = AksSettings {
        version: cli.version.as_deref().map(KubernetesVersion::new).transpose()?.unwrap_or(defaults.version),
        vm_size: cli.vm_size.clone().unwrap_or(defaults.vm_size),
        min: count(cli.min.as_deref(), "min", defaults.min)?,
        max: count(cli.max.as_deref(), "max", defaults.max)?,
        desired: defaults.desired,
    };
    let settings = AksSettings { desired: settings.desired.clamp(settings.min, settings.max.max(settings.min)), ..settings };
    let arm = azure_support::arm_client(&args.arm)?;
    println!(
        "aks: cluster {} (Kubernetes {}, {} x {}..{}) in {}, VNet {}",
        stack.cluster, settings.version, settings.vm_size, settings.min, settings.max, stack.resource_group, stack.aks_network
    );
    plan_then_apply(args, "aks cluster", |mode| aks_cluster(&arm, &stack, &settings, mode)).await?;
    azure_support::outputs(
        args,
        &[
            ("resource_group", stack.resource_group.clone()),
            ("cluster", stack.cluster.clone()),
            ("cluster_id", arm.resource_id(&stack.resource_group, "Microsoft.ContainerService/managedClusters", &stack.cluster)),
        ],
    );
    Ok(())
}
