//! What an Azure environment derives from the neutral spec: the names and
//! specs of the resource group, network, private DNS, storage account, file
//! share, log workspace and role assignment, and the spec handed to the five
//! traits with Azure's ids and sizes filled in. Pure: no request.

use std::collections::BTreeMap;

use deploy_core::env::{Environment, NetworkLayout};
use deploy_core::{CidrBlock, ContainerName, Error, Result, ResultExt as _};

use super::sizes::{database_sku, node_vm_size, storage_size};
use crate::arm::ArmClient;
use crate::arm::aks::AksNetwork;
use crate::arm::dns::{DnsLinkSpec, PrivateDnsZoneSpec};
use crate::arm::files::FileShareSpec;
use crate::arm::monitor::{DiagnosticSettingSpec, LogWorkspaceSpec, RETENTION_DAYS};
use crate::arm::network::{POSTGRES_DELEGATION, SubnetSpec, VirtualNetworkSpec};
use crate::arm::role::RoleAssignmentSpec;
use crate::arm::storage::StorageAccountSpec;

/// The tag an environment puts on the resource group it creates (which
/// environment made it; destroy leaves the group, which may hold others).
pub const ENVIRONMENT_TAG: &str = "deploy-environment";

/// The subnet of the cluster's nodes (block 0 of `network.cidr`).
pub const AKS_SUBNET: &str = "aks";

/// The subnet delegated to the flexible servers (block 1 of `network.cidr`).
pub const POSTGRES_SUBNET: &str = "postgres";

/// What an environment needs around the five traits on Azure
/// ([`AzureEnvironment::parts`](super::AzureEnvironment::parts)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzureParts {
    /// The name the derived resources start with: `network.name`, else the
    /// cluster's name, else the environment's.
    pub prefix: String,
    /// The resource group (the backends'), created with the tag
    /// [`ENVIRONMENT_TAG`] when missing, left as it is when it exists.
    pub resource_group: crate::arm::group::ResourceGroupSpec,
    /// The VNet `PREFIX-vnet` over `network.cidr`, when the spec has a cluster or databases.
    pub network: Option<VirtualNetworkSpec>,
    /// Its subnet `aks` (block 0), when the spec has a cluster.
    pub aks_subnet: Option<SubnetSpec>,
    /// Its subnet `postgres` (block 1) delegated to flexible servers, when the spec has databases.
    pub postgres_subnet: Option<SubnetSpec>,
    /// The databases' private DNS zone `PREFIX.private.postgres.database.azure.com`.
    pub dns_zone: Option<PrivateDnsZoneSpec>,
    /// Its link to the VNet.
    pub dns_link: Option<DnsLinkSpec>,
    /// The storage account of the buckets (containers) and the file share.
    pub storage_account: Option<StorageAccountSpec>,
    /// The file share of `files` (Azure Files) in that account.
    pub file_share: Option<FileShareSpec>,
    /// The Log Analytics workspace `PREFIX-logs` keeping the control-plane logs `retention_days` (`logs`).
    pub log_workspace: Option<LogWorkspaceSpec>,
    /// The cluster's diagnostic setting `PREFIX-control-plane` sending its control-plane logs there.
    pub diagnostic_setting: Option<DiagnosticSettingSpec>,
    /// "Storage Blob Data Contributor" on each of the environment's containers for the workload's principal.
    pub role_assignments: Vec<RoleAssignmentSpec>,
    /// The cluster's service network, outside `network.cidr`.
    pub aks_network: AksNetwork,
}

/// Where the environment is: the ARM client (for ids), resource group,
/// location, storage account, and the workload's principal.
pub(super) struct Place<'a> {
    pub arm: &'a ArmClient,
    pub resource_group: &'a str,
    pub location: &'a str,
    pub storage_account: Option<&'a str>,
    pub principal_id: Option<&'a str>,
}

