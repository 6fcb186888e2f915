//! EksCluster against moto (clusters and node groups are active at once there).

use std::collections::BTreeMap;
use std::time::Duration;

use deploy_aws::eks::{EksCluster, EksRoles, EksRolesSpec, token::TOKEN_PREFIX};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::cluster::{ClusterAuth, ClusterSpec, EndpointAccess, NodePoolSpec};
use deploy_core::plan::Action;
use deploy_core::waiter::Waiter;
use deploy_core::{CidrBlock, Cluster, KubernetesVersion, Reconcile as _};
use secrecy::ExposeSecret;

use crate::support::{MOTO_ACCOUNT, moto, names};

fn fast() -> Waiter {
    Waiter::new(Duration::from_secs(60)).with_delays(Duration::from_millis(10), Duration::from_millis(200))
}

async fn eks(conf: &aws_config::SdkConfig, log: &RequestLog, prefix: &str) -> EksCluster {
    let aws = AwsBackends::from_conf(conf).with_request_log(log).with_waiter(fast());
    let roles = aws.iam().ensure(&EksRolesSpec::new(prefix, "aws", MOTO_ACCOUNT)).await.unwrap().info;
    aws.eks(roles)
}

#[tokio::test]
async fn conformance_cluster() {
    let conf = moto!("eks::conformance_cluster");
    let n = names();
    deploy_core::conformance::ClusterSuite::new("1.31", "m5.large").run(&eks(&conf, &RequestLog::new(), n.prefix()).await, &n).await;
}

#[tokio::test]
async fn roles_carry_the_aws_managed_policies_of_the_runbook() {
    let conf = moto!("eks::roles_carry_the_aws_managed_policies_of_the_runbook");
    let iam = AwsBackends::from_conf(&conf).iam();
    let prefix = names().prefix().to_owned();
    let roles = iam.ensure(&EksRolesSpec::new(&prefix, "aws", MOTO_ACCOUNT)).await.unwrap();
    assert_eq!(roles.plan.changes.iter().filter(|c| c.action == Action::Create).count(), 2 + 4, "{}", roles.plan);
    let cluster = iam.describe_role(&deploy_aws::iam::IamName::new(format!("{prefix}-eks-cluster")).unwrap()).await.unwrap();
    assert_eq!(cluster.arn, roles.info.cluster_role_arn);
    assert!(cluster.managed_policies.contains("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"));
    assert_eq!(cluster.trust["Statement"][0]["Principal"]["Service"], serde_json::json!(["eks.amazonaws.com"]));
    // Bound against the confused deputy: EKS may assume it only for this account's clusters of the prefix.
    let condition = &cluster.trust["Statement"][0]["Condition"];
    assert_eq!(condition["StringEquals"]["aws:SourceAccount"], serde_json::json!([MOTO_ACCOUNT]), "{condition}");
    assert_eq!(
        condition["ArnLike"]["aws:SourceArn"],
        serde_json::json!([format!("arn:aws:eks:*:{MOTO_ACCOUNT}:cluster/{prefix}*")]),
        "{condition}"
    );
    let err = iam.plan(&EksRolesSpec::new(&prefix, "aws", "not-an-account")).await.unwrap_err();
    assert_eq!(err.invalid_field(), Some("account_id"));
    let node = iam.describe_role(&deploy_aws::iam::IamName::new(format!("{prefix}-eks-node")).unwrap()).await.unwrap();
    for policy in ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"] {
        assert!(node.managed_policies.contains(&format!("arn:aws:iam::aws:policy/{policy}")), "{policy}");
    }
    assert!(iam.ensure(&EksRolesSpec::new(&prefix, "aws", MOTO_ACCOUNT)).await.unwrap().plan.is_empty());
}

fn vectice_spec(n: &deploy_core::conformance::Names) -> ClusterSpec {
    ClusterSpec {
        name: n.resource("eks"),
        version: KubernetesVersion::new("1.31").unwrap(),
        endpoint_access: EndpointAccess::default(),
        node_pools: vec![NodePoolSpec {
            name: n.resource("nodes"),
            instance_types: vec!["t3.medium".into()],
            min: 3,
            max: 6,
            desired: 3,
            disk_gib: 50,
            labels: BTreeMap::from([("app".to_owned(), "vectice".to_owned())]),
        }],
        secrets_encryption_key: None,
        subnets: vec![],
        tags: BTreeMap::from([("app".to_owned(), "vectice".to_owned())]),
    }
}

