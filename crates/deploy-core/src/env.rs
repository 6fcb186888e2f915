//! Environments: one or more instances of the application (`production`,
//! `staging`), each a cluster, database instances, buckets, secrets and a
//! backup policy, loadable from TOML, planned and ensured over a set of
//! backends.
//!
//! ```
//! use deploy_core::env::Environments;
//! let envs = Environments::from_toml(r#"
//!     [production]
//!     buckets = [{ name = "acme-prod-assets" }]
//!     secrets = [{ name = "prod-db-admin" }]
//! "#).unwrap();
//! assert!(envs.get("production").is_ok());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backup::{BackupSpec, BackupVault};
use crate::cluster::{Cluster, ClusterSpec};
use crate::database::{Database, DatabaseSpec, Endpoint};
use crate::error::{Confirm, Error, Result, ResultExt};
use crate::memory::InMemoryCloud;
use crate::object_store::{BucketSpec, ObjectStore};
use crate::observe::Observer;
use crate::plan::{Change, Plan};
use crate::recipes::{Teardown, TeardownPlan, TeardownStep};
use crate::secret_store::{PutSecretOptions, SecretStore};
use crate::validate::{BucketName, PasswordRules, PgIdentifier, ResourceName, SecretName};

mod extras;
mod layout;

pub use extras::{ControlPlaneLogs, SharedFiles};
pub use layout::{Location, NetworkLayout};

/// A password secret the environment generates when it is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedSecret {
    /// The secret's name.
    pub name: SecretName,
    /// The rules a generated value follows (default: [`PasswordRules::rds_master`]).
    #[serde(default)]
    pub rules: PasswordRules,
    /// The generated value's length (default 32).
    #[serde(default = "default_length")]
    pub length: usize,
}

fn default_length() -> usize {
    32
}

/// A database inside an instance, created by the bootstrap (`deploy-k8s` or
/// direct), such as an application's own database and its identity provider's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationDatabase {
    /// The instance (one of the environment's `databases`).
    pub instance: ResourceName,
    /// The database's name.
    pub name: PgIdentifier,
    /// Extensions to create in it.
    #[serde(default)]
    pub extensions: Vec<PgIdentifier>,
}

/// One instance of the application.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Environment {
    /// The region on each cloud (`location = { aws = "eu-central-1", azure = "westeurope" }`).
    pub location: Location,
    /// The private address space the provider environments carve subnets from
    /// (default `10.0.0.0/16`); the in-memory backends have no network.
    pub network: Option<NetworkLayout>,
    /// The Kubernetes cluster.
    pub cluster: Option<ClusterSpec>,
    /// Managed PostgreSQL instances.
    pub databases: Vec<DatabaseSpec>,
    /// Databases inside the instances, for the bootstrap.
    pub application_databases: Vec<ApplicationDatabase>,
    /// Buckets.
    pub buckets: Vec<BucketSpec>,
    /// Password secrets, generated when missing.
    pub secrets: Vec<GeneratedSecret>,
    /// The backup vault and plan.
    pub backup: Option<BackupSpec>,
    /// A file system the cluster's nodes share for temporary artifacts
    /// (provider environments only; the in-memory backends have none).
    pub files: Option<SharedFiles>,
    /// The cluster's control-plane logs and their retention (provider
    /// environments only).
    pub logs: Option<ControlPlaneLogs>,
}

/// Where an environment's `backup` section goes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum BackupBackend {
    /// A neutral backup vault (AWS Backup, the in-memory cloud).
    Vault(Arc<dyn BackupVault>),
    /// The cloud has no neutral backup vault: an environment with a `backup`
    /// section is refused before any request ([`Environment::validate_for`]),
    /// the error naming what the cloud offers instead.
    Unavailable {
        /// The cloud (`azure`).
        cloud: &'static str,
        /// What it offers instead: the rule of the error.
        instead: String,
    },
}

impl BackupBackend {
    /// The vault, when the cloud has one.
    pub fn vault(&self) -> Option<&dyn BackupVault> {
        match self {
            BackupBackend::Vault(v) => Some(v.as_ref()),
            BackupBackend::Unavailable { .. } => None,
        }
    }
}

