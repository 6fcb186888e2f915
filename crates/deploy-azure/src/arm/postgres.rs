//! Azure Database for PostgreSQL flexible server as the core [`Database`]
//! (`Microsoft.DBforPostgreSQL/flexibleServers`), its databases, and
//! point-in-time restore into a new server.
//!
//! How the neutral [`DatabaseSpec`] maps:
//!
//! | spec | flexible server |
//! | --- | --- |
//! | `engine_version` | `properties.version` (major, one of api-version 2024-08-01's `ServerVersion` enum, 13 to 16) |
//! | `instance_class` | `sku.name` (`Standard_D2ds_v4`); the tier follows from it (B: Burstable, D: GeneralPurpose, E: MemoryOptimized) |
//! | `storage_gib` | `storage.storageSizeGB` (one of Azure's sizes: 32, 64, ... 32767) |
//! | `max_storage_gib` | `storage.autoGrow`: Azure grows without a ceiling of its own, so only `Some(32767)` (the maximum) turns it on; other ceilings are `NotSupported` |
//! | `require_tls` | server parameter `require_secure_transport` = `ON`/`OFF` |
//! | `allowed_extensions` | server parameter `azure.extensions` (uppercase, comma-separated) |
//! | `deletion_protection` | a `CanNotDelete` management lock named `deploy-deletion-protection` |
//! | `backup_retention_days` | `backup.backupRetentionDays` (7 to 35 on Azure: fewer is `InvalidInput`) |
//! | `high_availability` | `highAvailability.mode` `ZoneRedundant` / `Disabled` |
//! | `network.delegated_subnet`, `network.private_dns_zone` | `network.delegatedSubnetResourceId`, `network.privateDnsZoneArmResourceId` (private access) |
//! | `network.publicly_accessible` | `network.publicNetworkAccess`, also changed on an existing server |
//! | `encryption_key`, `network.subnet_group`, `network.security_groups` | `NotSupported` |
//!
//! Manual snapshots do not exist on a flexible server: its backups are taken
//! by the service (daily, kept `backup_retention_days`) and restored with
//! [`Database::restore_to_point_in_time`]; the snapshot operations answer
//! `NotSupported` naming the operation. Geo-redundant backup is
//! [`FlexibleServers::geo_redundant_backup`].
//!
//! Updates are PATCHes whose body is `ServerForUpdate` (only the changed
//! properties; never `location` or a creation-only property). A `Stopped`
//! server is reported at once ([`Error::Conflict`]) or, with
//! [`FlexibleServers::start_stopped`], started.

use async_trait::async_trait;
use deploy_core::database::{DatabaseInfo, DatabaseNetwork, DatabaseStatus, Endpoint, Engine, SnapshotInfo};
use deploy_core::plan::{Change, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{Confirm, Database, DatabaseSpec, Error, FinalSnapshot, PgIdentifier, ResourceName, RestorePoint, RestoreTarget, Result};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::lock::{LockLevel, LockSpec};
use super::postgres_body::{create_body, server_version, tier_of, update_body, updated_fields};
use super::{ArmClient, Placement, Target, api, check_database_name, check_resource_id, check_server_name, str_at, tags_of};

/// The backend name in errors.
pub const BACKEND: &str = "azure-postgres-flexible";

/// The name of the lock that is the server's deletion protection.
pub const DELETION_LOCK: &str = "deploy-deletion-protection";

/// A flexible server's largest storage size (GiB): the one `max_storage_gib` may name (auto-grow on).
pub(crate) const MAX_STORAGE_GIB: u32 = 32767;

pub(crate) const STORAGE_SIZES: [u32; 11] = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, MAX_STORAGE_GIB];

/// The flexible servers of one resource group and location, as a [`Database`].
#[derive(Clone, Debug)]
pub struct FlexibleServers {
    place: Placement,
    geo_redundant_backup: bool,
    start_stopped: bool,
}

