//! What the `azure_*` examples share: their flags (clap), the
//! credential (--credential) and subscription from the environment, the ARM client
//! and blob store with their endpoint overrides. Included with `#[path]`.
#![allow(dead_code)]

#[cfg(feature = "azure-blob")]
use std::time::Duration;

use deploy::azure::arm::ArmClient;
#[cfg(feature = "azure-blob")]
use deploy::azure::blob::BlobStore;
use deploy::azure::credential::CredentialSource;
use deploy::{Error, Mode, Plan, Result};

#[cfg(feature = "azure-blob")]
/// The environment variable holding a storage account key for `--account-key`
/// (a key is a secret: never on the command line, where `ps` shows it).
pub const ACCOUNT_KEY_VAR: &str = "AZURE_STORAGE_KEY";

/// The flags every provisioning example takes: `--prefix`, `--location`,
/// `--arm-endpoint`, `--plan`, `--json` (flattened into each example's clap parser).
#[derive(clap::Args, Debug, Clone)]
pub struct Provision {
    /// The prefix every resource name starts with
    #[arg(long, value_name = "P")]
    pub prefix: String,
    /// The Azure region
    #[arg(long, value_name = "L", default_value = "westeurope")]
    pub location: String,
    #[command(flatten)]
    pub arm: Arm,
    #[command(flatten)]
    pub common: crate::cli::Common,
}

/// `--arm-endpoint`, `--credential`, `--ignore-tag`.
#[derive(clap::Args, Debug, Clone)]
pub struct Arm {
    /// The Azure Resource Manager endpoint (default https://management.azure.com; a sovereign
    /// cloud's, or a local fake)
    #[arg(long, value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// How to sign in: auto (a token in AZURE_ARM_ACCESS_TOKEN, else the service principal of
    /// AZURE_CLIENT_SECRET, else AKS workload identity, else an App Service / Container Apps managed
    /// identity), token, service-principal, workload-identity or managed-identity (the host's; a
    /// user-assigned one by AZURE_CLIENT_ID)
    #[arg(long, value_name = "HOW", default_value = "auto")]
    pub credential: CredentialSource,
    /// A tag that another system puts on resources (an Azure Policy adding `CreatedOnDate`):
    /// never a change to plan or write (repeatable)
    #[arg(long = "ignore-tag", value_name = "KEY")]
    pub ignore_tags: Vec<String>,
}

/// `--account-name`, `--blob-endpoint`, `--account-key`: where the blobs are.
#[cfg(feature = "azure-blob")]
#[derive(clap::Args, Debug, Clone)]
pub struct Blob {
    /// The storage account
    #[arg(long, value_name = "ACCOUNT")]
    pub account_name: Option<String>,
    /// The blob endpoint (default https://ACCOUNT.blob.core.windows.net)
    #[arg(long, value_name = "URL")]
    pub blob_endpoint: Option<String>,
    /// Sign an account SAS with the key in AZURE_STORAGE_KEY (never on the command line)
    /// instead of signing in (--credential)
    #[arg(long)]
    pub account_key: bool,
}

/// `AZURE_SUBSCRIPTION_ID`.
pub fn subscription_id() -> Result<String> {
    std::env::var("AZURE_SUBSCRIPTION_ID")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("AZURE_SUBSCRIPTION_ID", "is not set", "the subscription to work in"))
}

/// The environment variable that may hold a bearer token for ARM obtained
/// elsewhere (`az account get-access-token`); when set, it is used instead of
/// the service principal.
pub const ARM_TOKEN_VAR: &str = "AZURE_ARM_ACCESS_TOKEN";

/// The ARM client signed in as `--credential` says (by default the token in
/// [`ARM_TOKEN_VAR`], else the service principal in `AZURE_TENANT_ID`,
/// `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, else workload or managed
/// identity), on `--arm-endpoint` when given.
pub fn arm_client(args: &Arm) -> Result<ArmClient> {
    let credential = deploy::azure::credential::from_env_with(args.credential, Some(ARM_TOKEN_VAR))?;
    let mut builder = ArmClient::builder(subscription_id()?, credential);
    if let Some(endpoint) = &args.arm_endpoint {
        builder = builder.endpoint(endpoint);
    }
    for key in &args.ignore_tags {
        builder = builder.ignore_tag(key);
    }
    builder.build()
}

