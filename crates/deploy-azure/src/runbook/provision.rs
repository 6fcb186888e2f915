//! The provisioning steps of an application stack on Azure (a runbook's
//! storage, database, cluster and network appendices) as idempotent functions over an [`ArmClient`], one per example:
//! [`blob_access`], [`postgres_flexible`], [`private_network`],
//! [`aks_cluster`]. Each takes a [`Mode`]: [`Mode::Plan`] only reads and
//! answers the changes that [`Mode::Apply`] would make; a second run in
//! [`Mode::Apply`] answers an empty plan and sends no PUT. Every step is the
//! [`deploy_core::Reconcile`] of one spec (`arm.reconcile(&spec, mode)`).
//!
//! Every name derives from one prefix ([`Stack`]).
//!
//! ```
//! use deploy_azure::runbook::provision::Stack;
//! let stack = Stack::new("myapp", "westeurope").unwrap();
//! assert_eq!(stack.resource_group, "myapp-rg");
//! assert_eq!(stack.storage_account, "myappassets");
//! assert_eq!(stack.dns_zone, "myapp.private.postgres.database.azure.com");
//! assert_eq!(Stack::new("-x", "westeurope").unwrap_err().invalid_field(), Some("prefix"));
//! ```

use deploy_core::plan::{Action, Change, Plan};
use deploy_core::reconcile::{Mode, Reconcile};
use deploy_core::{
    CidrBlock, Cluster, ClusterSpec, ContainerName, Database, DatabaseSpec, EndpointAccess, Error, KubernetesVersion, Password,
    PgIdentifier, ResourceName, Result,
};

use crate::arm::ArmClient;
use crate::arm::aks::AksClusters;
use crate::arm::dns::{DnsLinkSpec, PrivateDnsZoneSpec};
use crate::arm::group::ResourceGroupSpec;
use crate::arm::network::{POSTGRES_DELEGATION, SubnetSpec, VirtualNetworkSpec};
use crate::arm::postgres::{FlexibleServers, ServerDatabasesSpec};
use crate::arm::role::RoleAssignmentSpec;
use crate::arm::storage::{ContainerSpec, StorageAccountSpec};

/// The names and places of one installation, derived from a prefix `P`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    /// The prefix.
    pub prefix: String,
    /// The Azure region.
    pub location: String,
    /// `P-rg`: every resource's group.
    pub resource_group: String,
    /// `P` without hyphens + `assets`, at most 24 characters.
    pub storage_account: String,
    /// `P-assets`.
    pub container: ContainerName,
    /// `P-pg-vnet`, address space 10.1.0.0/16.
    pub postgres_network: String,
    /// `postgres`, 10.1.0.0/24, delegated to PostgreSQL flexible servers.
    pub postgres_subnet: String,
    /// `P.private.postgres.database.azure.com`.
    pub dns_zone: String,
    /// `P-db`.
    pub server: String,
    /// `P-aks-vnet`, address space 10.2.0.0/16.
    pub aks_network: String,
    /// `nodes`, 10.2.0.0/20.
    pub aks_subnet: String,
    /// `P-aks`.
    pub cluster: String,
}

impl Stack {
    /// The stack of `prefix` in `location`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `prefix` unless it is 2 to 40 lowercase
    /// letters, digits and single inner hyphens, starting with a letter.
    pub fn new(prefix: &str, location: &str) -> Result<Self> {
        let ok = (2..=40).contains(&prefix.len())
            && prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && !prefix.ends_with('-')
            && !prefix.contains("--")
            && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(Error::invalid(
                "prefix",
                format!("{prefix:?} cannot name every resource"),
                "2 to 40 lowercase letters, digits and single inner hyphens, starting with a letter",
            ));
        }
        let mut account: String = prefix.chars().filter(|c| *c != '-').collect();
        account.truncate(18);
        account.push_str("assets");
        Ok(Stack {
            prefix: prefix.to_owned(),
            location: location.to_owned(),
            resource_group: format!("{prefix}-rg"),
            storage_account: account,
            container: ContainerName::new(format!("{prefix}-assets"))?,
            postgres_network: format!("{prefix}-pg-vnet"),
            postgres_subnet: "postgres".to_owned(),
            dns_zone: format!("{prefix}.private.postgres.database.azure.com"),
            server: format!("{prefix}-db"),
            aks_network: format!("{prefix}-aks-vnet"),
            aks_subnet: "nodes".to_owned(),
            cluster: format!("{prefix}-aks"),
        })
    }

    async fn group(&self, arm: &ArmClient, mode: Mode) -> Result<Plan> {
        step(arm, &ResourceGroupSpec::new(&self.resource_group, &self.location), mode).await
    }

    /// The network `(name, address space)` and its subnet `(name, prefix)`.
    async fn network(
        &self,
        arm: &ArmClient,
        (name, space): (&str, &str),
        (subnet, prefix): (&str, &str),
        delegation: Option<&str>,
        mode: Mode,
    ) -> Result<Plan> {
        let network = VirtualNetworkSpec {
            resource_group: self.resource_group.clone(),
            name: name.to_owned(),
            location: self.location.clone(),
            address_space: vec![CidrBlock::new(space)?],
            tags: Default::default(),
        };
        let subnet = SubnetSpec {
            resource_group: self.resource_group.clone(),
            virtual_network: name.to_owned(),
            name: subnet.to_owned(),
            address_prefix: CidrBlock::new(prefix)?,
            delegation: delegation.map(str::to_owned),
        };
        let mut plan = step(arm, &network, mode).await?;
        plan.extend(step(arm, &subnet, mode).await?);
        Ok(plan)
    }

    async fn dns_link(&self, arm: &ArmClient, network: &str, registration: bool, mode: Mode) -> Result<Plan> {
        let link = DnsLinkSpec {
            resource_group: self.resource_group.clone(),
            zone: self.dns_zone.clone(),
            name: format!("{network}-link"),
            virtual_network_id: arm.virtual_network_id(&self.resource_group, network),
            registration_enabled: registration,
        };
        step(arm, &link, mode).await
    }
}