impl AzureParts {
    /// Derive the parts of environment `name`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field, before any request: the spec
    /// ([`Environment::validate`]), a `location.azure` other than the
    /// backends' location, a retention Log Analytics does not keep, buckets or
    /// files without a storage account, a derived name that breaks a rule.
    pub(super) fn derive(name: &str, env: &Environment, place: &Place<'_>) -> Result<AzureParts> {
        env.validate(name)?;
        let at = |field: &str| format!("{name}.{field}");
        if let Some(wanted) = &env.location.azure
            && wanted != place.location
        {
            return Err(Error::invalid(
                at("location.azure"),
                format!("is `{wanted}`, and the backends work in `{}`", place.location),
                "the environment is applied in the location its spec names",
            ));
        }
        let layout = env.network.clone().unwrap_or_default();
        if env.cluster.is_some() && layout.cidr.prefix_len() > 20 {
            return Err(Error::invalid(
                at("network.cidr"),
                format!("`{}` leaves the cluster's subnet a /{}", layout.cidr, layout.cidr.prefix_len() + NetworkLayout::EXTRA_BITS),
                "with a cluster on Azure a /20 or larger block: Azure CNI gives every node its pods' addresses from the cluster's subnet",
            ));
        }
        let prefix = layout
            .name
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| env.cluster.as_ref().map(|c| c.name.to_string()))
            .unwrap_or_else(|| name.to_owned());
        let group = place.resource_group.to_owned();
        let mut resource_group = crate::arm::group::ResourceGroupSpec::new(&group, place.location);
        resource_group.tags.insert(ENVIRONMENT_TAG.to_owned(), name.to_owned());

        let vnet_name = format!("{prefix}-vnet");
        let network = (env.cluster.is_some() || !env.databases.is_empty()).then(|| VirtualNetworkSpec {
            resource_group: group.clone(),
            name: vnet_name.clone(),
            location: place.location.to_owned(),
            address_space: vec![layout.cidr.clone()],
            tags: BTreeMap::new(),
        });
        let subnet = |name: &str, index: u32, delegation: Option<&str>| -> Result<SubnetSpec> {
            Ok(SubnetSpec {
                resource_group: group.clone(),
                virtual_network: vnet_name.clone(),
                name: name.to_owned(),
                address_prefix: layout.block(index).in_field(&at("network.cidr"))?,
                delegation: delegation.map(str::to_owned),
            })
        };
        let aks_subnet = env.cluster.as_ref().map(|_| subnet(AKS_SUBNET, 0, None)).transpose()?;
        let postgres_subnet = (!env.databases.is_empty()).then(|| subnet(POSTGRES_SUBNET, 1, Some(POSTGRES_DELEGATION))).transpose()?;
        let (dns_zone, dns_link) = if env.databases.is_empty() {
            (None, None)
        } else {
            let zone = format!("{prefix}.private.postgres.database.azure.com");
            let link = DnsLinkSpec {
                resource_group: group.clone(),
                zone: zone.clone(),
                name: format!("{vnet_name}-link"),
                virtual_network_id: place.arm.virtual_network_id(&group, &vnet_name),
                registration_enabled: false,
            };
            (Some(PrivateDnsZoneSpec { resource_group: group.clone(), zone, tags: BTreeMap::new() }), Some(link))
        };

        let storage_account = if env.buckets.is_empty() && env.files.is_none() {
            None
        } else {
            let field = if env.buckets.is_empty() { "files" } else { "buckets" };
            let account = place.storage_account.ok_or_else(|| {
                Error::invalid(at(field), "need a storage account", "the backends' blob endpoint names the storage account")
            })?;
            Some(StorageAccountSpec::new(&group, account, place.location))
        };
        let file_share = match (&env.files, &storage_account) {
            (Some(files), Some(account)) => Some(FileShareSpec::new(&group, &account.name, files.name.as_str())),
            _ => None,
        };
        let (log_workspace, diagnostic_setting) = match (&env.logs, &env.cluster) {
            (Some(logs), Some(cluster)) => {
                if !RETENTION_DAYS.contains(&logs.retention_days) {
                    return Err(Error::invalid(
                        at("logs.retention_days"),
                        format!("is {}", logs.retention_days),
                        "Log Analytics keeps logs 30 to 730 days",
                    ));
                }
                let workspace = LogWorkspaceSpec {
                    resource_group: group.clone(),
                    name: format!("{prefix}-logs"),
                    location: place.location.to_owned(),
                    retention_days: logs.retention_days,
                    tags: BTreeMap::new(),
                };
                let cluster_id = place.arm.resource_id(&group, "Microsoft.ContainerService/managedClusters", cluster.name.as_str());
                let workspace_id = place.arm.log_workspace_id(&group, &workspace.name);
                let setting = DiagnosticSettingSpec::aks_control_plane(cluster_id, format!("{prefix}-control-plane"), workspace_id);
                (Some(workspace), Some(setting))
            }
            _ => (None, None),
        };
        let mut role_assignments = Vec::new();
        if let (Some(principal), Some(account)) = (place.principal_id, &storage_account) {
            for (i, bucket) in env.buckets.iter().enumerate() {
                let container = ContainerName::new(bucket.name.as_str()).in_field(&at(&format!("buckets[{i}].name")))?;
                let scope = place.arm.container_id(&group, &account.name, &container);
                role_assignments.push(RoleAssignmentSpec::blob_data_contributor(scope, principal));
            }
        }
        let parts = AzureParts {
            prefix,
            resource_group,
            network,
            aks_subnet,
            postgres_subnet,
            dns_zone,
            dns_link,
            storage_account,
            file_share,
            log_workspace,
            diagnostic_setting,
            role_assignments,
            aks_network: service_network(&layout),
        };
        parts.validate(name)?;
        completed(env, &parts, place.arm).in_field(name)?;
        Ok(parts)
    }

    /// Every derived spec's own rules.
    fn validate(&self, name: &str) -> Result<()> {
        use crate::arm::ArmSpec as _;
        let field = |part: &str| format!("{name}.{part}");
        self.resource_group.validate().in_field(&field("resource_group"))?;
        if let Some(n) = &self.network {
            n.validate().in_field(&field("network"))?;
        }
        for s in [&self.aks_subnet, &self.postgres_subnet].into_iter().flatten() {
            s.validate().in_field(&field("network"))?;
        }
        if let Some(z) = &self.dns_zone {
            z.validate().in_field(&field("network"))?;
        }
        if let Some(l) = &self.dns_link {
            l.validate().in_field(&field("network"))?;
        }
        if let Some(a) = &self.storage_account {
            a.validate().in_field(&field("buckets"))?;
        }
        if let Some(f) = &self.file_share {
            f.validate().in_field(&field("files"))?;
        }
        if let Some(w) = &self.log_workspace {
            w.validate().in_field(&field("logs"))?;
        }
        if let Some(d) = &self.diagnostic_setting {
            d.validate().in_field(&field("logs"))?;
        }
        for r in &self.role_assignments {
            r.validate().in_field("principal_id")?;
        }
        Ok(())
    }
}

