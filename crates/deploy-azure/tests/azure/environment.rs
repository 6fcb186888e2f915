//! `deploy_azure::environment` end to end: production (without its backup
//! section, which Azure refuses) and staging from examples/environments.toml
//! on the fake ARM endpoint, Azurite (the containers) and the fake Key Vault
//! (the secrets): apply, apply again with no mutating request, outputs read
//! back against the fake's state, a changed field planned as exactly that
//! update, destroy refused without the confirmation and complete with it.

use deploy_azure::environment::{AzureEnvironment, ENVIRONMENT_TAG};
use deploy_azure::{AzureBackends, AzureStores};
use deploy_core::env::{Environment, Environments};
use deploy_core::plan::Action;
use deploy_core::{Error, ObjectStore as _};

use crate::fake_arm::{FakeArm, Lro};
use crate::keyvault::{VAULT, fake_vault};
use crate::support;

const SPEC: &str = include_str!("../../../../examples/environments.toml");
const GROUP: &str = "acme-rg";

/// The spec's environment `name`, its buckets renamed apart from other runs on the same Azurite.
fn spec(name: &str, suffix: &str) -> Environment {
    let mut env = Environments::from_toml(SPEC).unwrap().get(name).unwrap().clone();
    for bucket in &mut env.buckets {
        bucket.name = deploy_core::BucketName::new(format!("{}-{suffix}", bucket.name)).unwrap();
    }
    env
}

struct Setup {
    fake: FakeArm,
    vault: std::sync::Arc<std::sync::Mutex<crate::keyvault::Vault>>,
    _vault_server: wiremock::MockServer,
    azure: AzureEnvironment,
}

async fn setup() -> Option<Setup> {
    let blob = support::azurite_store()?;
    let endpoint = support::azurite_endpoint()?;
    let fake = FakeArm::start().await;
    fake.set_lro(Lro::AsyncOperation { polls: 1, retry_after: 0 });
    fake.role_assignment_lag(0);
    let (server, vault, secrets) = fake_vault().await;
    let stores = AzureStores { blob_endpoint: endpoint, key_vault_url: VAULT.to_owned() };
    let backends = AzureBackends::from_parts(fake.client(), GROUP, "westeurope", &stores, blob, secrets).unwrap();
    let azure = AzureEnvironment::new(backends).unwrap().with_workload_principal("00000000-0000-4000-8000-0000000000aa");
    Some(Setup { fake, vault, _vault_server: server, azure })
}

fn mutating(fake: &FakeArm) -> Vec<String> {
    fake.requests().into_iter().filter(|r| !r.starts_with("GET")).collect()
}