impl FlexibleServers {
    /// Servers in `resource_group` (which must exist) at `location`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_group` or `location`.
    pub fn new(arm: ArmClient, resource_group: impl Into<String>, location: impl Into<String>) -> Result<Self> {
        Ok(FlexibleServers { place: Placement::new(arm, resource_group, location)?, geo_redundant_backup: false, start_stopped: false })
    }

    deploy_core::setters! {
        /// Keep backups geo-redundant (a paired region); fixed at creation.
        pub fn geo_redundant_backup(geo_redundant_backup: bool);

        /// Start a server found `Stopped` (and wait until it is ready) instead of
        /// reporting it at once with [`Error::Conflict`] (the default).
        pub fn start_stopped(start_stopped: bool);
    }

    /// The resource id of server `name`.
    pub fn server_id(&self, name: &str) -> String {
        self.place.id("Microsoft.DBforPostgreSQL/flexibleServers", name)
    }

    fn target(name: &str) -> Target<'_> {
        Target { kind: "database", name }
    }

    /// Refuse what Azure cannot take, naming the field.
    fn check(spec: &DatabaseSpec) -> Result<()> {
        spec.validate()?;
        check_server_name("name", spec.name.as_str())?;
        if spec.engine != Engine::Postgres {
            return Err(Error::not_supported(
                BACKEND,
                "engine",
                format!("a flexible server runs PostgreSQL; engine {} is not offered by deploy on Azure", spec.engine),
            ));
        }
        if !spec.topology.readers.is_empty() {
            return Err(Error::not_supported(
                BACKEND,
                "topology.readers",
                "flexible server read replicas are separate servers: not done by deploy yet (high_availability gives a zone-redundant standby)",
            ));
        }
        if spec.topology.cross_region_replica.is_some() {
            return Err(Error::not_supported(
                BACKEND,
                "topology.cross_region_replica",
                "geo-replicas of flexible servers are not done by deploy yet",
            ));
        }
        if spec.topology.writer_zone.is_some() {
            return Err(Error::not_supported(BACKEND, "topology.writer_zone", "deploy does not pin a flexible server's zone yet"));
        }
        server_version(&spec.engine_version)?;
        tier_of(&spec.instance_class)?;
        if !STORAGE_SIZES.contains(&spec.storage_gib) {
            return Err(Error::invalid(
                "storage_gib",
                format!("is {}", spec.storage_gib),
                "flexible server storage sizes: 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384 or 32767 GiB",
            ));
        }
        if let Some(max) = spec.max_storage_gib
            && max != MAX_STORAGE_GIB
        {
            return Err(Error::not_supported(
                BACKEND,
                "max_storage_gib",
                "storage auto-grow has no ceiling but the 32767 GiB maximum: use Some(32767) to turn it on, None to keep it off",
            ));
        }
        if spec.backup_retention_days < 7 {
            return Err(Error::invalid(
                "backup_retention_days",
                format!("is {}", spec.backup_retention_days),
                "flexible servers keep backups 7 to 35 days",
            ));
        }
        if spec.encryption_key.is_some() {
            return Err(Error::not_supported(
                BACKEND,
                "encryption_key",
                "customer-managed keys need a user-assigned identity with access to the key vault; not done by deploy yet (data is encrypted with platform-managed keys)",
            ));
        }
        if spec.network.subnet_group.is_some() || !spec.network.security_groups.is_empty() {
            return Err(Error::not_supported(
                BACKEND,
                "network.subnet_group",
                "AWS placement: on Azure use network.delegated_subnet and network.private_dns_zone",
            ));
        }
        if let Some(subnet) = &spec.network.delegated_subnet {
            check_resource_id("network.delegated_subnet", subnet)?;
        }
        if let Some(zone) = &spec.network.private_dns_zone {
            check_resource_id("network.private_dns_zone", zone)?;
        }
        if spec.network.delegated_subnet.is_some() != spec.network.private_dns_zone.is_some() {
            return Err(Error::invalid(
                "network.private_dns_zone",
                "is set without network.delegated_subnet or the other way round",
                "private access needs both the delegated subnet and the private DNS zone",
            ));
        }
        Ok(())
    }

    async fn get_server(&self, name: &str) -> Result<Option<Value>> {
        self.place.arm.get(&self.server_id(name), api::POSTGRES, Self::target(name)).await
    }

    async fn parameter(&self, server: &str, parameter: &str) -> Result<Option<String>> {
        let path = format!("{}/configurations/{parameter}", self.server_id(server));
        let v = self.place.arm.get(&path, api::POSTGRES, Target { kind: "server parameter", name: parameter }).await?;
        Ok(v.as_ref().and_then(|v| str_at(v, "/properties/value")).map(str::to_owned))
    }

    async fn set_parameter(&self, server: &str, parameter: &str, value: &str) -> Result<()> {
        let path = format!("{}/configurations/{parameter}", self.server_id(server));
        let body = json!({ "properties": { "value": value, "source": "user-override" } });
        self.place.arm.put(&path, api::POSTGRES, &body, Target { kind: "server parameter", name: parameter }).await?;
        Ok(())
    }

    async fn info(&self, name: &ResourceName, server: &Value) -> Result<DatabaseInfo> {
        let require_tls = self.parameter(name.as_str(), "require_secure_transport").await?.is_none_or(|v| v.eq_ignore_ascii_case("on"));
        let extensions = self.parameter(name.as_str(), "azure.extensions").await?.unwrap_or_default();
        let allowed_extensions = extensions
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .filter_map(|e| PgIdentifier::new(e.to_ascii_lowercase()).ok())
            .collect();
        let deletion_protection = self.place.arm.lock_level(&self.server_id(name.as_str()), DELETION_LOCK).await?.is_some();
        Ok(info_of(name, server, require_tls, allowed_extensions, deletion_protection))
    }

    /// Wait until the server is `Ready`. A `Stopped` or `Stopping` server is
    /// reported at once (it would never become ready by itself), or started
    /// when [`FlexibleServers::start_stopped`] is on.
    async fn wait_ready(&self, name: &str) -> Result<()> {
        let state = self.get_server(name).await?.and_then(|s| str_at(&s, "/properties/state").map(str::to_owned));
        if let Some(state) = state.filter(|s| s == "Stopped" || s == "Stopping") {
            if !self.start_stopped {
                return Err(Error::conflict(
                    "database",
                    name,
                    format!(
                        "the flexible server is {state}: start it (FlexibleServers::start_stopped, or `az postgres flexible-server start`) and run again"
                    ),
                ));
            }
            if state == "Stopping" {
                self.wait_state(name, &["Stopped"]).await?;
            }
            let path = format!("{}/start", self.server_id(name));
            self.place.arm.post_action(&path, api::POSTGRES, Self::target(name)).await?;
        }
        self.wait_state(name, &["Ready"]).await
    }

    async fn wait_state(&self, name: &str, wanted: &[&str]) -> Result<()> {
        let what = format!("postgres server {name} to be {}", wanted.join(" or "));
        self.place
            .arm
            .inner
            .waiter
            .wait(&what, || async {
                let server = self.get_server(name).await?.ok_or_else(|| Error::not_found("database", name))?;
                Ok(match str_at(&server, "/properties/state").unwrap_or("Ready") {
                    s if wanted.contains(&s) => deploy_core::Poll::Ready(()),
                    "Disabled" | "Dropping" => deploy_core::Poll::Failed(str_at(&server, "/properties/state").unwrap_or("").to_owned()),
                    other => deploy_core::Poll::Pending(other.to_owned()),
                })
            })
            .await
    }
}