/// AKS's service network: its default `10.0.0.0/16` unless the VNet overlaps it, then `172.16.0.0/16`.
fn service_network(layout: &NetworkLayout) -> AksNetwork {
    let default = AksNetwork::default();
    let service = CidrBlock::new(&default.service_cidr).expect("a valid block");
    if service.contains(&layout.cidr) || layout.cidr.contains(&service) {
        AksNetwork { service_cidr: "172.16.0.0/16".into(), dns_service_ip: "172.16.0.10".into(), ..default }
    } else {
        default
    }
}

/// The neutral spec with Azure's ids and sizes where the spec left them open
/// or named AWS sizes: the cluster in the `aks` subnet with each pool's VM
/// size; each database's SKU, storage size (Azure's next size up), auto-grow
/// for a ceiling (Azure grows without one of its own), the delegated subnet
/// and private DNS zone.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field of a size with no Azure counterpart.
pub(super) fn completed(env: &Environment, parts: &AzureParts, arm: &ArmClient) -> Result<Environment> {
    let mut env = env.clone();
    if let Some(cluster) = &mut env.cluster {
        if cluster.subnets.is_empty()
            && let Some(s) = &parts.aks_subnet
        {
            cluster.subnets = vec![arm.subnet_id(&s.resource_group, &s.virtual_network, &s.name)];
        }
        for (i, pool) in cluster.node_pools.iter_mut().enumerate() {
            for t in &mut pool.instance_types {
                *t = node_vm_size(t, &format!("cluster.node_pools[{i}].instance_types"))?;
            }
        }
    }
    for (i, db) in env.databases.iter_mut().enumerate() {
        let field = |f: &str| format!("databases[{i}].{f}");
        db.instance_class = database_sku(&db.instance_class, &field("instance_class"))?;
        db.storage_gib = storage_size(db.storage_gib).ok_or_else(|| {
            Error::invalid(field("storage_gib"), format!("is {} GiB", db.storage_gib), "a flexible server holds at most 32767 GiB")
        })?;
        if db.max_storage_gib.is_some() {
            db.max_storage_gib = Some(crate::arm::postgres::MAX_STORAGE_GIB);
        }
        if db.network.delegated_subnet.is_none()
            && let Some(s) = &parts.postgres_subnet
        {
            db.network.delegated_subnet = Some(arm.subnet_id(&s.resource_group, &s.virtual_network, &s.name));
        }
        if db.network.private_dns_zone.is_none()
            && let Some(z) = &parts.dns_zone
        {
            db.network.private_dns_zone = Some(arm.private_dns_zone_id(&z.resource_group, &z.zone));
        }
    }
    Ok(env)
}
