//! The provisioning runbook (`runbook::provision`, what the `azure_*`
//! examples run) against the fake ARM endpoint: a plan sends no PUT, the run
//! makes what the plan said, a second run plans nothing and sends no PUT.

use deploy_azure::arm::ArmClient;
use deploy_azure::runbook::provision::{
    AksSettings, PostgresSettings, Stack, aks_cluster, blob_access, postgres_flexible, private_network,
};
use deploy_core::plan::{Action, Plan};
use deploy_core::reconcile::Mode;
use deploy_core::{Password, PasswordRules, PgIdentifier};

use crate::fake_arm::{FakeArm, Lro};

const PRINCIPAL: &str = "11111111-2222-4333-8444-555555555555";
const PASSWORD: &str = "SENTINEL-Pw-42!x";

fn created(plan: &Plan) -> Vec<String> {
    plan.changes.iter().filter(|c| c.action == Action::Create).map(|c| format!("{} {}", c.kind, c.name)).collect()
}

/// Plan, run, run again: answers the plan of the first run.
async fn plan_run_rerun<F, Fut>(fake: &FakeArm, step: F) -> Plan
where
    F: Fn(Mode) -> Fut,
    Fut: std::future::Future<Output = deploy_core::Result<Plan>>,
{
    fake.reset_requests();
    let planned = step(Mode::Plan).await.expect("plan");
    assert_eq!((fake.count("PUT"), fake.count("PATCH"), fake.count("DELETE")), (0, 0, 0), "a plan only reads: {:?}", fake.requests());
    assert!(planned.has_mutations(), "a fresh subscription needs changes");
    let made = step(Mode::Apply).await.expect("run");
    assert_eq!(created(&made), created(&planned), "the run makes what the plan said");
    fake.reset_requests();
    let again = step(Mode::Apply).await.expect("second run");
    assert!(again.is_empty(), "second run changes nothing: {again}");
    assert_eq!((fake.count("PUT"), fake.count("PATCH")), (0, 0), "{:?}", fake.requests());
    made
}

async fn fake() -> (FakeArm, ArmClient, Stack) {
    let fake = FakeArm::start().await;
    // Answers at once: the asynchronous-operation paths have their own tests.
    fake.set_lro(Lro::Sync);
    let arm = fake.client();
    (fake, arm, Stack::new("vectice", "westeurope").unwrap())
}

#[tokio::test]
async fn blob_access_account_container_and_role_for_the_service_principal() {
    let (fake, arm, stack) = fake().await;
    let made = plan_run_rerun(&fake, |mode| blob_access(&arm, &stack, PRINCIPAL, mode)).await;
    assert_eq!(
        created(&made)[..3],
        ["resource group vectice-rg".to_owned(), "storage account vecticeassets".to_owned(), "container vectice-assets".to_owned()]
    );
    assert_eq!(created(&made).len(), 4, "{made}");
    let account = fake.resource(&arm.storage_account_id("vectice-rg", "vecticeassets")).unwrap();
    assert_eq!(account["properties"]["allowBlobPublicAccess"], false);
    assert_eq!(account["properties"]["supportsHttpsTrafficOnly"], true);
}

#[tokio::test]
async fn postgres_flexible_with_its_network_zone_and_databases() {
    let (fake, arm, stack) = fake().await;
    let settings = PostgresSettings {
        admin_password: Some(Password::new(PASSWORD, &PasswordRules::azure_postgres()).unwrap()),
        databases: ["vectice", "keycloak"].map(|d| PgIdentifier::new(d).unwrap()).to_vec(),
        ..PostgresSettings::default()
    };
    let made = plan_run_rerun(&fake, |mode| postgres_flexible(&arm, &stack, &settings, mode)).await;
    let created = created(&made);
    for expected in ["vectice-pg-vnet", "postgres", "vectice.private.postgres.database.azure.com", "vectice-db", "vectice", "keycloak"] {
        assert!(created.iter().any(|c| c.ends_with(expected)), "{expected} not in {created:?}");
    }
    let server =
        fake.resource(&format!("{}/providers/Microsoft.DBforPostgreSQL/flexibleServers/vectice-db", arm.group_path("vectice-rg"))).unwrap();
    assert_eq!(server["properties"]["version"], "13");
    assert_eq!(server["properties"]["network"]["publicNetworkAccess"], "Disabled");
    assert!(!format!("{made:?}{made}").contains(PASSWORD), "the password is never in a plan");

    // Without a password the plan still works, and creating is refused before any PUT.
    let (fake, arm, stack) = self::fake().await;
    let plan = postgres_flexible(&arm, &stack, &PostgresSettings::default(), Mode::Plan).await.unwrap();
    assert!(plan.has_mutations());
    fake.reset_requests();
    let err = postgres_flexible(&arm, &stack, &PostgresSettings::default(), Mode::Apply).await.unwrap_err();
    assert_eq!(err.invalid_field(), Some("admin_password"), "{err}");
}

