//! [`Database`]: a managed PostgreSQL instance from a cloud-neutral spec.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Confirm, Error, Result, ResultExt};
use crate::plan::{Change, Diff, Plan};
use crate::validate::{Password, PgIdentifier, ResourceName, SecretName};

/// The database engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// PostgreSQL (RDS for PostgreSQL, Azure Database for PostgreSQL flexible server).
    #[default]
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Postgres => "postgres",
        })
    }
}

/// Where the instance lives on the network. Every field is optional; a backend
/// answers [`Error::NotSupported`] for one it cannot honour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseNetwork {
    /// AWS: the DB subnet group.
    #[serde(default)]
    pub subnet_group: Option<String>,
    /// AWS: the VPC security groups.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Azure: the delegated subnet's resource id.
    #[serde(default)]
    pub delegated_subnet: Option<String>,
    /// Azure: the private DNS zone's resource id.
    #[serde(default)]
    pub private_dns_zone: Option<String>,
    /// Whether the instance gets a public address (default off).
    #[serde(default)]
    pub publicly_accessible: bool,
}

/// What a managed PostgreSQL instance should be.
///
/// Defaults are the safe ones: TLS required, deletion protection on, 7 days of
/// backups, storage encrypted with the provider's key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// The instance's name.
    pub name: ResourceName,
    /// The engine.
    #[serde(default)]
    pub engine: Engine,
    /// The engine's major version (`15`).
    pub engine_version: String,
    /// The size (`db.t4g.medium`, `Standard_D2ds_v4`).
    pub instance_class: String,
    /// Allocated storage in GiB.
    pub storage_gib: u32,
    /// Storage autoscaling ceiling in GiB (`None`: no autoscaling).
    #[serde(default)]
    pub max_storage_gib: Option<u32>,
    /// Refuse connections that are not over TLS (default on).
    #[serde(default = "yes")]
    pub require_tls: bool,
    /// Extensions users may create (`unaccent`).
    #[serde(default)]
    pub allowed_extensions: Vec<PgIdentifier>,
    /// Refuse deletion until turned off (default on).
    #[serde(default = "yes")]
    pub deletion_protection: bool,
    /// Days of automated backups and point-in-time restore, 1 to 35 (default 7).
    #[serde(default = "seven")]
    pub backup_retention_days: u32,
    /// A customer-managed key for storage encryption (storage is always encrypted).
    #[serde(default)]
    pub encryption_key: Option<String>,
    /// A standby in another availability zone.
    #[serde(default)]
    pub high_availability: bool,
    /// Network placement.
    #[serde(default)]
    pub network: DatabaseNetwork,
    /// The administrator's user name.
    pub admin_username: PgIdentifier,
    /// The administrator's password, needed to create the instance (never serialized;
    /// an environment names the secret that holds it).
    #[serde(skip)]
    pub admin_password: Option<Password>,
    /// The secret holding the administrator's password: an environment's
    /// `ensure` generates it when missing and fills `admin_password` from it.
    #[serde(default)]
    pub admin_password_secret: Option<SecretName>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

fn seven() -> u32 {
    7
}

impl Debug for DatabaseSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSpec")
            .field("name", &self.name)
            .field("engine", &self.engine)
            .field("engine_version", &self.engine_version)
            .field("instance_class", &self.instance_class)
            .field("storage_gib", &self.storage_gib)
            .field("max_storage_gib", &self.max_storage_gib)
            .field("require_tls", &self.require_tls)
            .field("allowed_extensions", &self.allowed_extensions)
            .field("deletion_protection", &self.deletion_protection)
            .field("backup_retention_days", &self.backup_retention_days)
            .field("encryption_key", &self.encryption_key)
            .field("high_availability", &self.high_availability)
            .field("network", &self.network)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &self.admin_password)
            .field("admin_password_secret", &self.admin_password_secret)
            .field("tags", &self.tags)
            .finish()
    }
}

impl DatabaseSpec {
    /// A PostgreSQL instance with the safe defaults.
    pub fn postgres(name: ResourceName, engine_version: &str, instance_class: &str, admin_username: PgIdentifier) -> Self {
        DatabaseSpec {
            name,
            engine: Engine::Postgres,
            engine_version: engine_version.to_owned(),
            instance_class: instance_class.to_owned(),
            storage_gib: 20,
            max_storage_gib: None,
            require_tls: true,
            allowed_extensions: Vec::new(),
            deletion_protection: true,
            backup_retention_days: 7,
            encryption_key: None,
            high_availability: false,
            network: DatabaseNetwork::default(),
            admin_username,
            admin_password: None,
            admin_password_secret: None,
            tags: BTreeMap::new(),
        }
    }

