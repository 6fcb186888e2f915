//! AKS managed clusters as the core [`Cluster`]
//! (`Microsoft.ContainerService/managedClusters`), and their user kubeconfig
//! for `deploy-k8s`.
//!
//! How the neutral [`ClusterSpec`] maps:
//!
//! | spec | managed cluster |
//! | --- | --- |
//! | `version` | `kubernetesVersion` (`1.31`) |
//! | `endpoint_access` | private only (`public: false`): `apiServerAccessProfile.enablePrivateCluster`, set at creation only (a change is reported as drift); public: a public API server, `authorizedIPRanges` = `public_cidrs`, changed in place (the nodes reach it from inside the network either way) |
//! | `node_pools[i]` | an agent pool: `vmSize` (one instance type), `minCount`/`maxCount`/`count` with `enableAutoScaling`, `osDiskSizeGB`, `nodeLabels`; the first pool is the `System` pool (`min` at least 1) |
//! | `subnets` | `vnetSubnetID` of every pool (at most one subnet) |
//! | `secrets_encryption_key` | `NotSupported` (KMS etcd encryption needs a key vault identity) |
//! | credentials | `listClusterUserCredential` → [`ClusterAuth::Kubeconfig`] |
//!
//! Pool names are AKS's: 1-12 lowercase letters and digits, starting with a letter.
//!
//! A new cluster is one managed-cluster PUT with its pools. After that, pools
//! are added, changed and removed with the per-pool `agentPools` operations
//! (AKS refuses a managed-cluster PUT that introduces a pool), each read,
//! modified and written back whole. `desired` is a pool's initial `count`:
//! later runs change `minCount`/`maxCount` and leave `count` to the cluster
//! autoscaler unless it lies outside them, then it is clamped (and the plan
//! says so). Cluster changes (version, API server access) are a
//! read-modify-write PUT of the managed cluster; tags alone a PATCH.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use deploy_core::cluster::{ClusterAuth, ClusterInfo, ClusterStatus, NodePoolInfo, NodePoolSpec};
use deploy_core::plan::{Action, Change, Plan};
use deploy_core::{Cluster, ClusterCredentials, ClusterSpec, EndpointAccess, Error, KubernetesVersion, ResourceName, Result};
use secrecy::SecretString;
use serde_json::{Value, json};

use super::{ArmClient, Placement, Target, api, check_resource_id, str_at, tags_of};

/// The backend name in errors.
pub const BACKEND: &str = "azure-aks";

/// The network profile of the clusters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AksNetwork {
    /// `networkPlugin`: `azure` (default) or `kubenet`.
    pub plugin: String,
    /// `serviceCidr` (default `10.0.0.0/16`).
    pub service_cidr: String,
    /// `dnsServiceIP` (default `10.0.0.10`).
    pub dns_service_ip: String,
}

impl Default for AksNetwork {
    fn default() -> Self {
        AksNetwork { plugin: "azure".into(), service_cidr: "10.0.0.0/16".into(), dns_service_ip: "10.0.0.10".into() }
    }
}

/// The AKS clusters of one resource group and location, as a [`Cluster`].
#[derive(Clone, Debug)]
pub struct AksClusters {
    pub(super) place: Placement,
    network: AksNetwork,
}

impl AksClusters {
    /// Clusters in `resource_group` (which must exist) at `location`, with the default network profile.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_group` or `location`.
    pub fn new(arm: ArmClient, resource_group: impl Into<String>, location: impl Into<String>) -> Result<Self> {
        Ok(AksClusters { place: Placement::new(arm, resource_group, location)?, network: AksNetwork::default() })
    }

    deploy_core::setters! {
        /// Use this network profile for new clusters.
        pub fn network(network: AksNetwork);
    }

    /// The resource id of cluster `name`.
    pub fn cluster_id(&self, name: &str) -> String {
        self.place.id("Microsoft.ContainerService/managedClusters", name)
    }