/// The changes of one step: `spec` reconciled by `backend` in `mode`.
async fn step<B: Reconcile<S>, S: Sync>(backend: &B, spec: &S, mode: Mode) -> Result<Plan> {
    Ok(backend.reconcile(spec, mode).await?.plan)
}

fn creates(plan: &Plan, kind: &str) -> bool {
    plan.changes.iter().any(|c| c.kind == kind && c.action == Action::Create)
}

/// Appendix 3, storage: resource group, storage account (StorageV2, HTTPS
/// only, no public blob access, versioning), private container `P-assets`,
/// and "Storage Blob Data Contributor" on that container for the service
/// principal whose *object id* is `principal_id`.
///
/// # Errors
/// [`Error::InvalidInput`] before any request; ARM errors.
pub async fn blob_access(arm: &ArmClient, stack: &Stack, principal_id: &str, mode: Mode) -> Result<Plan> {
    let mut plan = stack.group(arm, mode).await?;
    let account = StorageAccountSpec::new(&stack.resource_group, &stack.storage_account, &stack.location);
    plan.extend(step(arm, &account, mode).await?);
    let container = ContainerSpec::new(&stack.resource_group, &stack.storage_account, stack.container.clone());
    plan.extend(step(arm, &container, mode).await?);
    let role = RoleAssignmentSpec::blob_data_contributor(
        arm.container_id(&stack.resource_group, &stack.storage_account, &stack.container),
        principal_id,
    );
    plan.extend(step(arm, &role, mode).await?);
    Ok(plan)
}

/// What [`postgres_flexible`] creates the server with.
#[derive(Clone, Debug)]
pub struct PostgresSettings {
    /// PostgreSQL major version (13 or later; default 13, as the runbook says).
    pub version: String,
    /// The compute SKU (default `Standard_D2ds_v4`).
    pub sku: String,
    /// Storage in GiB (default 128).
    pub storage_gib: u32,
    /// The administrator's login (default `pgadmin`).
    pub admin: PgIdentifier,
    /// The administrator's password: needed only to create the server. Never printed.
    pub admin_password: Option<Password>,
    /// The databases to create on the server (default none: the application's own).
    pub databases: Vec<PgIdentifier>,
    /// Start the server when it is found `Stopped` (default: report it, [`Error::Conflict`]).
    pub start_stopped: bool,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            version: "13".to_owned(),
            sku: "Standard_D2ds_v4".to_owned(),
            storage_gib: 128,
            admin: PgIdentifier::new("pgadmin").expect("valid identifier"),
            admin_password: None,
            databases: Vec::new(),
            start_stopped: false,
        }
    }
}