/// The backends an environment is planned and ensured over.
#[derive(Clone, Debug)]
pub struct Backends {
    /// Clusters.
    pub cluster: Arc<dyn Cluster>,
    /// Databases.
    pub database: Arc<dyn Database>,
    /// Buckets.
    pub objects: Arc<dyn ObjectStore>,
    /// Secrets.
    pub secrets: Arc<dyn SecretStore>,
    /// Backups: a vault, or the reason the cloud has none.
    pub backup: BackupBackend,
    /// Progress events.
    pub observer: Observer,
}

impl Backends {
    /// Every backend on one in-memory cloud.
    pub fn in_memory(cloud: &InMemoryCloud) -> Self {
        let shared = Arc::new(cloud.clone());
        Backends {
            cluster: shared.clone(),
            database: shared.clone(),
            objects: shared.clone(),
            secrets: shared.clone(),
            backup: BackupBackend::Vault(shared),
            observer: Observer::default(),
        }
    }
}

impl Environment {
    /// Check every spec and the references between them; `name` prefixes the fields in errors.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`production.databases[0].storage_gib`).
    pub fn validate(&self, name: &str) -> Result<()> {
        let at = |field: String| if name.is_empty() { field } else { format!("{name}.{field}") };
        self.location.validate().in_field(name)?;
        if let Some(network) = &self.network {
            network.validate().in_field(name)?;
        }
        if let Some(cluster) = &self.cluster {
            cluster.validate().in_field(&at("cluster".into()))?;
        }
        let secrets: BTreeSet<&str> = self.secrets.iter().map(|s| s.name.as_str()).collect();
        if secrets.len() != self.secrets.len() {
            return Err(Error::invalid(at("secrets".into()), "names a secret twice", "secret names are unique"));
        }
        for (i, s) in self.secrets.iter().enumerate() {
            if s.length < s.rules.min_len || s.length > s.rules.max_len {
                return Err(Error::invalid(at(format!("secrets[{i}].length")), format!("is {}", s.length), s.rules.describe()));
            }
        }
        let mut instances = BTreeSet::new();
        for (i, db) in self.databases.iter().enumerate() {
            let field = at(format!("databases[{i}]"));
            db.validate_in(&field)?;
            if !instances.insert(db.name.as_str()) {
                return Err(Error::invalid(format!("{field}.name"), format!("repeats `{}`", db.name), "instance names are unique"));
            }
            if let Some(secret) = &db.admin_password_secret
                && !secrets.contains(secret.as_str())
            {
                return Err(Error::invalid(
                    format!("{field}.admin_password_secret"),
                    format!("names `{secret}`, which is not among the environment's secrets"),
                    "an admin password secret is one of `secrets`",
                ));
            }
        }
        for (i, app) in self.application_databases.iter().enumerate() {
            if !instances.contains(app.instance.as_str()) {
                return Err(Error::invalid(
                    at(format!("application_databases[{i}].instance")),
                    format!("names `{}`, which is not among the environment's databases", app.instance),
                    "an application database lives in one of `databases`",
                ));
            }
        }
        let mut buckets = BTreeSet::new();
        for (i, b) in self.buckets.iter().enumerate() {
            if !buckets.insert(b.name.as_str()) {
                return Err(Error::invalid(at(format!("buckets[{i}].name")), format!("repeats `{}`", b.name), "bucket names are unique"));
            }
        }
        if let Some(backup) = &self.backup {
            backup.validate().in_field(&at("backup".into()))?;
        }
        if let Some(logs) = &self.logs {
            logs.validate().in_field(name)?;
        }
        for (part, present) in [("files", self.files.is_some()), ("logs", self.logs.is_some())] {
            if present && self.cluster.is_none() {
                return Err(Error::invalid(
                    at(part.into()),
                    "is set, and the environment has no cluster",
                    format!("`{part}` belongs to the cluster: give the environment a `cluster`"),
                ));
            }
        }
        Ok(())
    }

    /// [`Environment::validate`], then what the backends can take: a `backup`
    /// section on a cloud with no neutral backup vault is refused here, before
    /// any request, with the rule naming what that cloud offers instead.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`production.backup`).
    pub fn validate_for(&self, name: &str, backends: &Backends) -> Result<()> {
        self.validate(name)?;
        if let (Some(_), BackupBackend::Unavailable { cloud, instead }) = (&self.backup, &backends.backup) {
            let field = if name.is_empty() { "backup".to_owned() } else { format!("{name}.backup") };
            return Err(Error::invalid(field, format!("is set, and {cloud} has no neutral backup vault"), instead.clone()));
        }
        Ok(())
    }

