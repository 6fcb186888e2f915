//! A whole [`Environment`] on Azure, planned, applied, read and destroyed in
//! dependency order: what the neutral spec leaves implicit is derived
//! ([`AzureParts`]) and made through this crate's own `arm` modules and the
//! five backends of [`AzureBackends`].
//!
//! Apply order: the resource group (created with the tag
//! [`ENVIRONMENT_TAG`] naming the environment when it is missing; an existing
//! one is left as it is, and destroy never deletes it: the backends' group
//! may hold other environments); the VNet `PREFIX-vnet` over `network.cidr` with the
//! subnet `aks` (block 0) for the cluster's nodes and `postgres` (block 1)
//! delegated to flexible servers; the private DNS zone
//! `PREFIX.private.postgres.database.azure.com` linked to the VNet; the
//! storage account of the blob endpoint when it is missing (StorageV2, HTTPS
//! only, no public blob access, versioning; an existing account is left as
//! it is and never deleted: other environments' containers may be in it)
//! and, for `files`, an Azure Files share in it; for
//! `logs`, the Log Analytics workspace `PREFIX-logs` keeping
//! `retention_days`; then the five traits ([`Environment::ensure`]: Key Vault
//! secrets, flexible servers with private access in the delegated subnet and
//! the DNS zone, containers, the AKS cluster in the `aks` subnet with every
//! node pool of the spec); each server's application databases; the
//! cluster's diagnostic setting `PREFIX-control-plane` sending every
//! control-plane log category to the workspace; "Storage Blob Data
//! Contributor" on each of the environment's containers for the workload's
//! principal ([`AzureEnvironment::with_workload_principal`]).
//!
//! Sizes: a spec written for AWS applies here unchanged: instance classes and
//! node instance types map to the Azure size of the same family and vCPU
//! count ([`sizes`]), a database's storage to Azure's next size up, and a
//! storage ceiling (`max_storage_gib`) to auto-grow, which on Azure has no
//! ceiling of its own. Azure has no neutral backup vault: an environment
//! with a `backup` section is refused before any request, naming what Azure
//! offers instead (the servers' own backups and point-in-time restore, the
//! blob snapshot recipe).
//!
//! A node pool of the cluster or a subnet of the VNet that is in the cloud
//! but no longer in the spec is reported ([`Change::unmanaged`]) and left
//! alone; only [`AzureEnvironment::destroy`] removes it (with the VNet).
//! Destroy runs in the reverse order: the diagnostic setting (it outlives the
//! cluster otherwise) and the role assignments, the neutral teardown
//! (deletion locks, servers, containers with every blob, node pools and
//! cluster, secrets), then the file share and the workspace (data: each needs
//! the confirmation), the DNS link and zone, the VNet. The resource group and
//! the storage account stay: they are the backends', shared by every
//! environment applied with them. Flexible servers have no manual snapshot:
//! destroy with final snapshots is refused before any request.
//!
//! ```no_run
//! # async fn run(backends: deploy_azure::AzureBackends) -> deploy_core::Result<()> {
//! use deploy_azure::environment::AzureEnvironment;
//! use deploy_core::env::Environments;
//! let envs = Environments::from_toml(&std::fs::read_to_string("environments.toml").unwrap())?;
//! let azure = AzureEnvironment::new(backends)?;
//! println!("{}", azure.plan("staging", envs.get("staging")?).await?);
//! azure.apply("staging", envs.get("staging")?).await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use deploy_core::env::{Backends, Environment, EnvironmentOutputs};
use deploy_core::plan::{Action, Change, Plan};
use deploy_core::recipes::{TeardownPlan, TeardownStep};
use deploy_core::reconcile::{Mode, Reconcile};
use deploy_core::{Cluster as _, Error, Observer, Result, ResultExt as _};
use serde::Serialize;
use serde_json::Value;

