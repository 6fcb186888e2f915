//! [`Cluster`]: a managed Kubernetes cluster and its node pools.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::forward::provider_trait;
use crate::plan::{Change, Diff, Plan};
use crate::reconcile::Mode;
use crate::validate::{CidrBlock, KubernetesVersion, ResourceName};

/// How the API server is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointAccess {
    /// Reachable from the internet (for operators outside the network).
    #[serde(default = "yes")]
    pub public: bool,
    /// Reachable inside the network (for the nodes).
    #[serde(default = "yes")]
    pub private: bool,
    /// When public: the only source ranges allowed (empty: any).
    #[serde(default)]
    pub public_cidrs: Vec<CidrBlock>,
}

fn yes() -> bool {
    true
}

impl Default for EndpointAccess {
    /// Private and public.
    fn default() -> Self {
        EndpointAccess { public: true, private: true, public_cidrs: Vec::new() }
    }
}

/// What a node pool should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePoolSpec {
    /// The pool's name.
    pub name: ResourceName,
    /// Machine types (`m5.large`, `Standard_D4s_v5`).
    pub instance_types: Vec<String>,
    /// Fewest nodes.
    pub min: u32,
    /// Most nodes.
    pub max: u32,
    /// The pool's initial size. Later runs leave the current size to the
    /// cluster autoscaler unless it lies outside `min..=max`; then it is
    /// clamped into that range ([`NodePoolSpec::size_after`]).
    pub desired: u32,
    /// Disk size per node in GiB.
    #[serde(default = "default_disk")]
    pub disk_gib: u32,
    /// Kubernetes labels of the nodes.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_disk() -> u32 {
    50
}

impl NodePoolSpec {
    /// Check `min <= desired <= max`, `max >= 1`, disk and instance types.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let scale = "node pool sizes: 0 <= min <= desired <= max <= 1000 and max >= 1";
        if self.min > self.max {
            return Err(Error::invalid("min", format!("{} is greater than max {}", self.min, self.max), scale));
        }
        if self.max == 0 || self.max > 1000 {
            return Err(Error::invalid("max", format!("is {}", self.max), scale));
        }
        if self.desired < self.min || self.desired > self.max {
            return Err(Error::invalid("desired", format!("{} is outside {}..={}", self.desired, self.min, self.max), scale));
        }
        if !(20..=16_384).contains(&self.disk_gib) {
            return Err(Error::invalid("disk_gib", format!("is {}", self.disk_gib), "node disks: 20 to 16384 GiB"));
        }
        if self.instance_types.is_empty() {
            return Err(Error::invalid("instance_types", "is empty", "at least one instance type"));
        }
        if let Some(i) = self.instance_types.iter().position(|t| t.trim().is_empty() || t.contains(char::is_whitespace)) {
            return Err(Error::invalid(format!("instance_types[{i}]"), "is blank or has white space", "instance types such as m5.large"));
        }
        Ok(())
    }
}

impl NodePoolSpec {
    /// The size a pool of `current` nodes gets when brought to this spec:
    /// `current` itself while it lies in `min..=max` (the autoscaler's
    /// business), else the nearest bound. `desired` only sizes a new pool.
    ///
    /// ```
    /// # use deploy_core::cluster::NodePoolSpec;
    /// # let mut pool: NodePoolSpec = serde_json::from_str(r#"{"name":"p","instance_types":["m5.large"],"min":2,"max":5,"desired":3}"#).unwrap();
    /// assert_eq!(pool.size_after(4), 4);
    /// assert_eq!(pool.size_after(1), 2);
    /// assert_eq!(pool.size_after(9), 5);
    /// ```
    pub fn size_after(&self, current: u32) -> u32 {
        current.clamp(self.min, self.max.max(self.min))
    }
}

