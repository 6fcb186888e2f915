//! Azure Files shares, Log Analytics workspaces and diagnostic settings
//! against the fake ARM endpoint: plan, ensure (once, then nothing), a changed
//! field planned and applied with one request, input refused before any
//! request, delete.

use deploy_azure::arm::ArmSpec;
use deploy_azure::arm::aks::AksClusters;
use deploy_azure::arm::files::FileShareSpec;
use deploy_azure::arm::monitor::{AKS_CONTROL_PLANE_CATEGORIES, DiagnosticSettingSpec, LogWorkspaceSpec};
use deploy_core::plan::{Action, Plan};
use deploy_core::reconcile::Reconcile as _;
use deploy_core::{Cluster, ResourceName};
use serde_json::json;

use crate::fake_arm::{FakeArm, SUBSCRIPTION};
use crate::support::refused_field;

const GROUP: &str = "vectice-rg";

/// The mutating requests made so far.
fn mutations(fake: &FakeArm) -> Vec<String> {
    fake.requests().into_iter().filter(|r| ["PUT ", "PATCH ", "DELETE ", "POST "].iter().any(|m| r.starts_with(m))).collect()
}

/// The one change of `plan`, an update: its fields as `field: from -> to`.
fn updated_fields(plan: &Plan) -> Vec<String> {
    match plan.changes.as_slice() {
        [change] => match &change.action {
            Action::Update { fields } => fields.iter().map(|f| format!("{}: {} -> {}", f.field, f.from, f.to)).collect(),
            other => panic!("not an update: {other:?}"),
        },
        _ => panic!("not one change: {plan}"),
    }
}

fn is_one_create(plan: &Plan) -> bool {
    matches!(plan.changes.as_slice(), [c] if c.action == Action::Create)
}