    /// What [`Environment::ensure`] would change; mutates nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors of the backends.
    pub async fn plan(&self, backends: &Backends) -> Result<Plan> {
        self.validate_for("", backends)?;
        let mut plan = Plan::new();
        for s in &self.secrets {
            if !backends.secrets.secret_exists(&s.name).await? {
                plan.push(Change::create("secret", s.name.as_str()));
            }
        }
        for db in &self.databases {
            plan.extend(backends.database.plan_database(db).await?);
        }
        for b in &self.buckets {
            plan.extend(backends.objects.plan_bucket(b).await?);
        }
        if let Some(c) = &self.cluster {
            plan.extend(backends.cluster.plan_cluster(c).await?);
        }
        if let (Some(b), Some(vault)) = (&self.backup, backends.backup.vault()) {
            plan.extend(vault.plan_backup(b).await?);
        }
        Ok(plan)
    }

    /// Bring everything to its spec, in dependency order (secrets, databases,
    /// buckets, cluster, backup); answers the changes made. A second run makes
    /// no mutating call.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; errors of the backends (what
    /// was done before stays, and a second run continues from there).
    pub async fn ensure(&self, backends: &Backends) -> Result<Plan> {
        self.validate_for("", backends)?;
        let obs = &backends.observer;
        let mut done = Plan::new();
        for s in &self.secrets {
            if !backends.secrets.secret_exists(&s.name).await? {
                obs.step(format!("generate secret {}", s.name));
                let value = s.rules.generate(s.length)?;
                backends.secrets.put_secret(&s.name, value.secret().clone(), &PutSecretOptions::default()).await?;
                done.push(Change::create("secret", s.name.as_str()));
            }
        }
        for db in &self.databases {
            let mut db = db.clone();
            if let (None, Some(secret)) = (&db.admin_password, &db.admin_password_secret) {
                let rules = self.secrets.iter().find(|s| &s.name == secret).map(|s| s.rules.clone()).unwrap_or_default();
                let value = backends.secrets.get_secret(secret).await?;
                db.admin_password = Some(
                    crate::validate::Password::new(secrecy::ExposeSecret::expose_secret(&value.value), &rules)
                        .in_field(&format!("secret {secret}"))?,
                );
            }
            obs.step(format!("ensure database {}", db.name));
            done.extend(backends.database.ensure_database(&db).await?);
        }
        for b in &self.buckets {
            obs.step(format!("ensure bucket {}", b.name));
            done.extend(backends.objects.ensure_bucket(b).await?);
        }
        if let Some(c) = &self.cluster {
            obs.step(format!("ensure cluster {}", c.name));
            done.extend(backends.cluster.ensure_cluster(c).await?);
        }
        if let (Some(b), Some(vault)) = (&self.backup, backends.backup.vault()) {
            obs.step(format!("ensure backup vault {}", b.vault.name));
            done.extend(vault.ensure_backup(b).await?);
        }
        Ok(done)
    }
}

/// The check every environment's destroy makes before any request: a
/// confirmation, when given, names the environment `name`.
///
/// # Errors
/// [`Error::InvalidInput`] on `confirm`.
pub fn check_confirm(name: &str, confirm: Option<&str>) -> Result<()> {
    match confirm {
        Some(c) if c != name => Err(Error::invalid(
            "confirm",
            format!("`{c}` is not the environment being destroyed"),
            format!("the confirmation names the environment: `{name}`"),
        )),
        _ => Ok(()),
    }
}

