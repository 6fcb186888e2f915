//! The flexible server as the core `Database`, against the fake ARM endpoint.

use deploy_azure::arm::postgres::{DELETION_LOCK, FlexibleServers, ServerDatabasesSpec};
use deploy_core::database::DatabaseNetwork;
use deploy_core::plan::Action;
use deploy_core::reconcile::Reconcile as _;
use deploy_core::{
    Confirm, Database, DatabaseSpec, Error, FinalSnapshot, Password, PasswordRules, PgIdentifier, ResourceName, RestorePoint, RestoreTarget,
};

use crate::fake_arm::{FakeArm, Lro};

const PASSWORD: &str = "SENTINEL-Pw-42!x";

fn spec(arm: &deploy_azure::arm::ArmClient) -> DatabaseSpec {
    let mut spec = DatabaseSpec::postgres(
        ResourceName::new("vectice-pg").unwrap(),
        "16",
        "Standard_D2ds_v4",
        PgIdentifier::new("vecticeadmin").unwrap(),
    );
    spec.storage_gib = 128;
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
    spec.admin_password = Some(Password::new(PASSWORD, &PasswordRules::azure_postgres()).unwrap());
    spec.network = DatabaseNetwork {
        delegated_subnet: Some(arm.subnet_id("vectice-rg", "pg-vnet", "pg-subnet")),
        private_dns_zone: Some(format!(
            "{}/providers/Microsoft.Network/privateDnsZones/vectice.private.postgres.database.azure.com",
            arm.group_path("vectice-rg")
        )),
        ..DatabaseNetwork::default()
    };
    spec
}

