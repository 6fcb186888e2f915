//! A whole [`Environment`] on AWS, planned, applied, read and destroyed in
//! dependency order: what the neutral spec leaves implicit is derived
//! ([`AwsParts`]) and made through this crate's own modules.
//!
//! Apply order: the EKS cluster and node roles ([`crate::eks::EksRolesSpec`]);
//! the KMS keys (the cluster's secrets key, whose policy lets the cluster role
//! use it, and the backup vault's); the VPC with two private and two public
//! subnets in zones `REGIONa` / `REGIONb` carved from `network.cidr`
//! ([`deploy_core::env::NetworkLayout`]); the S3 gateway endpoint on the VPC's
//! main route table; the DB subnet group over the private subnets; the
//! secrets, buckets and the cluster; the databases' security group, admitting
//! PostgreSQL's port from EKS's cluster security group (the nodes') only; then
//! the five traits ([`Environment::ensure`]: secrets, databases in the subnet
//! group, buckets, the cluster in the private subnets with its node pools,
//! the backup vault with its key, plan and selection).
//!
//! With the spec's optional `files`, an encrypted EFS file system with a
//! mount target in each private subnet behind the security group `NAME-files`
//! (NFS from the cluster's security group only); with `logs`, every EKS
//! control-plane log type sent to CloudWatch Logs and the group
//! `/aws/eks/CLUSTER/cluster` keeping them `retention_days`.
//!
//! A node pool of the cluster or a subnet of the VPC that is in the cloud but
//! no longer in the spec is reported ([`Change::unmanaged`]) and left alone;
//! only [`AwsEnvironment::destroy`] removes it. Destroy runs in the reverse
//! order: the neutral teardown (recovery points, plan and vault, deletion
//! protection, databases with final snapshots, buckets, node pools and
//! cluster, secrets), then the file system and the log group (data: each
//! needs the confirmation), the DB subnet group, the VPC with its endpoint and
//! subnets, the keys (scheduled for deletion after KMS's shortest wait, 7
//! days) and the roles; every data-bearing step needs the confirmation naming
//! the environment.
//!
//! ```no_run
//! # async fn run(backends: deploy_aws::AwsBackends) -> deploy_core::Result<()> {
//! use deploy_aws::environment::AwsEnvironment;
//! use deploy_core::env::Environments;
//! let envs = Environments::from_toml(&std::fs::read_to_string("environments.toml").unwrap())?;
//! let aws = AwsEnvironment::connect(backends).await?;
//! let plan = aws.plan("staging", envs.get("staging")?).await?;
//! println!("{plan}");
//! aws.apply("staging", envs.get("staging")?).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;

use deploy_core::env::{Backends, Environment, EnvironmentOutputs};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::recipes::{TeardownPlan, TeardownStep};
use deploy_core::reconcile::{Mode, Reconcile};
use deploy_core::{Confirm, Error, Observer, ResourceName, Result, ResultExt as _};
use serde::Serialize;

use crate::AwsBackends;
use crate::eks::{EksCluster, EksRoles};
use crate::kms::KeySpec;
use crate::network::{DatabaseSecurityGroupSpec, S3GatewayEndpointSpec, SubnetTier};
use crate::rds::DbSubnetGroupSpec;
use crate::sts::CallerIdentity;

mod parts;

pub use parts::{AwsParts, ZONES};
use parts::{Known, completed};

/// The port the databases' security group opens to the nodes (RDS for PostgreSQL's).
pub const POSTGRES_PORT: u16 = 5432;

/// The port the file system's security group opens to the nodes (NFS).
pub const NFS_PORT: u16 = 2049;

/// The cluster's nodes, as far as EKS tells.
enum Nodes {
    /// EKS's cluster security group.
    Group(String),
    /// The cluster (or the VPC) does not exist yet.
    NotYet,
    /// EKS reports no cluster security group.
    Unreported,
}

/// KMS's shortest wait before a key scheduled for deletion is deleted.
pub const KEY_DELETION_DAYS: u32 = 7;

/// Environments on one AWS account and region. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct AwsEnvironment {
    backends: AwsBackends,
    identity: CallerIdentity,
    region: String,
    observer: Observer,
}

