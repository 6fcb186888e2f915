//! [`EksCluster`]: the [`Cluster`] on Amazon EKS.
//!
//! - The cluster: Kubernetes version, private and public endpoint access (and
//!   the public CIDRs), secrets encryption with a KMS key, subnets, tags; it
//!   runs as the cluster role of [`EksRoles`] (see `EksRolesSpec` with the
//!   `iam` feature for the roles and their AWS-managed policies).
//! - Managed node groups: instance types, min/max/desired, disk, labels,
//!   running as the node role, in the cluster's subnets. `desired` is the
//!   initial size: later runs change min/max and leave the current size to the
//!   cluster autoscaler unless it lies outside them (then it is clamped, and the
//!   plan says so), as Terraform users do with
//!   `ignore_changes = [scaling_config[0].desired_size]`.
//! - Updates in place: endpoint access (`UpdateClusterConfig`), version
//!   (`UpdateClusterVersion`), tags, node group scaling and labels
//!   (`UpdateNodegroupConfig`); instance types, disk and the secrets key cannot
//!   change in place and are reported as drift.
//! - [`Cluster::credentials`] answers the API server, its CA and a
//!   `k8s-aws-v1.` bearer token made in Rust ([`token`]); a kubeconfig with
//!   [`ClusterCredentials::to_kubeconfig`](deploy_core::ClusterCredentials::to_kubeconfig).
//! - Every change waits through [`Waiter`] until the cluster and its node
//!   groups are `ACTIVE` (or gone).

pub mod token;

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_eks::Client;
use aws_sdk_eks::types::{
    ClusterStatus as EksStatus, EncryptionConfig, Nodegroup, NodegroupScalingConfig, NodegroupStatus, Provider, UpdateLabelsPayload,
    VpcConfigRequest,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deploy_core::cluster::{
    ClusterAuth, ClusterCredentials, ClusterInfo, ClusterSpec, ClusterStatus, EndpointAccess, NodePoolInfo, NodePoolSpec,
};
use deploy_core::plan::{Action, Change, Plan};
use deploy_core::waiter::{Poll, Waiter};
use deploy_core::{CidrBlock, Cluster, Error, KubernetesVersion, ResourceName, Result};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, missing};

const SERVICE: &str = "aws-eks";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// The IAM roles EKS runs as: the cluster role (trusting `eks.amazonaws.com`,
/// with `AmazonEKSClusterPolicy`) and the node role (trusting
/// `ec2.amazonaws.com`, with `AmazonEKSWorkerNodePolicy`,
/// `AmazonEKS_CNI_Policy` and `AmazonEC2ContainerRegistryReadOnly`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EksRoles {
    /// The cluster role's ARN.
    pub cluster_role_arn: String,
    /// The node role's ARN.
    pub node_role_arn: String,
}

/// The AWS-managed policies of the cluster role.
pub const CLUSTER_ROLE_POLICIES: &[&str] = &["AmazonEKSClusterPolicy"];
/// The AWS-managed policies of the node role.
pub const NODE_ROLE_POLICIES: &[&str] = &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"];

/// The cluster role `PREFIX-eks-cluster` and the node role `PREFIX-eks-node`
/// of a cluster, with their trust policies and AWS-managed policies
/// ([`CLUSTER_ROLE_POLICIES`], [`NODE_ROLE_POLICIES`]): what
/// [`crate::iam::Iam`] reconciles ([`deploy_core::Reconcile`]: `plan` /
/// `ensure`) into [`EksRoles`].
#[cfg(feature = "iam")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EksRolesSpec {
    /// The prefix of the roles' names.
    pub prefix: String,
    /// The partition of the AWS-managed policies' ARNs (`aws`).
    pub partition: String,
    /// The account the clusters run in: the cluster role trusts `eks.amazonaws.com` only when it acts for
    /// this account (`aws:SourceAccount`) and for a cluster named `PREFIX*` of it (`aws:SourceArn`), as
    /// the EKS user guide's "Cross-service confused deputy prevention" shows for the cluster role.
    pub account_id: String,
}