    pub(super) fn target(name: &str) -> Target<'_> {
        Target { kind: "cluster", name }
    }

    fn check(spec: &ClusterSpec) -> Result<()> {
        spec.validate()?;
        if spec.node_pools.is_empty() {
            return Err(Error::invalid("node_pools", "is empty", "an AKS cluster needs at least one (system) node pool"));
        }
        for (i, pool) in spec.node_pools.iter().enumerate() {
            let name = pool.name.as_str();
            let ok = (1..=12).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !ok {
                return Err(Error::invalid(
                    format!("node_pools[{i}].name"),
                    format!("{name:?} is not an AKS pool name"),
                    "1 to 12 lowercase letters and digits, starting with a letter",
                ));
            }
            if i == 0 && pool.min < 1 {
                return Err(Error::invalid(
                    format!("node_pools[{i}].min"),
                    format!("is {}", pool.min),
                    "the first pool is the cluster's System pool: 1 to 1000 nodes (AKS: system pools never scale to 0)",
                ));
            }
            if pool.instance_types.len() != 1 {
                return Err(Error::not_supported(
                    BACKEND,
                    format!("node_pools[{i}].instance_types"),
                    "an AKS node pool has exactly one VM size",
                ));
            }
        }
        if spec.secrets_encryption_key.is_some() {
            return Err(Error::not_supported(
                BACKEND,
                "secrets_encryption_key",
                "KMS etcd encryption needs a key vault and an identity; not done by deploy yet",
            ));
        }
        if spec.subnets.len() > 1 {
            return Err(Error::not_supported(BACKEND, "subnets", "AKS node pools take one subnet each; give one"));
        }
        for (i, s) in spec.subnets.iter().enumerate() {
            check_resource_id(&format!("subnets[{i}]"), s)?;
        }
        Ok(())
    }

    fn body(&self, spec: &ClusterSpec) -> Value {
        let pools: Vec<Value> = spec
            .node_pools
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut pool = super::aks_pools::pool_properties(i, p, spec.subnets.first());
                pool["name"] = json!(p.name.as_str());
                pool
            })
            .collect();
        json!({
            "location": self.place.location,
            "tags": spec.tags,
            "identity": { "type": "SystemAssigned" },
            "properties": {
                "kubernetesVersion": spec.version.to_string(),
                "dnsPrefix": spec.name.as_str(),
                "agentPoolProfiles": pools,
                "networkProfile": { "networkPlugin": self.network.plugin, "serviceCidr": self.network.service_cidr, "dnsServiceIP": self.network.dns_service_ip },
                "apiServerAccessProfile": api_server_access(&spec.endpoint_access),
            }
        })
    }
}

/// The neutral diff, with what AKS cannot change in place reported as drift:
/// whether the API server is private (`enablePrivateCluster` is chosen when
/// the cluster is created; existing clusters cannot be converted).
fn diff(info: &ClusterInfo, spec: &ClusterSpec) -> Plan {
    let mut plan = info.diff(spec);
    let (have, want) = (info.endpoint_access.public, spec.endpoint_access.public);
    if have == want {
        return plan;
    }
    for change in &mut plan.changes {
        if let Action::Update { fields } = &mut change.action
            && change.kind == "cluster"
        {
            fields.retain(|f| f.field != "endpoint_access");
        }
    }
    plan.changes.retain(|c| !matches!(&c.action, Action::Update { fields } if fields.is_empty()));
    plan.push(Change::drift(
        "cluster",
        spec.name.as_str(),
        vec![deploy_core::FieldChange::new(
            "endpoint_access.public",
            have,
            format!("{want} (AKS makes a cluster private or public at creation only: recreate it)"),
        )],
    ));
    plan
}

fn api_server_access(access: &EndpointAccess) -> Value {
    let ranges: Vec<String> = access.public_cidrs.iter().map(ToString::to_string).collect();
    json!({ "enablePrivateCluster": !access.public, "authorizedIPRanges": ranges })
}