    /// Check the fields' rules that no type carries.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let version_ok = !self.engine_version.is_empty()
            && self.engine_version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !version_ok {
            return Err(Error::invalid("engine_version", "is not a version number", "engine versions: digits and dots, e.g. 15 or 15.7"));
        }
        if let Ok(major) = self.engine_version.split('.').next().unwrap_or("").parse::<u32>()
            && self.engine == Engine::Postgres && !(11..=17).contains(&major) {
                return Err(Error::invalid("engine_version", format!("is major version {major}"), "PostgreSQL major versions 11 to 17"));
            }
        if self.instance_class.trim().is_empty() {
            return Err(Error::invalid("instance_class", "is empty", "an instance class such as db.t4g.medium"));
        }
        if !(20..=65_536).contains(&self.storage_gib) {
            return Err(Error::invalid("storage_gib", format!("is {}", self.storage_gib), "storage: 20 to 65536 GiB"));
        }
        if let Some(max) = self.max_storage_gib
            && (max <= self.storage_gib || max > 65_536) {
                return Err(Error::invalid(
                    "max_storage_gib",
                    format!("is {max} with storage_gib {}", self.storage_gib),
                    "the autoscaling ceiling is above storage_gib and at most 65536 GiB",
                ));
            }
        if !(1..=35).contains(&self.backup_retention_days) {
            return Err(Error::invalid(
                "backup_retention_days",
                format!("is {}", self.backup_retention_days),
                "backup retention: 1 to 35 days (point-in-time restore needs at least 1)",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, ext) in self.allowed_extensions.iter().enumerate() {
            if !seen.insert(ext.as_str().to_ascii_lowercase()) {
                return Err(Error::invalid(format!("allowed_extensions[{i}]"), format!("repeats `{ext}`"), "each extension once"));
            }
        }
        Ok(())
    }

    /// [`DatabaseSpec::validate`] with `parent` prefixed to the field.
    ///
    /// # Errors
    /// As [`DatabaseSpec::validate`].
    pub fn validate_in(&self, parent: &str) -> Result<()> {
        self.validate().in_field(parent)
    }
}

/// The lifecycle state of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DatabaseStatus {
    /// Being created.
    Creating,
    /// Ready for connections.
    Available,
    /// A change is being applied.
    Modifying,
    /// A snapshot is being taken.
    BackingUp,
    /// Being deleted.
    Deleting,
    /// In a failed state.
    Failed,
    /// Another provider state.
    Other(String),
}

impl fmt::Display for DatabaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseStatus::Creating => f.write_str("creating"),
            DatabaseStatus::Available => f.write_str("available"),
            DatabaseStatus::Modifying => f.write_str("modifying"),
            DatabaseStatus::BackingUp => f.write_str("backing-up"),
            DatabaseStatus::Deleting => f.write_str("deleting"),
            DatabaseStatus::Failed => f.write_str("failed"),
            DatabaseStatus::Other(s) => f.write_str(s),
        }
    }
}

/// Host and port to connect to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The host name.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// What an instance is, as its provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// The instance's name.
    pub name: ResourceName,
    /// Its state.
    pub status: DatabaseStatus,
    /// The engine.
    pub engine: Engine,
    /// The engine version.
    pub engine_version: String,
    /// The size.
    pub instance_class: String,
    /// Where to connect, once available.
    pub endpoint: Option<Endpoint>,
    /// Whether non-TLS connections are refused.
    pub require_tls: bool,
    /// Extensions users may create.
    pub allowed_extensions: Vec<PgIdentifier>,
    /// Whether deletion protection is on.
    pub deletion_protection: bool,
    /// Allocated storage in GiB.
    pub storage_gib: u32,
    /// Storage autoscaling ceiling.
    pub max_storage_gib: Option<u32>,
    /// Days of automated backups.
    pub backup_retention_days: u32,
    /// Whether storage is encrypted.
    pub encrypted: bool,
    /// The customer-managed key, if any.
    pub encryption_key: Option<String>,
    /// Whether a standby runs in another zone.
    pub high_availability: bool,
    /// Network placement.
    pub network: DatabaseNetwork,
    /// The earliest time a point-in-time restore can go back to.
    pub earliest_restorable_time: Option<Timestamp>,
    /// The latest time a point-in-time restore can go to.
    pub latest_restorable_time: Option<Timestamp>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl DatabaseInfo {
    /// The plan that brings this instance to `spec`: fields that change in
    /// place are updates, the others (engine, encryption key, admin user) drift.
    pub fn diff(&self, spec: &DatabaseSpec) -> Plan {
        let mut update = Diff::new();
        update
            .field("engine_version", &self.engine_version, &spec.engine_version)
            .field("instance_class", &self.instance_class, &spec.instance_class)
            .field("storage_gib", &self.storage_gib, &spec.storage_gib.max(self.storage_gib))
            .field("max_storage_gib", &self.max_storage_gib, &spec.max_storage_gib)
            .field("require_tls", &self.require_tls, &spec.require_tls)
            .field("allowed_extensions", &sorted(&self.allowed_extensions), &sorted(&spec.allowed_extensions))
            .field("deletion_protection", &self.deletion_protection, &spec.deletion_protection)
            .field("backup_retention_days", &self.backup_retention_days, &spec.backup_retention_days)
            .field("high_availability", &self.high_availability, &spec.high_availability)
            .field("tags", &self.tags, &spec.tags);
        let mut drift = Diff::new();
        drift.field("engine", &self.engine, &spec.engine).field("encryption_key", &self.encryption_key, &spec.encryption_key);
        let mut plan = Plan::new();
        if !update.is_empty() {
            plan.push(Change::update("database", spec.name.as_str(), update.into_fields()));
        }
        if !drift.is_empty() {
            plan.push(Change::drift("database", spec.name.as_str(), drift.into_fields()));
        }
        plan
    }
}