/// The blob store of `--account-name` on `--blob-endpoint` (default
/// `https://ACCOUNT.blob.core.windows.net`): with `--account-key`, an account
/// SAS signed here from the key in [`ACCOUNT_KEY_VAR`] (valid one hour);
/// otherwise the credential the environment configures ([`CredentialSource::Auto`]:
/// a token in [`STORAGE_TOKEN_VAR`], or the identity the environment configures).
#[cfg(feature = "azure-blob")]
pub fn blob_store(args: &Blob) -> Result<BlobStore> {
    blob_store_as(args, CredentialSource::Auto)
}

/// [`blob_store`] signed in as `credential` (the `--credential` of [`Arm`])
/// unless `--account-key`.
#[cfg(feature = "azure-blob")]
pub fn blob_store_as(args: &Blob, credential: CredentialSource) -> Result<BlobStore> {
    let account = args.account_name.as_deref();
    let endpoint = match (args.blob_endpoint.as_deref(), account) {
        (Some(e), _) => e.to_owned(),
        (None, Some(a)) => format!("https://{a}.blob.core.windows.net"),
        (None, None) => return Err(Error::invalid("account-name", "is missing", "pass --account-name or --blob-endpoint")),
    };
    let builder = BlobStore::builder().endpoint(&endpoint);
    let builder = if args.account_key {
        let account = account.ok_or_else(|| Error::invalid("account-name", "is missing", "pass --account-name with --account-key"))?;
        builder.account_key_from_env(account, ACCOUNT_KEY_VAR, Duration::from_secs(3600))?
    } else {
        builder.token_credential(deploy::azure::credential::from_env_with(credential, Some(STORAGE_TOKEN_VAR))?)
    };
    builder.build()
}

/// After an apply (not under `--plan`): print what the example made, by
/// name and ARM id, and record each as an output of the JSON document.
pub fn outputs(args: &Provision, items: &[(&str, String)]) {
    if args.common.plan {
        return;
    }
    println!("outputs:");
    for (name, value) in items {
        println!("  {name:<16} {value}");
        crate::cli::output(name, value);
    }
}

/// The environment variable that may hold a bearer token for Blob Storage
/// obtained elsewhere (`az account get-access-token --resource https://storage.azure.com`).
#[cfg(feature = "azure-blob")]
pub const STORAGE_TOKEN_VAR: &str = "AZURE_STORAGE_ACCESS_TOKEN";

/// Print a plan under a heading.
pub fn print_plan(title: &str, plan: &Plan) {
    println!("plan: {title}");
    println!("{plan}");
}

/// Print the plan of `step` ([`Mode::Plan`]; the JSON document's `plan`);
/// unless `--plan`, run it ([`Mode::Apply`]) and print a summary (the
/// document's `changes_made`). A second run finds nothing to do.
pub async fn plan_then_apply<F, Fut>(args: &Provision, title: &str, step: F) -> Result<()>
where
    F: Fn(Mode) -> Fut,
    Fut: std::future::Future<Output = Result<Plan>>,
{
    let planned = step(Mode::Plan).await?;
    print_plan(title, &planned);
    crate::cli::plan("plan", &planned);
    if args.common.plan {
        println!("summary: --plan given, nothing changed");
        return Ok(());
    }
    if planned.is_empty() {
        println!("summary: {title}: everything already matches, nothing changed");
        return Ok(());
    }
    println!("applying {} changes (long operations are awaited)...", planned.len());
    let made = step(Mode::Apply).await?;
    println!("{made}");
    crate::cli::field("changes_made", &made);
    println!("summary: {title}: {} changes made", made.len());
    Ok(())
}
