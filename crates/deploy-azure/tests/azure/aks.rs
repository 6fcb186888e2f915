//! AKS as the core `Cluster`, against the fake ARM endpoint.

use deploy_azure::arm::aks::AksClusters;
use deploy_core::cluster::{ClusterAuth, NodePoolSpec};
use deploy_core::plan::Action;
use deploy_core::{Cluster, ClusterSpec, EndpointAccess, Error, KubernetesVersion, ResourceName};
use secrecy::ExposeSecret;

use crate::fake_arm::{FakeArm, Lro};

/// A cluster of one autoscaling system pool (1 to 5 nodes, 2 to start).
pub(crate) fn spec() -> ClusterSpec {
    ClusterSpec {
        name: ResourceName::new("vectice-aks").unwrap(),
        version: KubernetesVersion::new("1.31").unwrap(),
        endpoint_access: EndpointAccess::default(),
        node_pools: vec![NodePoolSpec {
            name: ResourceName::new("system").unwrap(),
            instance_types: vec!["Standard_D4s_v5".into()],
            min: 1,
            max: 5,
            desired: 2,
            disk_gib: 128,
            labels: Default::default(),
        }],
        secrets_encryption_key: None,
        subnets: Vec::new(),
        tags: Default::default(),
    }
}

#[tokio::test]
async fn aks_cluster_autoscaling_pool_private_flag_and_kubeconfig() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 1, retry_after: 0 });
    let arm = fake.client();
    let aks = AksClusters::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let mut spec = spec();
    spec.subnets = vec![arm.subnet_id("vectice-rg", "aks-vnet", "nodes")];
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "{plan:?}");
    let stored = fake.resource(&aks.cluster_id("vectice-aks")).unwrap();
    let pool = &stored["properties"]["agentPoolProfiles"][0];
    assert_eq!((pool["minCount"].as_u64(), pool["maxCount"].as_u64(), pool["count"].as_u64()), (Some(1), Some(5), Some(2)));
    assert_eq!(pool["enableAutoScaling"], true);
    assert_eq!(pool["mode"], "System");
    assert!(pool["vnetSubnetID"].as_str().unwrap().ends_with("/subnets/nodes"));
    assert_eq!(stored["properties"]["apiServerAccessProfile"]["enablePrivateCluster"], false);
    assert_eq!(stored["properties"]["networkProfile"]["networkPlugin"], "azure");
    fake.reset_requests();
    assert!(aks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert_eq!(fake.count("PUT"), 0, "{:?}", fake.requests());
    // Scaling is an update of the pool, through its own operation.
    spec.node_pools[0].max = 8;
    fake.reset_requests();
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(matches!(&plan.changes[0].action, Action::Update { fields } if fields[0].field == "max"), "{plan:?}");
    let puts: Vec<String> = fake.requests().into_iter().filter(|r| r.starts_with("PUT")).collect();
    assert_eq!(puts, [format!("PUT {}/agentPools/system", aks.cluster_id("vectice-aks"))]);
    assert_eq!(fake.resource(&aks.cluster_id("vectice-aks")).unwrap()["properties"]["agentPoolProfiles"][0]["maxCount"], 8);
    // Authorized ranges change in place.
    spec.endpoint_access.public_cidrs = vec![deploy_core::CidrBlock::new("203.0.113.0/24").unwrap()];
    aks.ensure_cluster(&spec).await.unwrap();
    let access = &fake.resource(&aks.cluster_id("vectice-aks")).unwrap()["properties"]["apiServerAccessProfile"];
    assert_eq!(access["authorizedIPRanges"], serde_json::json!(["203.0.113.0/24"]));
    assert!(aks.plan_cluster(&spec).await.unwrap().is_empty());
    // Private only: AKS makes a cluster private at creation only (the fake refuses the change as AKS does),
    // so an existing public cluster is drift, and nothing is sent.
    spec.endpoint_access = EndpointAccess { public: false, private: true, public_cidrs: Vec::new() };
    fake.reset_requests();
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(
        plan.to_string().contains("endpoint_access.public: true -> false (AKS makes a cluster private or public at creation only"),
        "{plan}"
    );
    assert!(!plan.has_mutations(), "{plan}");
    assert_eq!(fake.count("PUT") + fake.count("PATCH"), 0, "{:?}", fake.requests());
    // Created private, it is private.
    let mut private = spec.clone();
    private.name = ResourceName::new("private-aks").unwrap();
    aks.ensure_cluster(&private).await.unwrap();
    assert_eq!(
        fake.resource(&aks.cluster_id("private-aks")).unwrap()["properties"]["apiServerAccessProfile"]["enablePrivateCluster"],
        true
    );
    assert!(aks.plan_cluster(&private).await.unwrap().is_empty());
    spec.endpoint_access = EndpointAccess::default();
    // The user kubeconfig for deploy-k8s, never shown in Debug.
    let creds = aks.credentials(&spec.name).await.unwrap();
    assert!(creds.server.starts_with("https://") && creds.server.ends_with(":443"), "{}", creds.server);
    assert!(matches!(&creds.auth, ClusterAuth::Kubeconfig(k) if k.expose_secret().contains("SENTINEL-kube-token")));
    assert!(!format!("{creds:?}").contains("SENTINEL"));
    aks.delete_cluster(&spec.name).await.unwrap();
    assert!(aks.describe_cluster(&spec.name).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn aks_refuses_what_it_cannot_take_before_any_request() {
    let arm = crate::support::dead_arm();
    let aks = AksClusters::new(arm, "vectice-rg", "westeurope").unwrap();
    let field = crate::support::refused_field;
    let mut s = spec();
    s.node_pools[0].name = ResourceName::new("system-pool-too-long").unwrap();
    assert_eq!(field(aks.ensure_cluster(&s).await.unwrap_err()), "node_pools[0].name");
    let mut s = spec();
    s.node_pools[0].instance_types.push("Standard_D8s_v5".into());
    assert_eq!(field(aks.ensure_cluster(&s).await.unwrap_err()), "node_pools[0].instance_types");
    let mut s = spec();
    s.node_pools.clear();
    assert_eq!(field(aks.plan_cluster(&s).await.unwrap_err()), "node_pools");
    let mut s = spec();
    s.node_pools[0].desired = 9;
    assert_eq!(field(aks.ensure_cluster(&s).await.unwrap_err()), "node_pools[0].desired");
    // The System pool never scales to 0 (AKS: 1 to 1000); a User pool may.
    let mut s = spec();
    s.node_pools[0].min = 0;
    let err = aks.ensure_cluster(&s).await.unwrap_err();
    assert_eq!(field(err), "node_pools[0].min");
    let mut s = spec();
    let mut user = s.node_pools[0].clone();
    user.name = ResourceName::new("user").unwrap();
    user.min = 0;
    s.node_pools.push(user);
    let err = aks.ensure_cluster(&s).await.unwrap_err();
    assert!(!matches!(err, Error::InvalidInput { .. }), "a user pool of min 0 is valid: {err:?}");
}

fn user_pool(name: &str) -> NodePoolSpec {
    NodePoolSpec {
        name: ResourceName::new(name).unwrap(),
        instance_types: vec!["Standard_D8s_v5".into()],
        min: 0,
        max: 4,
        desired: 1,
        disk_gib: 128,
        labels: [("workload".to_owned(), "jobs".to_owned())].into(),
    }
}

/// AKS refuses a managed-cluster PUT that introduces a pool (the fake does too): a pool added later is an
/// `agentPools` PUT, and the cluster is not PUT again.
#[tokio::test]
async fn a_pool_added_later_goes_through_the_agent_pools_operation() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let aks = AksClusters::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let mut spec = spec();
    aks.ensure_cluster(&spec).await.unwrap();
    spec.node_pools.push(user_pool("jobs"));
    fake.reset_requests();
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert_eq!(plan.to_string().trim(), "+ create node pool vectice-aks/jobs", "{plan}");
    let id = aks.cluster_id("vectice-aks");
    let mutations: Vec<String> = fake.requests().into_iter().filter(|r| !r.starts_with("GET")).collect();
    assert_eq!(mutations, [format!("PUT {id}/agentPools/jobs")]);
    let pool = fake.resource(&format!("{id}/agentPools/jobs")).unwrap();
    assert_eq!(pool["properties"]["mode"], "User");
    assert_eq!((pool["properties"]["minCount"].as_u64(), pool["properties"]["count"].as_u64()), (Some(0), Some(1)));
    assert!(aks.ensure_cluster(&spec).await.unwrap().is_empty());
    // The same change as one managed-cluster PUT is what AKS refuses.
    let mut body = fake.resource(&id).unwrap();
    for k in ["id", "name"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["properties"] =
        serde_json::json!({ "agentPoolProfiles": [{ "name": "extra", "count": 1, "vmSize": "Standard_D4s_v5", "mode": "User" }] });
    let refused = arm
        .put(&id, deploy_azure::arm::api::AKS, &body, deploy_azure::arm::Target { kind: "cluster", name: "vectice-aks" })
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("per agent pool operations"), "{refused}");
}

/// `desired` is the initial size: a count the autoscaler moved is left alone while inside min..=max, and
/// clamped (the plan says so) when the new range leaves it outside.
#[tokio::test]
async fn the_autoscaled_count_is_left_alone_unless_outside_min_max() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let aks = AksClusters::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let mut spec = spec();
    aks.ensure_cluster(&spec).await.unwrap();
    let id = aks.cluster_id("vectice-aks");
    fake.autoscale(&id, "system", 4);
    fake.reset_requests();
    assert!(aks.plan_cluster(&spec).await.unwrap().is_empty());
    assert!(aks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert_eq!(fake.count("PUT") + fake.count("PATCH"), 0, "the autoscaled count was reset: {:?}", fake.requests());
    // A new max above the count: minCount/maxCount change, the count stays 4.
    spec.node_pools[0].max = 6;
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(!plan.to_string().contains("desired"), "{plan}");
    let pool = fake.resource(&format!("{id}/agentPools/system")).unwrap();
    assert_eq!((pool["properties"]["maxCount"].as_u64(), pool["properties"]["count"].as_u64()), (Some(6), Some(4)));
    // A max below the count: clamped, and said.
    spec.node_pools[0].max = 3;
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(plan.to_string().contains("desired: 4 -> 3 (clamped into 1..=3"), "{plan}");
    let pool = fake.resource(&format!("{id}/agentPools/system")).unwrap();
    assert_eq!(pool["properties"]["count"], 3);
    // A version change is a read-modify-write PUT of the cluster with its pools as they are (no read-only
    // property sent: the fake checks the body against the spec).
    spec.version = KubernetesVersion::new("1.32").unwrap();
    fake.reset_requests();
    aks.ensure_cluster(&spec).await.unwrap();
    let body = &fake.bodies("PUT", "/managedClusters/vectice-aks")[0];
    assert_eq!(body["properties"]["kubernetesVersion"], "1.32");
    assert_eq!(body["properties"]["agentPoolProfiles"][0]["count"], 3);
    assert!(body["properties"].get("fqdn").is_none() && body.get("id").is_none());
    // Tags alone are a PATCH (UpdateTags).
    spec.tags.insert("team".into(), "platform".into());
    fake.reset_requests();
    aks.ensure_cluster(&spec).await.unwrap();
    assert_eq!((fake.count("PATCH"), fake.count("PUT")), (1, 0), "{:?}", fake.requests());
}

/// The core Cluster suite on AKS: an Azure VM size; the pools are created with
/// the cluster (one planned creation).
#[tokio::test]
async fn conformance_cluster_on_aks() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 1, retry_after: 0 });
    let aks = AksClusters::new(fake.client(), "conformance-rg", "westeurope").unwrap();
    deploy_core::conformance::ClusterSuite::new("1.31", "Standard_D4s_v5")
        .with_pools_in_cluster_create()
        .run(&aks, &deploy_core::conformance::Names::unique())
        .await;
    assert_eq!(fake.violations(), Vec::<String>::new());
}