fn sorted(v: &[PgIdentifier]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|e| e.as_str().to_ascii_lowercase()).collect();
    v.sort();
    v
}

/// The state of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SnapshotStatus {
    /// Being taken.
    Creating,
    /// Ready to restore from.
    Available,
    /// Another provider state.
    Other(String),
}

/// A manual snapshot of an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// The snapshot's name.
    pub name: ResourceName,
    /// The instance it was taken from.
    pub database: ResourceName,
    /// Its state.
    pub status: SnapshotStatus,
    /// When it was taken.
    pub created: Option<Timestamp>,
}

/// The point a point-in-time restore goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestorePoint {
    /// The latest restorable time.
    Latest,
    /// This time (UTC).
    At(Timestamp),
}

impl RestorePoint {
    /// Check the time against the instance's restorable window and the clock:
    /// not in the future, not before the earliest restorable time, not after
    /// the latest.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `restore_time`.
    pub fn validate(&self, now: Timestamp, source: &DatabaseInfo) -> Result<()> {
        let RestorePoint::At(t) = self else { return Ok(()) };
        let rule = "restore times: not in the future and within the source's restorable window (its backup retention)";
        if *t > now {
            return Err(Error::invalid("restore_time", format!("{t} is in the future (now {now})"), rule));
        }
        if let Some(earliest) = source.earliest_restorable_time {
            if *t < earliest {
                return Err(Error::invalid("restore_time", format!("{t} is before the earliest restorable time {earliest}"), rule));
            }
        } else {
            return Err(Error::invalid("restore_time", format!("{t}: `{}` has no restorable window (backups off?)", source.name), rule));
        }
        if let Some(latest) = source.latest_restorable_time
            && *t > latest {
                return Err(Error::invalid("restore_time", format!("{t} is after the latest restorable time {latest}"), rule));
            }
        Ok(())
    }
}

impl fmt::Display for RestorePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestorePoint::Latest => f.write_str("latest restorable time"),
            RestorePoint::At(t) => write!(f, "{t}"),
        }
    }
}

/// The new instance a restore creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreTarget {
    /// Its name (must not exist).
    pub name: ResourceName,
    /// Deletion protection of the new instance (default on).
    pub deletion_protection: bool,
    /// Network placement; `None` copies the source's (subnet group and security
    /// groups on AWS, as the SIMPHERA runbook advises).
    pub network: Option<DatabaseNetwork>,
    /// The size; `None` keeps the source's.
    pub instance_class: Option<String>,
}

impl RestoreTarget {
    /// A new instance named `name`, placed like its source, deletion-protected.
    pub fn new(name: ResourceName) -> Self {
        RestoreTarget { name, deletion_protection: true, network: None, instance_class: None }
    }
}

/// What happens to the data when an instance is deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalSnapshot {
    /// Take a final snapshot with this name first (the safe default).
    Take(ResourceName),
    /// Delete without a final snapshot.
    Skip,
}

/// A managed PostgreSQL instance: RDS, Azure flexible server, or in memory.
///
/// TLS and extensions map to a parameter group on AWS (`rds.force_ssl`,
/// `rds.allowed_extensions`) and to server parameters on Azure
/// (`require_secure_transport`, `azure.extensions`).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Database: Send + Sync + Debug {
    /// The backend's name.
    fn backend(&self) -> &'static str;

    /// The changes [`Database::ensure_database`] would make; mutates nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad spec (before any request); provider errors.
    async fn plan_database(&self, spec: &DatabaseSpec) -> Result<Plan>;

    /// Create the instance if missing, bring it to `spec`, and wait until it is
    /// available; answers the changes made. Creating needs `spec.admin_password`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad spec; [`Error::Timeout`]; provider errors.
    async fn ensure_database(&self, spec: &DatabaseSpec) -> Result<Plan>;

    /// The instance as the provider reports it.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo>;

    /// Take a manual snapshot and wait until it is available.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the instance; [`Error::AlreadyExists`] for the snapshot name.
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo>;

    /// The manual snapshots of an instance, oldest first.
    ///
    /// # Errors
    /// Provider errors.
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>>;

    /// Delete a snapshot: data, so `confirm` must name it.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`]; [`Error::NotFound`].
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()>;

    /// Create a new instance from a snapshot and wait until it is available.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the snapshot; [`Error::AlreadyExists`] for the target.
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo>;

    /// Create a new instance from `source` as it was at `point`, placed like the
    /// source unless the target says otherwise, and wait until it is available.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `restore_time` in the future or outside the
    /// restorable window; [`Error::AlreadyExists`] for the target.
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo>;

    /// Turn deletion protection on or off, and wait until applied.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()>;

    /// Delete the instance: data, so `confirm` must name it, and deletion
    /// protection must be off. Waits until it is gone.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`]; [`Error::DeletionProtected`]; [`Error::NotFound`].
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()>;
}
