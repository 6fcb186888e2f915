//! AKS as the core `Cluster`, against the fake ARM endpoint.

use deploy_azure::arm::aks::AksClusters;
use deploy_core::cluster::{ClusterAuth, NodePoolSpec};
use deploy_core::plan::Action;
use deploy_core::{Cluster, ClusterSpec, EndpointAccess, Error, KubernetesVersion, ResourceName};
use secrecy::ExposeSecret;

use crate::fake_arm::{FakeArm, Lro};

fn spec() -> ClusterSpec {
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
    fake.set_lro(Lro::AsyncOperation {
        polls: 1,
        retry_after: 0,
    });
    let arm = fake.client();
    let aks = AksClusters::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let mut spec = spec();
    spec.subnets = vec![arm.subnet_id("vectice-rg", "aks-vnet", "nodes")];
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [c] if c.action == Action::Create),
        "{plan:?}"
    );
    let stored = fake.resource(&aks.cluster_id("vectice-aks")).unwrap();
    let pool = &stored["properties"]["agentPoolProfiles"][0];
    assert_eq!(
        (
            pool["minCount"].as_u64(),
            pool["maxCount"].as_u64(),
            pool["count"].as_u64()
        ),
        (Some(1), Some(5), Some(2))
    );
    assert_eq!(pool["enableAutoScaling"], true);
    assert_eq!(pool["mode"], "System");
    assert!(
        pool["vnetSubnetID"]
            .as_str()
            .unwrap()
            .ends_with("/subnets/nodes")
    );
    assert_eq!(
        stored["properties"]["apiServerAccessProfile"]["enablePrivateCluster"],
        false
    );
    assert_eq!(
        stored["properties"]["networkProfile"]["networkPlugin"],
        "azure"
    );
    fake.reset_requests();
    assert!(aks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert_eq!(fake.count("PUT"), 0, "{:?}", fake.requests());
    // Scaling is an update of the pool.
    spec.node_pools[0].max = 8;
    let plan = aks.ensure_cluster(&spec).await.unwrap();
    assert!(
        matches!(&plan.changes[0].action, Action::Update { fields } if fields[0].field == "max"),
        "{plan:?}"
    );
    assert_eq!(
        fake.resource(&aks.cluster_id("vectice-aks")).unwrap()["properties"]["agentPoolProfiles"]
            [0]["maxCount"],
        8
    );
    // Private only.
    spec.endpoint_access = EndpointAccess {
        public: false,
        private: true,
        public_cidrs: Vec::new(),
    };
    aks.ensure_cluster(&spec).await.unwrap();
    assert_eq!(
        fake.resource(&aks.cluster_id("vectice-aks")).unwrap()["properties"]["apiServerAccessProfile"]
            ["enablePrivateCluster"],
        true
    );
    assert!(aks.plan_cluster(&spec).await.unwrap().is_empty());
    // The user kubeconfig for deploy-k8s, never shown in Debug.
    let creds = aks.credentials(&spec.name).await.unwrap();
    assert!(
        creds.server.starts_with("https://") && creds.server.ends_with(":443"),
        "{}",
        creds.server
    );
    assert!(
        matches!(&creds.auth, ClusterAuth::Kubeconfig(k) if k.expose_secret().contains("SENTINEL-kube-token"))
    );
    assert!(!format!("{creds:?}").contains("SENTINEL"));
    aks.delete_cluster(&spec.name).await.unwrap();
    assert!(
        aks.describe_cluster(&spec.name)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn aks_refuses_what_it_cannot_take_before_any_request() {
    let dead = crate::support::dead_endpoint();
    let arm = deploy_azure::arm::ArmClient::builder(
        crate::fake_arm::SUBSCRIPTION,
        crate::fake_arm::fake_token(),
    )
    .endpoint(&dead)
    .quick_retries()
    .build()
    .unwrap();
    let aks = AksClusters::new(arm, "vectice-rg", "westeurope").unwrap();
    let field = |e: Error| match e {
        Error::InvalidInput { field, .. } | Error::NotSupported { field, .. } => field,
        other => panic!("a request was made or the wrong error: {other:?}"),
    };
    let mut s = spec();
    s.node_pools[0].name = ResourceName::new("system-pool-too-long").unwrap();
    assert_eq!(
        field(aks.ensure_cluster(&s).await.unwrap_err()),
        "node_pools[0].name"
    );
    let mut s = spec();
    s.node_pools[0]
        .instance_types
        .push("Standard_D8s_v5".into());
    assert_eq!(
        field(aks.ensure_cluster(&s).await.unwrap_err()),
        "node_pools[0].instance_types"
    );
    let mut s = spec();
    s.node_pools.clear();
    assert_eq!(field(aks.plan_cluster(&s).await.unwrap_err()), "node_pools");
    let mut s = spec();
    s.node_pools[0].desired = 9;
    assert_eq!(
        field(aks.ensure_cluster(&s).await.unwrap_err()),
        "node_pools[0].desired"
    );
}
