//! AKS agent pools through their own operations (`managedClusters/{c}/agentPools/{p}`):
//! the bodies, and the read-modify-write of a pool and of a managed cluster
//! (a leaf: the clusters call it with their client and the cluster's id).

use deploy_core::{ClusterSpec, NodePoolSpec, Result};
use serde_json::{Value, json};

use super::api;
use super::client::{ArmClient, Target};

/// The `properties` of pool `i` of a spec (the first is the System pool).
pub(super) fn pool_properties(i: usize, pool: &NodePoolSpec, subnet: Option<&String>) -> Value {
    let mut properties = json!({
        "mode": if i == 0 { "System" } else { "User" },
        "vmSize": pool.instance_types[0],
        "count": pool.desired,
        "minCount": pool.min,
        "maxCount": pool.max,
        "enableAutoScaling": true,
        "osDiskSizeGB": pool.disk_gib,
        "nodeLabels": pool.labels,
        "type": "VirtualMachineScaleSets",
        "osType": "Linux",
    });
    if let Some(subnet) = subnet {
        properties["vnetSubnetID"] = json!(subnet);
    }
    properties
}

/// Remove `keys` (read-only in the spec) from the object at `pointer`.
fn strip(value: &mut Value, pointer: &str, keys: &[&str]) {
    if let Some(object) = value.pointer_mut(pointer).and_then(Value::as_object_mut) {
        for key in keys {
            object.remove(*key);
        }
    }
}

/// The read-only properties of an agent pool profile (`ManagedClusterAgentPoolProfileProperties`, 2024-09-01).
const POOL_READ_ONLY: [&str; 4] = ["provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag"];

/// A managed cluster as read, without what the spec marks read-only: the body
/// of a read-modify-write PUT that keeps every writable property.
pub(super) fn writable_cluster(current: &Value) -> Value {
    let mut body = current.clone();
    strip(&mut body, "", &["id", "name", "type", "systemData"]);
    strip(&mut body, "/identity", &["principalId", "tenantId"]);
    strip(
        &mut body,
        "/properties",
        &[
            "provisioningState",
            "powerState",
            "maxAgentPools",
            "currentKubernetesVersion",
            "fqdn",
            "privateFQDN",
            "azurePortalFQDN",
            "resourceUID",
        ],
    );
    if let Some(pools) = body.pointer_mut("/properties/agentPoolProfiles").and_then(Value::as_array_mut) {
        for pool in pools {
            strip(pool, "", &POOL_READ_ONLY);
        }
    }
    body
}

/// An agent pool as read, without what the spec marks read-only.
fn writable_pool(current: &Value) -> Value {
    let mut body = current.clone();
    strip(&mut body, "", &["id", "name", "type"]);
    strip(&mut body, "/properties", &POOL_READ_ONLY);
    body
}

/// Create pool `i` of `spec` in cluster `cluster_id`, or bring an existing one
/// to it: `minCount`, `maxCount`, autoscaling and labels from the spec, `count`
/// left as it is unless outside the new range (then clamped), every other
/// property kept.
pub(super) async fn ensure_pool(arm: &ArmClient, cluster_id: &str, spec: &ClusterSpec, i: usize, want: &NodePoolSpec) -> Result<()> {
    let path = format!("{}/agentPools/{}", cluster_id, want.name);
    let target = Target { kind: "node pool", name: want.name.as_str() };
    let body = match arm.get(&path, api::AKS, target).await? {
        None => json!({ "properties": pool_properties(i, want, spec.subnets.first()) }),
        Some(current) => {
            let mut body = writable_pool(&current);
            let count = current.pointer("/properties/count").and_then(Value::as_u64).unwrap_or(0);
            let count = want.size_after(u32::try_from(count).unwrap_or(u32::MAX));
            let properties = &mut body["properties"];
            properties["minCount"] = json!(want.min);
            properties["maxCount"] = json!(want.max);
            properties["enableAutoScaling"] = json!(true);
            properties["count"] = json!(count);
            properties["nodeLabels"] = json!(want.labels);
            body
        }
    };
    arm.put(&path, api::AKS, &body, target).await?;
    Ok(())
}
