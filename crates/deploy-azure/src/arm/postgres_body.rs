//! The request bodies of a flexible server, as the 2024-08-01 spec
//! (`FlexibleServers.json`) defines them: `Server` for creation,
//! `ServerForUpdate` for a PATCH (no `location`, no creation-only
//! properties), and the api-version's `ServerVersion` enum.

use deploy_core::plan::{Action, Plan};
use deploy_core::{DatabaseSpec, Error, Result};
use serde_json::{Value, json};

/// `ServerVersion` of api-version 2024-08-01 (`definitions.ServerVersion.enum`).
pub const SERVER_VERSIONS: [&str; 6] = ["16", "15", "14", "13", "12", "11"];

/// Versions Azure no longer creates servers of, though the enum still lists them.
const RETIRED: [&str; 2] = ["12", "11"];

/// The major version of `engine_version`, checked against the enum.
pub(super) fn server_version(engine_version: &str) -> Result<&str> {
    let major = engine_version.split('.').next().unwrap_or_default();
    if !SERVER_VERSIONS.contains(&major) || RETIRED.contains(&major) {
        return Err(Error::invalid(
            "engine_version",
            format!("is {engine_version}"),
            format!(
                "a PostgreSQL major version of the flexible server api-version {} (ServerVersion: {}); 11 and 12 are retired: 13 to 16",
                super::api::POSTGRES,
                SERVER_VERSIONS.join(", ")
            ),
        ));
    }
    Ok(major)
}

pub(super) fn tier_of(instance_class: &str) -> Result<&'static str> {
    let family = instance_class.strip_prefix("Standard_").and_then(|s| s.chars().next());
    match family {
        Some('B') => Ok("Burstable"),
        Some('D') => Ok("GeneralPurpose"),
        Some('E') => Ok("MemoryOptimized"),
        _ => Err(Error::invalid(
            "instance_class",
            format!("{instance_class:?} is not a flexible server size"),
            "Azure sizes such as Standard_B1ms, Standard_D2ds_v4 or Standard_E4ds_v5",
        )),
    }
}

fn enabled(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

fn public_access(spec: &DatabaseSpec) -> &'static str {
    enabled(spec.network.publicly_accessible)
}

/// The `Server` body that creates the server.
pub(super) fn create_body(spec: &DatabaseSpec, location: &str, geo_redundant_backup: bool, password: &str) -> Result<Value> {
    let mut network = json!({ "publicNetworkAccess": public_access(spec) });
    if let (Some(subnet), Some(zone)) = (&spec.network.delegated_subnet, &spec.network.private_dns_zone) {
        network["delegatedSubnetResourceId"] = json!(subnet);
        network["privateDnsZoneArmResourceId"] = json!(zone);
    }
    Ok(json!({
        "location": location,
        "sku": { "name": spec.instance_class, "tier": tier_of(&spec.instance_class)? },
        "tags": spec.tags,
        "properties": {
            "version": server_version(&spec.engine_version)?,
            "administratorLogin": spec.admin_username.as_str(),
            "administratorLoginPassword": password,
            "storage": { "storageSizeGB": spec.storage_gib, "autoGrow": enabled(spec.max_storage_gib.is_some()) },
            "backup": { "backupRetentionDays": spec.backup_retention_days, "geoRedundantBackup": enabled(geo_redundant_backup) },
            "highAvailability": { "mode": if spec.high_availability { "ZoneRedundant" } else { "Disabled" } },
            "network": network,
            "createMode": "Create",
        },
    }))
}

/// The fields of `plan`'s update of the server.
pub(super) fn updated_fields(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.kind == "database")
        .filter_map(|c| match &c.action {
            Action::Update { fields } => Some(fields.iter().map(|f| f.field.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The `ServerForUpdate` body that brings the server's `fields` to `spec`; `None` when no field is the server's
/// own (parameters and the lock are separate resources).
pub(super) fn update_body(spec: &DatabaseSpec, fields: &[String]) -> Result<Option<Value>> {
    let has = |f: &str| fields.iter().any(|x| x == f);
    let mut properties = serde_json::Map::new();
    let mut body = serde_json::Map::new();
    if has("engine_version") {
        // A major version upgrade.
        properties.insert("version".into(), json!(server_version(&spec.engine_version)?));
    }
    if has("instance_class") {
        body.insert("sku".into(), json!({ "name": spec.instance_class, "tier": tier_of(&spec.instance_class)? }));
    }
    if has("storage_gib") || has("max_storage_gib") {
        properties
            .insert("storage".into(), json!({ "storageSizeGB": spec.storage_gib, "autoGrow": enabled(spec.max_storage_gib.is_some()) }));
    }
    if has("backup_retention_days") {
        properties.insert("backup".into(), json!({ "backupRetentionDays": spec.backup_retention_days }));
    }
    if has("high_availability") {
        properties.insert("highAvailability".into(), json!({ "mode": if spec.high_availability { "ZoneRedundant" } else { "Disabled" } }));
    }
    if has("network.publicly_accessible") {
        properties.insert("network".into(), json!({ "publicNetworkAccess": public_access(spec) }));
    }
    if has("tags") {
        body.insert("tags".into(), json!(spec.tags));
    }
    if !properties.is_empty() {
        body.insert("properties".into(), Value::Object(properties));
    }
    Ok((!body.is_empty()).then_some(Value::Object(body)))
}
