//! A small Azure Resource Manager client over `azure_core`'s pipeline, and
//! the resources of an application stack on Azure as typed, idempotent calls.
//!
//! - [`ArmClient`]: bearer token from a [`TokenCredential`](azure_core::credentials::TokenCredential) (scope
//!   `https://management.azure.com/.default`), a base URL that tests and
//!   examples override (`--arm-endpoint`), PUT/PATCH/GET/DELETE/POST of JSON
//!   with the api-version of each resource type, long-running operations
//!   (201/202, `Azure-AsyncOperation`, `Location`, `Retry-After`,
//!   `provisioningState`) awaited through the core [`Waiter`](deploy_core::Waiter), and ARM error
//!   bodies (`{"error":{"code","message"}}`) mapped to the core error in one
//!   place ([`ArmClient`]'s `error_of`).
//! - Resources, one module each: [`group`] (resource groups), [`storage`]
//!   (storage account, blob versioning, container), [`files`] (Azure Files
//!   shares), [`network`] (virtual network, delegated subnet, peering both
//!   ways), [`dns`] (Private DNS zone and virtual-network link), [`postgres`]
//!   (flexible server as the core [`deploy_core::Database`], its databases and
//!   parameters, point-in-time restore), [`aks`] (managed cluster as the core
//!   [`deploy_core::Cluster`]), [`monitor`] (Log Analytics workspaces and the
//!   diagnostic settings that send a resource's logs to one, such as the AKS
//!   control-plane logs), [`role`] (role assignments) and [`lock`] (management
//!   locks, the flexible server's deletion protection).
//!
//! One convention for every resource: [`deploy_core::Reconcile`]. Each spec
//! type (`ResourceGroupSpec`, `SubnetSpec`, ...) is reconciled by the
//! [`ArmClient`] (the flexible servers' databases by [`postgres::FlexibleServers`]):
//! `arm.plan(&spec)` only reads and answers the changes; `arm.ensure(&spec)`
//! reads the resource and sends a PUT or PATCH only when it is missing or
//! differs from the spec, so a second `ensure` makes no mutating request.
//! Most resources are an [`ArmSpec`] (spec, validation and diff, no calls),
//! reconciled by the one generic path in `resource.rs`.
//!
//! Files: `client.rs` (builder, paths), `bearer.rs` (the token policy),
//! `http.rs` (verbs, ARM errors), `lro.rs` (long-running operations),
//! `resource.rs` (the generic resource helper), `names.rs` (name checks),
//! then one module per resource type.
//!
//! Request and response shapes follow the public Azure REST API specifications
//! (`Azure/azure-rest-api-specs`) at the api-versions in [`api`].

pub mod aks;
mod aks_pools;
mod bearer;
mod client;
pub mod dns;
pub mod files;
pub mod group;
mod http;
pub mod lock;
mod lro;
pub mod monitor;
mod names;
pub mod network;
mod placement;
pub mod postgres;
mod postgres_body;
mod resource;
pub mod role;
pub mod storage;

pub use client::{ArmClient, ArmClientBuilder, PROVIDER, PUBLIC_ENDPOINT, Target, arm_scope};
pub use resource::{ArmResource, ArmSpec, Difference, Resource, Write};

pub(crate) use names::{
    check_database_name, check_guid, check_location, check_name, check_resource_group, check_resource_id, check_server_name,
};
pub(crate) use placement::Placement;
pub(crate) use resource::{bool_at, str_at, tags_of};

/// The api-version of each resource type.
pub mod api {
    /// `Microsoft.Resources/resourceGroups`.
    pub const RESOURCE_GROUPS: &str = "2021-04-01";
    /// `Microsoft.Storage/storageAccounts`, its blob services and containers, its file shares.
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
    /// `Microsoft.OperationalInsights/workspaces` (Log Analytics).
    pub const LOG_ANALYTICS: &str = "2023-09-01";
    /// `Microsoft.Insights/diagnosticSettings` (a preview api-version: the
    /// monitor spec's `diagnosticsSettings_API.json` of the workspace-based settings).
    pub const DIAGNOSTIC_SETTINGS: &str = "2021-05-01-preview";
}
