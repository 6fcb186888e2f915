//! What an AWS environment derives from the neutral spec: the names and specs
//! of the network, the EKS roles and the KMS keys, and the spec handed to
//! the five traits once their ids are known. Pure: no request.

use deploy_core::env::{Environment, NetworkLayout};
use deploy_core::{Error, ResourceName, Result, ResultExt};

use crate::efs::FileSystemSpec;
use crate::eks::EksRolesSpec;
use crate::kms::{KeyAlias, KeyPolicy, KeySpec};
use crate::logs::LogGroupSpec;
use crate::network::{SubnetSpec, SubnetTier, VpcSpec};

/// The two availability zones' suffixes of an environment's subnets.
pub const ZONES: [&str; 2] = ["a", "b"];

/// What an environment needs around the five traits on AWS, derived from
/// its spec, its name, the region and the account ([`AwsParts::derive`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsParts {
    /// The name the derived network resources start with: `network.name`, else
    /// the cluster's name, else the environment's. (The EKS roles and the
    /// cluster's key are named after the cluster.)
    pub prefix: String,
    /// The VPC with two private subnets (blocks 0, 1 of the layout) and two
    /// public ones (2, 3, for load balancers) in zones `REGIONa` and `REGIONb`;
    /// `None` when the spec has neither a cluster nor a database.
    pub vpc: Option<VpcSpec>,
    /// The DB subnet group over the private subnets, when the spec has databases.
    pub subnet_group: Option<ResourceName>,
    /// The databases' security group (`NAME-db`): PostgreSQL's port from the
    /// cluster's nodes only (EKS's cluster security group), when the spec has
    /// databases and a cluster. Without a cluster there are no nodes to admit,
    /// and the instances stay in the VPC's default group.
    pub db_security_group: Option<ResourceName>,
    /// The shared file system (`files`), and its security group `NAME-files`
    /// admitting NFS from the cluster's nodes only.
    pub files: Option<(ResourceName, ResourceName)>,
    /// The control-plane logs' group and retention (`logs`).
    pub log_group: Option<LogGroupSpec>,
    /// The cluster and node roles, when the spec has a cluster.
    pub roles: Option<EksRolesSpec>,
    /// The key that encrypts the cluster's Kubernetes secrets (its policy lets
    /// the cluster role use it), unless the spec names one.
    pub cluster_key: Option<KeySpec>,
    /// The backup vault's key, unless the spec names one.
    pub vault_key: Option<KeySpec>,
}

impl AwsParts {
    /// Derive the parts of environment `name` in `region` of `account_id` (partition `partition`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field, before any request: the spec
    /// ([`Environment::validate`]), a `location.aws` other than `region`, a
    /// derived name that breaks a rule (the prefix is too long, say).
    pub fn derive(name: &str, env: &Environment, region: &str, partition: &str, account_id: &str) -> Result<AwsParts> {
        env.validate(name)?;
        if let Some(wanted) = &env.location.aws
            && wanted != region
        {
            return Err(Error::invalid(
                format!("{name}.location.aws"),
                format!("is `{wanted}`, and the AWS client works in `{region}`"),
                "the environment is applied in the region its spec names: set AWS_REGION (or the profile's region) to it",
            ));
        }
        let layout = env.network.clone().unwrap_or_default();
        let cluster_name = env.cluster.as_ref().map(|c| c.name.to_string());
        let prefix = layout.name.as_ref().map(ToString::to_string).or_else(|| cluster_name.clone()).unwrap_or_else(|| name.to_owned());
        let at = |field: &str| format!("{name}.{field}");
        let vpc = if env.cluster.is_some() || !env.databases.is_empty() {
            Some(vpc_spec(&prefix, &layout, region).in_field(name)?)
        } else {
            None
        };
        let subnet_group =
            if env.databases.is_empty() { None } else { Some(ResourceName::new(format!("{prefix}-db")).in_field(&at("databases"))?) };
        let db_security_group = match (&subnet_group, &env.cluster) {
            (Some(_), Some(_)) => Some(ResourceName::new(format!("{prefix}-db")).in_field(&at("databases"))?),
            _ => None,
        };
        let files = match &env.files {
            Some(f) => Some((f.name.clone(), ResourceName::new(format!("{prefix}-files")).in_field(&at("files"))?)),
            None => None,
        };
        let log_group = match (&env.logs, &cluster_name) {
            (Some(l), Some(c)) => Some(LogGroupSpec::eks_control_plane(c, l.retention_days)),
            _ => None,
        };
        let roles = cluster_name.as_ref().map(|c| EksRolesSpec::new(c.clone(), partition, account_id));
        let cluster_key = match &env.cluster {
            Some(c) if c.secrets_encryption_key.is_none() => {
                let cluster_role = format!("arn:{partition}:iam::{account_id}:role/{}-eks-cluster", c.name);
                let mut key = KeySpec::new(KeyAlias::new(format!("alias/{}-eks-secrets", c.name)).in_field(&at("cluster.name"))?)
                    .with_policy(KeyPolicy::Application { application_principal: cluster_role });
                key.description = format!("Kubernetes secrets of EKS cluster {}", c.name);
                Some(key)
            }
            _ => None,
        };
        let vault_key = match &env.backup {
            Some(b) if b.vault.encryption_key.is_none() => {
                let mut key = KeySpec::new(KeyAlias::new(format!("alias/{}-backup", b.vault.name)).in_field(&at("backup.vault.name"))?);
                key.description = format!("recovery points of backup vault {}", b.vault.name);
                Some(key)
            }
            _ => None,
        };
        Ok(AwsParts { prefix, vpc, subnet_group, db_security_group, files, log_group, roles, cluster_key, vault_key })
    }
}

