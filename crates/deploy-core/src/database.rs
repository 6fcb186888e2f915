//! [`Database`]: a managed PostgreSQL instance from a cloud-neutral spec.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Confirm, Error, Result, ResultExt};
use crate::forward::provider_trait;
use crate::plan::{Change, Diff, Plan};
use crate::reconcile::Mode;
use crate::validate::{Password, PgIdentifier, ResourceName, SecretName};

/// The database engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// PostgreSQL (RDS for PostgreSQL, Azure Database for PostgreSQL flexible server).
    #[default]
    Postgres,
    /// MySQL (RDS for MySQL): TLS is `require_secure_transport`, no extensions.
    Mysql,
    /// Aurora PostgreSQL: a cluster of a writer and reader instances.
    AuroraPostgresql,
    /// Aurora MySQL (version 3, MySQL 8.0 compatible): a cluster of a writer and reader instances.
    AuroraMysql,
}

impl Engine {
    /// Whether the engine runs as an Aurora cluster (writer and readers sharing storage).
    pub fn is_aurora(self) -> bool {
        matches!(self, Engine::AuroraPostgresql | Engine::AuroraMysql)
    }

    /// Whether the engine speaks PostgreSQL (extensions, `rds.force_ssl`).
    pub fn is_postgres(self) -> bool {
        matches!(self, Engine::Postgres | Engine::AuroraPostgresql)
    }

    /// The engine's major version of `version`: the first part for PostgreSQL
    /// (`15` of `15.7`), the first two for MySQL (`8.0` of `8.0.36`).
    pub fn major_version(self, version: &str) -> String {
        let take = if self.is_postgres() { 1 } else { 2 };
        version.split('.').take(take).collect::<Vec<_>>().join(".")
    }

    /// Check `version` against the versions the engine has, before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `engine_version`.
    pub fn check_version(self, version: &str) -> Result<()> {
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = version.split('.').collect();
        let (ok, rule) = match self {
            Engine::Postgres | Engine::AuroraPostgresql => {
                let ok = parts.iter().all(|p| digits(p)) && parts[0].parse::<u32>().is_ok_and(|m| (11..=17).contains(&m));
                (ok, format!("{self}: PostgreSQL major versions 11 to 17 (15 or 15.7)"))
            }
            Engine::Mysql => {
                let ok = parts.len() >= 2
                    && parts.iter().all(|p| digits(p))
                    && matches!((parts[0], parts[1]), ("5", "7") | ("8", "0") | ("8", "4"));
                (ok, format!("{self}: MySQL 5.7, 8.0 or 8.4 (8.0 or 8.0.36)"))
            }
            Engine::AuroraMysql => {
                let ok = matches!(parts.as_slice(), ["8", "0"])
                    || matches!(parts.as_slice(), ["8", "0", "mysql_aurora", "3", minor, patch] if digits(minor) && digits(patch));
                (ok, format!("{self}: Aurora MySQL 3, MySQL 8.0 compatible (8.0 or 8.0.mysql_aurora.3.05.2)"))
            }
        };
        if ok { Ok(()) } else { Err(Error::invalid("engine_version", format!("`{version}` is not a {self} version"), rule)) }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::AuroraPostgresql => "aurora_postgresql",
            Engine::AuroraMysql => "aurora_mysql",
        })
    }
}

/// A reader instance of a cluster, in its own availability zone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reader {
    /// The availability zone (`eu-central-1b`); not the writer's.
    pub zone: String,
}

/// A copy of the database in another region, kept in sync by the provider
/// (on AWS an Aurora global database's secondary cluster).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossRegionReplica {
    /// The region (`eu-west-1`); not the source's.
    pub region: String,
    /// Where the replica lives in its region (AWS: a DB subnet group and
    /// security groups of that region); default: the region's defaults.
    #[serde(default)]
    pub network: DatabaseNetwork,
}

/// Where a database's instances run: the writer's zone, readers in other
/// zones, a replica in another region. The default is one instance wherever
/// the provider puts it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Topology {
    /// The writer's availability zone (`eu-central-1a`); needed with readers.
    pub writer_zone: Option<String>,
    /// Reader instances, each in another zone than the writer.
    pub readers: Vec<Reader>,
    /// A replica in another region.
    pub cross_region_replica: Option<CrossRegionReplica>,
}