fn status_of(state: Option<&str>) -> ClusterStatus {
    match state.unwrap_or("") {
        "Succeeded" => ClusterStatus::Active,
        "Creating" | "" => ClusterStatus::Creating,
        "Updating" | "Upgrading" | "Scaling" => ClusterStatus::Updating,
        "Deleting" => ClusterStatus::Deleting,
        "Failed" | "Canceled" => ClusterStatus::Failed,
        other => ClusterStatus::Other(other.to_owned()),
    }
}

fn info_of(name: &ResourceName, v: &Value) -> Result<ClusterInfo> {
    let version = str_at(v, "/properties/kubernetesVersion").unwrap_or("");
    let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let version = KubernetesVersion::new(minor).map_err(|e| Error::Provider {
        provider: BACKEND,
        operation: "GET".into(),
        message: format!("unexpected kubernetesVersion: {e}"),
        retryable: false,
        source: None,
    })?;
    let private = v.pointer("/properties/apiServerAccessProfile/enablePrivateCluster").and_then(Value::as_bool).unwrap_or(false);
    let public_cidrs = v
        .pointer("/properties/apiServerAccessProfile/authorizedIPRanges")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| deploy_core::CidrBlock::new(r.as_str()?).ok()).collect())
        .unwrap_or_default();
    let pools = v.pointer("/properties/agentPoolProfiles").and_then(Value::as_array).cloned().unwrap_or_default();
    let node_pools = pools
        .iter()
        .filter_map(|p| {
            let n = |k: &str| p.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
            Some(NodePoolInfo {
                spec: NodePoolSpec {
                    name: ResourceName::new(p.get("name")?.as_str()?).ok()?,
                    instance_types: vec![p.get("vmSize")?.as_str()?.to_owned()],
                    min: n("minCount"),
                    max: n("maxCount"),
                    desired: n("count"),
                    disk_gib: n("osDiskSizeGB"),
                    labels: p
                        .get("nodeLabels")
                        .and_then(Value::as_object)
                        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
                        .unwrap_or_default(),
                },
                status: status_of(p.get("provisioningState").and_then(Value::as_str)),
            })
        })
        .collect();
    Ok(ClusterInfo {
        name: name.clone(),
        status: status_of(str_at(v, "/properties/provisioningState")),
        version,
        endpoint: str_at(v, "/properties/fqdn").or(str_at(v, "/properties/privateFQDN")).map(|h| format!("https://{h}:443")),
        endpoint_access: EndpointAccess { public: !private, private: true, public_cidrs },
        secrets_encryption_key: None,
        node_pools,
        tags: tags_of(v),
    })
}