#[tokio::test]
async fn production_is_applied_in_order_then_a_second_apply_changes_nothing() {
    let Some(s) = setup().await else { return };
    let suffix = format!("apply-{}", support::suffix());
    let mut env = spec("production", &suffix);
    env.backup = None;

    // plan: reads only.
    let plan = s.azure.plan("production", &env).await.unwrap();
    assert!(mutating(&s.fake).is_empty(), "{:?}", mutating(&s.fake));
    let kinds: Vec<&str> = plan.changes.iter().map(|c| c.kind.as_str()).collect();
    for kind in [
        "resource group",
        "virtual network",
        "subnet",
        "private DNS zone",
        "storage account",
        "file share",
        "secret",
        "database",
        "bucket",
        "cluster",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    let done = s.azure.apply("production", &env).await.unwrap();
    assert!(!done.is_empty());
    assert!(s.fake.violations().is_empty(), "{:?}", s.fake.violations());
    let arm = s.azure.backends().arm().clone();
    let group = s.fake.resource(&arm.group_path(GROUP)).unwrap();
    assert_eq!(group["tags"][ENVIRONMENT_TAG], "production");
    let vnet = arm.virtual_network_id(GROUP, "acme-prod-vnet");
    assert_eq!(s.fake.resource(&vnet).unwrap()["properties"]["addressSpace"]["addressPrefixes"][0], "10.20.0.0/16");
    let aks_subnet = s.fake.resource(&arm.subnet_id(GROUP, "acme-prod-vnet", "aks")).unwrap();
    assert_eq!(aks_subnet["properties"]["addressPrefix"], "10.20.0.0/20");
    let pg_subnet = s.fake.resource(&arm.subnet_id(GROUP, "acme-prod-vnet", "postgres")).unwrap();
    assert_eq!(pg_subnet["properties"]["addressPrefix"], "10.20.16.0/20");
    assert_eq!(pg_subnet["properties"]["delegations"][0]["properties"]["serviceName"], "Microsoft.DBforPostgreSQL/flexibleServers");
    // The server: private access in the delegated subnet, the AWS class as its Azure size, storage rounded up.
    let server = s.fake.resource(&s.azure.backends().postgres().server_id("acme-prod-db")).unwrap();
    assert_eq!(server["sku"]["name"], "Standard_B2ms");
    assert_eq!(server["properties"]["storage"]["storageSizeGB"], 64);
    assert!(server["properties"]["network"]["delegatedSubnetResourceId"].as_str().unwrap().ends_with("/subnets/postgres"));
    for db in ["vectice", "keycloak"] {
        assert!(s.fake.resource(&format!("{}/databases/{db}", s.azure.backends().postgres().server_id("acme-prod-db"))).is_some(), "{db}");
    }
    // The cluster in the aks subnet, both pools with their Azure sizes, min 0 kept.
    let cluster = s.fake.resource(&s.azure.backends().aks().cluster_id("acme-prod")).unwrap();
    let pools = cluster["properties"]["agentPoolProfiles"].as_array().unwrap().clone();
    let sizes: Vec<(&str, &str, u64)> =
        pools.iter().map(|p| (p["name"].as_str().unwrap(), p["vmSize"].as_str().unwrap(), p["minCount"].as_u64().unwrap())).collect();
    assert!(sizes.contains(&("services", "Standard_D4s_v5", 1)) && sizes.contains(&("executors", "Standard_F8s_v2", 0)), "{sizes:?}");
    assert!(pools.iter().all(|p| p["vnetSubnetID"].as_str().unwrap().ends_with("/subnets/aks")));
    // Files, logs, role assignment; the secret in Key Vault; the container on Azurite.
    let account = arm.storage_account_id(GROUP, "devstoreaccount1");
    assert_eq!(
        s.fake.resource(&format!("{account}/fileServices/default/shares/acme-prod-files")).unwrap()["properties"]["shareQuota"],
        100
    );
    let workspace = s.fake.resource(&arm.log_workspace_id(GROUP, "acme-prod-logs")).unwrap();
    assert_eq!(workspace["properties"]["retentionInDays"], 90);
    let setting = format!(
        "{}/providers/Microsoft.Insights/diagnosticSettings/acme-prod-control-plane",
        s.azure.backends().aks().cluster_id("acme-prod")
    );
    assert_eq!(s.fake.resource(&setting).unwrap()["properties"]["logs"].as_array().unwrap().len(), 5);
    assert!(s.vault.lock().unwrap().secrets.contains_key("acme-prod-db-admin"));
    let bucket = &env.buckets[0].name;
    assert!(s.azure.backends().blob().describe_bucket(bucket).await.is_ok());
    // The workload's principal: Storage Blob Data Contributor on the environment's container, not the account.
    let assignments: Vec<String> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PUT") && r.contains("/providers/Microsoft.Authorization/roleAssignments/"))
        .collect();
    assert!(
        matches!(assignments.as_slice(), [put] if put.contains(&format!("/blobServices/default/containers/{bucket}/providers/"))),
        "{assignments:?}"
    );

    // The outputs, read back.
    let outputs = s.azure.outputs("production", &env).await.unwrap();
    assert_eq!(outputs.common.account.as_deref(), Some(crate::fake_arm::SUBSCRIPTION));
    assert_eq!(outputs.virtual_network_id.as_deref(), Some(vnet.as_str()));
    assert_eq!(outputs.storage_account.as_deref(), Some("devstoreaccount1"));
    assert_eq!(outputs.file_share.as_deref(), Some("acme-prod-files"));
    assert_eq!(outputs.private_dns_zone.as_deref(), Some("acme-prod.private.postgres.database.azure.com"));
    let cluster_out = outputs.common.cluster.as_ref().unwrap();
    assert!(cluster_out.endpoint.as_deref().unwrap().contains("azmk8s.io"), "{cluster_out:?}");
    assert_eq!(outputs.common.databases[0].application_databases.len(), 2);
    assert!(outputs.common.buckets[0].exists);
    let json = serde_json::to_value(&outputs).unwrap();
    assert_eq!(json["resource_group"], GROUP);
    assert!(!json.to_string().contains(&s.vault.lock().unwrap().secrets["acme-prod-db-admin"][0].1), "no secret value in the outputs");

    // Again: nothing to change, no mutating request anywhere.
    let sent = mutating(&s.fake).len();
    s.fake.reset_requests();
    let vault_requests = s.vault.lock().unwrap().requests.len();
    let counted = s.azure.backends().arm().mutating_requests();
    assert_eq!(counted, sent, "the client counts each mutating request the server saw");
    let again = s.azure.apply("production", &env).await.unwrap();
    assert!(again.is_empty(), "{again}");
    assert!(mutating(&s.fake).is_empty(), "{:?}", mutating(&s.fake));
    assert_eq!(s.azure.backends().arm().mutating_requests(), counted, "what the example prints as `mutating requests: N`");
    assert!(s.vault.lock().unwrap().requests[vault_requests..].iter().all(|r| r.starts_with("GET")));

    // A changed field is planned as exactly that update, and applied.
    env.cluster.as_mut().unwrap().node_pools[0].max = 15;
    let plan = s.azure.plan("production", &env).await.unwrap();
    assert!(
        matches!(plan.changes.as_slice(), [c] if c.kind == "node pool" && matches!(&c.action, Action::Update { fields } if fields.len() == 1 && fields[0].field == "max")),
        "{plan}"
    );
    s.fake.reset_requests();
    s.azure.apply("production", &env).await.unwrap();
    assert_eq!(mutating(&s.fake).len(), 1, "{:?}", mutating(&s.fake));
    assert!(s.azure.plan("production", &env).await.unwrap().is_empty());

    // A pool in the cloud but no longer in the spec: reported, left alone.
    env.cluster.as_mut().unwrap().node_pools.pop();
    let plan = s.azure.plan("production", &env).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Unmanaged && c.name == "acme-prod/executors"), "{plan}");

    // A subnet of the VNet that the spec does not name (made by hand, or left by an older spec): reported, left alone.
    let legacy = arm.subnet_id(GROUP, "acme-prod-vnet", "legacy");
    s.fake.seed(&legacy, serde_json::json!({ "id": legacy, "name": "legacy", "properties": { "addressPrefix": "10.20.200.0/24" } }));
    let plan = s.azure.plan("production", &env).await.unwrap();
    let unmanaged: Vec<&str> = plan.changes.iter().filter(|c| c.action == Action::Unmanaged).map(|c| c.name.as_str()).collect();
    assert_eq!(unmanaged, ["acme-prod-vnet/legacy", "acme-prod/executors"], "{plan}");
    assert_eq!(plan.changes.len(), 2, "{plan}");
    s.fake.reset_requests();
    s.azure.apply("production", &env).await.unwrap();
    assert!(s.fake.resource(&legacy).is_some(), "the subnet the spec does not name was removed");
    assert!(mutating(&s.fake).iter().all(|r| !r.contains("/subnets/legacy")), "{:?}", mutating(&s.fake));
}