/// The check every environment's destroy makes before any deletion: without
/// the confirmation naming the environment, a plan with a step that destroys
/// data is refused whole.
///
/// # Errors
/// [`Error::ConfirmationRequired`] naming the environment and the first data-bearing step.
pub fn require_confirmation(name: &str, confirm: Option<&str>, plan: &TeardownPlan) -> Result<()> {
    match plan.steps.iter().find(|s| s.destroys.is_some()) {
        Some(step) if confirm != Some(name) => Err(Error::ConfirmationRequired {
            action: format!("destroying environment `{name}` ({} {}, ...)", step.action, step.target),
            expected: name.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Named environments, as a TOML document has them: one table per environment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Environments(pub BTreeMap<String, Environment>);

impl Environments {
    /// Parse and validate a TOML document.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `environment` with the parser's message
    /// (which names the line and the rule), or naming the field that breaks a rule.
    pub fn from_toml(text: &str) -> Result<Self> {
        let envs: Environments = toml::from_str(text).map_err(|e| {
            Error::invalid("environment", e.message().trim().to_owned(), format!("a TOML environment spec ({})", span(text, e.span())))
        })?;
        for (name, env) in &envs.0 {
            env.validate(name)?;
        }
        Ok(envs)
    }

    /// One environment.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn get(&self, name: &str) -> Result<&Environment> {
        self.0.get(name).ok_or_else(|| Error::not_found("environment", name))
    }
}

fn span(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(r) => {
            let line = text[..r.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}")
        }
        None => "whole document".to_owned(),
    }
}

/// What an environment is, as its backends report it: the names and endpoints
/// an application is configured with, never a secret's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EnvironmentOutputs {
    /// The environment's name (`production`).
    pub environment: String,
    /// The account or subscription the backends work in, when the caller knows it
    /// ([`Environment::outputs`] leaves it `None`: the five traits do not say).
    pub account: Option<String>,
    /// The cluster, when the spec has one.
    pub cluster: Option<ClusterOutput>,
    /// Each database instance of the spec.
    pub databases: Vec<DatabaseOutput>,
    /// Each bucket of the spec.
    pub buckets: Vec<BucketOutput>,
    /// The backup vault and plan, when the spec has them.
    pub backup: Option<BackupOutput>,
    /// Each secret of the spec: its name and whether it exists, never its value.
    pub secrets: Vec<SecretOutput>,
}

/// A cluster of [`EnvironmentOutputs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterOutput {
    /// Its name (the provider's id for it).
    pub name: ResourceName,
    /// Its state (`None`: it does not exist).
    pub status: Option<String>,
    /// The Kubernetes version.
    pub version: Option<String>,
    /// The API server's endpoint, once there is one.
    pub endpoint: Option<String>,
    /// Its node pools.
    pub node_pools: Vec<NodePoolOutput>,
}

/// A node pool of [`ClusterOutput`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodePoolOutput {
    /// Its name.
    pub name: ResourceName,
    /// Its state.
    pub status: String,
    /// Fewest nodes.
    pub min: u32,
    /// Most nodes.
    pub max: u32,
}

/// A database instance of [`EnvironmentOutputs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatabaseOutput {
    /// The instance's name (its identifier).
    pub name: ResourceName,
    /// Its state (`None`: it does not exist).
    pub status: Option<String>,
    /// The engine version.
    pub engine_version: Option<String>,
    /// Where to connect, once available.
    pub endpoint: Option<Endpoint>,
    /// The admin user.
    pub admin_username: PgIdentifier,
    /// The secret holding the admin password (its name only).
    pub admin_password_secret: Option<SecretName>,
    /// The databases the bootstrap creates in it.
    pub application_databases: Vec<PgIdentifier>,
}

/// A bucket of [`EnvironmentOutputs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BucketOutput {
    /// Its name.
    pub name: BucketName,
    /// Whether it exists.
    pub exists: bool,
}

/// The backup part of [`EnvironmentOutputs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupOutput {
    /// The vault's name.
    pub vault: ResourceName,
    /// Whether the vault exists.
    pub vault_exists: bool,
    /// The vault's encryption key (`None`: the provider's, or no vault).
    pub encryption_key: Option<String>,
    /// The plan's name, when the spec has one.
    pub plan: Option<ResourceName>,
    /// Whether the plan exists.
    pub plan_exists: bool,
}

/// A secret of [`EnvironmentOutputs`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretOutput {
    /// Its name.
    pub name: SecretName,
    /// Whether it exists.
    pub exists: bool,
}

/// `Ok(None)` for a resource that is not there.
async fn found<T>(read: impl std::future::Future<Output = Result<T>>) -> Result<Option<T>> {
    read.await.found()
}

/// What of an environment exists, read from its backends.
struct Present {
    vault: Option<ResourceName>,
    plan: Option<ResourceName>,
    databases: Vec<ResourceName>,
    buckets: Vec<BucketName>,
    cluster: Option<ResourceName>,
    secrets: Vec<SecretName>,
}