#[tokio::test]
async fn flexible_server_private_access_parameters_lock_and_databases() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 1, retry_after: 0 });
    let arm = fake.client();
    let servers = FlexibleServers::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let spec = spec(&arm);
    let plan = servers.plan_database(&spec).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create), "{plan:?}");
    assert_eq!(fake.count("PUT"), 0, "plan mutated");
    let made = servers.ensure_database(&spec).await.unwrap();
    assert_eq!(made, plan);
    let id = servers.server_id("vectice-pg");
    let server = fake.resource(&id).unwrap();
    assert_eq!(server["sku"]["tier"], "GeneralPurpose");
    assert_eq!(server["properties"]["version"], "16");
    assert_eq!(server["properties"]["network"]["publicNetworkAccess"], "Disabled");
    assert!(server["properties"]["network"]["delegatedSubnetResourceId"].as_str().unwrap().ends_with("/subnets/pg-subnet"));
    assert_eq!(server["properties"]["backup"]["backupRetentionDays"], 7);
    assert_eq!(server["properties"]["backup"]["geoRedundantBackup"], "Disabled");
    assert_eq!(fake.resource(&format!("{id}/configurations/require_secure_transport")).unwrap()["properties"]["value"], "ON");
    assert_eq!(fake.resource(&format!("{id}/configurations/azure.extensions")).unwrap()["properties"]["value"], "UNACCENT");
    assert_eq!(
        fake.resource(&format!("{id}/providers/Microsoft.Authorization/locks/{DELETION_LOCK}")).unwrap()["properties"]["level"],
        "CanNotDelete"
    );
    let info = servers.describe_database(&spec.name).await.unwrap();
    assert!(info.require_tls && info.deletion_protection && info.allowed_extensions[0].as_str() == "unaccent", "{info:?}");
    assert!(!format!("{info:?} {spec:?}").contains("SENTINEL"), "the password leaked into Debug");
    // Second ensure: nothing to do, no mutating request.
    fake.reset_requests();
    assert!(servers.ensure_database(&spec).await.unwrap().is_empty());
    assert_eq!(fake.count("PUT") + fake.count("PATCH") + fake.count("DELETE"), 0, "{:?}", fake.requests());
    // The runbook's two databases, once.
    let dbs = [PgIdentifier::new("vectice").unwrap(), PgIdentifier::new("keycloak").unwrap()];
    assert_eq!(servers.ensure(&ServerDatabasesSpec::new(spec.name.clone(), dbs.to_vec())).await.map(|e| e.plan).unwrap().len(), 2);
    fake.reset_requests();
    assert!(servers.ensure(&ServerDatabasesSpec::new(spec.name.clone(), dbs.to_vec())).await.map(|e| e.plan).unwrap().is_empty());
    assert_eq!(fake.count("PUT"), 0);
    // A changed retention is an update (PATCH) that leaves creation-only fields alone.
    let mut longer = spec.clone();
    longer.backup_retention_days = 14;
    let plan = servers.ensure_database(&longer).await.unwrap();
    assert!(matches!(&plan.changes[0].action, Action::Update { fields } if fields[0].field == "backup_retention_days"), "{plan:?}");
    assert_eq!(fake.count("PATCH"), 1, "{:?}", fake.requests());
    // The PATCH body is a ServerForUpdate: the changed property only, no location, nothing creation-only.
    assert_eq!(
        fake.bodies("PATCH", "/flexibleServers/vectice-pg"),
        [serde_json::json!({ "properties": { "backup": { "backupRetentionDays": 14 } } })]
    );
    // A change of public access is applied to the existing server.
    let mut public = longer.clone();
    public.network.publicly_accessible = true;
    let plan = servers.ensure_database(&public).await.unwrap();
    assert!(plan.to_string().contains("network.publicly_accessible: false -> true"), "{plan}");
    assert_eq!(
        fake.bodies("PATCH", "/flexibleServers/vectice-pg").last().unwrap(),
        &serde_json::json!({ "properties": { "network": { "publicNetworkAccess": "Enabled" } } })
    );
    assert_eq!(fake.resource(&id).unwrap()["properties"]["network"]["publicNetworkAccess"], "Enabled");
    assert!(servers.plan_database(&public).await.unwrap().is_empty());
    // Deletion protection is the lock.
    let err = servers.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new("vectice-pg")).await.unwrap_err();
    assert!(matches!(err, Error::DeletionProtected { .. }), "{err:?}");
    // Point-in-time restore into a new server, placed like its source.
    let restored = servers
        .restore_to_point_in_time(&spec.name, RestorePoint::Latest, &RestoreTarget::new(ResourceName::new("vectice-pg-restored").unwrap()))
        .await
        .unwrap();
    assert!(restored.deletion_protection);
    let new = fake.resource(&servers.server_id("vectice-pg-restored")).unwrap();
    assert_eq!(new["properties"]["createMode"], "PointInTimeRestore");
    assert_eq!(new["properties"]["sourceServerResourceId"].as_str().unwrap().to_ascii_lowercase(), id.to_ascii_lowercase());
    assert!(new["properties"]["pointInTimeUTC"].as_str().unwrap().ends_with('Z'));
    assert!(new["properties"]["network"]["privateDnsZoneArmResourceId"].as_str().unwrap().contains("privateDnsZones"));
    let again = servers
        .restore_to_point_in_time(&spec.name, RestorePoint::Latest, &RestoreTarget::new(ResourceName::new("vectice-pg-restored").unwrap()))
        .await
        .unwrap_err();
    assert!(matches!(again, Error::AlreadyExists { .. }), "{again:?}");
    // Off, then delete.
    servers.set_deletion_protection(&spec.name, false).await.unwrap();
    servers.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new("vectice-pg")).await.unwrap();
    assert!(servers.describe_database(&spec.name).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn what_azure_cannot_take_is_refused_before_any_request() {
    let arm = crate::support::dead_arm();
    let servers = FlexibleServers::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let field = crate::support::refused_field;
    let base = spec(&arm);
    let mut s = base.clone();
    s.engine_version = "12".into();
    assert_eq!(field(servers.ensure_database(&s).await.unwrap_err()), "engine_version");
    // Version 17 is not in api-version 2024-08-01's ServerVersion enum.
    let mut s = base.clone();
    s.engine_version = "17".into();
    let err = servers.plan_database(&s).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field, rule, .. } if field == "engine_version" && rule.contains("2024-08-01")), "{err:?}");
    let mut s = base.clone();
    s.storage_gib = 100;
    assert_eq!(field(servers.ensure_database(&s).await.unwrap_err()), "storage_gib");
    let mut s = base.clone();
    s.max_storage_gib = Some(1024);
    assert_eq!(field(servers.ensure_database(&s).await.unwrap_err()), "max_storage_gib");
    let mut s = base.clone();
    s.instance_class = "db.t4g.medium".into();
    assert_eq!(field(servers.plan_database(&s).await.unwrap_err()), "instance_class");
    let mut s = base.clone();
    s.encryption_key = Some("https://kv.vault.azure.net/keys/k".into());
    assert_eq!(field(servers.ensure_database(&s).await.unwrap_err()), "encryption_key");
    let mut s = base.clone();
    s.network.private_dns_zone = None;
    assert_eq!(field(servers.ensure_database(&s).await.unwrap_err()), "network.private_dns_zone");
    let name = ResourceName::new("vectice-pg").unwrap();
    assert_eq!(field(servers.create_snapshot(&name, &name).await.unwrap_err()), "create_snapshot");
    assert_eq!(field(servers.restore_snapshot(&name, &RestoreTarget::new(name.clone())).await.unwrap_err()), "restore_snapshot");
    let err = servers.delete_database(&name, &FinalSnapshot::Skip, &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(err, Error::ConfirmationRequired { .. }), "{err:?}");
    assert_eq!(FlexibleServers::new(arm, "rg", "West Europe").unwrap_err().invalid_field(), Some("location"));
}