/// What a cluster should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// The cluster's name.
    pub name: ResourceName,
    /// The Kubernetes version.
    pub version: KubernetesVersion,
    /// API server access.
    #[serde(default)]
    pub endpoint_access: EndpointAccess,
    /// Node pools.
    #[serde(default)]
    pub node_pools: Vec<NodePoolSpec>,
    /// A customer-managed key to encrypt Kubernetes secrets (AWS KMS key ARN).
    #[serde(default)]
    pub secrets_encryption_key: Option<String>,
    /// Subnets (AWS subnet ids, an Azure subnet id) the cluster uses.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl ClusterSpec {
    /// Check the fields' rules that no type carries.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`node_pools[1].min`).
    pub fn validate(&self) -> Result<()> {
        let access = &self.endpoint_access;
        if !access.public && !access.private {
            return Err(Error::invalid("endpoint_access", "is neither public nor private", "the API server is reachable at least one way"));
        }
        if !access.public && !access.public_cidrs.is_empty() {
            return Err(Error::invalid(
                "endpoint_access.public_cidrs",
                "is set while public access is off",
                "public CIDRs apply to public access only",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, pool) in self.node_pools.iter().enumerate() {
            pool.validate().map_err(|e| e.in_field(&format!("node_pools[{i}]")))?;
            if !names.insert(pool.name.as_str()) {
                return Err(Error::invalid(
                    format!("node_pools[{i}].name"),
                    format!("repeats `{}`", pool.name),
                    "node pool names are unique in a cluster",
                ));
            }
        }
        Ok(())
    }
}

/// The state of a cluster or node pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClusterStatus {
    /// Being created.
    Creating,
    /// Ready.
    Active,
    /// A change is being applied.
    Updating,
    /// Being deleted.
    Deleting,
    /// Failed.
    Failed,
    /// Another provider state.
    Other(String),
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterStatus::Creating => f.write_str("creating"),
            ClusterStatus::Active => f.write_str("active"),
            ClusterStatus::Updating => f.write_str("updating"),
            ClusterStatus::Deleting => f.write_str("deleting"),
            ClusterStatus::Failed => f.write_str("failed"),
            ClusterStatus::Other(s) => f.write_str(s),
        }
    }
}

/// A node pool as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePoolInfo {
    /// What it is (same shape as the spec).
    pub spec: NodePoolSpec,
    /// Its state.
    pub status: ClusterStatus,
}

/// A cluster as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The cluster's name.
    pub name: ResourceName,
    /// Its state.
    pub status: ClusterStatus,
    /// The Kubernetes version.
    pub version: KubernetesVersion,
    /// The API server URL, once active.
    pub endpoint: Option<String>,
    /// API server access.
    pub endpoint_access: EndpointAccess,
    /// The secrets encryption key.
    pub secrets_encryption_key: Option<String>,
    /// Node pools.
    pub node_pools: Vec<NodePoolInfo>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl ClusterInfo {
    /// The plan that brings this cluster to `spec`. Node pools missing from the
    /// spec are left alone (delete them explicitly).
    ///
    /// A pool's `desired` is its initial size: an existing pool whose current
    /// size lies in the wanted `min..=max` keeps it (the autoscaler moves it),
    /// so no change is planned for `desired` alone. A current size outside the
    /// range is planned as `desired: N -> M (clamped into min..=max)`.
    pub fn diff(&self, spec: &ClusterSpec) -> Plan {
        let mut plan = Plan::new();
        let mut update = Diff::new();
        update
            .field("version", &self.version, &spec.version)
            .field("endpoint_access", &self.endpoint_access, &spec.endpoint_access)
            .field("tags", &self.tags, &spec.tags);
        if !update.is_empty() {
            plan.push(Change::update("cluster", spec.name.as_str(), update.into_fields()));
        }
        let mut drift = Diff::new();
        drift.field("secrets_encryption_key", &self.secrets_encryption_key, &spec.secrets_encryption_key);
        if !drift.is_empty() {
            plan.push(Change::drift("cluster", spec.name.as_str(), drift.into_fields()));
        }
        for want in &spec.node_pools {
            let name = format!("{}/{}", spec.name, want.name);
            match self.node_pools.iter().find(|p| p.spec.name == want.name) {
                None => plan.push(Change::create("node pool", name)),
                Some(have) => {
                    let have = &have.spec;
                    let mut d = Diff::new();
                    d.field("min", &have.min, &want.min).field("max", &have.max, &want.max).field("labels", &have.labels, &want.labels);
                    let mut fields = d.into_fields();
                    let size = want.size_after(have.desired);
                    if size != have.desired {
                        let to = format!("{size} (clamped into {}..={}; the size is otherwise left to the autoscaler)", want.min, want.max);
                        fields.push(crate::plan::FieldChange::new("desired", have.desired, to));
                    }
                    if !fields.is_empty() {
                        plan.push(Change::update("node pool", name.clone(), fields));
                    }
                    let mut drift = Diff::new();
                    drift.field("instance_types", &have.instance_types, &want.instance_types).field(
                        "disk_gib",
                        &have.disk_gib,
                        &want.disk_gib,
                    );
                    if !drift.is_empty() {
                        plan.push(Change::drift("node pool", name, drift.into_fields()));
                    }
                }
            }
        }
        plan
    }
}