/// Appendix 1: resource group; the server's own VNet `P-pg-vnet` with a
/// subnet delegated to flexible servers; the Private DNS zone linked to that
/// VNet; the flexible server `P-db` with private access only, TLS required,
/// `unaccent` allowed; its databases.
///
/// # Errors
/// [`Error::InvalidInput`] (for example on `admin_password` when the server
/// must be created and none was given) before any mutating request; ARM errors.
pub async fn postgres_flexible(arm: &ArmClient, stack: &Stack, settings: &PostgresSettings, mode: Mode) -> Result<Plan> {
    let mut plan = stack.group(arm, mode).await?;
    plan.extend(
        stack
            .network(
                arm,
                (&stack.postgres_network, "10.1.0.0/16"),
                (&stack.postgres_subnet, "10.1.0.0/24"),
                Some(POSTGRES_DELEGATION),
                mode,
            )
            .await?,
    );
    let zone = PrivateDnsZoneSpec { resource_group: stack.resource_group.clone(), zone: stack.dns_zone.clone(), tags: Default::default() };
    plan.extend(step(arm, &zone, mode).await?);
    plan.extend(stack.dns_link(arm, &stack.postgres_network, false, mode).await?);

    let servers = FlexibleServers::new(arm.clone(), &stack.resource_group, &stack.location)?.start_stopped(settings.start_stopped);
    let name = ResourceName::new(stack.server.clone())?;
    let mut spec = DatabaseSpec::postgres(name.clone(), &settings.version, &settings.sku, settings.admin.clone());
    spec.storage_gib = settings.storage_gib;
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent")?];
    spec.admin_password = settings.admin_password.clone();
    spec.network.delegated_subnet = Some(arm.subnet_id(&stack.resource_group, &stack.postgres_network, &stack.postgres_subnet));
    spec.network.private_dns_zone = Some(arm.private_dns_zone_id(&stack.resource_group, &stack.dns_zone));
    let server_plan = servers.reconcile_database(&spec, mode).await?;
    let server_missing = creates(&server_plan, "database");
    plan.extend(server_plan);
    if !mode.is_apply() && server_missing {
        for db in &settings.databases {
            plan.push(Change::create("postgres database", format!("{}/{db}", stack.server)));
        }
    } else {
        plan.extend(step(&servers, &ServerDatabasesSpec::new(name, settings.databases.clone()), mode).await?);
    }
    Ok(plan)
}

/// Appendix 3, network: the Private DNS zone linked to the AKS VNet with
/// auto-registration, and the two VNets peered both ways. The zone and both
/// VNets must exist ([`postgres_flexible`], [`aks_cluster`]).
///
/// # Errors
/// ARM errors.
pub async fn private_network(arm: &ArmClient, stack: &Stack, mode: Mode) -> Result<Plan> {
    let mut plan = stack.dns_link(arm, &stack.aks_network, true, mode).await?;
    let peerings = arm.peerings_both_ways((&stack.resource_group, &stack.aks_network), (&stack.resource_group, &stack.postgres_network));
    for peering in &peerings {
        plan.extend(step(arm, peering, mode).await?);
    }
    Ok(plan)
}

/// What [`aks_cluster`] creates the cluster with.
#[derive(Clone, Debug)]
pub struct AksSettings {
    /// Kubernetes version (default 1.31).
    pub version: KubernetesVersion,
    /// Node VM size (default `Standard_D4s_v5`).
    pub vm_size: String,
    /// Autoscaling bounds and starting size (default 1, 5, 2).
    pub min: u32,
    /// See `min`.
    pub max: u32,
    /// See `min`.
    pub desired: u32,
}

impl Default for AksSettings {
    fn default() -> Self {
        AksSettings {
            version: KubernetesVersion::new("1.31").expect("valid version"),
            vm_size: "Standard_D4s_v5".to_owned(),
            min: 1,
            max: 5,
            desired: 2,
        }
    }
}

/// Appendix 2: resource group, the AKS VNet `P-aks-vnet` and its node subnet,
/// the managed cluster `P-aks` with one autoscaling system pool in it.
///
/// # Errors
/// [`Error::InvalidInput`] before any request; ARM errors.
pub async fn aks_cluster(arm: &ArmClient, stack: &Stack, settings: &AksSettings, mode: Mode) -> Result<Plan> {
    let mut plan = stack.group(arm, mode).await?;
    plan.extend(stack.network(arm, (&stack.aks_network, "10.2.0.0/16"), (&stack.aks_subnet, "10.2.0.0/20"), None, mode).await?);
    let clusters = AksClusters::new(arm.clone(), &stack.resource_group, &stack.location)?;
    let spec = ClusterSpec {
        name: ResourceName::new(stack.cluster.clone())?,
        version: settings.version.clone(),
        endpoint_access: EndpointAccess::default(),
        node_pools: vec![deploy_core::NodePoolSpec {
            name: ResourceName::new("system")?,
            instance_types: vec![settings.vm_size.clone()],
            min: settings.min,
            max: settings.max,
            desired: settings.desired,
            disk_gib: 128,
            labels: Default::default(),
        }],
        secrets_encryption_key: None,
        subnets: vec![arm.subnet_id(&stack.resource_group, &stack.aks_network, &stack.aks_subnet)],
        tags: Default::default(),
    };
    plan.extend(clusters.reconcile_cluster(&spec, mode).await?);
    Ok(plan)
}
