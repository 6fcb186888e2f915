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
use crate::database::{Database, DatabaseSpec};
use crate::error::{Error, Result, ResultExt};
use crate::memory::InMemoryCloud;
use crate::object_store::{BucketSpec, ObjectStore};
use crate::observe::Observer;
use crate::plan::{Change, Plan};
use crate::secret_store::{PutSecretOptions, SecretStore};
use crate::validate::{PasswordRules, PgIdentifier, ResourceName, SecretName};

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
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The Kubernetes cluster.
    #[serde(default)]
    pub cluster: Option<ClusterSpec>,
    /// Managed PostgreSQL instances.
    #[serde(default)]
    pub databases: Vec<DatabaseSpec>,
    /// Databases inside the instances, for the bootstrap.
    #[serde(default)]
    pub application_databases: Vec<ApplicationDatabase>,
    /// Buckets.
    #[serde(default)]
    pub buckets: Vec<BucketSpec>,
    /// Password secrets, generated when missing.
    #[serde(default)]
    pub secrets: Vec<GeneratedSecret>,
    /// The backup vault and plan.
    #[serde(default)]
    pub backup: Option<BackupSpec>,
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
    /// Backups.
    pub backup: Arc<dyn BackupVault>,
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
            backup: shared,
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
        Ok(())
    }

    /// What [`Environment::ensure`] would change; mutates nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; read errors of the backends.
    pub async fn plan(&self, backends: &Backends) -> Result<Plan> {
        self.validate("")?;
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
        if let Some(b) = &self.backup {
            plan.extend(backends.backup.plan_backup(b).await?);
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
        self.validate("")?;
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
        if let Some(b) = &self.backup {
            obs.step(format!("ensure backup vault {}", b.vault.name));
            done.extend(backends.backup.ensure_backup(b).await?);
        }
        Ok(done)
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
