//! One spec, any cloud: plan, apply, show and destroy one environment of a
//! TOML spec (`examples/environments.toml`: `production`, `staging`) on AWS,
//! Azure or the in-memory backends, through `deploy_core::env`.
//!
//! ```text
//! cargo run --features aws,azure-arm,azure-blob,azure-keyvault --example environment -- \
//!     plan|apply|outputs|destroy --file examples/environments.toml --env production --cloud aws|azure|memory \
//!     [--confirm production] [--skip-final-snapshots] [--json]
//! ```
//!
//! - `plan`: what `apply` would change; no mutating request; exit 2 when
//!   changes are pending, 0 when none.
//! - `apply`: prints the plan, applies it in dependency order (secrets,
//!   databases with their admin password from the secret, buckets, cluster
//!   and node pools, backup vault and plan); a second `apply` changes nothing.
//! - `outputs`: what the environment is (cluster endpoint, database
//!   identifiers and endpoints, bucket names, backup vault and plan, secret
//!   names; never a secret's value); `--json` prints them as one document.
//! - `destroy`: the teardown in SIMPHERA's order (recovery points, backup plan
//!   and vault, deletion protection off, databases with a final snapshot
//!   unless `--skip-final-snapshots`, buckets with every object, node pools
//!   and cluster, then the secrets). Without `--confirm NAME` (the
//!   environment's name) it only shows what it would delete (exit 2 when
//!   something would be, as `plan`); with it, it deletes.
//!
//! Clouds:
//! - `aws`: the standard AWS environment (`AWS_REGION`, credentials,
//!   `AWS_ENDPOINT_URL`), through `deploy_aws::environment`: besides the five
//!   traits, `plan` / `apply` cover the EKS roles `CLUSTER-eks-cluster` and
//!   `CLUSTER-eks-node`, the KMS keys `alias/CLUSTER-eks-secrets` (the
//!   cluster's secrets) and `alias/VAULT-backup`, the VPC `network.name` with
//!   two private and two public subnets carved from `network.cidr` in zones
//!   REGIONa / REGIONb, the S3 gateway endpoint, the DB subnet group
//!   `NAME-db` the instances are placed in; the cluster runs in the private
//!   subnets; the databases' and the file system's security groups admit the
//!   cluster's security group only; `files` makes an encrypted EFS file
//!   system with a mount target in each private subnet, `logs` turns on every
//!   control-plane log type and sets the log group's retention. A node pool
//!   or subnet no longer in the spec is reported
//!   (`? keep ...`) and left alone. `destroy` then also deletes the file
//!   system, the log group, the subnet group, the VPC, the keys (KMS waits 7
//!   days) and the roles. A spec whose
//!   `location.aws` is not the client's region is refused before any request.
//!   The last line is `mutating requests: N`.
//! - `azure`: `AZURE_SUBSCRIPTION_ID` and the service principal
//!   (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`) or a token in
//!   `AZURE_ARM_ACCESS_TOKEN`; `--resource-group`, `--location`, the storage
//!   account (`--storage-account` or `--blob-endpoint`) and the Key Vault
//!   (`--key-vault` or `--key-vault-url`, existing) the buckets and secrets
//!   live in; `--principal-id` (the workload's object id) gets "Storage Blob
//!   Data Contributor" on each of the environment's containers. Through `deploy_azure::environment`:
//!   besides the five traits, `plan` / `apply` cover the resource group
//!   (created, tagged with the environment, when missing), the VNet
//!   `NETWORK-vnet` over `network.cidr` with the subnets `aks` and `postgres`
//!   (delegated to flexible servers), the private DNS zone and its link, the
//!   storage account, the servers' application databases; `files` makes an
//!   Azure Files share, `logs` a Log Analytics workspace keeping
//!   `retention_days` and the cluster's diagnostic setting sending every
//!   control-plane log there. AWS sizes in the spec map to the Azure size of
//!   the same family and vCPUs (`db.t4g.large` -> `Standard_B2ms`,
//!   `m5.xlarge` -> `Standard_D4s_v5`). `destroy` needs
//!   `--skip-final-snapshots` when there are databases (flexible servers have
//!   no manual snapshot) and deletes the parts too; the resource group and
//!   the storage account stay (other environments may be in them).
//!   `--location` defaults to the spec's `location.azure` (a different one is refused).
//!   Azure has no neutral backup vault: an environment with a `backup` section
//!   is refused before any request, naming what Azure offers instead.
//! - `memory`: a fresh in-memory cloud in this process (no credentials, no
//!   network): checks a spec and shows its plan offline; the last line is
//!   `mutating requests: N` of that cloud.
//!
//! Bad input (an unknown `--env`, a spec naming a secret or instance it does
//! not define, a `--confirm` naming another environment, a `backup` section
//! on Azure) is a typed error naming the field, before any request.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "azure_support/mod.rs"]
mod azure_support;
#[path = "cli/mod.rs"]
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::eks::EksRoles;
use deploy::aws::environment::AwsEnvironment;
use deploy::azure::environment::AzureEnvironment;
use deploy::azure::{AzureBackends, AzureStores};
use deploy::env::{Backends, Environment, Environments};
use deploy::memory::InMemoryCloud;
use deploy::{Error, Plan, Result};