#[async_trait]
impl Cluster for AksClusters {
    /// One path: check, read the cluster, compare; only in
    /// [`deploy_core::Mode::Apply`] create it, update it, then its pools.
    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "cluster", name = %spec.name))]
    async fn reconcile_cluster(&self, spec: &ClusterSpec, mode: deploy_core::Mode) -> Result<Plan> {
        Self::check(spec)?;
        self.place.arm.check_tags_not_ignored(spec.tags.keys())?;
        let name = spec.name.as_str();
        let id = self.cluster_id(name);
        let current = self.place.arm.get(&id, api::AKS, Self::target(name)).await?;
        let plan = match &current {
            None => Plan::from_iter([Change::create("cluster", name)]),
            Some(v) => diff(&info_of(&spec.name, v)?, spec),
        };
        if !mode.is_apply() {
            return Ok(plan);
        }
        let Some(current) = current else {
            // Creation is the one time the managed cluster PUT carries the pools.
            self.place.arm.put(&id, api::AKS, &self.body(spec), Self::target(name)).await?;
            return Ok(plan);
        };
        let cluster_fields: Vec<&str> = plan
            .changes
            .iter()
            .filter(|c| c.kind == "cluster")
            .filter_map(|c| match &c.action {
                Action::Update { fields } => Some(fields.iter().map(|f| f.field.as_str())),
                _ => None,
            })
            .flatten()
            .collect();
        if cluster_fields == ["tags"] {
            // ManagedClusters_UpdateTags.
            self.place.arm.patch(&id, api::AKS, &json!({ "tags": spec.tags }), Self::target(name)).await?;
        } else if !cluster_fields.is_empty() {
            // Read, modify, write: every writable property the cluster has stays, pools as they are.
            let mut body = super::aks_pools::writable_cluster(&current);
            body["tags"] = json!(spec.tags);
            body["properties"]["kubernetesVersion"] = json!(spec.version.to_string());
            // The authorized ranges change in place; `enablePrivateCluster` stays as the cluster has it.
            body["properties"]["apiServerAccessProfile"]["authorizedIPRanges"] =
                api_server_access(&spec.endpoint_access)["authorizedIPRanges"].clone();
            self.place.arm.put(&id, api::AKS, &body, Self::target(name)).await?;
        }
        // Pools: per-pool operations (a managed cluster PUT that adds a pool is refused by AKS).
        for (i, want) in spec.node_pools.iter().enumerate() {
            let pool_name = format!("{}/{}", spec.name, want.name);
            let planned = plan.changes.iter().any(|c| c.kind == "node pool" && c.name == pool_name && c.is_mutation());
            if planned {
                super::aks_pools::ensure_pool(&self.place.arm, &self.cluster_id(spec.name.as_str()), spec, i, want).await?;
            }
        }
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "cluster", name = %name))]
    async fn describe_cluster(&self, name: &ResourceName) -> Result<ClusterInfo> {
        let v = self
            .place
            .arm
            .get(&self.cluster_id(name.as_str()), api::AKS, Self::target(name.as_str()))
            .await?
            .ok_or_else(|| Error::not_found("cluster", name.as_str()))?;
        info_of(name, &v)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "cluster", name = %name))]
    async fn credentials(&self, name: &ResourceName) -> Result<ClusterCredentials> {
        let info = self.describe_cluster(name).await?;
        if info.status != ClusterStatus::Active {
            return Err(Error::conflict("cluster", name.as_str(), format!("is {}, not active", info.status)));
        }
        let path = format!("{}/listClusterUserCredential", self.cluster_id(name.as_str()));
        let answer = self.place.arm.post(&path, api::AKS, Self::target(name.as_str())).await?;
        let bad = |what: &str| Error::Provider {
            provider: BACKEND,
            operation: "listClusterUserCredential".into(),
            message: what.to_owned(),
            retryable: false,
            source: None,
        };
        let encoded = answer.pointer("/kubeconfigs/0/value").and_then(Value::as_str).ok_or_else(|| bad("no kubeconfig in the answer"))?;
        let kubeconfig = String::from_utf8(BASE64.decode(encoded).map_err(|_| bad("the kubeconfig is not base64"))?)
            .map_err(|_| bad("the kubeconfig is not UTF-8"))?;
        let server = kubeconfig
            .lines()
            .find_map(|l| l.trim().strip_prefix("server:").map(|s| s.trim().to_owned()))
            .or(info.endpoint)
            .ok_or_else(|| bad("the kubeconfig names no server"))?;
        Ok(ClusterCredentials {
            cluster: name.as_str().to_owned(),
            server,
            certificate_authority_pem: None,
            auth: ClusterAuth::Kubeconfig(SecretString::from(kubeconfig)),
        })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "cluster", name = %cluster))]
    async fn delete_node_pool(&self, cluster: &ResourceName, pool: &ResourceName) -> Result<()> {
        let info = self.describe_cluster(cluster).await?;
        if !info.node_pools.iter().any(|p| p.spec.name == *pool) {
            return Err(Error::not_found("node pool", format!("{cluster}/{pool}")));
        }
        let path = format!("{}/agentPools/{pool}", self.cluster_id(cluster.as_str()));
        self.place.arm.delete(&path, api::AKS, Target { kind: "node pool", name: pool.as_str() }).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "cluster", name = %name))]
    async fn delete_cluster(&self, name: &ResourceName) -> Result<()> {
        self.describe_cluster(name).await?;
        self.place.arm.delete(&self.cluster_id(name.as_str()), api::AKS, Self::target(name.as_str())).await
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}