impl Environment {
    /// The environment's outputs, read from `backends` (reads only): cluster
    /// name, endpoint and pools, each instance's identifier and endpoint,
    /// bucket names, the backup vault and plan, secret names. A resource that
    /// does not exist is reported so (`status: None`, `exists: false`), not as an error.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request ([`Environment::validate_for`]); read errors of the backends.
    pub async fn outputs(&self, name: &str, backends: &Backends) -> Result<EnvironmentOutputs> {
        self.validate_for(name, backends)?;
        let mut out = EnvironmentOutputs { environment: name.to_owned(), ..EnvironmentOutputs::default() };
        if let Some(spec) = &self.cluster {
            let info = found(backends.cluster.describe_cluster(&spec.name)).await?;
            out.cluster = Some(ClusterOutput {
                name: spec.name.clone(),
                status: info.as_ref().map(|i| i.status.to_string()),
                version: info.as_ref().map(|i| i.version.to_string()),
                endpoint: info.as_ref().and_then(|i| i.endpoint.clone()),
                node_pools: info
                    .iter()
                    .flat_map(|i| &i.node_pools)
                    .map(|p| NodePoolOutput { name: p.spec.name.clone(), status: p.status.to_string(), min: p.spec.min, max: p.spec.max })
                    .collect(),
            });
        }
        for spec in &self.databases {
            let info = found(backends.database.describe_database(&spec.name)).await?;
            out.databases.push(DatabaseOutput {
                name: spec.name.clone(),
                status: info.as_ref().map(|i| i.status.to_string()),
                engine_version: info.as_ref().map(|i| i.engine_version.clone()),
                endpoint: info.and_then(|i| i.endpoint),
                admin_username: spec.admin_username.clone(),
                admin_password_secret: spec.admin_password_secret.clone(),
                application_databases: self
                    .application_databases
                    .iter()
                    .filter(|a| a.instance.as_str() == spec.name.as_str())
                    .map(|a| a.name.clone())
                    .collect(),
            });
        }
        for spec in &self.buckets {
            let exists = found(backends.objects.describe_bucket(&spec.name)).await?.is_some();
            out.buckets.push(BucketOutput { name: spec.name.clone(), exists });
        }
        if let (Some(spec), Some(vault)) = (&self.backup, backends.backup.vault()) {
            let info = found(vault.describe_vault(&spec.vault.name)).await?;
            let plan_exists = match &spec.plan {
                Some(p) => vault.backup_plan_exists(&p.name).await?,
                None => false,
            };
            out.backup = Some(BackupOutput {
                vault: spec.vault.name.clone(),
                vault_exists: info.is_some(),
                encryption_key: info.and_then(|i| i.encryption_key),
                plan: spec.plan.as_ref().map(|p| p.name.clone()),
                plan_exists,
            });
        }
        for spec in &self.secrets {
            out.secrets.push(SecretOutput { name: spec.name.clone(), exists: backends.secrets.secret_exists(&spec.name).await? });
        }
        Ok(out)
    }

    async fn present(&self, backends: &Backends) -> Result<Present> {
        let mut present =
            Present { vault: None, plan: None, databases: Vec::new(), buckets: Vec::new(), cluster: None, secrets: Vec::new() };
        if let (Some(spec), Some(vault)) = (&self.backup, backends.backup.vault()) {
            if found(vault.describe_vault(&spec.vault.name)).await?.is_some() {
                present.vault = Some(spec.vault.name.clone());
            }
            if let Some(p) = &spec.plan
                && vault.backup_plan_exists(&p.name).await?
            {
                present.plan = Some(p.name.clone());
            }
        }
        for spec in &self.databases {
            if found(backends.database.describe_database(&spec.name)).await?.is_some() {
                present.databases.push(spec.name.clone());
            }
        }
        for spec in &self.buckets {
            if found(backends.objects.describe_bucket(&spec.name)).await?.is_some() {
                present.buckets.push(spec.name.clone());
            }
        }
        if let Some(spec) = &self.cluster
            && found(backends.cluster.describe_cluster(&spec.name)).await?.is_some()
        {
            present.cluster = Some(spec.name.clone());
        }
        for spec in &self.secrets {
            if backends.secrets.secret_exists(&spec.name).await? {
                present.secrets.push(spec.name.clone());
            }
        }
        Ok(present)
    }

