//! Vectice Azure appendix 3, storage: a storage account (HTTPS only, no
//! public blob access, versioning), the private container `P-assets`, and the
//! role "Storage Blob Data Contributor" on it for a service principal.
//!
//! ```text
//! azure_blob_access --prefix P --principal-id OBJECT_ID [--location L] [--plan] [--arm-endpoint URL]
//! ```
//!
//! Signs in as the service principal of `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET` in subscription `AZURE_SUBSCRIPTION_ID`.
//! `--principal-id` is the *object id* of the service principal that gets the
//! role (not its application id). `--plan` only reads; a second run changes nothing.

#[path = "azure_support/mod.rs"]
mod azure_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use azure_support::plan_then_apply;
use deploy::Result;
use deploy::azure::runbook::provision::{Stack, blob_access};

/// Storage account, private container and the Storage Blob Data Contributor role for a service principal (idempotent).
///
/// Signs in as the service principal of AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or
/// with the token in AZURE_ARM_ACCESS_TOKEN) in AZURE_SUBSCRIPTION_ID. Exit codes: 0 done (under
/// --plan: nothing to change), 2 under --plan with changes pending, 1 on error.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: azure_support::Provision,
    /// Object id of the service principal that gets the role (not its application id)
    #[arg(long, value_name = "OBJECT_ID")]
    principal_id: String,
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
    let principal = cli.principal_id.as_str();
    let arm = azure_support::arm_client(&args.arm)?;
    println!(
        "blob access: account {} in {}, container {}, Storage Blob Data Contributor for {principal}",
        stack.storage_account, stack.resource_group, stack.container
    );
    plan_then_apply(args, "blob access", |mode| blob_access(&arm, &stack, principal, mode)).await?;
    azure_support::outputs(
        args,
        &[
            ("resource_group", stack.resource_group.clone()),
            ("storage_account", stack.storage_account.clone()),
            ("storage_account_id", arm.resource_id(&stack.resource_group, "Microsoft.Storage/storageAccounts", &stack.storage_account)),
            ("container", stack.container.to_string()),
            ("blob_endpoint", format!("https://{}.blob.core.windows.net", stack.storage_account)),
        ],
    );
    Ok(())
}