#[tokio::test]
async fn destroy_needs_the_confirmation_then_leaves_nothing_of_the_environment() {
    let Some(s) = setup().await else { return };
    let suffix = format!("destroy-{}", support::suffix());
    let mut env = spec("production", &suffix);
    env.backup = None;
    s.azure.apply("production", &env).await.unwrap();
    let arm = s.azure.backends().arm().clone();

    // Final snapshots do not exist on flexible servers: refused before any request.
    s.fake.reset_requests();
    let e = s.azure.destroy("production", &env, Some("production"), true).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("final_snapshots"));
    assert!(s.fake.requests().is_empty());
    // Another name, then none: refused, nothing deleted.
    let e = s.azure.destroy("production", &env, Some("staging"), false).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("confirm"));
    let plan = s.azure.destroy_plan("production", &env, false).await.unwrap();
    let text = plan.to_string();
    for what in ["diagnostic setting", "role assignment", "file share", "log analytics workspace", "virtual network"] {
        assert!(text.contains(what), "{what} missing from {text}");
    }
    // The resource group and the storage account are the backends', shared by every environment: never deleted.
    assert!(!text.contains("resource group") && !text.contains("storage account"), "{text}");
    let e = s.azure.destroy("production", &env, None, false).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }), "{e:?}");
    assert_eq!(s.fake.count("DELETE"), 0, "{:?}", s.fake.requests());
    assert!(s.fake.resource(&arm.group_path(GROUP)).is_some());

    // With it: every part of the environment goes, each by its own DELETE; the group and the account stay.
    s.fake.reset_requests();
    s.azure.destroy("production", &env, Some("production"), false).await.unwrap();
    for id in [
        format!(
            "{}/providers/Microsoft.Insights/diagnosticSettings/acme-prod-control-plane",
            s.azure.backends().aks().cluster_id("acme-prod")
        ),
        s.azure.backends().aks().cluster_id("acme-prod"),
        s.azure.backends().postgres().server_id("acme-prod-db"),
        arm.virtual_network_id(GROUP, "acme-prod-vnet"),
        arm.log_workspace_id(GROUP, "acme-prod-logs"),
        format!("{}/fileServices/default/shares/acme-prod-files", arm.storage_account_id(GROUP, "devstoreaccount1")),
        arm.private_dns_zone_id(GROUP, "acme-prod.private.postgres.database.azure.com"),
    ] {
        assert!(s.fake.resource(&id).is_none(), "{id} is left");
        let id = id.to_ascii_lowercase();
        assert!(s.fake.requests().iter().any(|r| r.to_ascii_lowercase() == format!("delete {id}")), "no DELETE of {id}");
    }
    assert!(
        s.fake.resource(&arm.group_path(GROUP)).is_some() && s.fake.resource(&arm.storage_account_id(GROUP, "devstoreaccount1")).is_some()
    );
    let deletes: Vec<String> = s.fake.requests().into_iter().filter(|r| r.starts_with("DELETE")).collect();
    let position = |needle: &str| {
        deletes.iter().position(|d| d.to_ascii_lowercase().ends_with(needle)).unwrap_or_else(|| panic!("{needle}: {deletes:?}"))
    };
    assert!(position("diagnosticsettings/acme-prod-control-plane") < position("managedclusters/acme-prod"), "{deletes:?}");
    assert!(position("managedclusters/acme-prod") < position("virtualnetworks/acme-prod-vnet"), "{deletes:?}");
    let role = deletes.iter().position(|d| d.to_ascii_lowercase().contains("/roleassignments/")).expect("the role assignment deleted");
    assert!(role < position("managedclusters/acme-prod"), "{deletes:?}");
    assert!(!deletes.iter().any(|d| d.ends_with(GROUP) || d.ends_with("devstoreaccount1")), "{deletes:?}");
    assert!(s.azure.backends().blob().describe_bucket(&env.buckets[0].name).await.unwrap_err().is_not_found());
    assert!(!s.vault.lock().unwrap().secrets.contains_key("acme-prod-db-admin"));
    // A second destroy finds nothing to do.
    let again = s.azure.destroy_plan("production", &env, false).await.unwrap();
    assert!(again.steps.is_empty(), "{again}");
}