/// Plan, apply, show or destroy one environment of a TOML spec on AWS, Azure or in memory.
///
/// Exit codes: 0 done (plan, or destroy without --confirm: nothing to change), 2 plan (or destroy
/// without --confirm) with changes pending, 1 on error (bad input named by its field, before any request).
#[derive(clap::Parser, Debug)]
struct Cli {
    /// What to do
    #[arg(value_enum)]
    command: Command,
    /// The TOML spec (one table per environment, as examples/environments.toml)
    #[arg(long, value_name = "F")]
    file: PathBuf,
    /// The environment of the spec (`production`)
    #[arg(long, value_name = "NAME")]
    env: String,
    /// Where: AWS, Azure, or a fresh in-memory cloud
    #[arg(long, value_enum)]
    cloud: CloudKind,
    /// destroy: confirm the deletions by naming the environment again
    #[arg(long, value_name = "NAME")]
    confirm: Option<String>,
    /// destroy: delete databases without a final snapshot
    #[arg(long)]
    skip_final_snapshots: bool,
    #[command(flatten)]
    azure: AzureArgs,
    #[command(flatten)]
    output: cli::Output,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// Show what apply would change (no mutating request)
    Plan,
    /// Apply the spec
    Apply,
    /// Show the environment's outputs
    Outputs,
    /// Delete the environment (needs --confirm NAME; without it, only show)
    Destroy,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum CloudKind {
    /// The standard AWS environment
    Aws,
    /// Azure: a subscription, resource group, storage account and Key Vault
    Azure,
    /// A fresh in-memory cloud
    Memory,
}

/// The Azure settings (with `--cloud azure`).
#[derive(clap::Args, Debug, Clone)]
struct AzureArgs {
    /// azure: the resource group (created, tagged with the environment, when missing)
    #[arg(long, value_name = "RG")]
    resource_group: Option<String>,
    /// azure: the region (default: the spec's `location.azure`, else westeurope)
    #[arg(long, value_name = "L")]
    location: Option<String>,
    /// azure: the storage account of the buckets (containers)
    #[arg(long, value_name = "ACCOUNT")]
    storage_account: Option<String>,
    /// azure: the blob endpoint (default https://ACCOUNT.blob.core.windows.net)
    #[arg(long, value_name = "URL")]
    blob_endpoint: Option<String>,
    /// azure: the Key Vault of the secrets
    #[arg(long, value_name = "VAULT")]
    key_vault: Option<String>,
    /// azure: the Key Vault's URL (default https://VAULT.vault.azure.net)
    #[arg(long, value_name = "URL")]
    key_vault_url: Option<String>,
    /// azure: the workload's principal (object id), given Storage Blob Data Contributor on each of the environment's containers
    #[arg(long, value_name = "ID")]
    principal_id: Option<String>,
    #[command(flatten)]
    arm: azure_support::Arm,
}

/// The backends of one cloud, and how its mutating requests are counted.
enum Cloud {
    Aws { aws: Box<AwsEnvironment>, log: RequestLog },
    Azure(Box<AzureEnvironment>),
    Memory(InMemoryCloud),
}

impl Cloud {
    fn name(&self) -> &'static str {
        match self {
            Cloud::Aws { .. } => "aws",
            Cloud::Azure(_) => "azure",
            Cloud::Memory(_) => "memory",
        }
    }

    /// The neutral backends (on AWS without roles: for reads and checks).
    fn backends(&self) -> Backends {
        let mut backends = match self {
            Cloud::Aws { aws, .. } => aws.backends().env_backends(EksRoles::default()),
            Cloud::Azure(azure) => azure.backends().env_backends(),
            Cloud::Memory(cloud) => Backends::in_memory(cloud),
        };
        backends.observer = aws_support::observer();
        backends
    }

    /// The mutating requests made so far, where they are counted.
    fn mutating(&self) -> Option<usize> {
        match self {
            Cloud::Aws { log, .. } => Some(log.mutating().len()),
            Cloud::Memory(cloud) => Some(cloud.mutating_calls().len()),
            Cloud::Azure(azure) => Some(azure.backends().arm().mutating_requests()),
        }
    }
}