#[tokio::test]
async fn private_and_public_endpoint_kubeconfig_and_only_what_differs_is_updated() {
    let conf = moto!("eks::private_and_public_endpoint_kubeconfig_and_only_what_differs_is_updated");
    let log = RequestLog::new();
    let n = names();
    let eks = eks(&conf, &log, n.prefix()).await;
    let mut spec = vectice_spec(&n);
    log.clear();
    eks.ensure_cluster(&spec).await.unwrap();
    assert_eq!((log.count("CreateCluster"), log.count("CreateNodegroup")), (1, 1));
    let raw = eks.client().describe_cluster().name(spec.name.as_str()).send().await.unwrap();
    let vpc = raw.cluster().unwrap().resources_vpc_config().unwrap();
    assert!(vpc.endpoint_public_access() && vpc.endpoint_private_access(), "the runbook asks for both endpoints");
    let group = eks
        .client()
        .describe_nodegroup()
        .cluster_name(spec.name.as_str())
        .nodegroup_name(spec.node_pools[0].name.as_str())
        .send()
        .await
        .unwrap();
    let group = group.nodegroup().unwrap();
    assert!(group.node_role().unwrap().ends_with(&format!("role/{}-eks-node", n.prefix())));
    assert_eq!(group.disk_size(), Some(50));

    log.clear();
    assert!(eks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());

    spec.endpoint_access.public_cidrs = vec![CidrBlock::new("203.0.113.0/24").unwrap()];
    spec.node_pools[0].labels.insert("tier".into(), "app".into());
    log.clear();
    let plan = eks.ensure_cluster(&spec).await.unwrap();
    assert_eq!(plan.len(), 2, "{plan}");
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["UpdateClusterConfig", "UpdateNodegroupConfig"]);
    let info = eks.describe_cluster(&spec.name).await.unwrap();
    assert_eq!(info.endpoint_access, spec.endpoint_access);
    assert_eq!(info.node_pools[0].spec.labels, spec.node_pools[0].labels);
    assert!(eks.ensure_cluster(&spec).await.unwrap().is_empty());

    let creds = eks.credentials(&spec.name).await.unwrap();
    assert!(creds.server.starts_with("https://"), "{}", creds.server);
    let ClusterAuth::BearerToken { token, expires } = &creds.auth else { panic!("{:?}", creds.auth) };
    assert!(token.expose_secret().starts_with(TOKEN_PREFIX));
    assert!(expires.is_some());
    let kubeconfig = creds.to_kubeconfig();
    assert!(kubeconfig.expose_secret().contains(&format!("server: {}", creds.server)));
    assert!(kubeconfig.expose_secret().contains(&format!("token: {}", token.expose_secret())));
    assert!(!format!("{creds:?}").contains(TOKEN_PREFIX), "the token shows in Debug");

    eks.delete_cluster(&spec.name).await.unwrap();
    assert!(eks.describe_cluster(&spec.name).await.unwrap_err().is_not_found());
}

/// The cluster autoscaler moves a node group's desired size: a later ensure leaves it alone while it lies
/// in min..=max, and clamps it (saying so in the plan) only when the spec's range no longer holds it.
#[tokio::test]
async fn autoscaled_desired_size_is_left_alone_unless_outside_min_max() {
    let conf = moto!("eks::autoscaled_desired_size_is_left_alone_unless_outside_min_max");
    let log = RequestLog::new();
    let n = names();
    let eks = eks(&conf, &log, n.prefix()).await;
    let mut spec = vectice_spec(&n);
    eks.ensure_cluster(&spec).await.unwrap();
    let (cluster, pool) = (spec.name.as_str().to_owned(), spec.node_pools[0].name.as_str().to_owned());
    let desired = |eks: EksCluster| {
        let (cluster, pool) = (cluster.clone(), pool.clone());
        async move {
            let group = eks.client().describe_nodegroup().cluster_name(cluster).nodegroup_name(pool).send().await.unwrap();
            group.nodegroup().unwrap().scaling_config().unwrap().desired_size().unwrap()
        }
    };
    // The autoscaler scales the group out to 5, behind the SDK's back.
    eks.client()
        .update_nodegroup_config()
        .cluster_name(&cluster)
        .nodegroup_name(&pool)
        .scaling_config(aws_sdk_eks::types::NodegroupScalingConfig::builder().desired_size(5).build())
        .send()
        .await
        .unwrap();
    log.clear();
    assert!(eks.plan_cluster(&spec).await.unwrap().is_empty());
    assert!(eks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert_eq!(log.count("UpdateNodegroupConfig"), 0, "ensure reset the autoscaled size: {:?}", log.mutating());
    assert_eq!(desired(eks.clone()).await, 5);
    // A new max inside the current size: max changes, the size stays 5 and is not sent.
    spec.node_pools[0].max = 8;
    let plan = eks.ensure_cluster(&spec).await.unwrap();
    assert_eq!(plan.to_string().matches("desired").count(), 0, "{plan}");
    assert_eq!(desired(eks.clone()).await, 5);
    // A max below the current size: clamped to 4, and the plan says so.
    spec.node_pools[0].max = 4;
    let plan = eks.ensure_cluster(&spec).await.unwrap();
    assert!(plan.to_string().contains("desired: 5 -> 4 (clamped into 3..=4"), "{plan}");
    assert_eq!(desired(eks.clone()).await, 4);
    log.clear();
    assert!(eks.ensure_cluster(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let conf = crate::support::unreachable_config().await;
    let log = RequestLog::new();
    let roles =
        EksRoles { cluster_role_arn: "arn:aws:iam::123456789012:role/c".into(), node_role_arn: "arn:aws:iam::123456789012:role/n".into() };
    let eks = AwsBackends::from_conf(&conf).with_request_log(&log).eks(roles);
    let n = names();
    let mut spec = vectice_spec(&n);
    spec.node_pools[0].min = 7;
    assert_eq!(eks.ensure_cluster(&spec).await.unwrap_err().invalid_field(), Some("node_pools[0].min"));
    let mut spec = vectice_spec(&n);
    spec.node_pools[0].labels.insert("kubernetes.io/hostname".into(), "x".into());
    assert_eq!(eks.plan_cluster(&spec).await.unwrap_err().invalid_field(), Some("node_pools[0].labels.kubernetes.io/hostname"));
    let mut spec = vectice_spec(&n);
    spec.endpoint_access = EndpointAccess { public: false, private: false, public_cidrs: vec![] };
    assert_eq!(eks.ensure_cluster(&spec).await.unwrap_err().invalid_field(), Some("endpoint_access"));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}
