use async_trait::async_trait;
use secrecy::SecretString;

use super::InMemoryCloud;
use super::state::{MemCluster, MemPool, Pending};
use crate::cluster::{Cluster, ClusterAuth, ClusterCredentials, ClusterInfo, ClusterSpec, ClusterStatus, NodePoolInfo};
use crate::error::{Error, Result};
use crate::plan::{Action, Plan};
use crate::reconcile::Mode;
use crate::validate::ResourceName;
use crate::waiter::Poll;

fn no_cluster(name: &ResourceName) -> Error {
    Error::not_found("cluster", name.as_str())
}

impl InMemoryCloud {
    /// Set a node pool's current size the way a cluster autoscaler does,
    /// behind the back of [`Cluster::ensure_cluster`] (which then leaves it
    /// alone while it lies in the pool's `min..=max`).
    ///
    /// # Errors
    /// [`Error::NotFound`] for the cluster or the pool.
    pub fn autoscale_node_pool(&self, cluster: &ResourceName, pool: &ResourceName, size: u32) -> Result<()> {
        let mut state = self.state();
        let c = state.clusters.get_mut(cluster.as_str()).ok_or_else(|| no_cluster(cluster))?;
        let p = c
            .pools
            .iter_mut()
            .find(|p| p.info.spec.name == *pool)
            .ok_or_else(|| Error::not_found("node pool", format!("{cluster}/{pool}")))?;
        p.info.spec.desired = size;
        Ok(())
    }

    fn cluster_plan(&self, spec: &ClusterSpec) -> Result<Plan> {
        spec.validate()?;
        let mut state = self.state();
        Ok(match state.clusters.get_mut(spec.name.as_str()) {
            Some(c) => c.view().diff(spec),
            None => {
                let mut plan = Plan::from_iter([crate::plan::Change::create("cluster", spec.name.as_str())]);
                for pool in &spec.node_pools {
                    plan.push(crate::plan::Change::create("node pool", format!("{}/{}", spec.name, pool.name)));
                }
                plan
            }
        })
    }