/// What an AWS environment is, as AWS reports it: the neutral outputs and the
/// derived parts' ids. No secret value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AwsEnvironmentOutputs {
    /// The outputs every cloud has (account, cluster, databases, buckets, backup, secrets).
    #[serde(flatten)]
    pub common: EnvironmentOutputs,
    /// The region.
    pub region: String,
    /// The VPC's id, once it exists.
    pub vpc_id: Option<String>,
    /// The private subnets' ids (the cluster's and the databases').
    pub private_subnet_ids: Vec<String>,
    /// The public subnets' ids (for load balancers).
    pub public_subnet_ids: Vec<String>,
    /// The S3 gateway endpoint's id.
    pub s3_endpoint_id: Option<String>,
    /// The DB subnet group, once it exists.
    pub db_subnet_group: Option<String>,
    /// The EKS cluster role's ARN.
    pub cluster_role_arn: Option<String>,
    /// The EKS node role's ARN.
    pub node_role_arn: Option<String>,
    /// The cluster's secrets key ARN.
    pub cluster_key_arn: Option<String>,
    /// The backup vault's key ARN.
    pub vault_key_arn: Option<String>,
    /// The databases' security group's id.
    pub db_security_group_id: Option<String>,
    /// The shared file system's id (`files`).
    pub file_system_id: Option<String>,
    /// The control-plane log group (`logs`), once it exists.
    pub log_group: Option<String>,
}

impl AwsEnvironment {
    /// Environments over `backends`, in their region and the caller's account
    /// (`GetCallerIdentity`, which needs no permission).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `region` when the configuration names none; STS errors.
    pub async fn connect(backends: AwsBackends) -> Result<Self> {
        let region = backends
            .context()
            .region()
            .ok_or_else(|| Error::invalid("region", "is not set", "AWS_REGION or the profile's region names where the environment lives"))?
            .to_owned();
        let identity = backends.caller_identity().await?;
        Ok(AwsEnvironment { backends, identity, region, observer: Observer::default() })
    }