/// The region of an availability zone: `eu-central-1` of `eu-central-1a`.
pub fn zone_region(zone: &str) -> &str {
    zone.strip_suffix(|c: char| c.is_ascii_lowercase()).unwrap_or(zone)
}

fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_like_zone(zone: &str) -> bool {
    zone.len() > 1 && zone.ends_with(|c: char| c.is_ascii_lowercase()) && looks_like_region(&zone[..zone.len() - 1])
}

impl Topology {
    /// Check zones and regions against each other, before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field under `topology`.
    pub fn validate(&self) -> Result<()> {
        let zone_rule = "availability zones: a region and a letter (eu-central-1a)";
        if let Some(zone) = &self.writer_zone
            && !looks_like_zone(zone)
        {
            return Err(Error::invalid("topology.writer_zone", format!("`{zone}` is not an availability zone"), zone_rule));
        }
        if !self.readers.is_empty() && self.writer_zone.is_none() {
            return Err(Error::invalid(
                "topology.writer_zone",
                "is missing while readers are set",
                "readers go to other zones than the writer's: name the writer's zone",
            ));
        }
        if self.readers.len() > 15 {
            return Err(Error::invalid("topology.readers", format!("has {} readers", self.readers.len()), "at most 15 readers"));
        }
        let writer = self.writer_zone.as_deref().unwrap_or_default();
        for (i, reader) in self.readers.iter().enumerate() {
            let field = format!("topology.readers[{i}].zone");
            if !looks_like_zone(&reader.zone) {
                return Err(Error::invalid(field, format!("`{}` is not an availability zone", reader.zone), zone_rule));
            }
            let rule =
                "a reader runs in another availability zone of the writer's region, so that it survives the loss of the writer's zone";
            if reader.zone == writer {
                return Err(Error::invalid(field, format!("`{}` is the writer's own zone", reader.zone), rule));
            }
            if zone_region(&reader.zone) != zone_region(writer) {
                return Err(Error::invalid(
                    field,
                    format!("`{}` is not in the writer's region {}", reader.zone, zone_region(writer)),
                    rule,
                ));
            }
        }
        if let Some(replica) = &self.cross_region_replica {
            let field = "topology.cross_region_replica.region";
            if !looks_like_region(&replica.region) {
                return Err(Error::invalid(field, format!("`{}` is not a region", replica.region), "regions: eu-west-1, us-east-2, ..."));
            }
            if self.writer_zone.as_deref().is_some_and(|z| zone_region(z) == replica.region) {
                return Err(Error::invalid(
                    field,
                    format!("`{}` is the source's own region", replica.region),
                    "a cross-region replica runs in another region than its source",
                ));
            }
        }
        Ok(())
    }
}

