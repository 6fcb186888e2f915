//! Vectice AWS appendix 3: an EKS cluster reachable on a private and a public
//! endpoint, with one managed node group, and a kubeconfig made in Rust (a
//! `k8s-aws-v1.` bearer token from a presigned STS call; no aws CLI).
//!
//! Creates (each only when missing or different; a second run changes nothing):
//! - IAM roles `P-eks-cluster` (trusts `eks.amazonaws.com` for this account's
//!   clusters `P*` only: `aws:SourceAccount` and `aws:SourceArn`, with
//!   `AmazonEKSClusterPolicy`) and `P-eks-node` (trusts `ec2.amazonaws.com`,
//!   with `AmazonEKSWorkerNodePolicy`, `AmazonEKS_CNI_Policy`,
//!   `AmazonEC2ContainerRegistryReadOnly`);
//! - VPC `P-vpc` (10.40.0.0/16) with private subnets `P-private-a` and
//!   `P-private-b` in the region's zones `a` and `b`;
//! - KMS key `alias/P-eks` (rotated) that encrypts the cluster's Kubernetes secrets;
//! - EKS cluster `P-eks` (Kubernetes `--version`, default 1.31; private and
//!   public endpoint access; tag `deploy-prefix = P`);
//! - managed node group `P-nodes` (`--instance-type`, default m5.xlarge;
//!   `--min`/`--desired`/`--max`, default 1/2/4; 100 GiB disks). `--desired`
//!   is the initial size: later runs change min and max and leave the current
//!   size to the cluster autoscaler unless it lies outside them (then it is
//!   clamped, and the plan says so).
//!
//! With `--kubeconfig PATH` it writes a kubeconfig for `P-eks` to PATH (mode
//! 0600: it holds a bearer token valid for 15 minutes); the token is never
//! printed. deploy-k8s takes the same credentials directly
//! (`deploy_k8s::client_for(&credentials)`).
//!
//! ```text
//! cargo run --features aws --example aws_eks_cluster -- --prefix acme-prod [--plan] \
//!     [--version 1.31] [--instance-type m5.xlarge] [--min 1] [--desired 2] [--max 4] [--kubeconfig PATH]
//! ```
//!
//! Configured by the standard AWS environment. `--plan` prints what would
//! change and makes no mutating request. The last line is `mutating requests: N`.
//! Creating a cluster on AWS takes 10 to 15 minutes and a node group 3 to 5 more.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::collections::BTreeMap;
use std::process::ExitCode;

use deploy::aws::RequestLog;
use deploy::aws::eks::{EksRoles, EksRolesSpec};
use deploy::aws::iam::IamName;
use deploy::aws::kms::{KeyAlias, KeySpec};
use deploy::aws::network::{SubnetSpec, SubnetTier, VpcSpec};
use deploy::cluster::{ClusterAuth, EndpointAccess, NodePoolSpec};
use deploy::{CidrBlock, Cluster, ClusterSpec, Error, KubernetesVersion, Plan, Reconcile as _, ResourceName};
use secrecy::ExposeSecret as _;

use aws_support::{plan_only, print_plan, section};

/// EKS cluster with a managed node group and a kubeconfig made in Rust (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Kubernetes version (default 1.31)
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Instance type of the node group (default m5.xlarge)
    #[arg(long, value_name = "TYPE")]
    instance_type: Option<String>,
    /// Minimum node count (default 1)
    #[arg(long, value_name = "N")]
    min: Option<String>,
    /// Initial node count (default 2)
    #[arg(long, value_name = "N")]
    desired: Option<String>,
    /// Maximum node count (default 4)
    #[arg(long, value_name = "N")]
    max: Option<String>,
    /// Write a kubeconfig for the cluster to PATH (mode 0600; holds a 15-minute token)
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<String>,
}

impl std::ops::Deref for Cli {
    type Target = aws_support::Args;
    fn deref(&self) -> &aws_support::Args {
        &self.aws
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let log = RequestLog::new();
    aws_support::finish(&log, &cli.aws, run(&log, &cli)).await
}

fn count(value: Option<&str>, name: &str, default: u32) -> deploy::Result<u32> {
    value.map_or(Ok(default), |v| v.parse().map_err(|_| Error::invalid(name, format!("`{v}` is not a number"), "a node count, 0 to 1000")))
}

fn vpc_spec(prefix: &str, region: &str) -> deploy::Result<VpcSpec> {
    let subnet = |suffix: &str, block: &str, zone: char| -> deploy::Result<SubnetSpec> {
        Ok(SubnetSpec::new(
            ResourceName::new(format!("{prefix}-private-{suffix}"))?,
            CidrBlock::new(block)?,
            format!("{region}{zone}"),
            SubnetTier::Private,
        ))
    };
    let spec = VpcSpec::new(ResourceName::new(format!("{prefix}-vpc"))?, CidrBlock::new("10.40.0.0/16")?)
        .with_subnet(subnet("a", "10.40.0.0/19", 'a')?)
        .with_subnet(subnet("b", "10.40.32.0/19", 'b')?)
        .with_tag("deploy-prefix", prefix);
    spec.validate()?;
    Ok(spec)
}

/// The cluster spec; `subnets` and `key_arn` are filled once they exist.
fn cluster_spec(args: &Cli, subnets: Vec<String>, key_arn: Option<String>) -> deploy::Result<ClusterSpec> {
    let p = &args.prefix;
    let version = KubernetesVersion::new(args.version.as_deref().unwrap_or("1.31"))?;
    let pool = NodePoolSpec {
        name: ResourceName::new(format!("{p}-nodes"))?,
        instance_types: vec![args.instance_type.as_deref().unwrap_or("m5.xlarge").to_owned()],
        min: count(args.min.as_deref(), "min", 1)?,
        desired: count(args.desired.as_deref(), "desired", 2)?,
        max: count(args.max.as_deref(), "max", 4)?,
        disk_gib: 100,
        labels: BTreeMap::from([("deploy-prefix".to_owned(), p.clone())]),
    };
    let spec = ClusterSpec {
        name: ResourceName::new(format!("{p}-eks"))?,
        version,
        endpoint_access: EndpointAccess { public: true, private: true, public_cidrs: Vec::new() },
        node_pools: vec![pool],
        secrets_encryption_key: key_arn,
        subnets,
        tags: BTreeMap::from([("deploy-prefix".to_owned(), p.clone())]),
    };
    spec.validate()?;
    Ok(spec)
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let p = args.prefix.clone();
    // Every rule checked before the first request (the spec again below, with ids).
    cluster_spec(args, Vec::new(), None)?;
    let alias = KeyAlias::new(format!("alias/{p}-eks"))?;
    let aws = aws_support::backends(log).await;
    let region = aws
        .sdk_config()
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| Error::invalid("AWS_REGION", "is not set", "the standard AWS environment names a region"))?;
    let vpc = vpc_spec(&p, &region)?;
    let (iam, kms, network) = (aws.iam(), aws.kms(), aws.network());
    let key_spec = KeySpec { description: format!("Kubernetes secrets of {p}-eks"), ..KeySpec::new(alias.clone()) };