impl Cloud {
    /// What `apply` would change: on AWS and Azure with the derived parts.
    async fn plan(&self, name: &str, env: &Environment, backends: &Backends) -> Result<Plan> {
        match self {
            Cloud::Aws { aws, .. } => aws.plan(name, env).await,
            Cloud::Azure(azure) => azure.plan(name, env).await,
            Cloud::Memory(_) => env.plan(backends).await,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = <Cli as clap::Parser>::parse();
    let showing = args.command == Command::Plan || (args.command == Command::Destroy && args.confirm.is_none());
    cli::start(env!("CARGO_CRATE_NAME"), showing, &args.output);
    if let Ok(level) = std::env::var("DEPLOY_LOG") {
        let level: tracing_subscriber::filter::LevelFilter = level.parse().unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
        tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).init();
    }
    let mut cloud = None;
    let outcome = run(&args, &mut cloud).await;
    if let Err(e) = &outcome {
        eprintln!("error: {e}");
    }
    let mutating = cloud.as_ref().and_then(Cloud::mutating).or(Some(0));
    if let Some(n) = mutating {
        println!("mutating requests: {n}");
    }
    cli::exit(outcome.err().map(|e| (e.to_string(), e.invalid_field().map(ToString::to_string))), mutating)
}

/// The spec's environment `name`, checked before anything else.
fn load(args: &Cli) -> Result<(Environments, String)> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::invalid("file", format!("{}: {e}", args.file.display()), "a readable TOML environment spec"))?;
    let envs = Environments::from_toml(&text)?;
    if !envs.0.contains_key(&args.env) {
        let known: Vec<&str> = envs.0.keys().map(String::as_str).collect();
        return Err(Error::invalid(
            "env",
            format!("`{}` is not an environment of {}", args.env, args.file.display()),
            format!("one of: {}", known.join(", ")),
        ));
    }
    if let Some(c) = &args.confirm
        && *c != args.env
    {
        return Err(Error::invalid(
            "confirm",
            format!("`{c}` is not the environment being destroyed"),
            format!("--confirm {} names the environment again", args.env),
        ));
    }
    Ok((envs, args.env.clone()))
}

async fn connect(args: &Cli, env: &Environment) -> Result<Cloud> {
    Ok(match args.cloud {
        CloudKind::Memory => Cloud::Memory(InMemoryCloud::new()),
        CloudKind::Aws => {
            let log = RequestLog::new();
            let aws = AwsEnvironment::connect(aws_support::backends(&log).await).await?.with_observer(aws_support::observer());
            println!("AWS account {}, region {}", aws.account(), aws.region());
            Cloud::Aws { aws: Box::new(aws), log }
        }
        CloudKind::Azure => {
            let a = &args.azure;
            let group = a
                .resource_group
                .as_deref()
                .ok_or_else(|| Error::invalid("resource-group", "is missing", "--cloud azure works in one resource group"))?;
            let blob_endpoint = match (&a.blob_endpoint, &a.storage_account) {
                (Some(e), _) => e.clone(),
                (None, Some(account)) => AzureStores::named(account, "-").blob_endpoint,
                (None, None) => return Err(Error::invalid("storage-account", "is missing", "pass --storage-account or --blob-endpoint")),
            };
            let key_vault_url = match (&a.key_vault_url, &a.key_vault) {
                (Some(u), _) => u.clone(),
                (None, Some(vault)) => AzureStores::named("-", vault).key_vault_url,
                (None, None) => return Err(Error::invalid("key-vault", "is missing", "pass --key-vault or --key-vault-url")),
            };
            let credential = deploy::azure::credential::from_env(azure_support::ARM_TOKEN_VAR)?;
            let arm = azure_support::arm_client(&a.arm)?;
            let stores = AzureStores { blob_endpoint, key_vault_url };
            let location = match (&a.location, &env.location.azure) {
                (Some(l), Some(wanted)) if l != wanted => {
                    return Err(Error::invalid(
                        "location",
                        format!("is `{l}`, and the spec's location.azure is `{wanted}`"),
                        "an environment is applied in the location its spec names",
                    ));
                }
                (Some(l), _) | (None, Some(l)) => l.clone(),
                (None, None) => "westeurope".to_owned(),
            };
            let backends = AzureBackends::with_arm(arm, credential, group, &location, &stores)?;
            println!("Azure subscription {}, resource group {group}, location {}", backends.subscription_id(), backends.location());
            let mut azure = AzureEnvironment::new(backends)?.with_observer(aws_support::observer());
            if let Some(principal) = &a.principal_id {
                azure = azure.with_workload_principal(principal);
            }
            Cloud::Azure(Box::new(azure))
        }
    })
}