/// How a client authenticates to the API server.
#[derive(Clone)]
#[non_exhaustive]
pub enum ClusterAuth {
    /// A bearer token (EKS: `k8s-aws-v1.` presigned STS URL), with its expiry.
    BearerToken {
        /// The token.
        token: SecretString,
        /// When it expires.
        expires: Option<Timestamp>,
    },
    /// A whole kubeconfig as the provider hands it out (AKS `listClusterUserCredential`).
    Kubeconfig(SecretString),
}

impl Debug for ClusterAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterAuth::BearerToken { expires, .. } => {
                f.debug_struct("BearerToken").field("token", &"<redacted>").field("expires", expires).finish()
            }
            ClusterAuth::Kubeconfig(_) => f.write_str("Kubeconfig(<redacted>)"),
        }
    }
}

/// What `deploy-k8s` needs to reach a cluster.
#[derive(Clone, Debug)]
pub struct ClusterCredentials {
    /// The cluster's name.
    pub cluster: String,
    /// The API server URL.
    pub server: String,
    /// The cluster CA bundle (PEM), when not in a kubeconfig.
    pub certificate_authority_pem: Option<String>,
    /// The authentication.
    pub auth: ClusterAuth,
}

impl ClusterCredentials {
    /// A kubeconfig document (YAML) with one cluster, user and context named
    /// after the cluster. Holds the token: treat it as a secret.
    pub fn to_kubeconfig(&self) -> SecretString {
        if let ClusterAuth::Kubeconfig(k) = &self.auth {
            return k.clone();
        }
        let ClusterAuth::BearerToken { token, .. } = &self.auth else { unreachable!("two variants") };
        let ca = self
            .certificate_authority_pem
            .as_deref()
            .map(|pem| format!("    certificate-authority-data: {}\n", BASE64.encode(pem.as_bytes())))
            .unwrap_or_default();
        let name = &self.cluster;
        SecretString::from(format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n{ca}users:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\ncurrent-context: {name}\n",
            server = self.server,
            token = token.expose_secret()
        ))
    }
}

provider_trait! {
    /// A managed Kubernetes cluster: EKS, AKS, or in memory.
    #[cfg_attr(feature = "mock", mockall::automock)]
    #[async_trait]
    pub trait Cluster: Send + Sync + Debug {
        /// The backend's name.
        fn backend(&self) -> &'static str;

        /// Compare the cluster and its node pools with `spec` and, in [`Mode::Apply`], create what is
        /// missing, bring them to `spec` and wait until all are active; answers the changes planned or made.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] for a bad spec (before any request); [`Error::Timeout`]; provider errors.
        reconcile_cluster(ClusterSpec) with plan_cluster, ensure_cluster for "cluster";

        /// The cluster as the provider reports it.
        ///
        /// # Errors
        /// [`Error::NotFound`].
        async fn describe_cluster(&self, name: &ResourceName) -> Result<ClusterInfo>;

        /// Credentials for a Kubernetes client (`deploy-k8s`).
        ///
        /// # Errors
        /// [`Error::NotFound`]; [`Error::Conflict`] when the cluster is not active.
        async fn credentials(&self, name: &ResourceName) -> Result<ClusterCredentials>;

        /// Delete a node pool and wait until it is gone.
        ///
        /// # Errors
        /// [`Error::NotFound`].
        async fn delete_node_pool(&self, cluster: &ResourceName, pool: &ResourceName) -> Result<()>;

        /// Delete the cluster (its node pools first) and wait until it is gone.
        ///
        /// # Errors
        /// [`Error::NotFound`].
        async fn delete_cluster(&self, name: &ResourceName) -> Result<()>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_hides_the_token() {
        let creds = ClusterCredentials {
            cluster: "c".into(),
            server: "https://example".into(),
            certificate_authority_pem: None,
            auth: ClusterAuth::BearerToken { token: SecretString::from("SENTINEL-token"), expires: None },
        };
        assert!(!format!("{creds:?}").contains("SENTINEL"));
        assert!(creds.to_kubeconfig().expose_secret().contains("token: SENTINEL-token"));
    }
}
