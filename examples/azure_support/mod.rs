//! What the `azure_*` examples share: hand-rolled argument parsing, the
//! service principal and subscription from the environment, the ARM client
//! and blob store with their endpoint overrides. Included with `#[path]`.
#![allow(dead_code)]

use std::collections::BTreeMap;
#[cfg(feature = "azure-blob")]
use std::time::Duration;

use deploy::azure::arm::ArmClient;
#[cfg(feature = "azure-blob")]
use deploy::azure::blob::BlobStore;
#[cfg(feature = "azure-blob")]
use deploy::azure::credential::ServicePrincipal;
use deploy::core::{Error, Mode, Plan, Result};

#[cfg(feature = "azure-blob")]
/// The environment variable holding a storage account key for `--account-key`
/// (a key is a secret: never on the command line, where `ps` shows it).
pub const ACCOUNT_KEY_VAR: &str = "AZURE_STORAGE_KEY";

/// Parsed command line: positionals, `--name value` options and `--switch`es.
#[derive(Debug, Default)]
pub struct Args {
    /// Arguments that are not options, in order.
    pub positional: Vec<String>,
    options: BTreeMap<String, String>,
    switches: Vec<String>,
}

impl Args {
    /// Parse `std::env::args()`: `options` take a value, `switches` do not;
    /// anything else starting with `--` is an error naming it.
    pub fn parse(options: &[&str], switches: &[&str]) -> Result<Args> {
        let mut args = Args::default();
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                args.positional.push(arg);
                continue;
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (name, None),
            };
            if switches.contains(&name) && inline.is_none() {
                args.switches.push(name.to_owned());
            } else if options.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it.next().ok_or_else(|| Error::invalid(name, "has no value", format!("--{name} VALUE")))?,
                };
                args.options.insert(name.to_owned(), value);
            } else {
                return Err(Error::invalid(name, "is not an option of this example", "one of the options in the usage below"));
            }
        }
        Ok(args)
    }

    /// The value of `--name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// The value of `--name`, required.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.get(name).ok_or_else(|| Error::invalid(name, "is missing", format!("pass --{name}")))
    }

    /// Whether `--name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
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

/// The ARM client of the service principal in `AZURE_TENANT_ID`,
/// `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` (or of the token in
/// [`ARM_TOKEN_VAR`]), on `--arm-endpoint` when given.
pub fn arm_client(args: &Args) -> Result<ArmClient> {
    let mut builder = ArmClient::builder(subscription_id()?, deploy::azure::credential::from_env(ARM_TOKEN_VAR)?);
    if let Some(endpoint) = args.get("arm-endpoint") {
        builder = builder.endpoint(endpoint);
    }
    builder.build()
}

/// The blob store of `--account-name` on `--blob-endpoint` (default
/// `https://ACCOUNT.blob.core.windows.net`): with `--account-key`, an account
/// SAS signed here from the key in [`ACCOUNT_KEY_VAR`] (valid one hour);
/// otherwise the service principal's token.
#[cfg(feature = "azure-blob")]
pub fn blob_store(args: &Args) -> Result<BlobStore> {
    let account = args.get("account-name");
    let endpoint = match (args.get("blob-endpoint"), account) {
        (Some(e), _) => e.to_owned(),
        (None, Some(a)) => format!("https://{a}.blob.core.windows.net"),
        (None, None) => return Err(Error::invalid("account-name", "is missing", "pass --account-name or --blob-endpoint")),
    };
    let builder = BlobStore::builder().endpoint(&endpoint);
    let builder = if args.has("account-key") {
        builder.account_key_from_env(args.require("account-name")?, ACCOUNT_KEY_VAR, Duration::from_secs(3600))?
    } else {
        builder.token_credential(ServicePrincipal::from_env()?.token_credential()?)
    };
    builder.build()
}

/// Print a plan under a heading.
pub fn print_plan(title: &str, plan: &Plan) {
    println!("plan: {title}");
    println!("{plan}");
}

/// Run `main`, print its error (never a secret: the errors hold none) and exit 1 on failure.
pub fn exit_on_error(result: Result<()>, usage: &str) {
    if let Err(e) = result {
        eprintln!("error: {e}");
        if e.invalid_field().is_some() {
            eprintln!("{usage}");
        }
        std::process::exit(1);
    }
}

/// The options every provisioning example takes.
pub const PROVISION_OPTIONS: &[&str] = &["prefix", "location", "arm-endpoint"];

/// Print the plan of `step` ([`Mode::Plan`]); unless `--plan`, run it
/// ([`Mode::Apply`]) and print a summary. A second run finds nothing to do.
pub async fn plan_then_apply<F, Fut>(args: &Args, title: &str, step: F) -> Result<()>
where
    F: Fn(Mode) -> Fut,
    Fut: std::future::Future<Output = Result<Plan>>,
{
    let planned = step(Mode::Plan).await?;
    print_plan(title, &planned);
    if args.has("plan") {
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
    println!("summary: {title}: {} changes made", made.len());
    Ok(())
}