#[tokio::test]
async fn file_share_plan_create_second_ensure_quota_patch_and_delete() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let share = FileShareSpec::new(GROUP, "vecticeassets", "model-cache");
    let id = arm.file_share_id(GROUP, "vecticeassets", "model-cache");
    assert_eq!(
        id,
        format!(
            "/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Storage/storageAccounts/vecticeassets/fileServices/default/shares/model-cache"
        )
    );
    // Plan of a missing share: one create, nothing sent but a read.
    let plan = arm.plan(&share).await.unwrap();
    assert!(is_one_create(&plan), "{plan}");
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Ensure: one PUT with the body the contract accepts.
    let plan = arm.ensure(&share).await.unwrap().plan;
    assert!(is_one_create(&plan), "{plan}");
    assert_eq!(mutations(&fake), [format!("PUT {id}")]);
    assert_eq!(fake.bodies("PUT", "/shares/model-cache"), [json!({ "properties": { "shareQuota": 100 } })]);
    assert_eq!(fake.resource(&id).unwrap()["properties"]["shareQuota"], 100);
    // Second ensure: nothing to do, nothing sent.
    fake.reset_requests();
    assert!(arm.ensure(&share).await.unwrap().plan.is_empty());
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // A bigger quota: planned as that field alone, applied with one PATCH (FileShares_Update).
    let bigger = share.clone().with_quota_gib(512);
    assert_eq!(updated_fields(&arm.plan(&bigger).await.unwrap()), ["quota_gib: 100 -> 512"]);
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    let plan = arm.ensure(&bigger).await.unwrap().plan;
    assert_eq!(updated_fields(&plan), ["quota_gib: 100 -> 512"]);
    assert_eq!(mutations(&fake), [format!("PATCH {id}")]);
    assert_eq!(fake.bodies("PATCH", "/shares/model-cache"), [json!({ "properties": { "shareQuota": 512 } })]);
    assert_eq!(fake.resource(&id).unwrap()["properties"]["shareQuota"], 512);
    assert!(arm.plan(&bigger).await.unwrap().is_empty());
    // Delete, then delete what is gone.
    fake.reset_requests();
    arm.resource_of(&bigger).delete().await.unwrap();
    assert!(fake.resource(&id).is_none());
    arm.resource_of(&bigger).delete().await.unwrap();
    assert_eq!(mutations(&fake), [format!("DELETE {id}"), format!("DELETE {id}")]);
    assert!(is_one_create(&arm.plan(&bigger).await.unwrap()));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn log_workspace_plan_create_second_ensure_retention_and_tags_patch_location_drift_and_delete() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let mut workspace = LogWorkspaceSpec::new(GROUP, "vectice-logs", "westeurope");
    workspace.tags.insert("app".into(), "vectice".into());
    let id = arm.log_workspace_id(GROUP, "vectice-logs");
    assert_eq!(
        id,
        format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.OperationalInsights/workspaces/vectice-logs")
    );
    let plan = arm.plan(&workspace).await.unwrap();
    assert!(is_one_create(&plan), "{plan}");
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Ensure: one PUT (long-running, Azure-AsyncOperation as the fake answers the spec's PUT).
    let created = arm.ensure(&workspace).await.unwrap();
    assert!(is_one_create(&created.plan), "{}", created.plan);
    assert_eq!(created.info.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(mutations(&fake), [format!("PUT {id}")]);
    assert_eq!(
        fake.bodies("PUT", "/workspaces/vectice-logs"),
        [json!({
            "location": "westeurope",
            "tags": { "app": "vectice" },
            "properties": { "sku": { "name": "PerGB2018" }, "retentionInDays": 30 }
        })]
    );
    // Second ensure: no PUT or PATCH.
    fake.reset_requests();
    assert!(arm.ensure(&workspace).await.unwrap().plan.is_empty());
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Longer retention: that field alone, one PATCH (Workspaces_Update) of the retention and tags.
    let mut longer = workspace.clone().with_retention_days(90);
    assert_eq!(updated_fields(&arm.plan(&longer).await.unwrap()), ["retention_days: 30 -> 90"]);
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    assert_eq!(updated_fields(&arm.ensure(&longer).await.unwrap().plan), ["retention_days: 30 -> 90"]);
    assert_eq!(mutations(&fake), [format!("PATCH {id}")]);
    assert_eq!(
        fake.bodies("PATCH", "/workspaces/vectice-logs"),
        [json!({ "tags": { "app": "vectice" }, "properties": { "retentionInDays": 90 } })]
    );
    assert_eq!(fake.resource(&id).unwrap()["properties"]["retentionInDays"], 90);
    // A new tag: that field alone, one PATCH.
    longer.tags.insert("team".into(), "platform".into());
    fake.reset_requests();
    let plan = arm.ensure(&longer).await.unwrap().plan;
    assert!(matches!(updated_fields(&plan).as_slice(), [f] if f.starts_with("tags: ")), "{plan}");
    assert_eq!(mutations(&fake), [format!("PATCH {id}")]);
    assert!(arm.plan(&longer).await.unwrap().is_empty());
    // Another location cannot change in place: drift, nothing sent.
    let elsewhere = LogWorkspaceSpec { location: "northeurope".into(), ..longer.clone() };
    fake.reset_requests();
    let plan = arm.ensure(&elsewhere).await.unwrap().plan;
    assert!(
        matches!(plan.changes.as_slice(), [c] if matches!(&c.action, Action::Drift { fields } if fields.len() == 1 && fields[0].field == "location")),
        "{plan}"
    );
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Delete (long-running), then delete what is gone.
    arm.resource_of(&longer).delete().await.unwrap();
    assert!(fake.resource(&id).is_none());
    arm.resource_of(&longer).delete().await.unwrap();
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn aks_diagnostic_setting_plan_create_second_ensure_category_change_and_delete_before_the_cluster() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let aks = AksClusters::new(arm.clone(), GROUP, "westeurope").unwrap();
    aks.ensure_cluster(&crate::aks::spec()).await.unwrap();
    let cluster_id = aks.cluster_id("vectice-aks");
    let workspace_id = arm.log_workspace_id(GROUP, "vectice-logs");
    let setting = DiagnosticSettingSpec::aks_control_plane(&cluster_id, "control-plane", &workspace_id);
    let id = format!("{cluster_id}/providers/Microsoft.Insights/diagnosticSettings/control-plane");
    assert_eq!(arm.resource_of(&setting).id(), id);
    fake.reset_requests();
    let plan = arm.plan(&setting).await.unwrap();
    assert!(is_one_create(&plan), "{plan}");
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Ensure: one PUT of the workspace and the five control-plane categories.
    let plan = arm.ensure(&setting).await.unwrap().plan;
    assert!(is_one_create(&plan), "{plan}");
    assert_eq!(mutations(&fake), [format!("PUT {id}")]);
    let logs: Vec<_> = AKS_CONTROL_PLANE_CATEGORIES.iter().map(|c| json!({ "category": c, "enabled": true })).collect();
    assert_eq!(
        fake.bodies("PUT", "/diagnosticSettings/control-plane"),
        [json!({ "properties": { "workspaceId": workspace_id, "logs": logs } })]
    );
    // The setting under the cluster is not the cluster: no pools, no FQDN, and the cluster is as it was.
    let stored = fake.resource(&id).unwrap();
    assert!(stored["properties"].get("agentPoolProfiles").is_none() && stored["properties"].get("fqdn").is_none(), "{stored}");
    assert_eq!(stored["properties"]["logs"].as_array().unwrap().len(), 5);
    let cluster = fake.resource(&cluster_id).unwrap();
    assert_eq!(cluster["properties"]["agentPoolProfiles"].as_array().unwrap().len(), 1, "{cluster}");
    assert!(aks.plan_cluster(&crate::aks::spec()).await.unwrap().is_empty());
    // Second ensure, and the workspace id in lower case (as Azure often shows ids): nothing sent.
    fake.reset_requests();
    assert!(arm.ensure(&setting).await.unwrap().plan.is_empty());
    let lowered = DiagnosticSettingSpec { workspace_id: workspace_id.to_ascii_lowercase(), ..setting.clone() };
    assert!(arm.ensure(&lowered).await.unwrap().plan.is_empty());
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    // Without the autoscaler's logs: the category set alone, one PUT of the whole setting.
    let fewer = DiagnosticSettingSpec {
        categories: setting.categories.iter().filter(|c| *c != "cluster-autoscaler").cloned().collect(),
        ..setting.clone()
    };
    let fields = updated_fields(&arm.plan(&fewer).await.unwrap());
    assert!(matches!(fields.as_slice(), [f] if f.starts_with("categories: ") && f.contains("cluster-autoscaler")), "{fields:?}");
    assert!(mutations(&fake).is_empty(), "{:?}", fake.requests());
    assert_eq!(updated_fields(&arm.ensure(&fewer).await.unwrap().plan), fields);
    assert_eq!(mutations(&fake), [format!("PUT {id}")]);
    let sent = fake.bodies("PUT", "/diagnosticSettings/control-plane");
    assert_eq!(sent[0]["properties"]["logs"].as_array().unwrap().len(), 4);
    assert_eq!(sent[0]["properties"]["workspaceId"], workspace_id);
    assert!(arm.plan(&fewer).await.unwrap().is_empty());
    // Another workspace: that field alone.
    let other = DiagnosticSettingSpec { workspace_id: arm.log_workspace_id(GROUP, "other-logs"), ..fewer.clone() };
    assert!(matches!(updated_fields(&arm.plan(&other).await.unwrap()).as_slice(), [f] if f.starts_with("workspace_id: ")));
    // Deleting the cluster leaves the setting (as Azure does): the caller deletes the setting first.
    aks.delete_cluster(&ResourceName::new("vectice-aks").unwrap()).await.unwrap();
    assert!(fake.resource(&cluster_id).is_none());
    assert!(fake.resource(&id).is_some(), "a diagnostic setting outlives its resource");
    fake.reset_requests();
    arm.resource_of(&fewer).delete().await.unwrap();
    assert!(fake.resource(&id).is_none());
    assert_eq!(mutations(&fake), [format!("DELETE {id}")]);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn bad_input_is_a_typed_error_naming_the_field_before_any_request() {
    let fake = FakeArm::start().await;
    let arm = fake.client();
    let share = FileShareSpec::new(GROUP, "vecticeassets", "uploads");
    let shares = [
        (FileShareSpec { resource_group: "bad group".into(), ..share.clone() }, "resource_group"),
        (FileShareSpec { account: "Vectice_Assets".into(), ..share.clone() }, "account"),
        (FileShareSpec { account: "ab".into(), ..share.clone() }, "account"),
        (FileShareSpec { name: "ab".into(), ..share.clone() }, "name"),
        (FileShareSpec { name: "Uploads".into(), ..share.clone() }, "name"),
        (FileShareSpec { name: "up--loads".into(), ..share.clone() }, "name"),
        (FileShareSpec { name: "-uploads".into(), ..share.clone() }, "name"),
        (FileShareSpec { name: "uploads-".into(), ..share.clone() }, "name"),
        (FileShareSpec { name: "u".repeat(64), ..share.clone() }, "name"),
        (share.clone().with_quota_gib(0), "quota_gib"),
        (share.clone().with_quota_gib(102_401), "quota_gib"),
    ];
    for (spec, field) in shares {
        assert_eq!(refused_field(arm.plan(&spec).await.unwrap_err()), field, "{spec:?}");
        assert_eq!(refused_field(arm.ensure(&spec).await.unwrap_err()), field, "{spec:?}");
    }
    assert!(share.clone().with_quota_gib(102_400).validate().is_ok());
    let workspace = LogWorkspaceSpec::new(GROUP, "vectice-logs", "westeurope");
    let workspaces = [
        (LogWorkspaceSpec { resource_group: String::new(), ..workspace.clone() }, "resource_group"),
        (LogWorkspaceSpec { name: "abc".into(), ..workspace.clone() }, "name"),
        (LogWorkspaceSpec { name: "-logs".into(), ..workspace.clone() }, "name"),
        (LogWorkspaceSpec { name: "logs-".into(), ..workspace.clone() }, "name"),
        (LogWorkspaceSpec { name: "vectice_logs".into(), ..workspace.clone() }, "name"),
        (LogWorkspaceSpec { name: "l".repeat(64), ..workspace.clone() }, "name"),
        (LogWorkspaceSpec { location: "West Europe".into(), ..workspace.clone() }, "location"),
        (workspace.clone().with_retention_days(29), "retention_days"),
        (workspace.clone().with_retention_days(731), "retention_days"),
    ];
    for (spec, field) in workspaces {
        assert_eq!(refused_field(arm.plan(&spec).await.unwrap_err()), field, "{spec:?}");
        assert_eq!(refused_field(arm.ensure(&spec).await.unwrap_err()), field, "{spec:?}");
    }
    assert!(workspace.clone().with_retention_days(730).validate().is_ok());
    let cluster = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.ContainerService/managedClusters/c");
    let setting = DiagnosticSettingSpec::aks_control_plane(&cluster, "control-plane", arm.log_workspace_id(GROUP, "vectice-logs"));
    let settings = [
        (DiagnosticSettingSpec { resource_id: "managedClusters/c".into(), ..setting.clone() }, "resource_id"),
        (DiagnosticSettingSpec { name: String::new(), ..setting.clone() }, "name"),
        (DiagnosticSettingSpec { name: "a/b".into(), ..setting.clone() }, "name"),
        (DiagnosticSettingSpec { name: "n".repeat(261), ..setting.clone() }, "name"),
        (DiagnosticSettingSpec { workspace_id: "vectice-logs".into(), ..setting.clone() }, "workspace_id"),
        (DiagnosticSettingSpec { workspace_id: arm.storage_account_id(GROUP, "vecticeassets"), ..setting.clone() }, "workspace_id"),
        (DiagnosticSettingSpec { categories: Vec::new(), ..setting.clone() }, "categories"),
        (DiagnosticSettingSpec { categories: vec!["kube-audit".into(), String::new()], ..setting.clone() }, "categories"),
        (DiagnosticSettingSpec { categories: vec!["kube-audit".into(), "kube-audit".into()], ..setting.clone() }, "categories"),
    ];
    for (spec, field) in settings {
        assert_eq!(refused_field(arm.plan(&spec).await.unwrap_err()), field, "{spec:?}");
        assert_eq!(refused_field(arm.ensure(&spec).await.unwrap_err()), field, "{spec:?}");
    }
    assert!(fake.requests().is_empty(), "a request was made: {:?}", fake.requests());
}
