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

use azure_support::{Args, PROVISION_OPTIONS, exit_on_error, plan_then_apply};
use deploy::azure::runbook::provision::{Stack, blob_access};
use deploy::core::Result;

const USAGE: &str = "usage: azure_blob_access --prefix P --principal-id OBJECT_ID [--location L] [--plan] [--arm-endpoint URL]";

#[tokio::main]
async fn main() {
    exit_on_error(run().await, USAGE);
}

async fn run() -> Result<()> {
    let args = Args::parse(&[PROVISION_OPTIONS, &["principal-id"]].concat(), &["plan"])?;
    let stack = Stack::new(args.require("prefix")?, args.get("location").unwrap_or("westeurope"))?;
    let principal = args.require("principal-id")?;
    let arm = azure_support::arm_client(&args)?;
    println!(
        "blob access: account {} in {}, container {}, Storage Blob Data Contributor for {principal}",
        stack.storage_account, stack.resource_group, stack.container
    );
    plan_then_apply(&args, "blob access", |mode| blob_access(&arm, &stack, principal, mode)).await
}