    /// Report each step to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = observer;
        self
    }

    /// The backends.
    pub fn backends(&self) -> &AwsBackends {
        &self.backends
    }

    /// The account's id.
    pub fn account(&self) -> &str {
        &self.identity.account
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// What environment `name` derives on AWS (no request).
    ///
    /// # Errors
    /// As [`AwsParts::derive`].
    pub fn parts(&self, name: &str, env: &Environment) -> Result<AwsParts> {
        AwsParts::derive(name, env, &self.region, self.identity.partition(), &self.identity.account)
    }

    fn env_backends(&self, known: &Known) -> Backends {
        let roles = EksRoles {
            cluster_role_arn: known.cluster_role_arn.clone().unwrap_or_default(),
            node_role_arn: known.node_role_arn.clone().unwrap_or_default(),
        };
        Backends { observer: self.observer.clone(), ..self.backends.env_backends(roles) }
    }

    /// What [`AwsEnvironment::apply`] would change; no mutating request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors.
    pub async fn plan(&self, name: &str, env: &Environment) -> Result<Plan> {
        self.reconcile(name, env, Mode::Plan).await
    }

    /// Bring environment `name` to `env`, in dependency order (see the
    /// [module docs](self)); answers the changes made. A second run makes no
    /// mutating request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; provider errors (what was
    /// done stays, and a second run continues from there).
    pub async fn apply(&self, name: &str, env: &Environment) -> Result<Plan> {
        self.reconcile(name, env, Mode::Apply).await
    }

    async fn reconcile(&self, name: &str, env: &Environment, mode: Mode) -> Result<Plan> {
        let parts = self.parts(name, env)?;
        let mut plan = Plan::new();
        let mut known = self.reconcile_parts(&parts, mode, &mut plan).await?;
        let backends = self.env_backends(&known);
        if mode.is_apply() && env.cluster.is_some() {
            // The cluster before the databases and the file system: their security groups admit its nodes.
            let first =
                Environment { databases: Vec::new(), application_databases: Vec::new(), backup: None, ..completed(env, &parts, &known) };
            plan.extend(first.ensure(&backends).await?);
        }
        self.reconcile_cluster_parts(&parts, env, mode, &mut known, &mut plan).await?;
        let full = completed(env, &parts, &known);
        plan.extend(if mode.is_apply() { full.ensure(&backends).await? } else { full.plan(&backends).await? });
        self.unmanaged(&parts, env, &known, &mut plan).await?;
        Ok(plan)
    }

    /// What needs the cluster: the databases' and the file system's security
    /// groups (each admitting one port from EKS's cluster security group
    /// only), the file system with its mount targets, control-plane logging
    /// and its log group.
    async fn reconcile_cluster_parts(
        &self,
        parts: &AwsParts,
        env: &Environment,
        mode: Mode,
        known: &mut Known,
        plan: &mut Plan,
    ) -> Result<()> {
        let Some(cluster) = &env.cluster else { return Ok(()) };
        let nodes = match &known.vpc_id {
            Some(_) => match self.backends.eks(EksRoles::default()).cluster_security_group(&cluster.name).await {
                Ok(Some(nodes)) => Nodes::Group(nodes),
                Ok(None) => {
                    tracing::warn!(cluster = %cluster.name, "EKS reports no cluster security group: the databases and the file system stay in the VPC's default group");
                    Nodes::Unreported
                }
                Err(e) if e.is_not_found() => Nodes::NotYet,
                Err(e) => return Err(e),
            },
            None => Nodes::NotYet,
        };
        if let Some(group) = &parts.db_security_group {
            known.db_security_group_id = self.admit_nodes(group, POSTGRES_PORT, &nodes, known, mode, plan).await?;
        }
        if let Some((files, group)) = &parts.files {
            known.files_security_group_id = self.admit_nodes(group, NFS_PORT, &nodes, known, mode, plan).await?;
            if known.private_subnets.len() < ZONES.len() || matches!(nodes, Nodes::NotYet) {
                plan.push(Change::create("file system", files.as_str()));
            } else {
                let spec = parts::file_system(env, files, known, known.files_security_group_id.as_ref());
                let r = self.backends.efs().reconcile(&spec, mode).await?;
                plan.extend(r.plan);
                known.file_system_id = r.info.map(|f| f.file_system_id);
            }
        }
        if let Some(group) = &parts.log_group {
            if matches!(nodes, Nodes::NotYet) {
                let types = EksCluster::CONTROL_PLANE_LOG_TYPES.join(",");
                plan.push(Change::update("cluster", cluster.name.as_str(), vec![FieldChange::new("control_plane_logging", "off", types)]));
            } else {
                plan.extend(self.backends.eks(EksRoles::default()).reconcile_control_plane_logging(&cluster.name, true, mode).await?);
            }
            let r = self.backends.logs().reconcile(group, mode).await?;
            plan.extend(r.plan);
            known.log_group_exists = r.info.is_some();
        }
        Ok(())
    }

    /// The security group `group` whose only rule admits TCP `port` from the
    /// cluster's nodes; its id, `None` while it cannot exist yet.
    async fn admit_nodes(
        &self,
        group: &ResourceName,
        port: u16,
        nodes: &Nodes,
        known: &Known,
        mode: Mode,
        plan: &mut Plan,
    ) -> Result<Option<String>> {
        match (nodes, &known.vpc_id) {
            (Nodes::Group(nodes), Some(vpc_id)) => {
                let spec = DatabaseSecurityGroupSpec::new(vpc_id.clone(), group.clone(), nodes.clone(), port);
                let r = self.backends.network().reconcile(&spec, mode).await?;
                plan.extend(r.plan);
                Ok(r.info.map(|g| g.group_id))
            }
            (Nodes::Unreported, _) => Ok(None),
            _ => {
                plan.push(Change::create("security group", group.as_str()));
                Ok(None)
            }
        }
    }

    async fn reconcile_key(&self, key: Option<&KeySpec>, mode: Mode, plan: &mut Plan) -> Result<Option<String>> {
        let Some(key) = key else { return Ok(None) };
        let r = self.backends.kms().reconcile(key, mode).await?;
        plan.extend(r.plan);
        Ok(r.info.map(|k| k.arn))
    }

    /// Roles, keys, network, subnet group: planned into `plan` (or made), answering the ids known
    /// (the databases' security group too, where it exists).
    async fn reconcile_parts(&self, parts: &AwsParts, mode: Mode, plan: &mut Plan) -> Result<Known> {
        let mut known = Known::default();
        if let Some(roles) = &parts.roles {
            let r = self.backends.iam().reconcile(roles, mode).await?;
            plan.extend(r.plan);
            if let Some(roles) = r.info {
                known.cluster_role_arn = Some(roles.cluster_role_arn);
                known.node_role_arn = Some(roles.node_role_arn);
            }
        }
        known.cluster_key_arn = self.reconcile_key(parts.cluster_key.as_ref(), mode, plan).await?;
        known.vault_key_arn = self.reconcile_key(parts.vault_key.as_ref(), mode, plan).await?;
        if let Some(group) = &parts.log_group {
            known.log_group_exists = self.backends.logs().describe_log_group(&group.name).await.found()?.is_some();
        }
        let Some(vpc) = &parts.vpc else { return Ok(known) };
        let network = self.backends.network();
        let r = network.reconcile(vpc, mode).await?;
        plan.extend(r.plan);
        let endpoint_name = format!("com.amazonaws.{}.s3", self.region);
        let Some(info) = r.info else {
            plan.push(Change::create("vpc endpoint", endpoint_name));
            if let Some(group) = &parts.subnet_group {
                plan.push(Change::create("db subnet group", group.as_str()));
            }
            return Ok(known);
        };
        let of = |tier: SubnetTier| -> Vec<String> {
            vpc.subnets
                .iter()
                .filter(|s| s.tier == tier)
                .filter_map(|s| info.subnets.iter().find(|i| i.name == s.name.as_str()).map(|i| i.subnet_id.clone()))
                .collect()
        };
        known.private_subnets = of(SubnetTier::Private);
        known.public_subnets = of(SubnetTier::Public);
        known.vpc_id = Some(info.vpc_id.clone());
        let tables = network.route_tables(&info.vpc_id).await?;
        known.route_tables = tables.iter().filter(|t| t.main).map(|t| t.route_table_id.clone()).collect();
        if known.route_tables.is_empty() {
            plan.push(Change::create("vpc endpoint", endpoint_name));
        } else {
            let spec = S3GatewayEndpointSpec::new(info.vpc_id.clone(), self.region.clone(), known.route_tables.clone());
            let r = network.reconcile(&spec, mode).await?;
            plan.extend(r.plan);
            known.endpoint_id = r.info.map(|e| e.endpoint_id);
        }
        if let Some(group) = &parts.subnet_group {
            if known.private_subnets.len() < ZONES.len() {
                plan.push(Change::create("db subnet group", group.as_str()));
            } else {
                let spec = DbSubnetGroupSpec {
                    name: group.clone(),
                    description: format!("deploy: the databases of {}", parts.prefix),
                    subnet_ids: known.private_subnets.clone(),
                };
                let r = self.backends.rds().instances().reconcile(&spec, mode).await?;
                plan.extend(r.plan);
                known.subnet_group_exists = r.info.is_some();
            }
        }
        if let Some(vpc_id) = &known.vpc_id {
            let files_group = parts.files.as_ref().map(|f| f.1.clone());
            for (group, slot) in
                [(&parts.db_security_group, &mut known.db_security_group_id), (&files_group, &mut known.files_security_group_id)]
            {
                if let Some(group) = group {
                    *slot = network.find_security_group(vpc_id, group).await.found()?.map(|g| g.group_id);
                }
            }
        }
        if let Some((files, _)) = &parts.files {
            known.file_system_id = self.backends.efs().describe_file_system(files.as_str()).await.found()?.map(|f| f.file_system_id);
        }
        Ok(known)
    }

    /// Node pools of the cluster and subnets of the VPC that are no longer in the spec.
    async fn unmanaged(&self, parts: &AwsParts, env: &Environment, known: &Known, plan: &mut Plan) -> Result<()> {
        if let Some(vpc_id) = &known.vpc_id
            && let Some(vpc) = &parts.vpc
        {
            let wanted: BTreeSet<&str> = vpc.subnets.iter().map(|s| s.name.as_str()).collect();
            for subnet in self.backends.network().subnets(vpc_id).await? {
                if !wanted.contains(subnet.name.as_str()) {
                    let label =
                        if subnet.name.is_empty() { subnet.subnet_id.clone() } else { format!("{} ({})", subnet.name, subnet.subnet_id) };
                    plan.push(Change::unmanaged("subnet", label));
                }
            }
        }
        if let Some(spec) = &env.cluster {
            let eks = self.backends.eks(EksRoles::default());
            let Some(cluster) = deploy_core::Cluster::describe_cluster(&eks, &spec.name).await.found()? else { return Ok(()) };
            let wanted: BTreeSet<&str> = spec.node_pools.iter().map(|p| p.name.as_str()).collect();
            for pool in cluster.node_pools.iter().filter(|p| !wanted.contains(p.spec.name.as_str())) {
                plan.push(Change::unmanaged("node pool", format!("{}/{}", spec.name, pool.spec.name)));
            }
        }
        Ok(())
    }

    /// The environment's outputs (reads only): the neutral ones and the parts' ids.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors.
    pub async fn outputs(&self, name: &str, env: &Environment) -> Result<AwsEnvironmentOutputs> {
        let parts = self.parts(name, env)?;
        let known = self.reconcile_parts(&parts, Mode::Plan, &mut Plan::new()).await?;
        let mut common = completed(env, &parts, &known).outputs(name, &self.env_backends(&known)).await?;
        common.account = Some(self.identity.account.clone());
        Ok(AwsEnvironmentOutputs {
            common,
            region: self.region.clone(),
            vpc_id: known.vpc_id,
            private_subnet_ids: known.private_subnets,
            public_subnet_ids: known.public_subnets,
            s3_endpoint_id: known.endpoint_id,
            db_subnet_group: parts.subnet_group.filter(|_| known.subnet_group_exists).map(|g| g.to_string()),
            cluster_role_arn: known.cluster_role_arn,
            node_role_arn: known.node_role_arn,
            cluster_key_arn: known.cluster_key_arn,
            vault_key_arn: known.vault_key_arn,
            db_security_group_id: known.db_security_group_id,
            file_system_id: known.file_system_id,
            log_group: parts.log_group.filter(|_| known.log_group_exists).map(|g| g.name),
        })
    }

    /// What [`AwsEnvironment::destroy`] would do, in order (reads only).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors.
    pub async fn destroy_plan(&self, name: &str, env: &Environment, final_snapshots: bool) -> Result<TeardownPlan> {
        Ok(self.read_for_destroy(name, env, final_snapshots).await?.0)
    }

    /// The destroy plan, with the parts and the ids it was made from (one read of everything).
    async fn read_for_destroy(&self, name: &str, env: &Environment, final_snapshots: bool) -> Result<(TeardownPlan, AwsParts, Known)> {
        let parts = self.parts(name, env)?;
        let known = self.reconcile_parts(&parts, Mode::Plan, &mut Plan::new()).await?;
        let full = completed(env, &parts, &known);
        let mut plan = full.destroy_plan(name, &self.env_backends(&known), final_snapshots).await?;
        plan.steps.extend(Self::part_steps(&parts, &known));
        Ok((plan, parts, known))
    }

    /// The steps of the parts that exist, after the neutral teardown.
    fn part_steps(parts: &AwsParts, known: &Known) -> Vec<TeardownStep> {
        let step = |action: &'static str, target: String, destroys: bool| TeardownStep {
            destroys: destroys.then(|| target.clone()),
            action,
            target,
        };
        let mut steps = Vec::new();
        if let (Some((files, _)), Some(id)) = (&parts.files, &known.file_system_id) {
            steps.push(TeardownStep {
                action: "delete file system and every file in",
                target: format!("{files} ({id})"),
                destroys: Some(files.to_string()),
            });
        }
        if let (Some(group), true) = (&parts.log_group, known.log_group_exists) {
            steps.push(step("delete log group and its events", group.name.clone(), true));
        }
        if let (Some(group), true) = (&parts.subnet_group, known.subnet_group_exists) {
            steps.push(step("delete db subnet group", group.to_string(), false));
        }
        if let (Some(vpc), Some(id)) = (&parts.vpc, &known.vpc_id) {
            steps.push(step("delete vpc (endpoints, security groups, subnets)", format!("{} ({id})", vpc.name), false));
        }
        // A key encrypts data (the vault's recovery points, the cluster's secrets): deleting it destroys them.
        for (key, arn) in [(&parts.cluster_key, &known.cluster_key_arn), (&parts.vault_key, &known.vault_key_arn)] {
            if let (Some(key), Some(_)) = (key, arn) {
                steps.push(step("schedule the deletion (7 days) of kms key", key.alias.to_string(), true));
            }
        }
        if let (Some(roles), Some(_)) = (&parts.roles, &known.cluster_role_arn) {
            steps.push(step("delete iam role", format!("{}-eks-cluster", roles.prefix), false));
        }
        if let (Some(roles), Some(_)) = (&parts.roles, &known.node_role_arn) {
            steps.push(step("delete iam role", format!("{}-eks-node", roles.prefix), false));
        }
        steps
    }

    /// Delete every resource of environment `name` that exists, in the order
    /// of [`AwsEnvironment::destroy_plan`]. `confirm` must name the
    /// environment when any step destroys data; without it nothing at all is
    /// deleted. A second run does nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `confirm` names another environment, and on
    /// the spec, before any request; [`Error::ConfirmationRequired`] before any
    /// deletion; errors of the deletions (a second run continues from there).
    pub async fn destroy(&self, name: &str, env: &Environment, confirm: Option<&str>, final_snapshots: bool) -> Result<TeardownPlan> {
        deploy_core::env::check_confirm(name, confirm)?;
        let (plan, parts, known) = self.read_for_destroy(name, env, final_snapshots).await?;
        deploy_core::env::require_confirmation(name, confirm, &plan)?;
        let backends = self.env_backends(&known);
        completed(env, &parts, &known).destroy(name, &backends, confirm, final_snapshots).await?;
        let observer = &backends.observer;
        if let (Some((files, _)), Some(_)) = (&parts.files, &known.file_system_id) {
            observer.step(format!("delete file system {files}"));
            self.backends.efs().delete_file_system(files, &Confirm::new(files.as_str())).await.found()?;
        }
        if let (Some(group), true) = (&parts.log_group, known.log_group_exists) {
            observer.step(format!("delete log group {}", group.name));
            self.backends.logs().delete_log_group(&group.name, &Confirm::new(&group.name)).await.found()?;
        }
        if let (Some(group), true) = (&parts.subnet_group, known.subnet_group_exists) {
            observer.step(format!("delete db subnet group {group}"));
            self.backends.rds().instances().delete_subnet_group(group.as_str()).await.found()?;
        }
        if let Some(vpc) = parts.vpc.as_ref().filter(|_| known.vpc_id.is_some()) {
            observer.step(format!("delete vpc {}", vpc.name));
            self.backends.network().delete_vpc(&vpc.name).await?;
        }
        for (key, arn) in [(&parts.cluster_key, &known.cluster_key_arn), (&parts.vault_key, &known.vault_key_arn)] {
            if let (Some(key), Some(_)) = (key, arn) {
                observer.step(format!("schedule the deletion of kms key {}", key.alias));
                let confirm = Confirm::new(key.alias.as_str());
                self.backends.kms().schedule_key_deletion(&key.alias, KEY_DELETION_DAYS, &confirm).await.found()?;
            }
        }
        if let Some(roles) = &parts.roles {
            let (cluster, node) = roles.role_specs()?;
            for role in [cluster, node] {
                observer.step(format!("delete iam role {}", role.name));
                self.backends.iam().delete_role(&role.name).await.found()?;
            }
        }
        Ok(plan)
    }
}