/// The databases of a flexible server (`Microsoft.DBforPostgreSQL/flexibleServers/databases`):
/// [`FlexibleServers`] creates those missing (UTF8, `en_US.utf8`) through
/// [`deploy_core::Reconcile`] (`servers.ensure(&spec)`) and answers the databases there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerDatabasesSpec {
    /// The server.
    pub server: ResourceName,
    /// Its databases.
    pub databases: Vec<PgIdentifier>,
}

impl ServerDatabasesSpec {
    /// Databases `databases` on server `server`.
    pub fn new(server: ResourceName, databases: impl Into<Vec<PgIdentifier>>) -> Self {
        ServerDatabasesSpec { server, databases: databases.into() }
    }

    /// Check the database names.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `databases[i]`.
    pub fn validate(&self) -> Result<()> {
        for (i, db) in self.databases.iter().enumerate() {
            check_database_name(&format!("databases[{i}]"), db.as_str())?;
        }
        Ok(())
    }
}

/// Create the missing databases; a database is never changed or dropped here.
#[async_trait]
impl Reconcile<ServerDatabasesSpec> for FlexibleServers {
    /// The spec's databases that exist once the reconcile ends.
    type Info = Vec<PgIdentifier>;

    #[tracing::instrument(level = "info", skip_all, fields(backend = super::client::PROVIDER, kind = "postgres databases", name = %spec.server, mode = ?mode))]