#[tokio::test]
async fn staging_without_a_cluster_gets_its_network_server_and_container_only() {
    let Some(s) = setup().await else { return };
    let env = spec("staging", &format!("stage-{}", support::suffix()));
    // An existing storage account (other environments' containers may be in it) is left as it is.
    let arm = s.azure.backends().arm().clone();
    let account = arm.storage_account_id(GROUP, "devstoreaccount1");
    s.fake.seed(&arm.group_path(GROUP), serde_json::json!({ "location": "westeurope", "tags": {} }));
    s.fake.seed(
        &account,
        serde_json::json!({ "location": "westeurope", "kind": "StorageV2", "sku": { "name": "Standard_GRS" }, "tags": { "owner": "platform" }, "properties": {} }),
    );
    s.azure.apply("staging", &env).await.unwrap();
    assert_eq!(s.fake.resource(&account).unwrap()["tags"]["owner"], "platform");
    assert!(
        !s.fake.requests().iter().any(|r| !r.starts_with("GET") && r.to_ascii_lowercase().ends_with("devstoreaccount1")),
        "{:?}",
        s.fake.requests()
    );
    assert!(s.fake.resource(&arm.group_path(GROUP)).unwrap()["tags"].get(ENVIRONMENT_TAG).is_none(), "an existing group is not tagged");
    assert!(s.fake.violations().is_empty(), "{:?}", s.fake.violations());
    let server = s.fake.resource(&s.azure.backends().postgres().server_id("acme-stage-db")).unwrap();
    assert_eq!(
        (server["sku"]["name"].as_str(), server["properties"]["storage"]["storageSizeGB"].as_u64()),
        (Some("Standard_B2s"), Some(32))
    );
    assert!(s.fake.resource(&arm.subnet_id(GROUP, "acme-stage-vnet", "postgres")).is_some());
    assert!(s.fake.resource(&arm.subnet_id(GROUP, "acme-stage-vnet", "aks")).is_none());
    assert!(s.fake.requests().iter().all(|r| !r.to_ascii_lowercase().contains("managedclusters")));
    s.fake.reset_requests();
    assert!(s.azure.apply("staging", &env).await.unwrap().is_empty());
    assert!(mutating(&s.fake).is_empty());

    // The container's role assignment made again by another tool under its own name (ours removed): the
    // environment sees the role assigned (nothing to create) and its destroy does not claim to delete it.
    let container = arm.container_id(GROUP, "devstoreaccount1", &deploy_core::ContainerName::new(env.buckets[0].name.as_str()).unwrap());
    let ours = deploy_azure::arm::role::RoleAssignmentSpec::blob_data_contributor(&container, "00000000-0000-4000-8000-0000000000aa");
    assert!(s.fake.resource(&ours.assignment_id()).is_some());
    arm.delete_role_assignment(&ours).await.unwrap();
    let theirs = format!("{container}/providers/Microsoft.Authorization/roleAssignments/0b3e1d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e");
    let mut body = serde_json::json!({ "id": theirs, "name": "0b3e1d4c-5f6a-4b7c-8d9e-0f1a2b3c4d5e" });
    body["properties"] = serde_json::json!({
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{}", crate::fake_arm::SUBSCRIPTION, deploy_azure::arm::role::STORAGE_BLOB_DATA_CONTRIBUTOR),
        "principalId": "00000000-0000-4000-8000-0000000000aa",
        "scope": container,
    });
    s.fake.seed(&theirs, body);
    assert!(s.azure.plan("staging", &env).await.unwrap().is_empty());
    let teardown = s.azure.destroy_plan("staging", &env, false).await.unwrap().to_string();
    assert!(!teardown.contains("role assignment"), "another tool's assignment planned for deletion:\n{teardown}");
}

