//! The EKS Pod Identity association operations moto 5.1 does not model,
//! served by the proxy in front of moto (as [`super::backup_gaps`] does for
//! AWS Backup) so that `aws_pod_role --mode pod-identity` runs end to end:
//! clusters, roles and policies still go to moto; associations (create, list,
//! describe, update, delete) are answered from this small in-memory state in
//! EKS's own REST/JSON shapes. The cluster is not checked here: the example
//! reads it from moto before it associates anything. deploy-aws's handling
//! of these calls (create / no-op / update in place / delete) is also tested
//! against aws-smithy-mocks in crates/deploy-aws/tests/aws/mocked.rs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};

use super::fault_proxy::{Local, LocalRoutes, ResponsePatch};

#[derive(Default)]
struct State {
    /// association id → the association (full shape).
    associations: BTreeMap<String, Value>,
    next: u64,
}

/// Routes for [`super::fault_proxy::FaultProxy::start_with`]: `None` for
/// everything that is not a Pod Identity association call.
pub fn routes() -> LocalRoutes {
    let state = Arc::new(Mutex::new(State::default()));
    Arc::new(move |method: &Method, path_and_query: &str, body: &Bytes| {
        answer(&state, method, path_and_query, body).map(|(status, json)| Local::Answer(status, json))
    })
}

fn query_value<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

fn wrap(association: &Value) -> (u16, String) {
    (200, json!({ "association": association }).to_string())
}

fn answer(state: &Mutex<State>, method: &Method, path_and_query: &str, body: &Bytes) -> Option<(u16, String)> {
    let (path, query) = path_and_query.split_once('?').map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut state = state.lock().unwrap();
    let not_found = |id: &str| (404, json!({"message": format!("association {id} not found")}).to_string());
    match (method, parts.as_slice()) {
        (&Method::GET, ["clusters", cluster, "pod-identity-associations"]) => {
            let (ns, sa) = (query_value(query, "namespace"), query_value(query, "serviceAccount"));
            let found: Vec<Value> = state
                .associations
                .values()
                .filter(|a| a["clusterName"] == *cluster)
                .filter(|a| ns.is_none_or(|n| a["namespace"] == n) && sa.is_none_or(|s| a["serviceAccount"] == s))
                .map(|a| {
                    json!({
                        "clusterName": a["clusterName"], "namespace": a["namespace"], "serviceAccount": a["serviceAccount"],
                        "associationArn": a["associationArn"], "associationId": a["associationId"],
                    })
                })
                .collect();
            Some((200, json!({ "associations": found }).to_string()))
        }
        (&Method::POST, ["clusters", cluster, "pod-identity-associations"]) => {
            let request: Value = serde_json::from_slice(body).ok()?;
            let duplicate = state.associations.values().any(|a| {
                a["clusterName"] == *cluster && a["namespace"] == request["namespace"] && a["serviceAccount"] == request["serviceAccount"]
            });
            if duplicate {
                return Some((409, json!({"message": "Association already exists"}).to_string()));
            }
            state.next += 1;
            let id = format!("a-{:017}", state.next);
            let association = json!({
                "clusterName": cluster, "namespace": request["namespace"], "serviceAccount": request["serviceAccount"],
                "roleArn": request["roleArn"], "associationId": id,
                "associationArn": format!("arn:aws:eks:us-west-2:123456789012:podidentityassociation/{cluster}/{id}"),
                "tags": request.get("tags").cloned().unwrap_or_else(|| json!({})),
                "createdAt": 1.7e9, "modifiedAt": 1.7e9,
            });
            state.associations.insert(id, association.clone());
            Some(wrap(&association))
        }
        (&Method::GET, ["clusters", _, "pod-identity-associations", id]) => {
            Some(state.associations.get(*id).map_or_else(|| not_found(id), wrap))
        }
        (&Method::POST, ["clusters", _, "pod-identity-associations", id]) => {
            let request: Value = serde_json::from_slice(body).ok()?;
            let Some(association) = state.associations.get_mut(*id) else { return Some(not_found(id)) };
            if let Some(role) = request.get("roleArn") {
                association["roleArn"] = role.clone();
            }
            Some(wrap(association))
        }
        (&Method::DELETE, ["clusters", _, "pod-identity-associations", id]) => {
            Some(state.associations.remove(*id).map_or_else(|| not_found(id), |a| wrap(&a)))
        }
        _ => None,
    }
}

/// EKS makes a security group for each cluster (`eks-cluster-sg-NAME-...`, in
/// the cluster's VPC; the control plane and every managed node's network
/// interface are in it) and reports it as
/// `resourcesVpcConfig.clusterSecurityGroupId`; moto 5.1 does neither. These
/// routes patch DescribeCluster answers that lack it: the group
/// `eks-cluster-sg-NAME` is made in the VPC of the cluster's first subnet
/// (directly on moto's EC2, as EKS would, so no client counts it) and its id
/// put in the answer. A cluster with no subnet is answered as moto has it.
pub fn cluster_security_group_routes(network: deploy_aws::network::Network) -> LocalRoutes {
    let patch: ResponsePatch = Arc::new(move |body: Bytes| {
        let network = network.clone();
        Box::pin(async move { with_cluster_security_group(&network, &body).await.unwrap_or(body) })
    });
    Arc::new(move |method: &Method, path_and_query: &str, _body: &Bytes| {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        matches!((method, parts.as_slice()), (&Method::GET, ["clusters", _])).then(|| Local::Patch(patch.clone()))
    })
}

async fn with_cluster_security_group(network: &deploy_aws::network::Network, body: &Bytes) -> Option<Bytes> {
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let cluster = answer.get_mut("cluster")?;
    let name = cluster["name"].as_str()?.to_owned();
    let config = cluster.get_mut("resourcesVpcConfig")?;
    if config["clusterSecurityGroupId"].as_str().is_some_and(|id| !id.is_empty()) {
        return None;
    }
    let subnet = config["subnetIds"].as_array()?.first()?.as_str()?.to_owned();
    let ec2 = network.client();
    let subnets = ec2.describe_subnets().subnet_ids(&subnet).send().await.ok()?;
    let vpc_id = subnets.subnets().first()?.vpc_id()?.to_owned();
    let group_name = format!("eks-cluster-sg-{name}");
    let groups = ec2.describe_security_groups().send().await.ok()?;
    let found =
        groups.security_groups().iter().find(|g| g.vpc_id() == Some(vpc_id.as_str()) && g.group_name() == Some(group_name.as_str()));
    let id = match found.and_then(|g| g.group_id()) {
        Some(id) => id.to_owned(),
        None => {
            let made = ec2
                .create_security_group()
                .vpc_id(&vpc_id)
                .group_name(&group_name)
                .description(format!("EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads. ({name})"))
                .send()
                .await
                .ok()?;
            made.group_id()?.to_owned()
        }
    };
    config["clusterSecurityGroupId"] = json!(id);
    serde_json::to_vec(&answer).ok().map(Bytes::from)
}