/// Where the instance lives on the network. Every field is optional; a backend
/// answers [`Error::NotSupported`] for one it cannot honour.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseNetwork {
    /// AWS: the DB subnet group.
    pub subnet_group: Option<String>,
    /// AWS: the VPC security groups.
    pub security_groups: Vec<String>,
    /// Azure: the delegated subnet's resource id.
    pub delegated_subnet: Option<String>,
    /// Azure: the private DNS zone's resource id.
    pub private_dns_zone: Option<String>,
    /// Whether the instance gets a public address (default off).
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
    /// A standby in another availability zone (RDS Multi-AZ; on Aurora, a
    /// reader in another zone, so it needs `topology.readers`).
    #[serde(default)]
    pub high_availability: bool,
    /// Network placement.
    #[serde(default)]
    pub network: DatabaseNetwork,
    /// Where the instances run: writer zone, readers, cross-region replica.
    #[serde(default)]
    pub topology: Topology,
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
            .field("topology", &self.topology)
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
            topology: Topology::default(),
            admin_username,
            admin_password: None,
            admin_password_secret: None,
            tags: BTreeMap::new(),
        }
    }

    /// An instance of `engine` with the safe defaults (`DatabaseSpec::postgres`
    /// with another engine).
    pub fn with_engine(
        name: ResourceName,
        engine: Engine,
        engine_version: &str,
        instance_class: &str,
        admin_username: PgIdentifier,
    ) -> Self {
        DatabaseSpec { engine, ..DatabaseSpec::postgres(name, engine_version, instance_class, admin_username) }
    }

    /// Check the fields' rules that no type carries.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let version_ok = !self.engine_version.is_empty() && self.engine_version.split('.').all(|p| !p.is_empty());
        if !version_ok {
            return Err(Error::invalid("engine_version", "is not a version number", "engine versions: digits and dots, e.g. 15 or 15.7"));
        }
        self.engine.check_version(&self.engine_version)?;
        if !self.engine.is_postgres() && !self.allowed_extensions.is_empty() {
            return Err(Error::invalid(
                "allowed_extensions",
                format!("is set for engine {}", self.engine),
                "extensions are PostgreSQL's: only postgres and aurora_postgresql take allowed_extensions",
            ));
        }
        if self.engine.is_aurora() && self.max_storage_gib.is_some() {
            return Err(Error::invalid(
                "max_storage_gib",
                format!("is set for engine {}", self.engine),
                "Aurora storage grows by itself: leave max_storage_gib unset",
            ));
        }
        if self.engine.is_aurora() && self.high_availability && self.topology.readers.is_empty() {
            return Err(Error::invalid(
                "high_availability",
                "is on with no reader",
                "an Aurora cluster's standby is a reader in another zone: add topology.readers",
            ));
        }
        self.topology.validate()?;
        if self.instance_class.trim().is_empty() {
            return Err(Error::invalid("instance_class", "is empty", "an instance class such as db.t4g.medium"));
        }
        if !(20..=65_536).contains(&self.storage_gib) {
            return Err(Error::invalid("storage_gib", format!("is {}", self.storage_gib), "storage: 20 to 65536 GiB"));
        }
        if let Some(max) = self.max_storage_gib
            && (max <= self.storage_gib || max > 65_536)
        {
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
    /// Where the instances run, as the provider reports it.
    #[serde(default)]
    pub topology: Topology,
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
            .field("topology.readers", &sorted_readers(&self.topology.readers), &sorted_readers(&spec.topology.readers))
            .field("topology.cross_region_replica", &self.topology.cross_region_replica, &spec.topology.cross_region_replica)
            .field("tags", &self.tags, &spec.tags);
        let mut drift = Diff::new();
        drift.field("engine", &self.engine, &spec.engine).field("encryption_key", &self.encryption_key, &spec.encryption_key);
        if spec.topology.writer_zone.is_some() {
            drift.field("topology.writer_zone", &self.topology.writer_zone, &spec.topology.writer_zone);
        }
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

fn sorted_readers(v: &[Reader]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(|r| r.zone.as_str()).collect();
    v.sort_unstable();
    v
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
            && *t > latest
        {
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
    /// groups on AWS).
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

provider_trait! {
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

        /// Compare the instance with `spec` and, in [`Mode::Apply`], create it if missing (which needs
        /// `spec.admin_password`), bring it to `spec` and wait until it is available; answers the
        /// changes planned or made.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] for a bad spec (before any request); [`Error::Timeout`]; provider errors.
        reconcile_database(DatabaseSpec) with plan_database, ensure_database for "database";

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

        /// Set the administrator's password and wait until the instance uses it
        /// (see [`crate::recipes::rotate_admin_password`] for a rotation that
        /// keeps a working password stored throughout).
        ///
        /// # Errors
        /// [`Error::NotSupported`] on backends that cannot (the default);
        /// [`Error::NotFound`]; [`Error::InvalidInput`] on `admin_password` when
        /// the backend's rules refuse it (before any request); [`Error::Timeout`].
        async fn set_admin_password(&self, database: &ResourceName, password: &crate::validate::Password) -> Result<()> {
            let _ = (database, password);
            Err(Error::not_supported(self.backend(), "admin_password", "this backend cannot change the administrator's password"))
        }
    }
}
