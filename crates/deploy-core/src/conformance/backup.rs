use super::check::{expect_err, ok};
use super::names::Names;
use crate::backup::{BackupPlanSpec, BackupRule, BackupSpec, BackupVault, RecoveryPointStatus, RestoreOptions, VaultSpec};
use crate::error::{Confirm, Error};
use crate::plan::Action;
use crate::validate::{CronSchedule, RetentionDays};

/// A vault with a daily continuous-backup plan over `resources`.
pub fn conformance_spec(names: &Names, resources: Vec<String>) -> BackupSpec {
    BackupSpec {
        vault: VaultSpec { name: names.resource("vault"), encryption_key: None, tags: Default::default() },
        plan: Some(BackupPlanSpec {
            name: names.resource("plan"),
            rules: vec![BackupRule {
                name: names.resource("daily"),
                schedule: CronSchedule::new("cron(0 3 * * ? *)").expect("schedule"),
                retention: RetentionDays::new(35).expect("days"),
                continuous: true,
            }],
            resources,
            role: None,
        }),
    }
}

/// Vault and plan: idempotent ensure, updates, bad input, deletion.
pub async fn backup_vault_and_plan(b: &dyn BackupVault, names: &Names, resources: Vec<String>) {
    let mut spec = conformance_spec(names, resources);
    let mut bad = spec.clone();
    bad.plan.as_mut().expect("plan").rules[0].retention = RetentionDays::new(36).expect("days");
    let e = expect_err("continuous backup kept 36 days", b.ensure_backup(&bad).await, |e| matches!(e, Error::InvalidInput { .. }));
    assert_eq!(e.invalid_field(), Some("plan.rules[0].retention"));
    expect_err("describe after rejected ensure", b.describe_vault(&spec.vault.name).await, Error::is_not_found);

    let plan = ok("plan_backup", b.plan_backup(&spec).await);
    assert!(plan.changes.iter().any(|c| c.kind == "backup vault" && c.action == Action::Create), "{plan:?}");
    assert!(plan.changes.iter().any(|c| c.kind == "backup plan" && c.action == Action::Create), "{plan:?}");
    ok("ensure_backup", b.ensure_backup(&spec).await);
    let vault = ok("describe_vault", b.describe_vault(&spec.vault.name).await);
    assert_eq!(vault.recovery_points, 0);
    assert!(ok("ensure_backup (again)", b.ensure_backup(&spec).await).is_empty(), "second ensure changed something");
    spec.plan.as_mut().expect("plan").rules[0].retention = RetentionDays::new(30).expect("days");
    let plan = ok("plan_backup (retention)", b.plan_backup(&spec).await);
    assert!(plan.changes.iter().any(|c| c.kind == "backup plan" && matches!(c.action, Action::Update { .. })), "{plan:?}");
    ok("ensure_backup (retention)", b.ensure_backup(&spec).await);
    assert!(ok("ensure_backup (retention again)", b.ensure_backup(&spec).await).is_empty(), "update is not idempotent");

    ok("delete_plan", b.delete_plan(&spec.plan.as_ref().expect("plan").name).await);
    ok("delete_vault", b.delete_vault(&spec.vault.name).await);
    expect_err("describe deleted vault", b.describe_vault(&spec.vault.name).await, Error::is_not_found);
}

/// Recovery points: an on-demand backup, listing, restore, and the vault
/// refusing deletion until its recovery points are deleted with confirmation.
pub async fn backup_recovery_points(b: &dyn BackupVault, names: &Names, resource: &str) {
    let spec =
        BackupSpec { vault: VaultSpec { name: names.resource("rp-vault"), encryption_key: None, tags: Default::default() }, plan: None };
    ok("ensure vault", b.ensure_backup(&spec).await);
    let vault = &spec.vault.name;
    let point = ok("start_backup", b.start_backup(vault, resource, None).await);
    assert_eq!(point.status, RecoveryPointStatus::Completed, "start_backup returned before the recovery point was complete");
    assert_eq!(point.resource, resource);
    let listed = ok("list_recovery_points", b.list_recovery_points(vault).await);
    assert!(listed.iter().any(|p| p.id == point.id), "recovery point not listed");
    let restored = ok("restore", b.restore(vault, &point.id, &RestoreOptions::default()).await);
    assert!(!restored.job_id.is_empty());
    expect_err(
        "restore a missing recovery point",
        b.restore(vault, "no-such-point", &RestoreOptions::default()).await,
        Error::is_not_found,
    );
    expect_err("delete vault holding recovery points", b.delete_vault(vault).await, |e| matches!(e, Error::Conflict { .. }));
    expect_err("delete recovery point unconfirmed", b.delete_recovery_point(vault, &point.id, &Confirm::new("other")).await, |e| {
        matches!(e, Error::ConfirmationRequired { .. })
    });
    ok("delete_recovery_point", b.delete_recovery_point(vault, &point.id, &Confirm::new(vault.as_str())).await);
    assert!(ok("list after delete", b.list_recovery_points(vault).await).iter().all(|p| p.id != point.id));
    ok("delete_vault", b.delete_vault(vault).await);
}