#[tokio::test]
async fn what_azure_cannot_take_is_refused_naming_the_field_before_any_request() {
    let Some(s) = setup().await else { return };
    let suffix = support::suffix();
    type Change = Box<dyn Fn(&mut Environment)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        ("a backup section", Box::new(|_| {}), "production.backup"),
        (
            "another location",
            Box::new(|e| {
                e.backup = None;
                e.location.azure = Some("northeurope".into());
            }),
            "production.location.azure",
        ),
        (
            "a retention Log Analytics does not keep",
            Box::new(|e| {
                e.backup = None;
                e.logs.as_mut().unwrap().retention_days = 7;
            }),
            "production.logs.retention_days",
        ),
        (
            "an instance class with no Azure size",
            Box::new(|e| {
                e.backup = None;
                e.databases[0].instance_class = "db.x2g.large".into();
            }),
            "production.databases[0].instance_class",
        ),
        (
            "a block too small for Azure CNI's nodes",
            Box::new(|e| {
                e.backup = None;
                e.network.as_mut().unwrap().cidr = deploy_core::CidrBlock::new("10.20.0.0/22").unwrap();
            }),
            "production.network.cidr",
        ),
        (
            "a node type with no Azure size",
            Box::new(|e| {
                e.backup = None;
                e.cluster.as_mut().unwrap().node_pools[1].instance_types = vec!["p4d.24xlarge".into()];
            }),
            "production.cluster.node_pools[1].instance_types",
        ),
    ];
    for (what, change, field) in cases {
        let mut env = spec("production", &suffix);
        change(&mut env);
        let e = s.azure.plan("production", &env).await.unwrap_err();
        assert_eq!(e.invalid_field(), Some(field), "{what}: {e}");
        assert!(s.fake.requests().is_empty(), "{what}: {:?}", s.fake.requests());
    }
}
