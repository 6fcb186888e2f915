//! A small Azure Resource Manager client over `azure_core`'s pipeline, and the
//! resources of the Vectice Azure runbook as typed, idempotent calls.
//!
//! - [`ArmClient`]: bearer token from a [`TokenCredential`] (scope
//!   `https://management.azure.com/.default`), a base URL that tests and
//!   examples override (`--arm-endpoint`), PUT/PATCH/GET/DELETE/POST of JSON
//!   with the api-version of each resource type, long-running operations
//!   (201/202, `Azure-AsyncOperation`, `Location`, `Retry-After`,
//!   `provisioningState`) awaited through the core [`Waiter`], and ARM error
//!   bodies (`{"error":{"code","message"}}`) mapped to the core error in one
//!   place ([`ArmClient`]'s `error_of`).
//! - Resources, one module each: [`group`] (resource groups), [`storage`]
//!   (storage account, blob versioning, container), [`network`] (virtual
//!   network, delegated subnet, peering both ways), [`dns`] (Private DNS zone
//!   and virtual-network link), [`postgres`] (flexible server as the core
//!   [`deploy_core::Database`], its databases, point-in-time restore), [`aks`]
//!   (managed cluster as the core [`deploy_core::Cluster`]), [`role`] (role assignments) and [`lock`]
//!   (management locks, the flexible server's deletion protection).
//!
//! Every `ensure_*` reads the resource first and sends a PUT only when it is
//! missing or differs from the spec: a second `ensure_*` makes no PUT. Every
//! `plan_*` does the reads only.
//!
//! Request and response shapes follow the public Azure REST API specifications
//! (`Azure/azure-rest-api-specs`) at the api-versions in [`api`].

pub mod aks;
mod aks_pools;
mod client;
pub mod dns;
pub mod group;
pub mod lock;
mod lro;
pub mod network;
pub mod postgres;
mod postgres_body;
pub mod role;
pub mod storage;

pub use client::{ArmClient, ArmClientBuilder, Target};

use deploy_core::{Error, Result};
use serde_json::Value;

/// The provider name in errors.
pub const PROVIDER: &str = "azure-arm";

/// The public cloud's Resource Manager endpoint.
pub const PUBLIC_ENDPOINT: &str = "https://management.azure.com";

/// The api-version of each resource type.
pub mod api {
    /// `Microsoft.Resources/resourceGroups`.
    pub const RESOURCE_GROUPS: &str = "2021-04-01";
    /// `Microsoft.Storage/storageAccounts` and its blob services and containers.
    pub const STORAGE: &str = "2023-05-01";
    /// `Microsoft.Network/virtualNetworks`, subnets and peerings.
    pub const NETWORK: &str = "2024-05-01";
    /// `Microsoft.Network/privateDnsZones` and virtual network links.
    pub const PRIVATE_DNS: &str = "2020-06-01";
    /// `Microsoft.DBforPostgreSQL/flexibleServers`, configurations and databases.
    pub const POSTGRES: &str = "2024-08-01";
    /// `Microsoft.ContainerService/managedClusters` and agent pools.
    pub const AKS: &str = "2024-09-01";
    /// `Microsoft.Authorization/roleAssignments`.
    pub const ROLE_ASSIGNMENTS: &str = "2022-04-01";
    /// `Microsoft.Authorization/locks`.
    pub const LOCKS: &str = "2020-05-01";
}

/// `value` is a GUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits).
pub(crate) fn check_guid(field: &str, value: &str) -> Result<()> {
    let groups: Vec<&str> = value.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a GUID"),
            "a GUID: 8-4-4-4-12 hexadecimal digits",
        ))
    }
}

/// `value` at JSON `pointer` as a string.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The tags of an ARM resource.
pub(crate) fn tags_of(value: &Value) -> std::collections::BTreeMap<String, String> {
    value
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// An Azure resource name: 1 to `max` characters of letters, digits and `extra`,
/// starting with a letter or digit.
pub(crate) fn check_name(field: &str, value: &str, max: usize, extra: &str) -> Result<()> {
    let ok = (1..=max).contains(&value.len())
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a valid name"),
            format!(
                "1 to {max} characters: letters, digits and `{extra}`, starting with a letter or digit"
            ),
        ))
    }
}

/// An Azure location: lowercase letters and digits (`westeurope`).
pub(crate) fn check_location(value: &str) -> Result<()> {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "location",
            format!("{value:?} is not a location"),
            "an Azure region name such as westeurope: lowercase letters and digits",
        ))
    }
}

/// A full resource id (`/subscriptions/.../providers/...`).
pub(crate) fn check_resource_id(field: &str, value: &str) -> Result<()> {
    if value.starts_with("/subscriptions/")
        && value.contains("/providers/")
        && !value.contains(char::is_whitespace)
        && !value.contains("//")
    {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a resource id"),
            "a full resource id: /subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name}",
        ))
    }
}