async fn run(args: &Cli, slot: &mut Option<Cloud>) -> Result<()> {
    let (envs, name) = load(args)?;
    let env = envs.get(&name)?;
    let cloud = slot.insert(connect(args, env).await?);
    let backends = cloud.backends();
    // Every rule of the spec and of the cloud (a backup section on Azure, the
    // region on AWS), before any mutating request.
    env.validate_for(&name, &backends)?;
    match cloud {
        Cloud::Aws { aws, .. } => {
            aws.parts(&name, env)?;
        }
        Cloud::Azure(azure) => {
            azure.validate(&name, env)?;
        }
        Cloud::Memory(_) => {}
    }
    match args.command {
        Command::Plan => {
            aws_support::section(&format!("plan of environment {name} on {}", cloud.name()));
            let plan = cloud.plan(&name, env, &backends).await?;
            show(&plan);
            cli::plan("plan", &plan);
            println!("\nplan: nothing changed");
        }
        Command::Apply => apply(cloud, &name, env, &backends).await?,
        Command::Outputs => {
            let outputs = match cloud {
                Cloud::Aws { aws, .. } => to_json(&aws.outputs(&name, env).await?)?,
                Cloud::Azure(azure) => to_json(&azure.outputs(&name, env).await?)?,
                Cloud::Memory(_) => to_json(&env.outputs(&name, &backends).await?)?,
            };
            aws_support::section(&format!("outputs of environment {name} on {}", cloud.name()));
            let text = serde_json::to_string_pretty(&outputs).map_err(|e| Error::invalid("outputs", e.to_string(), "serializable"))?;
            println!("{text}");
            cli::field("outputs", &outputs);
        }
        Command::Destroy => {
            let final_snapshots = !args.skip_final_snapshots;
            aws_support::section(&format!("destroy plan of environment {name} on {}", cloud.name()));
            let plan = match cloud {
                Cloud::Aws { aws, .. } => aws.destroy_plan(&name, env, final_snapshots).await?,
                Cloud::Azure(azure) => azure.destroy_plan(&name, env, final_snapshots).await?,
                Cloud::Memory(_) => env.destroy_plan(&name, &backends, final_snapshots).await?,
            };
            println!("{plan}");
            let lines: Vec<String> = plan.to_string().lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect();
            cli::field("plan", &lines);
            cli::pending(!plan.steps.is_empty());
            let Some(confirm) = args.confirm.as_deref() else {
                if !plan.steps.is_empty() {
                    println!("\nnothing deleted: run again with --confirm {name} to delete");
                }
                return Ok(());
            };
            if plan.steps.is_empty() {
                println!("\nnothing to destroy");
                return Ok(());
            }
            aws_support::section("destroy");
            let done = match cloud {
                Cloud::Aws { aws, .. } => aws.destroy(&name, env, Some(confirm), final_snapshots).await?,
                Cloud::Azure(azure) => azure.destroy(&name, env, Some(confirm), final_snapshots).await?,
                Cloud::Memory(_) => env.destroy(&name, &backends, Some(confirm), final_snapshots).await?,
            };
            aws_support::section("summary");
            println!("  {} steps done", done.steps.len());
            cli::field("steps_done", done.steps.len());
        }
    }
    Ok(())
}

fn to_json(outputs: &impl serde::Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(outputs).map_err(|e| Error::invalid("outputs", e.to_string(), "serializable"))
}

fn show(plan: &Plan) {
    if plan.is_empty() {
        println!("  (no changes)");
    } else {
        for line in plan.to_string().lines() {
            println!("  {line}");
        }
    }
}

async fn apply(cloud: &Cloud, name: &str, env: &Environment, backends: &Backends) -> Result<()> {
    aws_support::section(&format!("plan of environment {name} on {}", cloud.name()));
    let planned = cloud.plan(name, env, backends).await?;
    show(&planned);
    cli::plan("plan", &planned);
    if planned.is_empty() {
        println!("\nnothing to change");
        return Ok(());
    }
    aws_support::section(&format!("apply environment {name}"));
    let done = match cloud {
        Cloud::Aws { aws, .. } => aws.apply(name, env).await?,
        Cloud::Azure(azure) => azure.apply(name, env).await?,
        Cloud::Memory(_) => env.ensure(backends).await?,
    };
    aws_support::section("changes made");
    show(&done);
    cli::field("changes_made", &done);
    println!("\n{} changes made", done.len());
    Ok(())
}