fn vpc_spec(prefix: &str, layout: &NetworkLayout, region: &str) -> Result<VpcSpec> {
    let mut vpc = VpcSpec::new(ResourceName::new(prefix.to_owned())?, layout.cidr.clone());
    let tiers = [(SubnetTier::Private, "private"), (SubnetTier::Public, "public")];
    for (t, (tier, word)) in tiers.into_iter().enumerate() {
        for (z, zone) in ZONES.iter().enumerate() {
            let block = layout.block(u32::try_from(2 * t + z).unwrap_or(0))?;
            let name = ResourceName::new(format!("{prefix}-{word}-{zone}"))?;
            vpc = vpc.with_subnet(SubnetSpec::new(name, block, format!("{region}{zone}"), tier));
        }
    }
    vpc.validate()?;
    Ok(vpc)
}

/// The neutral spec with what the parts supply filled in where the spec left
/// it open: the cluster's subnets (the private ones) and secrets key, each
/// database's subnet group, the vault's key. An id not known yet (planning
/// before the first apply) stays open.
pub(super) fn completed(env: &Environment, parts: &AwsParts, known: &Known) -> Environment {
    let mut env = env.clone();
    if let Some(cluster) = &mut env.cluster {
        if cluster.subnets.is_empty() {
            cluster.subnets.clone_from(&known.private_subnets);
        }
        if cluster.secrets_encryption_key.is_none() {
            cluster.secrets_encryption_key.clone_from(&known.cluster_key_arn);
        }
    }
    for db in &mut env.databases {
        if db.network.subnet_group.is_none() && known.subnet_group_exists {
            db.network.subnet_group = parts.subnet_group.as_ref().map(ToString::to_string);
        }
        if db.network.security_groups.is_empty()
            && let Some(group) = &known.db_security_group_id
        {
            db.network.security_groups = vec![group.clone()];
        }
    }
    if let Some(backup) = &mut env.backup
        && backup.vault.encryption_key.is_none()
    {
        backup.vault.encryption_key.clone_from(&known.vault_key_arn);
    }
    env
}

/// The ids of the parts that exist (or were just made).
#[derive(Clone, Debug, Default)]
pub(super) struct Known {
    pub vpc_id: Option<String>,
    pub private_subnets: Vec<String>,
    pub public_subnets: Vec<String>,
    pub route_tables: Vec<String>,
    pub endpoint_id: Option<String>,
    pub subnet_group_exists: bool,
    pub db_security_group_id: Option<String>,
    pub files_security_group_id: Option<String>,
    pub file_system_id: Option<String>,
    pub log_group_exists: bool,
    pub cluster_key_arn: Option<String>,
    pub vault_key_arn: Option<String>,
    pub cluster_role_arn: Option<String>,
    pub node_role_arn: Option<String>,
}

/// The file system of the spec's `files` in the private subnets behind `security_group`.
pub(super) fn file_system(env: &Environment, name: &ResourceName, known: &Known, security_group: Option<&String>) -> FileSystemSpec {
    FileSystemSpec {
        name: name.clone(),
        subnet_ids: known.private_subnets.clone(),
        security_group_ids: security_group.into_iter().cloned().collect(),
        tags: env.files.as_ref().map(|f| f.tags.clone()).unwrap_or_default(),
    }
}
