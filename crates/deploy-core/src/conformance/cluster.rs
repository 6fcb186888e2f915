use std::collections::BTreeMap;

use super::check::{expect_err, ok};
use super::names::Names;
use crate::cluster::{Cluster, ClusterAuth, ClusterSpec, ClusterStatus, EndpointAccess, NodePoolSpec};
use crate::error::Error;
use crate::plan::Action;
use crate::validate::{KubernetesVersion, ResourceName};

/// A [`Cluster`] backend's conformance run: the spec the suite creates, in a
/// Kubernetes version and an instance type the backend takes.
#[derive(Clone, Debug)]
pub struct ClusterSuite {
    /// The valid spec the suite creates (the cluster under a name of its
    /// own): private and public endpoint, one pool of 1 to 3 nodes starting at 2.
    pub spec: ClusterSpec,
    /// Whether the backend creates the node pools inside the cluster's
    /// creation, planning one change for all (AKS: the managed cluster's PUT
    /// carries its pools), instead of one creation per pool.
    pub pools_in_cluster_create: bool,
}

impl ClusterSuite {
    /// Kubernetes `version`, one pool of `instance_type` nodes (1 to 3,
    /// starting at 2, 50 GiB disks).
    ///
    /// # Panics
    /// When `version` is not a valid [`KubernetesVersion`].
    pub fn new(version: &str, instance_type: &str) -> Self {
        let name = |s: &str| ResourceName::new(s).expect("name");
        ClusterSuite {
            spec: ClusterSpec {
                name: name("cluster"),
                version: KubernetesVersion::new(version).expect("version"),
                endpoint_access: EndpointAccess::default(),
                node_pools: vec![NodePoolSpec {
                    name: name("pool"),
                    instance_types: vec![instance_type.into()],
                    min: 1,
                    max: 3,
                    desired: 2,
                    disk_gib: 50,
                    labels: BTreeMap::new(),
                }],
                secrets_encryption_key: None,
                subnets: Vec::new(),
                tags: BTreeMap::from([("app".to_owned(), "conformance".to_owned())]),
            },
            pools_in_cluster_create: false,
        }
    }

    /// The same run for a backend that creates the pools with the cluster.
    #[must_use]
    pub fn with_pools_in_cluster_create(self) -> Self {
        ClusterSuite { pools_in_cluster_create: true, ..self }
    }

    /// The suite's spec under `names` (pool names are the cluster's own and stay).
    pub fn spec(&self, names: &Names) -> ClusterSpec {
        ClusterSpec { name: names.resource("eks"), ..self.spec.clone() }
    }

    /// The whole Cluster suite: bad input, idempotent ensure, the autoscaler's
    /// size, credentials, deletion.
    ///
    /// # Panics
    /// When the backend behaves otherwise, with a message saying how.
    pub async fn run(&self, c: &dyn Cluster, names: &Names) {
        let mut spec = self.spec(names);
        let mut bad = spec.clone();
        bad.node_pools[0].min = 4;
        let e = expect_err("ensure with min > max", c.ensure_cluster(&bad).await, |e| matches!(e, Error::InvalidInput { .. }));
        assert_eq!(e.invalid_field(), Some("node_pools[0].min"));
        expect_err("describe after rejected ensure", c.describe_cluster(&spec.name).await, Error::is_not_found);

        let plan = ok("plan_cluster (missing)", c.plan_cluster(&spec).await);
        assert!(plan.changes.iter().any(|ch| ch.kind == "cluster" && ch.action == Action::Create), "{plan:?}");
        if !self.pools_in_cluster_create {
            assert!(plan.changes.iter().any(|ch| ch.kind == "node pool" && ch.action == Action::Create), "{plan:?}");
        }
        ok("ensure_cluster", c.ensure_cluster(&spec).await);
        let info = ok("describe_cluster", c.describe_cluster(&spec.name).await);
        assert_eq!(info.status, ClusterStatus::Active, "ensure returned before the cluster was active");
        assert!(info.endpoint_access.public && info.endpoint_access.private, "endpoint access: {:?}", info.endpoint_access);
        assert_eq!(info.node_pools.len(), 1);
        assert_eq!(info.node_pools[0].status, ClusterStatus::Active, "node pool not active");
        assert_eq!((info.node_pools[0].spec.min, info.node_pools[0].spec.max, info.node_pools[0].spec.desired), (1, 3, 2));
        assert!(ok("ensure_cluster (again)", c.ensure_cluster(&spec).await).is_empty(), "second ensure changed something");

        // `desired` is the initial size: changing it alone changes nothing (the autoscaler owns the size).
        spec.node_pools[0].desired = 3;
        let plan = ok("plan_cluster (desired only)", c.plan_cluster(&spec).await);
        assert!(plan.is_empty(), "a new desired size alone was planned: {plan}");
        // Raising min above the current size clamps the size into the new range, and the plan says so.
        spec.node_pools[0].min = 3;
        let plan = ok("plan_cluster (min above the size)", c.plan_cluster(&spec).await);
        let fields: Vec<(String, String, String)> = plan
            .changes
            .iter()
            .filter_map(|ch| match &ch.action {
                Action::Update { fields } if ch.kind == "node pool" => {
                    Some(fields.iter().map(|f| (f.field.clone(), f.from.clone(), f.to.clone())))
                }
                _ => None,
            })
            .flatten()
            .collect();
        assert!(fields.iter().any(|(f, from, to)| f == "min" && from == "1" && to == "3"), "min not planned: {plan}");
        assert!(
            fields.iter().any(|(f, from, to)| f == "desired" && from == "2" && to.starts_with("3 (clamped")),
            "clamp not planned: {plan}"
        );
        ok("ensure_cluster (min above the size)", c.ensure_cluster(&spec).await);
        let pool = ok("describe", c.describe_cluster(&spec.name).await).node_pools[0].spec.clone();
        assert_eq!((pool.min, pool.desired), (3, 3), "the size was not clamped into the new range");
        assert!(ok("ensure_cluster (again)", c.ensure_cluster(&spec).await).is_empty(), "ensure after the clamp changed something");

        let creds = ok("credentials", c.credentials(&spec.name).await);
        assert!(!creds.server.is_empty(), "no API server URL");
        match &creds.auth {
            ClusterAuth::BearerToken { .. } | ClusterAuth::Kubeconfig(_) => {}
        }
        assert!(format!("{creds:?}").contains("<redacted>"), "credentials Debug does not redact: {creds:?}");

        ok("delete_node_pool", c.delete_node_pool(&spec.name, &spec.node_pools[0].name).await);
        assert!(ok("describe", c.describe_cluster(&spec.name).await).node_pools.is_empty(), "node pool still there");
        ok("delete_cluster", c.delete_cluster(&spec.name).await);
        expect_err("describe deleted cluster", c.describe_cluster(&spec.name).await, Error::is_not_found);
    }
}