#[tokio::test]
async fn aks_cluster_then_private_network_links_zone_and_peers_both_ways() {
    let (fake, arm, stack) = fake().await;
    let settings = PostgresSettings {
        admin_password: Some(Password::new(PASSWORD, &PasswordRules::azure_postgres()).unwrap()),
        ..PostgresSettings::default()
    };
    postgres_flexible(&arm, &stack, &settings, Mode::Apply).await.unwrap();
    let aks = AksSettings::default();
    let made = plan_run_rerun(&fake, |mode| aks_cluster(&arm, &stack, &aks, mode)).await;
    assert!(created(&made).iter().any(|c| c.ends_with("vectice-aks")), "{made}");
    let made = plan_run_rerun(&fake, |mode| private_network(&arm, &stack, mode)).await;
    assert_eq!(made.len(), 3, "one link and two peerings: {made}");
    let link = fake
        .resource(&format!(
            "{}/virtualNetworkLinks/vectice-aks-vnet-link",
            arm.private_dns_zone_id("vectice-rg", "vectice.private.postgres.database.azure.com")
        ))
        .unwrap();
    assert_eq!(link["properties"]["registrationEnabled"], true);
}

#[tokio::test]
async fn disaster_recovery_server_part_restores_to_the_backup_time_once() {
    use deploy_azure::arm::postgres::FlexibleServers;
    use deploy_azure::runbook::{DrNames, server_restore};

    let (fake, arm, stack) = fake().await;
    let settings = PostgresSettings {
        admin_password: Some(Password::new(PASSWORD, &PasswordRules::azure_postgres()).unwrap()),
        ..PostgresSettings::default()
    };
    postgres_flexible(&arm, &stack, &settings, Mode::Apply).await.unwrap();
    let servers = FlexibleServers::new(arm.clone(), &stack.resource_group, &stack.location).unwrap();
    let names = DrNames::new("vectice").unwrap();
    // ARM reports the restorable window once the first backup ran: an hour ago here.
    let with_backups = |fake: &FakeArm, servers: &FlexibleServers| {
        let id = servers.server_id("vectice-db");
        let mut server = fake.resource(&id).unwrap();
        server["properties"]["backup"]["earliestRestoreDate"] =
            serde_json::json!((jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string());
        fake.seed(&id, server);
    };
    with_backups(&fake, &servers);
    let at = jiff::Timestamp::now();
    let made = plan_run_rerun(&fake, |mode| server_restore(&servers, &names, at, mode)).await;
    assert_eq!(created(&made).len(), 1, "{made}");
    let restored = fake.resource(&servers.server_id("vectice-db-restored")).unwrap();
    assert_eq!(restored["properties"]["createMode"], "PointInTimeRestore");
    assert_eq!(restored["properties"]["pointInTimeUTC"], at.to_string());

    // A time in the future is refused before any request that writes.
    let (fake, arm, _) = self::fake().await;
    postgres_flexible(&arm, &stack, &settings, Mode::Apply).await.unwrap();
    let servers = FlexibleServers::new(arm.clone(), &stack.resource_group, &stack.location).unwrap();
    with_backups(&fake, &servers);
    fake.reset_requests();
    let err = server_restore(&servers, &names, at + jiff::SignedDuration::from_hours(1), Mode::Apply).await.unwrap_err();
    assert!(err.invalid_field().is_some(), "{err:?}");
    assert_eq!(fake.count("PUT"), 0);
}