    /// Make the mutations of `plan` (planned against the state now) on the cluster of `spec`.
    fn apply_cluster(&self, spec: &ClusterSpec, plan: &Plan) {
        let until = self.ready_at();
        let mut state = self.state();
        let cluster = state.clusters.entry(spec.name.as_str().to_owned()).or_insert_with(|| MemCluster {
            info: ClusterInfo {
                name: spec.name.clone(),
                status: ClusterStatus::Creating,
                version: spec.version.clone(),
                endpoint: Some(format!("https://{}.k8s.memory.invalid", spec.name)),
                endpoint_access: spec.endpoint_access.clone(),
                secrets_encryption_key: spec.secrets_encryption_key.clone(),
                node_pools: Vec::new(),
                tags: spec.tags.clone(),
            },
            pending: Pending::new(until, "creating"),
            pools: Vec::new(),
        });
        for change in plan.changes.iter().filter(|c| c.is_mutation()) {
            match (change.kind.as_str(), &change.action) {
                ("cluster", Action::Update { .. }) => {
                    cluster.info.version = spec.version.clone();
                    cluster.info.endpoint_access = spec.endpoint_access.clone();
                    cluster.info.tags = spec.tags.clone();
                    cluster.pending = Pending::new(until, "updating");
                }
                ("node pool", action) => {
                    let pool_name = change.name.rsplit('/').next().unwrap_or_default();
                    let Some(want) = spec.node_pools.iter().find(|p| p.name.as_str() == pool_name) else { continue };
                    match (action, cluster.pools.iter_mut().find(|p| p.info.spec.name == want.name)) {
                        (Action::Create, None) => cluster.pools.push(MemPool {
                            info: NodePoolInfo { spec: want.clone(), status: ClusterStatus::Creating },
                            pending: Pending::new(until, "creating"),
                        }),
                        (Action::Update { .. }, Some(have)) => {
                            let (types, disk) = (have.info.spec.instance_types.clone(), have.info.spec.disk_gib);
                            let size = want.size_after(have.info.spec.desired);
                            have.info.spec = want.clone();
                            // `desired` is the initial size: the current one stays unless outside min..=max.
                            have.info.spec.desired = size;
                            // Instance types and disk do not change in place (reported as drift).
                            have.info.spec.instance_types = types;
                            have.info.spec.disk_gib = disk;
                            have.pending = Pending::new(until, "updating");
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn describe_cluster_now(&self, name: &ResourceName) -> Result<ClusterInfo> {
        self.state().clusters.get_mut(name.as_str()).map(MemCluster::view).ok_or_else(|| no_cluster(name))
    }

    async fn wait_cluster_active(&self, name: &ResourceName) -> Result<ClusterInfo> {
        self.waiter()
            .wait(&format!("cluster {name} and its node pools to be active"), || async {
                let info = self.describe_cluster_now(name)?;
                let busy: Vec<String> = std::iter::once((info.name.to_string(), &info.status))
                    .chain(info.node_pools.iter().map(|p| (p.spec.name.to_string(), &p.status)))
                    .filter(|(_, s)| **s != ClusterStatus::Active)
                    .map(|(n, s)| format!("{n} {s}"))
                    .collect();
                Ok(if busy.is_empty() { Poll::Ready(info) } else { Poll::Pending(busy.join(", ")) })
            })
            .await
    }
}

#[async_trait]
impl Cluster for InMemoryCloud {
    fn backend(&self) -> &'static str {
        "memory"
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "cluster", name = %spec.name))]
    async fn reconcile_cluster(&self, spec: &ClusterSpec, mode: Mode) -> Result<Plan> {
        let plan = self.cluster_plan(spec)?;
        if !self.enter_reconcile(mode, ["plan_cluster", "ensure_cluster"], &plan)? {
            return Ok(plan);
        }
        if plan.has_mutations() {
            self.apply_cluster(spec, &plan);
        }
        self.wait_cluster_active(&spec.name).await?;
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "cluster", name = %name))]
    async fn describe_cluster(&self, name: &ResourceName) -> Result<ClusterInfo> {
        self.enter("describe_cluster", false)?;
        self.describe_cluster_now(name)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "cluster", name = %name))]
    async fn credentials(&self, name: &ResourceName) -> Result<ClusterCredentials> {
        self.enter("credentials", false)?;
        let info = self.describe_cluster_now(name)?;
        if info.status != ClusterStatus::Active {
            return Err(Error::conflict("cluster", name.as_str(), format!("is {}, not active", info.status)));
        }
        let id = self.state().next_id();
        Ok(ClusterCredentials {
            cluster: name.to_string(),
            server: info.endpoint.unwrap_or_default(),
            certificate_authority_pem: None,
            auth: ClusterAuth::BearerToken { token: SecretString::from(format!("memory-token-{id}")), expires: None },
        })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "cluster", name = %cluster))]
    async fn delete_node_pool(&self, cluster: &ResourceName, pool: &ResourceName) -> Result<()> {
        self.enter("delete_node_pool", true)?;
        let mut state = self.state();
        let c = state.clusters.get_mut(cluster.as_str()).ok_or_else(|| no_cluster(cluster))?;
        let before = c.pools.len();
        c.pools.retain(|p| p.info.spec.name != *pool);
        if c.pools.len() == before {
            return Err(Error::not_found("node pool", format!("{cluster}/{pool}")));
        }
        Ok(())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "cluster", name = %name))]
    async fn delete_cluster(&self, name: &ResourceName) -> Result<()> {
        let pools: Vec<ResourceName> = self.describe_cluster_now(name)?.node_pools.into_iter().map(|p| p.spec.name).collect();
        for pool in &pools {
            self.delete_node_pool(name, pool).await?;
        }
        self.enter("delete_cluster", true)?;
        self.state().clusters.remove(name.as_str());
        Ok(())
    }
}