    /// The teardown of what is present, in the order of [`Teardown`] (recovery
    /// points, backup plan and vault, deletion protection, databases, buckets,
    /// node pools and cluster); the caller sets the confirmation.
    fn teardown<'a>(present: &Present, backends: &'a Backends, final_snapshots: bool) -> Teardown<'a> {
        let backup = backends.backup.vault();
        Teardown {
            backup: backup.filter(|_| present.vault.is_some() || present.plan.is_some()),
            vaults: present.vault.iter().cloned().collect(),
            backup_plans: present.plan.iter().cloned().collect(),
            database: Some(backends.database.as_ref()),
            databases: present.databases.clone(),
            final_snapshots,
            objects: Some(backends.objects.as_ref()),
            buckets: present.buckets.clone(),
            cluster: Some(backends.cluster.as_ref()),
            clusters: present.cluster.iter().cloned().collect(),
            confirm: None,
            observer: backends.observer.clone(),
        }
    }

    /// What [`Environment::destroy`] would do, in order (reads only): the
    /// [`Teardown`] steps of what exists, then the secrets (last: a database
    /// being deleted may still need its admin password). Steps that destroy
    /// data name it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors of the backends.
    pub async fn destroy_plan(&self, name: &str, backends: &Backends, final_snapshots: bool) -> Result<TeardownPlan> {
        self.validate_for(name, backends)?;
        let present = self.present(backends).await?;
        Self::plan_of(&present, backends, final_snapshots).await
    }

    async fn plan_of(present: &Present, backends: &Backends, final_snapshots: bool) -> Result<TeardownPlan> {
        let mut plan = Self::teardown(present, backends, final_snapshots).plan().await?;
        for s in &present.secrets {
            plan.steps.push(TeardownStep { action: "delete secret", target: s.to_string(), destroys: Some(s.to_string()) });
        }
        Ok(plan)
    }

    /// Delete every resource of the environment that exists, in the order of
    /// [`Environment::destroy_plan`]. `confirm` must name the environment
    /// (`name`) when any step destroys data (a database, a bucket holding
    /// objects, a recovery point, a secret); without it nothing at all is
    /// deleted. What is already gone is skipped: a second run does nothing.
    /// `final_snapshots`: snapshot each instance before deleting it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `confirm` names another environment, and on
    /// the spec, before any request; [`Error::ConfirmationRequired`] naming the
    /// environment and the first data-bearing step, before any deletion; errors
    /// of the deletions (a second run continues from there).
    pub async fn destroy(&self, name: &str, backends: &Backends, confirm: Option<&str>, final_snapshots: bool) -> Result<TeardownPlan> {
        self.validate_for(name, backends)?;
        check_confirm(name, confirm)?;
        let present = self.present(backends).await?;
        let plan = Self::plan_of(&present, backends, final_snapshots).await?;
        require_confirmation(name, confirm, &plan)?;
        // One teardown per confirmed resource, in the order of the plan: the
        // confirmation of the environment stands for each of its resources.
        let base = Self::teardown(&present, backends, final_snapshots);
        let only = Teardown {
            backup: None,
            vaults: Vec::new(),
            backup_plans: Vec::new(),
            database: None,
            databases: Vec::new(),
            objects: None,
            buckets: Vec::new(),
            cluster: None,
            clusters: Vec::new(),
            ..base.clone()
        };
        if base.backup.is_some() {
            let confirm = present.vault.as_ref().map(|v| Confirm::new(v.as_str()));
            Teardown { backup: base.backup, vaults: base.vaults.clone(), backup_plans: base.backup_plans.clone(), confirm, ..only.clone() }
                .run()
                .await?;
        }
        for db in &base.databases {
            let confirm = Some(Confirm::new(db.as_str()));
            Teardown { database: base.database, databases: vec![db.clone()], confirm, ..only.clone() }.run().await?;
        }
        for bucket in &base.buckets {
            let confirm = Some(Confirm::new(bucket.as_str()));
            Teardown { objects: base.objects, buckets: vec![bucket.clone()], confirm, ..only.clone() }.run().await?;
        }
        if !base.clusters.is_empty() {
            Teardown { cluster: base.cluster, clusters: base.clusters.clone(), ..only.clone() }.run().await?;
        }
        for s in &present.secrets {
            backends.observer.step(format!("delete secret {s}"));
            match backends.secrets.delete_secret(s, &Confirm::new(s.as_str())).await {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => {}
            }
        }
        Ok(plan)
    }
}