#[cfg(feature = "iam")]
impl EksRolesSpec {
    /// The roles `PREFIX-eks-cluster` and `PREFIX-eks-node` in `partition`, for clusters of `account_id`
    /// (12 digits; [`crate::sts::caller_identity`] answers it).
    pub fn new(prefix: impl Into<String>, partition: impl Into<String>, account_id: impl Into<String>) -> Self {
        EksRolesSpec { prefix: prefix.into(), partition: partition.into(), account_id: account_id.into() }
    }

    /// The cluster role's spec and the node role's.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a role name is not an IAM name.
    pub fn role_specs(&self) -> Result<(crate::iam::RoleSpec, crate::iam::RoleSpec)> {
        use crate::iam::{IamName, RoleSpec};
        use crate::policy::{trust_service, trust_service_in};
        let (prefix, partition, account) = (&self.prefix, &self.partition, &self.account_id);
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("account_id", format!("`{account}`"), "an AWS account id: 12 digits"));
        }
        let managed = |names: &[&str]| names.iter().map(|n| format!("arn:{partition}:iam::aws:policy/{n}")).collect::<Vec<_>>();
        // EKS sends aws:SourceAccount and aws:SourceArn (the cluster) when it assumes the cluster role.
        let clusters = format!("arn:{partition}:eks:*:{account}:cluster/{prefix}*");
        let mut cluster =
            RoleSpec::new(IamName::new(format!("{prefix}-eks-cluster"))?, trust_service_in("eks.amazonaws.com", account, Some(&clusters)));
        cluster.managed_policies = managed(CLUSTER_ROLE_POLICIES);
        cluster.description = "EKS control plane".into();
        // EC2 documents no aws:SourceAccount for the instance role it assumes: a condition would keep nodes out.
        let mut node = RoleSpec::new(IamName::new(format!("{prefix}-eks-node"))?, trust_service("ec2.amazonaws.com"));
        node.managed_policies = managed(NODE_ROLE_POLICIES);
        node.description = "EKS worker nodes".into();
        Ok((cluster, node))
    }
}

/// The two roles of `spec`, each through the [`deploy_core::Reconcile`] of
/// [`crate::iam::RoleSpec`]; the info is `None` only when planning a role
/// that does not exist yet. Callers use the provided
/// [`deploy_core::Reconcile::plan`] / [`deploy_core::Reconcile::ensure`].
///
/// # Errors
/// As the [`deploy_core::Reconcile`] of [`crate::iam::RoleSpec`] on [`crate::iam::Iam`].
#[cfg(feature = "iam")]
#[async_trait]
impl deploy_core::Reconcile<EksRolesSpec> for crate::iam::Iam {
    type Info = EksRoles;

    #[tracing::instrument(level = "info", skip_all, fields(backend = "aws-iam", kind = "eks roles", name = %spec.prefix, mode = ?mode))]

    async fn reconcile(&self, spec: &EksRolesSpec, mode: deploy_core::Mode) -> Result<deploy_core::reconcile::Reconciled<EksRoles>> {
        use deploy_core::Reconcile;
        let (cluster, node) = spec.role_specs()?;
        let cluster = <Self as Reconcile<crate::iam::RoleSpec>>::reconcile(self, &cluster, mode).await?;
        let node = <Self as Reconcile<crate::iam::RoleSpec>>::reconcile(self, &node, mode).await?;
        let mut plan = cluster.plan;
        plan.extend(node.plan);
        let info = match (cluster.info, node.info) {
            (Some(cluster), Some(node)) => Some(EksRoles { cluster_role_arn: cluster.arn, node_role_arn: node.arn }),
            _ => None,
        };
        Ok(deploy_core::reconcile::Reconciled { plan, info })
    }
}