    async fn reconcile(&self, spec: &ServerDatabasesSpec, mode: Mode) -> Result<Reconciled<Vec<PgIdentifier>>> {
        spec.validate()?;
        let (mut plan, mut present) = (Plan::new(), Vec::new());
        for db in &spec.databases {
            let path = format!("{}/databases/{}", self.server_id(spec.server.as_str()), db.as_str());
            let database = self.place.arm.resource(path, api::POSTGRES, "postgres database", db.as_str());
            if database.get().await?.is_none() {
                plan.push(Change::create("postgres database", format!("{}/{db}", spec.server)));
                if !mode.is_apply() {
                    continue;
                }
                database.put(&json!({ "properties": { "charset": "UTF8", "collation": "en_US.utf8" } })).await?;
            }
            present.push(db.clone());
        }
        Ok(Reconciled { plan, info: Some(present) })
    }
}

fn timestamp_at(v: &Value, pointer: &str) -> Option<Timestamp> {
    str_at(v, pointer).and_then(|s| s.parse().ok())
}

fn info_of(
    name: &ResourceName,
    v: &Value,
    require_tls: bool,
    allowed_extensions: Vec<PgIdentifier>,
    deletion_protection: bool,
) -> DatabaseInfo {
    let status = match str_at(v, "/properties/state").unwrap_or("") {
        "Ready" => DatabaseStatus::Available,
        "Starting" | "Provisioning" | "" => DatabaseStatus::Creating,
        "Updating" | "Restarting" => DatabaseStatus::Modifying,
        "Dropping" => DatabaseStatus::Deleting,
        "Disabled" => DatabaseStatus::Failed,
        other => DatabaseStatus::Other(other.to_owned()),
    };
    let storage = v.pointer("/properties/storage/storageSizeGB").and_then(Value::as_u64).unwrap_or(0) as u32;
    let auto_grow = str_at(v, "/properties/storage/autoGrow") == Some("Enabled");
    DatabaseInfo {
        name: name.clone(),
        status,
        engine: Engine::Postgres,
        engine_version: str_at(v, "/properties/version").unwrap_or("").to_owned(),
        instance_class: str_at(v, "/sku/name").unwrap_or("").to_owned(),
        endpoint: str_at(v, "/properties/fullyQualifiedDomainName").map(|host| Endpoint { host: host.to_owned(), port: 5432 }),
        require_tls,
        allowed_extensions,
        deletion_protection,
        storage_gib: storage,
        max_storage_gib: auto_grow.then_some(32767),
        backup_retention_days: v.pointer("/properties/backup/backupRetentionDays").and_then(Value::as_u64).unwrap_or(0) as u32,
        encrypted: true,
        encryption_key: None,
        high_availability: str_at(v, "/properties/highAvailability/mode").is_some_and(|m| m != "Disabled"),
        network: DatabaseNetwork {
            subnet_group: None,
            security_groups: Vec::new(),
            delegated_subnet: str_at(v, "/properties/network/delegatedSubnetResourceId").map(str::to_owned),
            private_dns_zone: str_at(v, "/properties/network/privateDnsZoneArmResourceId").map(str::to_owned),
            publicly_accessible: str_at(v, "/properties/network/publicNetworkAccess") == Some("Enabled"),
        },
        topology: Default::default(),
        earliest_restorable_time: timestamp_at(v, "/properties/backup/earliestRestoreDate"),
        latest_restorable_time: Some(Timestamp::now()),
        tags: tags_of(v),
    }
}

