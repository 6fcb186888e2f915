//! Azure Files shares against the fake ARM endpoint: plan, ensure (once, then
//! nothing), a changed field planned and applied with one request, input
//! refused before any request, delete.

use deploy_azure::arm::ArmSpec;
use deploy_azure::arm::files::FileShareSpec;
use deploy_core::plan::{Action, Plan};
use deploy_core::reconcile::Reconcile as _;
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
    assert!(fake.requests().is_empty(), "a request was made: {:?}", fake.requests());
}