fn cluster_status(s: Option<&EksStatus>) -> ClusterStatus {
    match s {
        Some(EksStatus::Active) => ClusterStatus::Active,
        Some(EksStatus::Creating | EksStatus::Pending) => ClusterStatus::Creating,
        Some(EksStatus::Updating) => ClusterStatus::Updating,
        Some(EksStatus::Deleting) => ClusterStatus::Deleting,
        Some(EksStatus::Failed) => ClusterStatus::Failed,
        Some(other) => ClusterStatus::Other(other.as_str().to_ascii_lowercase()),
        None => ClusterStatus::Other("unknown".into()),
    }
}

fn pool_status(s: Option<&NodegroupStatus>) -> ClusterStatus {
    match s {
        Some(NodegroupStatus::Active) => ClusterStatus::Active,
        Some(NodegroupStatus::Creating) => ClusterStatus::Creating,
        Some(NodegroupStatus::Updating) => ClusterStatus::Updating,
        Some(NodegroupStatus::Deleting) => ClusterStatus::Deleting,
        Some(NodegroupStatus::CreateFailed | NodegroupStatus::DeleteFailed | NodegroupStatus::Degraded) => ClusterStatus::Failed,
        Some(other) => ClusterStatus::Other(other.as_str().to_ascii_lowercase()),
        None => ClusterStatus::Other("unknown".into()),
    }
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn to_u32(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// EKS's rules on names, labels and tags, before any request.
fn validate_spec(spec: &ClusterSpec) -> Result<()> {
    spec.validate()?;
    for (i, pool) in spec.node_pools.iter().enumerate() {
        for k in pool.labels.keys() {
            let name = k.rsplit('/').next().unwrap_or(k);
            if name.is_empty()
                || name.len() > 63
                || k.starts_with("kubernetes.io/")
                || k.starts_with("k8s.io/")
                || k.starts_with("eks.amazonaws.com/")
            {
                return Err(Error::invalid(
                    format!("node_pools[{i}].labels.{k}"),
                    "is not a label key EKS accepts",
                    "label keys: an optional DNS prefix and a name of 1-63 characters; not in kubernetes.io/, k8s.io/ or eks.amazonaws.com/",
                ));
            }
        }
    }
    let rule = "EKS tags: at most 50; keys 1-128 characters, not starting with `aws:`; values at most 256 characters";
    for (k, v) in &spec.tags {
        if k.is_empty() || k.chars().count() > 128 || k.starts_with("aws:") || v.chars().count() > 256 {
            return Err(Error::invalid(format!("tags.{k}"), "breaks a tag rule", rule));
        }
    }
    if let Some(key) = &spec.secrets_encryption_key
        && !key.starts_with("arn:")
    {
        return Err(Error::invalid(
            "secrets_encryption_key",
            format!("`{key}` is not an ARN"),
            "EKS secrets encryption takes a KMS key ARN",
        ));
    }
    Ok(())
}

/// The [`Cluster`] on Amazon EKS. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct EksCluster {
    client: Client,
    ctx: AwsContext,
    roles: EksRoles,
    waiter: Waiter,
}

impl EksCluster {
    /// EKS built from `ctx`, running clusters and node groups as `roles`; the
    /// context's credentials sign the bearer tokens.
    pub fn new(ctx: &AwsContext, roles: EksRoles) -> Self {
        EksCluster { client: ctx.client(), ctx: ctx.clone(), roles, waiter: ctx.waiter() }
    }

    deploy_core::setters! {
        /// Wait for long operations with `waiter`.
        pub fn with_waiter(waiter: Waiter);
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The security group EKS made for the cluster (`clusterSecurityGroupId`):
    /// the control plane and every managed node group's nodes are in it, so a
    /// rule admitting it admits the cluster's nodes. `None` while EKS reports none.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the cluster; provider errors.
    pub async fn cluster_security_group(&self, name: &ResourceName) -> Result<Option<String>> {
        let describe = op("DescribeCluster");
        let out = self.client.describe_cluster().name(name.as_str()).send().await.on(describe, "cluster", name.as_str())?;
        let c = out.cluster().ok_or_else(|| missing(describe, "cluster"))?;
        Ok(c.resources_vpc_config().and_then(|v| v.cluster_security_group_id()).filter(|id| !id.is_empty()).map(str::to_owned))
    }

    /// Every control-plane log type (`api`, `audit`, `authenticator`,
    /// `controllerManager`, `scheduler`) sent to CloudWatch Logs, or none
    /// (`on` false): what [`EksCluster::reconcile_control_plane_logging`] brings
    /// the cluster to. The log group's retention is [`crate::logs`]'s.
    pub const CONTROL_PLANE_LOG_TYPES: [&'static str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

    /// Control-plane logging of cluster `name`: every type of
    /// [`EksCluster::CONTROL_PLANE_LOG_TYPES`] enabled (`on`) or disabled, by
    /// `UpdateClusterConfig` in [`Mode::Apply`](deploy_core::Mode::Apply) when
    /// the cluster's differs (waiting until the cluster is active again);
    /// answers the change planned or made.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Timeout`]; provider errors.
    pub async fn reconcile_control_plane_logging(&self, name: &ResourceName, on: bool, mode: deploy_core::Mode) -> Result<Plan> {
        use aws_sdk_eks::types::{LogSetup, LogType, Logging};
        let describe = op("DescribeCluster");
        let out = self.client.describe_cluster().name(name.as_str()).send().await.on(describe, "cluster", name.as_str())?;
        let c = out.cluster().ok_or_else(|| missing(describe, "cluster"))?;
        let enabled: std::collections::BTreeSet<String> = c
            .logging()
            .map(|l| l.cluster_logging())
            .unwrap_or_default()
            .iter()
            .filter(|s| s.enabled() == Some(true))
            .flat_map(|s| s.types().iter().map(|t| t.as_str().to_owned()))
            .collect();
        let all = Self::CONTROL_PLANE_LOG_TYPES.iter().all(|t| enabled.contains(*t));
        let none = Self::CONTROL_PLANE_LOG_TYPES.iter().all(|t| !enabled.contains(*t));
        if (on && all) || (!on && none) {
            return Ok(Plan::new());
        }
        let shown = |set: &std::collections::BTreeSet<String>| {
            if set.is_empty() { "off".to_owned() } else { set.iter().cloned().collect::<Vec<_>>().join(",") }
        };
        let wanted = if on { Self::CONTROL_PLANE_LOG_TYPES.join(",") } else { "off".to_owned() };
        let plan = Plan::from_iter([Change::update(
            "cluster",
            name.as_str(),
            vec![deploy_core::FieldChange::new("control_plane_logging", shown(&enabled), wanted)],
        )]);
        if mode.is_apply() {
            let setup = LogSetup::builder()
                .set_types(Some(Self::CONTROL_PLANE_LOG_TYPES.iter().map(|t| LogType::from(*t)).collect()))
                .enabled(on)
                .build();
            self.client
                .update_cluster_config()
                .name(name.as_str())
                .logging(Logging::builder().cluster_logging(setup).build())
                .send()
                .await
                .on(op("UpdateClusterConfig"), "cluster", name.as_str())?;
            self.wait_active(name).await?;
        }
        Ok(plan)
    }

    async fn find(&self, name: &str) -> Result<Option<(ClusterInfo, Option<String>)>> {
        let describe = op("DescribeCluster");
        let Some(out) = self.client.describe_cluster().name(name).send().await.found(describe, "cluster", name)? else { return Ok(None) };
        let c = out.cluster().ok_or_else(|| missing(describe, "cluster"))?;
        let vpc = c.resources_vpc_config();
        let public = vpc.is_some_and(|v| v.endpoint_public_access());
        let public_cidrs = vpc
            .map(|v| v.public_access_cidrs())
            .unwrap_or_default()
            .iter()
            // EKS reports "any address" as 0.0.0.0/0 where the spec says it with no CIDR.
            .filter(|c| *c != "0.0.0.0/0")
            .map(CidrBlock::new)
            .collect::<Result<Vec<_>>>()?;
        let info = ClusterInfo {
            name: ResourceName::new(c.name().ok_or_else(|| missing(describe, "name"))?)?,
            status: cluster_status(c.status()),
            version: KubernetesVersion::new(c.version().ok_or_else(|| missing(describe, "version"))?)?,
            endpoint: c.endpoint().map(str::to_owned),
            endpoint_access: EndpointAccess { public, private: vpc.is_some_and(|v| v.endpoint_private_access()), public_cidrs },
            // EKS encrypts all Kubernetes API data with the configured key (the
            // `resources` list no longer selects anything, and the SDK deprecates it).
            secrets_encryption_key: c.encryption_config().iter().find_map(|e| e.provider()?.key_arn().map(str::to_owned)),
            node_pools: self.node_pools(name).await?,
            tags: c.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
        };
        let ca = c.certificate_authority().and_then(|ca| ca.data()).map(str::to_owned);
        Ok(Some((info, ca)))
    }

    async fn get(&self, name: &ResourceName) -> Result<ClusterInfo> {
        Ok(self.find(name.as_str()).await?.ok_or_else(|| Error::not_found("cluster", name.as_str()))?.0)
    }

    async fn node_pools(&self, cluster: &str) -> Result<Vec<NodePoolInfo>> {
        let mut names = Vec::new();
        let mut pages = self.client.list_nodegroups().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            names.extend(page.on(op("ListNodegroups"), "cluster", cluster)?.nodegroups().to_vec());
        }
        let mut pools = Vec::new();
        for name in names {
            if let Some(group) = self.nodegroup(cluster, &name).await? {
                pools.push(pool_info(&group)?);
            }
        }
        Ok(pools)
    }

    async fn nodegroup(&self, cluster: &str, name: &str) -> Result<Option<Nodegroup>> {
        let describe = op("DescribeNodegroup");
        let out = self.client.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await;
        let Some(out) = out.found(describe, "node pool", &format!("{cluster}/{name}"))? else { return Ok(None) };
        Ok(Some(out.nodegroup().ok_or_else(|| missing(describe, "node group"))?.clone()))
    }

    /// The neutral diff of an existing cluster.
    fn plan_existing(info: &ClusterInfo, spec: &ClusterSpec) -> Plan {
        info.diff(spec)
    }

    async fn wait_active(&self, name: &ResourceName) -> Result<ClusterInfo> {
        self.waiter
            .wait(&format!("cluster {name} and its node pools to be active"), || async {
                let info = self.get(name).await?;
                if info.status == ClusterStatus::Failed {
                    return Ok(Poll::Failed(format!("cluster {name} failed")));
                }
                if let Some(pool) = info.node_pools.iter().find(|p| p.status == ClusterStatus::Failed) {
                    return Ok(Poll::Failed(format!("node pool {} failed", pool.spec.name)));
                }
                if info.status != ClusterStatus::Active {
                    return Ok(Poll::Pending(format!("cluster {}", info.status)));
                }
                Ok(match info.node_pools.iter().find(|p| p.status != ClusterStatus::Active) {
                    Some(pool) => Poll::Pending(format!("node pool {} {}", pool.spec.name, pool.status)),
                    None => Poll::Ready(info),
                })
            })
            .await
    }

    fn vpc_config(access: &EndpointAccess, subnets: Option<&[String]>) -> VpcConfigRequest {
        VpcConfigRequest::builder()
            .set_subnet_ids(subnets.map(<[String]>::to_vec))
            .endpoint_public_access(access.public)
            .endpoint_private_access(access.private)
            .set_public_access_cidrs(
                (access.public && !access.public_cidrs.is_empty()).then(|| access.public_cidrs.iter().map(ToString::to_string).collect()),
            )
            .build()
    }

    async fn create_cluster(&self, spec: &ClusterSpec) -> Result<()> {
        let name = spec.name.as_str();
        let encryption = spec
            .secrets_encryption_key
            .as_ref()
            .map(|key| vec![EncryptionConfig::builder().provider(Provider::builder().key_arn(key).build()).build()]);
        self.client
            .create_cluster()
            .name(name)
            .version(spec.version.as_str())
            .role_arn(&self.roles.cluster_role_arn)
            .resources_vpc_config(Self::vpc_config(&spec.endpoint_access, Some(&spec.subnets)))
            .set_encryption_config(encryption)
            .set_tags((!spec.tags.is_empty()).then(|| spec.tags.clone().into_iter().collect::<HashMap<_, _>>()))
            .send()
            .await
            .on(op("CreateCluster"), "cluster", name)?;
        Ok(())
    }

    async fn create_pool(&self, spec: &ClusterSpec, pool: &NodePoolSpec) -> Result<()> {
        let name = format!("{}/{}", spec.name, pool.name);
        self.client
            .create_nodegroup()
            .cluster_name(spec.name.as_str())
            .nodegroup_name(pool.name.as_str())
            .node_role(&self.roles.node_role_arn)
            .set_subnets(Some(spec.subnets.clone()))
            .set_instance_types(Some(pool.instance_types.clone()))
            .disk_size(to_i32(pool.disk_gib))
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(to_i32(pool.min))
                    .max_size(to_i32(pool.max))
                    .desired_size(to_i32(pool.desired))
                    .build(),
            )
            .set_labels((!pool.labels.is_empty()).then(|| pool.labels.clone().into_iter().collect::<HashMap<_, _>>()))
            .set_tags((!spec.tags.is_empty()).then(|| spec.tags.clone().into_iter().collect::<HashMap<_, _>>()))
            .send()
            .await
            .on(op("CreateNodegroup"), "node pool", &name)?;
        Ok(())
    }

    async fn update_cluster(&self, info: &ClusterInfo, spec: &ClusterSpec, fields: &[String]) -> Result<()> {
        let name = spec.name.as_str();
        if fields.iter().any(|f| f == "endpoint_access") {
            self.client
                .update_cluster_config()
                .name(name)
                .resources_vpc_config(Self::vpc_config(&spec.endpoint_access, None))
                .send()
                .await
                .on(op("UpdateClusterConfig"), "cluster", name)?;
            self.wait_active(&spec.name).await?;
        }
        if fields.iter().any(|f| f == "version") {
            self.client.update_cluster_version().name(name).version(spec.version.as_str()).send().await.on(
                op("UpdateClusterVersion"),
                "cluster",
                name,
            )?;
            self.wait_active(&spec.name).await?;
        }
        if fields.iter().any(|f| f == "tags") {
            let describe = self.client.describe_cluster().name(name).send().await.on(op("DescribeCluster"), "cluster", name)?;
            let arn = describe.cluster().and_then(|c| c.arn()).ok_or_else(|| missing(op("DescribeCluster"), "cluster ARN"))?.to_owned();
            let stale: Vec<String> = info.tags.keys().filter(|k| !spec.tags.contains_key(*k)).cloned().collect();
            if !stale.is_empty() {
                self.client.untag_resource().resource_arn(&arn).set_tag_keys(Some(stale)).send().await.on(
                    op("UntagResource"),
                    "cluster",
                    name,
                )?;
            }
            let changed: HashMap<String, String> =
                spec.tags.iter().filter(|(k, v)| info.tags.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
            if !changed.is_empty() {
                self.client.tag_resource().resource_arn(&arn).set_tags(Some(changed)).send().await.on(
                    op("TagResource"),
                    "cluster",
                    name,
                )?;
            }
        }
        Ok(())
    }

    async fn update_pool(&self, spec: &ClusterSpec, have: &NodePoolSpec, want: &NodePoolSpec) -> Result<()> {
        let name = format!("{}/{}", spec.name, want.name);
        let labels = (have.labels != want.labels).then(|| {
            let add: HashMap<String, String> =
                want.labels.iter().filter(|(k, v)| have.labels.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
            let remove: Vec<String> = have.labels.keys().filter(|k| !want.labels.contains_key(*k)).cloned().collect();
            UpdateLabelsPayload::builder()
                .set_add_or_update_labels((!add.is_empty()).then_some(add))
                .set_remove_labels((!remove.is_empty()).then_some(remove))
                .build()
        });
        // `desired` is the initial size: the current one is the cluster autoscaler's, and is sent
        // only when it lies outside the new min..=max (clamped), never reset to the spec's value.
        let size = want.size_after(have.desired);
        let scaling = (have.min, have.max) != (want.min, want.max) || size != have.desired;
        self.client
            .update_nodegroup_config()
            .cluster_name(spec.name.as_str())
            .nodegroup_name(want.name.as_str())
            .set_scaling_config(scaling.then(|| {
                NodegroupScalingConfig::builder()
                    .min_size(to_i32(want.min))
                    .max_size(to_i32(want.max))
                    .set_desired_size((size != have.desired).then(|| to_i32(size)))
                    .build()
            }))
            .set_labels(labels)
            .send()
            .await
            .on(op("UpdateNodegroupConfig"), "node pool", &name)?;
        Ok(())
    }
}

fn pool_info(group: &Nodegroup) -> Result<NodePoolInfo> {
    let describe = op("DescribeNodegroup");
    let scaling = group.scaling_config();
    Ok(NodePoolInfo {
        spec: NodePoolSpec {
            name: ResourceName::new(group.nodegroup_name().ok_or_else(|| missing(describe, "name"))?)?,
            instance_types: group.instance_types().to_vec(),
            min: to_u32(scaling.and_then(NodegroupScalingConfig::min_size)),
            max: to_u32(scaling.and_then(NodegroupScalingConfig::max_size)),
            desired: to_u32(scaling.and_then(NodegroupScalingConfig::desired_size)),
            disk_gib: to_u32(group.disk_size()),
            labels: group.labels().map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<BTreeMap<_, _>>()).unwrap_or_default(),
        },
        status: pool_status(group.status()),
    })
}

fn fields_of(plan: &Plan, kind: &str, name: &str) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.kind == kind && c.name == name)
        .filter_map(|c| match &c.action {
            Action::Update { fields } => Some(fields.iter().map(|f| f.field.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[async_trait]
impl Cluster for EksCluster {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "cluster", name = %spec.name))]
    async fn reconcile_cluster(&self, spec: &ClusterSpec, mode: deploy_core::Mode) -> Result<Plan> {
        validate_spec(spec)?;
        let (plan, info) = match self.find(spec.name.as_str()).await? {
            None => {
                let mut plan = Plan::from_iter([Change::create("cluster", spec.name.as_str())]);
                for pool in &spec.node_pools {
                    plan.push(Change::create("node pool", format!("{}/{}", spec.name, pool.name)));
                }
                if !mode.is_apply() {
                    return Ok(plan);
                }
                self.create_cluster(spec).await?;
                (plan, self.wait_active(&spec.name).await?)
            }
            Some((info, _)) => {
                if !mode.is_apply() {
                    return Ok(Self::plan_existing(&info, spec));
                }
                let info = if info.status == ClusterStatus::Active && info.node_pools.iter().all(|p| p.status == ClusterStatus::Active) {
                    info
                } else {
                    self.wait_active(&spec.name).await?
                };
                (Self::plan_existing(&info, spec), info)
            }
        };
        let cluster_fields = fields_of(&plan, "cluster", spec.name.as_str());
        if !cluster_fields.is_empty() {
            self.update_cluster(&info, spec, &cluster_fields).await?;
        }
        for want in &spec.node_pools {
            match info.node_pools.iter().find(|p| p.spec.name == want.name) {
                None => self.create_pool(spec, want).await?,
                Some(have) if !fields_of(&plan, "node pool", &format!("{}/{}", spec.name, want.name)).is_empty() => {
                    self.update_pool(spec, &have.spec, want).await?;
                }
                Some(_) => {}
            }
        }
        if plan.has_mutations() {
            self.wait_active(&spec.name).await?;
        }
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "cluster", name = %name))]
    async fn describe_cluster(&self, name: &ResourceName) -> Result<ClusterInfo> {
        self.get(name).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "cluster", name = %name))]
    async fn credentials(&self, name: &ResourceName) -> Result<ClusterCredentials> {
        let (info, ca) = self.find(name.as_str()).await?.ok_or_else(|| Error::not_found("cluster", name.as_str()))?;
        if info.status != ClusterStatus::Active {
            return Err(Error::conflict("cluster", name.as_str(), format!("is {}, not active", info.status)));
        }
        let server = info.endpoint.ok_or_else(|| missing(op("DescribeCluster"), "endpoint"))?;
        let certificate_authority_pem = ca.and_then(|data| match BASE64.decode(data.trim()).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(pem),
            _ => {
                tracing::warn!(cluster = %name, "the cluster's certificate authority data is not a base64 PEM certificate; leaving it out");
                None
            }
        });
        let (token, expires) = token::token(self.ctx.sdk_config(), name.as_str()).await?;
        Ok(ClusterCredentials {
            cluster: name.to_string(),
            server,
            certificate_authority_pem,
            auth: ClusterAuth::BearerToken { token, expires: Some(expires) },
        })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "cluster", name = %cluster))]
    async fn delete_node_pool(&self, cluster: &ResourceName, pool: &ResourceName) -> Result<()> {
        let name = format!("{cluster}/{pool}");
        self.client.delete_nodegroup().cluster_name(cluster.as_str()).nodegroup_name(pool.as_str()).send().await.on(
            op("DeleteNodegroup"),
            "node pool",
            &name,
        )?;
        self.waiter
            .wait(&format!("node pool {name} to be deleted"), || async {
                Ok(match self.nodegroup(cluster.as_str(), pool.as_str()).await? {
                    None => Poll::Ready(()),
                    Some(group) if group.status() == Some(&NodegroupStatus::DeleteFailed) => Poll::Failed("delete failed".into()),
                    Some(group) => Poll::Pending(pool_status(group.status()).to_string()),
                })
            })
            .await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "cluster", name = %name))]
    async fn delete_cluster(&self, name: &ResourceName) -> Result<()> {
        let info = self.get(name).await?;
        for pool in &info.node_pools {
            self.delete_node_pool(name, &pool.spec.name).await?;
        }
        self.client.delete_cluster().name(name.as_str()).send().await.on(op("DeleteCluster"), "cluster", name.as_str())?;
        self.waiter
            .wait(&format!("cluster {name} to be deleted"), || async {
                Ok(match self.find(name.as_str()).await? {
                    None => Poll::Ready(()),
                    Some((info, _)) if info.status == ClusterStatus::Failed => Poll::Failed("failed".into()),
                    Some((info, _)) => Poll::Pending(info.status.to_string()),
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(cluster_status(Some(&EksStatus::Active)), ClusterStatus::Active);
        assert_eq!(cluster_status(Some(&EksStatus::Pending)), ClusterStatus::Creating);
        assert_eq!(pool_status(Some(&NodegroupStatus::Degraded)), ClusterStatus::Failed);
        assert_eq!(pool_status(Some(&NodegroupStatus::Updating)), ClusterStatus::Updating);
    }

    #[test]
    fn eks_rules_are_checked_before_any_request() {
        let pool = NodePoolSpec {
            name: ResourceName::new("pool").unwrap(),
            instance_types: vec!["m5.large".into()],
            min: 1,
            max: 3,
            desired: 2,
            disk_gib: 50,
            labels: BTreeMap::from([("kubernetes.io/role".to_owned(), "x".to_owned())]),
        };
        let spec = ClusterSpec {
            name: ResourceName::new("prod").unwrap(),
            version: KubernetesVersion::new("1.31").unwrap(),
            endpoint_access: EndpointAccess::default(),
            node_pools: vec![pool],
            secrets_encryption_key: None,
            subnets: vec![],
            tags: BTreeMap::new(),
        };
        assert_eq!(validate_spec(&spec).unwrap_err().invalid_field(), Some("node_pools[0].labels.kubernetes.io/role"));
        let mut s = spec.clone();
        s.node_pools[0].labels.clear();
        s.secrets_encryption_key = Some("alias/eks".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("secrets_encryption_key"));
        s.secrets_encryption_key = None;
        assert!(validate_spec(&s).is_ok());
    }
}