use crate::AzureBackends;
use crate::arm::group::ResourceGroupSpec;
use crate::arm::postgres::ServerDatabasesSpec;
use crate::arm::{ArmClient, ArmSpec, Target};

mod parts;
pub mod sizes;

pub use parts::{AKS_SUBNET, AzureParts, ENVIRONMENT_TAG, POSTGRES_SUBNET};
use parts::{Place, completed};

/// Environments in one subscription, resource group and location. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct AzureEnvironment {
    backends: AzureBackends,
    storage_account: Option<String>,
    principal_id: Option<String>,
    observer: Observer,
}

/// What an Azure environment is, as Azure reports it: the neutral outputs and
/// the derived parts' ids. No secret value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AzureEnvironmentOutputs {
    /// The outputs every cloud has (`account` is the subscription).
    #[serde(flatten)]
    pub common: EnvironmentOutputs,
    /// The location.
    pub location: String,
    /// The resource group.
    pub resource_group: String,
    /// The VNet's resource id, once it exists.
    pub virtual_network_id: Option<String>,
    /// The cluster's subnet's id.
    pub aks_subnet_id: Option<String>,
    /// The flexible servers' delegated subnet's id.
    pub postgres_subnet_id: Option<String>,
    /// The databases' private DNS zone.
    pub private_dns_zone: Option<String>,
    /// The storage account of the buckets, once it exists.
    pub storage_account: Option<String>,
    /// Its blob endpoint (without any query).
    pub blob_endpoint: String,
    /// The Key Vault holding the secrets.
    pub key_vault_url: String,
    /// The file share (`files`).
    pub file_share: Option<String>,
    /// The Log Analytics workspace's id (`logs`).
    pub log_workspace_id: Option<String>,
    /// The cluster's diagnostic setting (`logs`).
    pub diagnostic_setting: Option<String>,
}

/// What exists of the parts (read once per call).
#[derive(Clone, Debug, Default)]
struct Known {
    network: bool,
    aks_subnet: bool,
    postgres_subnet: bool,
    dns_zone: bool,
    dns_link: bool,
    storage_account: bool,
    file_share: bool,
    log_workspace: bool,
    diagnostic_setting: bool,
    /// Which of the parts' role assignments exist.
    role_assignments: Vec<bool>,
}

impl AzureEnvironment {
    /// Environments over `backends`; the storage account of the buckets is
    /// the one the blob endpoint names (`https://ACCOUNT.blob.…`, or
    /// Azurite's `http://HOST:PORT/ACCOUNT`). No request.
    ///
    /// # Errors
    /// None today; kept fallible for the checks of later settings.
    pub fn new(backends: AzureBackends) -> Result<Self> {
        let storage_account = backends.stores().account();
        Ok(AzureEnvironment { backends, storage_account, principal_id: None, observer: Observer::default() })
    }

    /// Give "Storage Blob Data Contributor" on each of the environment's
    /// containers to the workload's principal (its object id: a managed
    /// identity's or a service principal's).
    #[must_use]
    pub fn with_workload_principal(mut self, principal_id: impl Into<String>) -> Self {
        self.principal_id = Some(principal_id.into());
        self
    }