/// A stopped server never becomes ready by itself: it is reported at once, or started on request.
#[tokio::test]
async fn a_stopped_server_is_reported_at_once_or_started_on_request() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let servers = FlexibleServers::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let spec = spec(&arm);
    servers.ensure_database(&spec).await.unwrap();
    let id = servers.server_id("vectice-pg");
    fake.set_property(&id, "state", serde_json::json!("Stopped"));
    let started = std::time::Instant::now();
    let err = servers.ensure_database(&spec).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict { reason, .. } if reason.contains("Stopped")), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "waited on a stopped server");
    assert_eq!(fake.count("POST"), 0);
    let starting = FlexibleServers::new(arm.clone(), "vectice-rg", "westeurope").unwrap().start_stopped(true);
    starting.ensure_database(&spec).await.unwrap();
    assert!(fake.requests().iter().any(|r| r == &format!("POST {id}/start")), "{:?}", fake.requests());
    assert_eq!(fake.resource(&id).unwrap()["properties"]["state"], "Ready");
}

/// The core Database suite on flexible servers: an Azure size, storage and
/// password rules; no manual snapshots (refused as `NotSupported`), restores to
/// a point in time.
#[tokio::test]
async fn conformance_database_on_flexible_servers() {
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 1, retry_after: 0 });
    let servers = FlexibleServers::new(fake.client(), "conformance-rg", "westeurope").unwrap();
    let mut suite =
        deploy_core::conformance::DatabaseSuite::postgres("16", "Standard_D2ds_v4", &PasswordRules::azure_postgres()).without_snapshots();
    suite.spec.storage_gib = 32;
    suite.spec.max_storage_gib = Some(32767);
    suite.run(&servers, &deploy_core::conformance::Names::unique()).await;
    assert_eq!(fake.violations(), Vec::<String>::new());
}

/// The names the 2024-08-01 and 2023-05-01 / 2020-05-01 specs refuse are refused here first, naming the field.
#[tokio::test]
async fn names_the_specs_refuse_are_refused_before_any_request() {
    use deploy_azure::arm::lock::{LockLevel, LockSpec};
    use deploy_azure::arm::storage::StorageAccountSpec;
    use deploy_core::Reconcile as _;
    let arm = crate::support::dead_arm();
    let servers = FlexibleServers::new(arm.clone(), "vectice-rg", "westeurope").unwrap();
    let field = crate::support::refused_field;
    // A server name of two characters (the spec: 3 to 63).
    let mut s = spec(&arm);
    s.name = ResourceName::new("pg").unwrap();
    assert_eq!(field(servers.plan_database(&s).await.unwrap_err()), "name");
    // A database name starting with a digit (the spec: a letter or `_` first).
    let dbs = ServerDatabasesSpec::new(ResourceName::new("vectice-pg").unwrap(), vec![PgIdentifier::new("ok").unwrap()]);
    assert!(dbs.validate().is_ok());
    let dbs = ServerDatabasesSpec::new(ResourceName::new("vectice-pg").unwrap(), vec![PgIdentifier::new("1app").unwrap()]);
    assert_eq!(field(servers.plan(&dbs).await.unwrap_err()), "databases[0]");
    // A storage SKU outside the spec's SkuName enum.
    let mut account = StorageAccountSpec::new("vectice-rg", "vecticeassets", "westeurope");
    account.sku = "Standard_XYZ".into();
    assert_eq!(field(arm.plan(&account).await.unwrap_err()), "sku");
    // A lock name with a character the spec forbids, and notes over 512 characters.
    let scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vectice-rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/vectice-pg";
    let lock = |name: &str, notes: String| LockSpec { scope: scope.into(), name: name.into(), level: LockLevel::CanNotDelete, notes };
    assert_eq!(field(arm.plan(&lock("no/slash", String::new())).await.unwrap_err()), "name");
    assert_eq!(field(arm.plan(&lock("keep", "n".repeat(513))).await.unwrap_err()), "notes");
}