/// The neutral diff, and public access (applied to an existing server with a PATCH of `network.publicNetworkAccess`).
fn diff(info: &DatabaseInfo, spec: &DatabaseSpec) -> Plan {
    let mut plan = info.diff(spec);
    let (have, want) = (info.network.publicly_accessible, spec.network.publicly_accessible);
    if have != want {
        let field = deploy_core::FieldChange::new("network.publicly_accessible", have, want);
        match plan.changes.iter_mut().find(|c| c.kind == "database" && matches!(c.action, deploy_core::Action::Update { .. })) {
            Some(Change { action: deploy_core::Action::Update { fields }, .. }) => fields.push(field),
            _ => plan.push(Change::update("database", spec.name.as_str(), vec![field])),
        }
    }
    plan
}

fn extensions_value(spec: &DatabaseSpec) -> String {
    let mut v: Vec<String> = spec.allowed_extensions.iter().map(|e| e.as_str().to_ascii_uppercase()).collect();
    v.sort();
    v.join(",")
}

#[async_trait]
impl Database for FlexibleServers {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    /// One path: check, read the server, compare; only in
    /// [`deploy_core::Mode::Apply`] create or update it, then its parameters
    /// and its deletion protection.
    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %spec.name))]
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        Self::check(spec)?;
        self.place.arm.check_tags_not_ignored(spec.tags.keys())?;
        let name = spec.name.as_str();
        let server = self.get_server(name).await?;
        let plan = match &server {
            None => Plan::from_iter([Change::create("database", name)]),
            Some(server) => diff(&self.info(&spec.name, server).await?, spec),
        };
        if !mode.is_apply() {
            return Ok(plan);
        }
        let target = Self::target(name);
        let path = self.server_id(name);
        if server.is_none() {
            let password = spec
                .admin_password
                .as_ref()
                .ok_or_else(|| Error::invalid("admin_password", "is not set", "creating a server needs the administrator's password"))?;
            deploy_core::PasswordRules::azure_postgres().check(password.expose()).map_err(|e| e.in_field("admin_password"))?;
            let body = create_body(spec, &self.place.location, self.geo_redundant_backup, password.expose())?;
            self.place.arm.put(&path, api::POSTGRES, &body, target).await?;
        } else if let Some(body) = update_body(spec, &updated_fields(&plan))? {
            self.place.arm.patch(&path, api::POSTGRES, &body, target).await?;
        }
        self.wait_ready(name).await?;
        let tls = if spec.require_tls { "ON" } else { "OFF" };
        if self.parameter(name, "require_secure_transport").await?.is_none_or(|v| !v.eq_ignore_ascii_case(tls)) {
            self.set_parameter(name, "require_secure_transport", tls).await?;
        }
        let extensions = extensions_value(spec);
        if self.parameter(name, "azure.extensions").await?.unwrap_or_default().to_ascii_uppercase() != extensions {
            self.set_parameter(name, "azure.extensions", &extensions).await?;
        }
        self.set_deletion_protection(&spec.name, spec.deletion_protection).await?;
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "database", name = %name))]
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        let server = self.get_server(name.as_str()).await?.ok_or_else(|| Error::not_found("database", name.as_str()))?;
        self.info(name, &server).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %_database))]
    async fn create_snapshot(&self, _database: &ResourceName, _snapshot: &ResourceName) -> Result<SnapshotInfo> {
        Err(Error::not_supported(
            BACKEND,
            "create_snapshot",
            "flexible servers take their own backups; restore them with restore_to_point_in_time",
        ))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "database", name = %_database))]
    async fn list_snapshots(&self, _database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        Err(Error::not_supported(
            BACKEND,
            "list_snapshots",
            "flexible servers have no manual snapshots; see describe_database's restorable window",
        ))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %_snapshot))]
    async fn delete_snapshot(&self, _snapshot: &ResourceName, _confirm: &Confirm) -> Result<()> {
        Err(Error::not_supported(BACKEND, "delete_snapshot", "flexible servers have no manual snapshots"))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %_snapshot))]
    async fn restore_snapshot(&self, _snapshot: &ResourceName, _target: &RestoreTarget) -> Result<DatabaseInfo> {
        Err(Error::not_supported(BACKEND, "restore_snapshot", "flexible servers have no manual snapshots; use restore_to_point_in_time"))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %source))]
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        if target.instance_class.is_some() {
            return Err(Error::not_supported(
                BACKEND,
                "instance_class",
                "a restored server keeps its source's size; change it after the restore",
            ));
        }
        if let Some(network) = &target.network
            && (network.subnet_group.is_some() || !network.security_groups.is_empty())
        {
            return Err(Error::not_supported(
                BACKEND,
                "network.subnet_group",
                "AWS placement: on Azure use network.delegated_subnet and network.private_dns_zone",
            ));
        }
        let source_info = self.describe_database(source).await?;
        let now = Timestamp::now();
        point.validate(now, &source_info)?;
        if self.get_server(target.name.as_str()).await?.is_some() {
            return Err(Error::already_exists("database", target.name.as_str()));
        }
        let at = match point {
            RestorePoint::Latest => now - jiff::SignedDuration::from_mins(1),
            RestorePoint::At(t) => t,
        };
        let mut properties = json!({
            "createMode": "PointInTimeRestore",
            "sourceServerResourceId": self.server_id(source.as_str()),
            "pointInTimeUTC": at.to_string(),
        });
        let network = target.network.clone().unwrap_or(source_info.network.clone());
        if let (Some(subnet), Some(zone)) = (&network.delegated_subnet, &network.private_dns_zone) {
            properties["network"] =
                json!({ "delegatedSubnetResourceId": subnet, "privateDnsZoneArmResourceId": zone, "publicNetworkAccess": "Disabled" });
        }
        let body = json!({ "location": self.place.location, "properties": properties });
        let name = target.name.as_str();
        self.place.arm.put(&self.server_id(name), api::POSTGRES, &body, Self::target(name)).await?;
        self.wait_ready(name).await?;
        self.set_deletion_protection(&target.name, target.deletion_protection).await?;
        self.describe_database(&target.name).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %database))]
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        let scope = self.server_id(database.as_str());
        if on {
            let lock = LockSpec {
                scope,
                name: DELETION_LOCK.into(),
                level: LockLevel::CanNotDelete,
                notes: "deletion protection (deploy)".into(),
            };
            self.place.arm.ensure(&lock).await?;
        } else {
            self.place.arm.remove_lock(&scope, DELETION_LOCK).await?;
        }
        Ok(())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "database", name = %database))]
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        confirm.check("delete database server", database.as_str())?;
        if let FinalSnapshot::Take(_) = final_snapshot {
            return Err(Error::not_supported(
                BACKEND,
                "final_snapshot",
                "flexible servers have no manual snapshots: restore to a point in time first if the data is needed, then delete with FinalSnapshot::Skip",
            ));
        }
        let scope = self.server_id(database.as_str());
        if self.get_server(database.as_str()).await?.is_none() {
            return Err(Error::not_found("database", database.as_str()));
        }
        if self.place.arm.lock_level(&scope, DELETION_LOCK).await?.is_some() {
            return Err(Error::DeletionProtected { kind: "database", name: database.as_str().to_owned() });
        }
        self.place.arm.delete(&scope, api::POSTGRES, Self::target(database.as_str())).await
    }
}