    /// Report each step to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = observer;
        self
    }

    /// The backends.
    pub fn backends(&self) -> &AzureBackends {
        &self.backends
    }

    fn arm(&self) -> &ArmClient {
        self.backends.arm()
    }

    /// What environment `name` derives on Azure (no request).
    ///
    /// # Errors
    /// As [`AzureParts`]' derivation: [`Error::InvalidInput`] naming the field.
    pub fn parts(&self, name: &str, env: &Environment) -> Result<AzureParts> {
        let place = Place {
            arm: self.arm(),
            resource_group: self.backends.resource_group(),
            location: self.backends.location(),
            storage_account: self.storage_account.as_deref(),
            principal_id: self.principal_id.as_deref(),
        };
        AzureParts::derive(name, env, &place)
    }

    /// Every rule of the spec, of Azure and of the backends (a `backup`
    /// section is refused), before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self, name: &str, env: &Environment) -> Result<AzureParts> {
        env.validate_for(name, &self.backends.env_backends())?;
        self.parts(name, env)
    }

    /// [`AzureEnvironment::validate`], and the spec handed to the five traits
    /// with Azure's ids and sizes ([`completed`]).
    fn prepare(&self, name: &str, env: &Environment) -> Result<(AzureParts, Environment)> {
        let parts = self.validate(name, env)?;
        let full = completed(env, &parts, self.arm())?;
        Ok((parts, full))
    }

    fn env_backends(&self, parts: &AzureParts) -> Backends {
        let clusters = self.backends.aks().clone().network(parts.aks_network.clone());
        Backends { cluster: Arc::new(clusters), observer: self.observer.clone(), ..self.backends.env_backends() }
    }

    /// What [`AzureEnvironment::apply`] would change; no mutating request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors.
    pub async fn plan(&self, name: &str, env: &Environment) -> Result<Plan> {
        self.reconcile(name, env, Mode::Plan).await
    }

    /// Bring environment `name` to `env`, in dependency order (see the
    /// [module docs](self)); answers the changes made. A second run makes no
    /// mutating request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM, Blob and Key Vault
    /// errors (what was done stays, and a second run continues from there).
    pub async fn apply(&self, name: &str, env: &Environment) -> Result<Plan> {
        self.reconcile(name, env, Mode::Apply).await
    }

    async fn reconcile(&self, name: &str, env: &Environment, mode: Mode) -> Result<Plan> {
        let (parts, full) = self.prepare(name, env)?;
        let backends = self.env_backends(&parts);
        let mut plan = Plan::new();
        let mut known = Known::default();
        self.reconcile_parts(&parts, mode, &mut plan, &mut known).await?;
        plan.extend(if mode.is_apply() { full.ensure(&backends).await? } else { full.plan(&backends).await? });
        self.reconcile_application_databases(&full, mode, &mut plan).await?;
        if let Some(setting) = &parts.diagnostic_setting {
            plan.extend(self.arm().reconcile(setting, mode).await?.plan);
        }
        for role in &parts.role_assignments {
            plan.extend(self.arm().reconcile(role, mode).await?.plan);
        }
        self.unmanaged(&parts, env, &mut plan).await?;
        Ok(plan)
    }

    /// A resource of the backends, shared by every environment applied with
    /// them (the resource group, the storage account): `spec` reconciled only
    /// while `id` is missing; one that exists is left as it is. Whether it
    /// exists afterwards.
    async fn made_when_missing<S>(
        &self,
        spec: &S,
        (id, api_version, target): (&str, &str, Target<'_>),
        mode: Mode,
        plan: &mut Plan,
    ) -> Result<bool>
    where
        S: Sync,
        ArmClient: Reconcile<S, Info = crate::arm::ArmResource>,
    {
        if self.arm().get(id, api_version, target).await?.is_some() {
            return Ok(true);
        }
        let r = self.arm().reconcile(spec, mode).await?;
        plan.extend(r.plan);
        Ok(r.info.is_some())
    }

    /// Resource group, network, DNS, storage account, file share, workspace; `known` says what exists afterwards.
    async fn reconcile_parts(&self, parts: &AzureParts, mode: Mode, plan: &mut Plan, known: &mut Known) -> Result<()> {
        async fn step<S: ArmSpec>(arm: &ArmClient, spec: Option<&S>, mode: Mode, plan: &mut Plan) -> Result<bool> {
            let Some(spec) = spec else { return Ok(false) };
            let r = arm.reconcile(spec, mode).await?;
            let made = r.info.is_some();
            plan.extend(r.plan);
            Ok(made)
        }
        let arm = self.arm();
        let group = &parts.resource_group;
        let target = Target { kind: ResourceGroupSpec::KIND, name: &group.name };
        self.made_when_missing(group, (&group.id(arm), ResourceGroupSpec::API_VERSION, target), mode, plan).await?;
        known.network = step(arm, parts.network.as_ref(), mode, plan).await?;
        known.aks_subnet = step(arm, parts.aks_subnet.as_ref(), mode, plan).await?;
        known.postgres_subnet = step(arm, parts.postgres_subnet.as_ref(), mode, plan).await?;
        known.dns_zone = step(arm, parts.dns_zone.as_ref(), mode, plan).await?;
        known.dns_link = step(arm, parts.dns_link.as_ref(), mode, plan).await?;
        if let Some(account) = &parts.storage_account {
            let id = arm.storage_account_id(&account.resource_group, &account.name);
            let target = Target { kind: "storage account", name: &account.name };
            known.storage_account = self.made_when_missing(account, (&id, crate::arm::api::STORAGE, target), mode, plan).await?;
        }
        known.file_share = step(arm, parts.file_share.as_ref(), mode, plan).await?;
        known.log_workspace = step(arm, parts.log_workspace.as_ref(), mode, plan).await?;
        Ok(())
    }

    /// Each server's application databases (`application_databases`), by ARM.
    async fn reconcile_application_databases(&self, env: &Environment, mode: Mode, plan: &mut Plan) -> Result<()> {
        let servers = self.backends.postgres();
        for db in &env.databases {
            let names: Vec<_> = env.application_databases.iter().filter(|a| a.instance == db.name).map(|a| a.name.clone()).collect();
            if names.is_empty() {
                continue;
            }
            let server_missing =
                plan.changes.iter().any(|c| c.kind == "database" && c.name == db.name.as_str() && c.action == Action::Create);
            if server_missing && !mode.is_apply() {
                for n in &names {
                    plan.push(Change::create("postgres database", format!("{}/{n}", db.name)));
                }
            } else {
                plan.extend(servers.reconcile(&ServerDatabasesSpec::new(db.name.clone(), names), mode).await?.plan);
            }
        }
        Ok(())
    }

    /// Node pools of the cluster and subnets of the VNet that are no longer in the spec.
    async fn unmanaged(&self, parts: &AzureParts, env: &Environment, plan: &mut Plan) -> Result<()> {
        if let Some(network) = &parts.network {
            let id = self.arm().virtual_network_id(&network.resource_group, &network.name);
            let target = Target { kind: "virtual network", name: &network.name };
            if let Some(vnet) = self.arm().get(&id, crate::arm::api::NETWORK, target).await? {
                let wanted: BTreeSet<&str> =
                    [&parts.aks_subnet, &parts.postgres_subnet].into_iter().flatten().map(|s| s.name.as_str()).collect();
                let subnets = vnet.pointer("/properties/subnets").and_then(Value::as_array).cloned().unwrap_or_default();
                for name in subnets.iter().filter_map(|s| s.get("name").and_then(Value::as_str)) {
                    if !wanted.contains(name) {
                        plan.push(Change::unmanaged("subnet", format!("{}/{name}", network.name)));
                    }
                }
            }
        }
        if let Some(spec) = &env.cluster {
            let Some(cluster) = self.backends.aks().describe_cluster(&spec.name).await.found()? else { return Ok(()) };
            let wanted: BTreeSet<&str> = spec.node_pools.iter().map(|p| p.name.as_str()).collect();
            for pool in cluster.node_pools.iter().filter(|p| !wanted.contains(p.spec.name.as_str())) {
                plan.push(Change::unmanaged("node pool", format!("{}/{}", spec.name, pool.spec.name)));
            }
        }
        Ok(())
    }

    /// What exists of the parts (reads only).
    async fn read(&self, parts: &AzureParts) -> Result<Known> {
        let mut known = Known::default();
        let mut plan = Plan::new();
        self.reconcile_parts(parts, Mode::Plan, &mut plan, &mut known).await?;
        if let Some(setting) = &parts.diagnostic_setting {
            known.diagnostic_setting = self.arm().reconcile(setting, Mode::Plan).await?.info.is_some();
        }
        for role in &parts.role_assignments {
            // Ours only (its derived name): an equal assignment another tool made is not this environment's to delete.
            known.role_assignments.push(self.arm().has_role_assignment(role).await?);
        }
        Ok(known)
    }

    /// The environment's outputs (reads only): the neutral ones and the parts' ids.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors.
    pub async fn outputs(&self, name: &str, env: &Environment) -> Result<AzureEnvironmentOutputs> {
        let (parts, full) = self.prepare(name, env)?;
        let known = self.read(&parts).await?;
        let mut common = full.outputs(name, &self.env_backends(&parts)).await?;
        common.account = Some(self.backends.subscription_id().to_owned());
        let arm = self.arm();
        let subnet_id = |s: &Option<crate::arm::network::SubnetSpec>, exists: bool| {
            s.as_ref().filter(|_| exists).map(|s| arm.subnet_id(&s.resource_group, &s.virtual_network, &s.name))
        };
        Ok(AzureEnvironmentOutputs {
            common,
            location: self.backends.location().to_owned(),
            resource_group: self.backends.resource_group().to_owned(),
            virtual_network_id: parts
                .network
                .as_ref()
                .filter(|_| known.network)
                .map(|n| arm.virtual_network_id(&n.resource_group, &n.name)),
            aks_subnet_id: subnet_id(&parts.aks_subnet, known.aks_subnet),
            postgres_subnet_id: subnet_id(&parts.postgres_subnet, known.postgres_subnet),
            private_dns_zone: parts.dns_zone.as_ref().filter(|_| known.dns_zone).map(|z| z.zone.clone()),
            storage_account: parts.storage_account.as_ref().filter(|_| known.storage_account).map(|a| a.name.clone()),
            blob_endpoint: self.backends.stores().blob_endpoint.split('?').next().unwrap_or_default().to_owned(),
            key_vault_url: self.backends.stores().key_vault_url.clone(),
            file_share: parts.file_share.as_ref().filter(|_| known.file_share).map(|f| f.name.clone()),
            log_workspace_id: parts.log_workspace.as_ref().filter(|_| known.log_workspace).map(|w| w.id(arm)),
            diagnostic_setting: parts.diagnostic_setting.as_ref().filter(|_| known.diagnostic_setting).map(|d| d.name.clone()),
        })
    }

    /// What [`AzureEnvironment::destroy`] would do, in order (reads only).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request (final snapshots of flexible servers); read errors.
    pub async fn destroy_plan(&self, name: &str, env: &Environment, final_snapshots: bool) -> Result<TeardownPlan> {
        Ok(self.read_for_destroy(name, env, final_snapshots).await?.0)
    }

    /// The destroy plan, with what it was made of: the parts, what exists of them, the completed spec.
    async fn read_for_destroy(
        &self,
        name: &str,
        env: &Environment,
        final_snapshots: bool,
    ) -> Result<(TeardownPlan, AzureParts, Known, Environment)> {
        let (parts, full) = self.prepare(name, env)?;
        if final_snapshots && !env.databases.is_empty() {
            return Err(Error::invalid(
                "final_snapshots",
                "flexible servers have no manual snapshot to take before deleting a server",
                "destroy without final snapshots (`--skip-final-snapshots`); restore the server to a point in time first if its data is needed",
            ));
        }
        let known = self.read(&parts).await?;
        let mut plan = TeardownPlan { steps: Vec::new() };
        if let (Some(setting), true) = (&parts.diagnostic_setting, known.diagnostic_setting) {
            plan.steps.push(step("delete diagnostic setting", setting.name.clone(), false));
        }
        for (role, _) in parts.role_assignments.iter().zip(&known.role_assignments).filter(|(_, exists)| **exists) {
            plan.steps.push(step("delete role assignment Storage Blob Data Contributor on", scope_name(&role.scope), false));
        }
        plan.steps.extend(full.destroy_plan(name, &self.env_backends(&parts), false).await?.steps);
        plan.steps.extend(Self::part_steps(&parts, &known));
        Ok((plan, parts, known, full))
    }

    /// The steps of the parts that exist, after the neutral teardown.
    fn part_steps(parts: &AzureParts, known: &Known) -> Vec<TeardownStep> {
        let mut steps = Vec::new();
        if let (Some(share), true) = (&parts.file_share, known.file_share) {
            steps.push(step("delete file share and every file in", share.name.clone(), true));
        }
        if let (Some(workspace), true) = (&parts.log_workspace, known.log_workspace) {
            steps.push(step("delete log analytics workspace and its logs", workspace.name.clone(), true));
        }
        if let (Some(link), true) = (&parts.dns_link, known.dns_link) {
            steps.push(step("delete private DNS zone link", link.name.clone(), false));
        }
        if let (Some(zone), true) = (&parts.dns_zone, known.dns_zone) {
            steps.push(step("delete private DNS zone", zone.zone.clone(), false));
        }
        if let (Some(network), true) = (&parts.network, known.network) {
            steps.push(step("delete virtual network (subnets)", network.name.clone(), false));
        }
        steps
    }

    /// Delete every resource of environment `name` that exists, in the order
    /// of [`AzureEnvironment::destroy_plan`]. `confirm` must name the
    /// environment when any step destroys data; without it nothing at all is
    /// deleted. A second run does nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `confirm` names another environment, on
    /// the spec, and on `final_snapshots` with databases, before any request;
    /// [`Error::ConfirmationRequired`] before any deletion; errors of the
    /// deletions (a second run continues from there).
    pub async fn destroy(&self, name: &str, env: &Environment, confirm: Option<&str>, final_snapshots: bool) -> Result<TeardownPlan> {
        deploy_core::env::check_confirm(name, confirm)?;
        let (plan, parts, known, full) = self.read_for_destroy(name, env, final_snapshots).await?;
        deploy_core::env::require_confirmation(name, confirm, &plan)?;
        let arm = self.arm();
        self.delete_part(parts.diagnostic_setting.as_ref(), known.diagnostic_setting).await?;
        for (role, _) in parts.role_assignments.iter().zip(&known.role_assignments).filter(|(_, exists)| **exists) {
            self.observer.step(format!("delete role assignment on {}", scope_name(&role.scope)));
            arm.delete_role_assignment(role).await.found()?;
        }
        full.destroy(name, &self.env_backends(&parts), confirm, false).await?;
        self.delete_part(parts.file_share.as_ref(), known.file_share).await?;
        self.delete_part(parts.log_workspace.as_ref(), known.log_workspace).await?;
        self.delete_part(parts.dns_link.as_ref(), known.dns_link).await?;
        self.delete_part(parts.dns_zone.as_ref(), known.dns_zone).await?;
        self.delete_part(parts.network.as_ref(), known.network).await?;
        Ok(plan)
    }

    /// Delete the resource `spec` describes, when it exists.
    async fn delete_part<S: ArmSpec>(&self, spec: Option<&S>, exists: bool) -> Result<()> {
        let Some(spec) = spec.filter(|_| exists) else { return Ok(()) };
        self.observer.step(format!("delete {} {}", S::KIND, spec.name()));
        self.arm().resource_of(spec).delete().await.found().map(drop)
    }
}

/// The last segment of a resource id (a container's name).
fn scope_name(scope: &str) -> String {
    scope.rsplit('/').next().unwrap_or(scope).to_owned()
}

/// A step of the destroy plan; `destroys` when it deletes data.
fn step(action: &'static str, target: String, destroys: bool) -> TeardownStep {
    TeardownStep { destroys: destroys.then(|| target.clone()), action, target }
}