    section(&format!("plan for prefix {p}"));
    let mut plan = Plan::new();
    // The cluster role trusts EKS only for this account's clusters named `P*`.
    let account = deploy::aws::sts::caller_identity(aws.context()).await?.account;
    let roles_spec = EksRolesSpec::new(&p, aws_support::partition(&aws), account);
    plan.extend(iam.plan(&roles_spec).await?);
    let mut roles = EksRoles { cluster_role_arn: String::new(), node_role_arn: String::new() };
    for (suffix, arn) in [("eks-cluster", &mut roles.cluster_role_arn), ("eks-node", &mut roles.node_role_arn)] {
        match iam.describe_role(&IamName::new(format!("{p}-{suffix}"))?).await {
            Ok(role) => *arn = role.arn,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    plan.extend(network.plan(&vpc).await?);
    plan.extend(kms.plan(&key_spec).await?);
    // The cluster is compared with the key it would get; subnets cannot change in place.
    let key_arn = match kms.describe_key(&alias).await {
        Ok(key) => Some(key.arn),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    plan.extend(aws.eks(roles).plan_cluster(&cluster_spec(args, Vec::new(), key_arn)?).await?);
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    println!("  iam roles {p}-eks-cluster, {p}-eks-node");
    let roles = iam.ensure(&roles_spec).await?;
    done.extend(roles.plan);
    println!("  vpc {} with {} private subnets", vpc.name, vpc.subnets.len());
    let net = network.ensure(&vpc).await?;
    done.extend(net.plan);
    println!("  kms key {alias}");
    let key = kms.ensure(&key_spec).await?;
    done.extend(key.plan);
    let subnets = net.info.subnets.iter().map(|s| s.subnet_id.clone()).collect();
    let spec = cluster_spec(args, subnets, Some(key.info.arn.clone()))?;
    println!("  eks cluster {} with node group {} (waits until active)", spec.name, spec.node_pools[0].name);
    let eks = aws.eks(roles.info).with_waiter(aws.waiter().clone().with_observer(aws_support::observer()));
    done.extend(eks.ensure_cluster(&spec).await?);

    section("changes made");
    print_plan(&done);

    section("summary");
    let info = eks.describe_cluster(&spec.name).await?;
    println!("  cluster {}: {} Kubernetes {}, {}", info.name, info.status, info.version, info.endpoint.as_deref().unwrap_or("-"));
    println!("  endpoint access: private {}, public {}", info.endpoint_access.private, info.endpoint_access.public);
    cli::output("cluster", info.name.as_str());
    cli::output("endpoint", &info.endpoint);
    cli::output("version", info.version.to_string());
    cli::output("node_groups", info.node_pools.iter().map(|p| p.spec.name.as_str()).collect::<Vec<_>>());
    for pool in &info.node_pools {
        let s = &pool.spec;
        println!(
            "  node group {}: {} {}..{} (desired {}), {} GiB, {}",
            s.name,
            s.instance_types.join(","),
            s.min,
            s.max,
            s.desired,
            s.disk_gib,
            pool.status
        );
    }
    let credentials = eks.credentials(&spec.name).await?;
    if let ClusterAuth::BearerToken { expires, .. } = &credentials.auth {
        let until = expires.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
        println!("  bearer token: k8s-aws-v1. (not shown), valid until {until}");
    }
    if let Some(path) = args.kubeconfig.as_deref() {
        write_private(path, credentials.to_kubeconfig().expose_secret())?;
        println!("  kubeconfig written to {path} (mode 0600)");
    }
    Ok(())
}

/// Write `text` to `path`, readable by the owner only.
fn write_private(path: &str, text: &str) -> deploy::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let fail = |e: std::io::Error| Error::invalid("kubeconfig", format!("cannot write {path}: {e}"), "--kubeconfig names a writable file");
    let mut file = options.open(path).map_err(fail)?;
    // `mode` applies to a new file only: narrow an existing one too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)
}
