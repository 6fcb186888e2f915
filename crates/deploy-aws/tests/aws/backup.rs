//! AwsBackupVault: against moto for vaults and plans (moto has no
//! UpdateBackupPlan, selections, jobs or recovery points: 500), and both core
//! suites against a small stateful AWS Backup fake behind `aws-smithy-mocks`,
//! which answers the real SDK operations (and the errors AWS Backup sends).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_backup::Client;
use aws_sdk_backup::operation::create_backup_plan::CreateBackupPlanOutput;
use aws_sdk_backup::operation::create_backup_selection::CreateBackupSelectionOutput;
use aws_sdk_backup::operation::create_backup_vault::CreateBackupVaultOutput;
use aws_sdk_backup::operation::delete_backup_plan::DeleteBackupPlanOutput;
use aws_sdk_backup::operation::delete_backup_selection::DeleteBackupSelectionOutput;
use aws_sdk_backup::operation::delete_backup_vault::DeleteBackupVaultOutput;
use aws_sdk_backup::operation::delete_recovery_point::DeleteRecoveryPointOutput;
use aws_sdk_backup::operation::describe_backup_job::DescribeBackupJobOutput;
use aws_sdk_backup::operation::describe_backup_vault::DescribeBackupVaultOutput;
use aws_sdk_backup::operation::describe_recovery_point::DescribeRecoveryPointOutput;
use aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput;
use aws_sdk_backup::operation::get_backup_plan::GetBackupPlanOutput;
use aws_sdk_backup::operation::get_backup_selection::GetBackupSelectionOutput;
use aws_sdk_backup::operation::get_recovery_point_restore_metadata::GetRecoveryPointRestoreMetadataOutput;
use aws_sdk_backup::operation::list_backup_plans::ListBackupPlansOutput;
use aws_sdk_backup::operation::list_backup_selections::ListBackupSelectionsOutput;
use aws_sdk_backup::operation::list_recovery_points_by_backup_vault::ListRecoveryPointsByBackupVaultOutput;
use aws_sdk_backup::operation::list_tags::ListTagsOutput;
use aws_sdk_backup::operation::start_backup_job::StartBackupJobOutput;
use aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput;
use aws_sdk_backup::operation::update_backup_plan::UpdateBackupPlanOutput;
use aws_sdk_backup::types::{
    BackupJobState, BackupPlan, BackupPlansListMember, BackupRule, BackupSelection, BackupSelectionsListMember, RecoveryPointByBackupVault,
    RecoveryPointStatus, RestoreJobStatus,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock};
use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use deploy_aws::backup::AwsBackupVault;
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::backup::{BackupPlanSpec, BackupRule as CoreRule, BackupSpec, VaultSpec};
use deploy_core::plan::Action;
use deploy_core::waiter::Waiter;
use deploy_core::{BackupVault, CronSchedule, RetentionDays};

use crate::support::{moto, names};

const ACCOUNT: &str = "123456789012";

fn fast() -> Waiter {
    Waiter::new(Duration::from_secs(30)).with_delays(Duration::from_millis(2), Duration::from_millis(20))
}

fn spec(n: &deploy_core::conformance::Names, resources: Vec<String>) -> BackupSpec {
    BackupSpec {
        vault: VaultSpec { name: n.resource("vault"), encryption_key: None, tags: [("app".to_owned(), "simphera".to_owned())].into() },
        plan: Some(BackupPlanSpec {
            name: n.resource("plan"),
            rules: vec![CoreRule {
                name: n.resource("continuous"),
                schedule: CronSchedule::new("cron(0 3 * * ? *)").unwrap(),
                retention: RetentionDays::new(35).unwrap(),
                continuous: true,
            }],
            resources,
            role: None,
        }),
    }
}

#[tokio::test]
async fn vault_and_plan_on_moto() {
    let conf = moto!("backup::vault_and_plan_on_moto");
    let log = RequestLog::new();
    let backup = AwsBackends::from_conf(&conf).with_request_log(&log).with_waiter(fast()).backup();
    let n = names();
    // moto answers ListBackupSelections with a 500: no resources, so no selection is managed.
    // moto reads the ARN of `GET /tags/{arn}` from the wrong path segment (it expects
    // boto's trailing slash) and lists no tags: no vault tags either.
    let mut spec = spec(&n, Vec::new());
    spec.vault.tags.clear();
    let mut bad = spec.clone();
    bad.plan.as_mut().unwrap().rules[0].retention = RetentionDays::new(36).unwrap();
    assert_eq!(backup.ensure_backup(&bad).await.unwrap_err().invalid_field(), Some("plan.rules[0].retention"));
    assert!(log.requests().is_empty());

    let made = backup.ensure_backup(&spec).await.unwrap();
    let kinds: Vec<(&str, &Action)> = made.changes.iter().map(|c| (c.kind.as_str(), &c.action)).collect();
    assert_eq!(kinds, [("backup vault", &Action::Create), ("backup plan", &Action::Create)]);
    let plan_name = spec.plan.as_ref().unwrap().name.as_str();
    let plans = backup.client().list_backup_plans().send().await.unwrap();
    let id =
        plans.backup_plans_list().iter().find(|p| p.backup_plan_name() == Some(plan_name)).unwrap().backup_plan_id().unwrap().to_owned();
    let held = backup.client().get_backup_plan().backup_plan_id(&id).send().await.unwrap();
    let rule = &held.backup_plan().unwrap().rules()[0];
    assert_eq!(rule.schedule_expression(), Some("cron(0 3 * * ? *)"));
    assert_eq!(rule.lifecycle().and_then(|l| l.delete_after_days()), Some(35));
    assert_eq!(rule.enable_continuous_backup(), Some(true));
    assert_eq!(rule.target_backup_vault_name(), spec.vault.name.as_str());
    assert_eq!(backup.describe_vault(&spec.vault.name).await.unwrap().recovery_points, 0);

    log.clear();
    let again = backup.ensure_backup(&spec).await.unwrap();
    assert!(again.is_empty(), "{again}");
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert!(backup.backup_plan_exists(&spec.plan.as_ref().unwrap().name).await.unwrap());

    backup.delete_plan(&spec.plan.as_ref().unwrap().name).await.unwrap();
    assert!(!backup.backup_plan_exists(&spec.plan.as_ref().unwrap().name).await.unwrap());
    backup.delete_vault(&spec.vault.name).await.unwrap();
    assert!(backup.describe_vault(&spec.vault.name).await.unwrap_err().is_not_found());
}

/// The state of the fake.
#[derive(Default)]
struct Fake {
    /// name → (tags, encryption key)
    vaults: BTreeMap<String, (BTreeMap<String, String>, Option<String>)>,
    /// id → (name, rules)
    plans: BTreeMap<String, (String, Vec<BackupRule>)>,
    /// id → (plan id, selection)
    selections: BTreeMap<String, (String, BackupSelection)>,
    /// ARN → (vault, resource)
    points: BTreeMap<String, (String, String)>,
    /// id → (polls until complete, vault, resource)
    backup_jobs: BTreeMap<String, (u32, String, String)>,
    /// id → polls until complete
    restore_jobs: BTreeMap<String, u32>,
    next: u64,
}

impl Fake {
    fn id(&mut self, kind: &str) -> String {
        self.next += 1;
        format!("{kind}-{:04}", self.next)
    }
}

fn vault_arn(name: &str) -> String {
    format!("arn:aws:backup:eu-central-1:{ACCOUNT}:backup-vault:{name}")
}

/// An AWS Backup error as the service sends it (REST-JSON).
fn error<O, E>(status: u16, code: &str) -> MockResponse<O, E> {
    let mut response =
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(format!(r#"{{"Code":"{code}","Message":"{code}"}}"#)));
    response.headers_mut().insert("x-amzn-errortype", code.to_owned());
    response.headers_mut().insert("content-type", "application/json");
    MockResponse::Http(response)
}

/// The fake's delete of `key` from `map`: refused while something `in_use`
/// depends on it, not found when missing.
fn delete_unused<V, O, E>(map: &mut BTreeMap<String, V>, key: &str, in_use: bool, output: O) -> MockResponse<O, E> {
    if in_use {
        return error(400, "InvalidRequestException");
    }
    match map.remove(key) {
        Some(_) => MockResponse::Output(output),
        None => error(404, "ResourceNotFoundException"),
    }
}

type State = Arc<Mutex<Fake>>;

/// A client of the fake: every operation `AwsBackupVault` calls, answered from `state`.
fn fake_client(state: &State) -> (deploy_aws::AwsContext, Vec<Rule>) {
    let s = state.clone();
    let describe_vault = mock!(Client::describe_backup_vault).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        let name = i.backup_vault_name().unwrap();
        match f.vaults.get(name) {
            None => error(404, "ResourceNotFoundException"),
            Some((_, key)) => MockResponse::Output(
                DescribeBackupVaultOutput::builder()
                    .backup_vault_name(name)
                    .backup_vault_arn(vault_arn(name))
                    .set_encryption_key_arn(key.clone().or_else(|| Some(format!("arn:aws:kms:eu-central-1:{ACCOUNT}:key/aws-backup"))))
                    .number_of_recovery_points(f.points.values().filter(|(v, _)| v == name).count() as i64)
                    .build(),
            ),
        }
    });
    let s = state.clone();
    let delete_vault = mock!(Client::delete_backup_vault).then_compute_response(move |i| {
        let f = &mut *s.lock().unwrap();
        let name = i.backup_vault_name().unwrap();
        delete_unused(&mut f.vaults, name, f.points.values().any(|(v, _)| v == name), DeleteBackupVaultOutput::builder().build())
    });
    let s = state.clone();
    let create_vault = mock!(Client::create_backup_vault).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        let name = i.backup_vault_name().unwrap().to_owned();
        if f.vaults.contains_key(&name) {
            return error(400, "AlreadyExistsException");
        }
        let tags = i.backup_vault_tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        f.vaults.insert(name.clone(), (tags, i.encryption_key_arn().map(str::to_owned)));
        MockResponse::Output(CreateBackupVaultOutput::builder().backup_vault_name(&name).backup_vault_arn(vault_arn(&name)).build())
    });
    let s = state.clone();
    let list_tags = mock!(Client::list_tags).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        let name = i.resource_arn().unwrap().rsplit(':').next().unwrap();
        match f.vaults.get(name) {
            Some((tags, _)) => MockResponse::Output(ListTagsOutput::builder().set_tags(Some(tags.clone().into_iter().collect())).build()),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let list_plans = mock!(Client::list_backup_plans).then_compute_output(move |_| {
        let f = s.lock().unwrap();
        let members =
            f.plans.iter().map(|(id, (name, _))| BackupPlansListMember::builder().backup_plan_id(id).backup_plan_name(name).build());
        ListBackupPlansOutput::builder().set_backup_plans_list(Some(members.collect())).build()
    });
    let s = state.clone();
    let get_plan = mock!(Client::get_backup_plan).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        match f.plans.get(i.backup_plan_id().unwrap()) {
            Some((name, rules)) => MockResponse::Output(
                GetBackupPlanOutput::builder()
                    .backup_plan_id(i.backup_plan_id().unwrap())
                    .backup_plan(BackupPlan::builder().backup_plan_name(name).set_rules(Some(rules.clone())).build().unwrap())
                    .build(),
            ),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let rules_of = |plan: &aws_sdk_backup::types::BackupPlanInput| -> Vec<BackupRule> {
        plan.rules()
            .iter()
            .map(|r| {
                BackupRule::builder()
                    .rule_name(r.rule_name())
                    .target_backup_vault_name(r.target_backup_vault_name())
                    .set_schedule_expression(r.schedule_expression().map(str::to_owned))
                    .set_lifecycle(r.lifecycle().cloned())
                    .set_enable_continuous_backup(r.enable_continuous_backup())
                    .build()
                    .unwrap()
            })
            .collect()
    };
    let s = state.clone();
    let create_plan = mock!(Client::create_backup_plan).then_compute_output(move |i| {
        let mut f = s.lock().unwrap();
        let plan = i.backup_plan().unwrap();
        let id = f.id("plan");
        f.plans.insert(id.clone(), (plan.backup_plan_name().to_owned(), rules_of(plan)));
        CreateBackupPlanOutput::builder().backup_plan_id(id).build()
    });
    let s = state.clone();
    let update_plan = mock!(Client::update_backup_plan).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        let id = i.backup_plan_id().unwrap();
        match f.plans.get_mut(id) {
            Some(stored) => {
                stored.1 = rules_of(i.backup_plan().unwrap());
                MockResponse::Output(UpdateBackupPlanOutput::builder().backup_plan_id(id).build())
            }
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let delete_plan = mock!(Client::delete_backup_plan).then_compute_response(move |i| {
        let f = &mut *s.lock().unwrap();
        let id = i.backup_plan_id().unwrap();
        delete_unused(&mut f.plans, id, f.selections.values().any(|(p, _)| p == id), DeleteBackupPlanOutput::builder().build())
    });
    let s = state.clone();
    let list_selections = mock!(Client::list_backup_selections).then_compute_output(move |i| {
        let f = s.lock().unwrap();
        let members = f
            .selections
            .iter()
            .filter(|(_, (p, _))| Some(p.as_str()) == i.backup_plan_id())
            .map(|(id, (_, sel))| BackupSelectionsListMember::builder().selection_id(id).selection_name(sel.selection_name()).build());
        ListBackupSelectionsOutput::builder().set_backup_selections_list(Some(members.collect())).build()
    });
    let s = state.clone();
    let get_selection = mock!(Client::get_backup_selection).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        match f.selections.get(i.selection_id().unwrap()) {
            Some((_, sel)) => MockResponse::Output(GetBackupSelectionOutput::builder().backup_selection(sel.clone()).build()),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let create_selection = mock!(Client::create_backup_selection).then_compute_output(move |i| {
        let mut f = s.lock().unwrap();
        let id = f.id("selection");
        f.selections.insert(id.clone(), (i.backup_plan_id().unwrap().to_owned(), i.backup_selection().unwrap().clone()));
        CreateBackupSelectionOutput::builder().selection_id(id).build()
    });
    let s = state.clone();
    let delete_selection = mock!(Client::delete_backup_selection).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        match f.selections.remove(i.selection_id().unwrap()) {
            Some(_) => MockResponse::Output(DeleteBackupSelectionOutput::builder().build()),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let start_backup = mock!(Client::start_backup_job).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        let vault = i.backup_vault_name().unwrap().to_owned();
        if !f.vaults.contains_key(&vault) {
            return error(404, "ResourceNotFoundException");
        }
        let id = f.id("job");
        f.backup_jobs.insert(id.clone(), (2, vault, i.resource_arn().unwrap().to_owned()));
        MockResponse::Output(StartBackupJobOutput::builder().backup_job_id(id).build())
    });
    let s = state.clone();
    let describe_job = mock!(Client::describe_backup_job).then_compute_output(move |i| {
        let mut f = s.lock().unwrap();
        let id = i.backup_job_id().unwrap().to_owned();
        let (polls, vault, resource) = f.backup_jobs.get(&id).cloned().unwrap();
        if polls > 0 {
            f.backup_jobs.insert(id.clone(), (polls - 1, vault, resource));
            return DescribeBackupJobOutput::builder().backup_job_id(id).state(BackupJobState::Running).build();
        }
        let arn = format!("arn:aws:rds:eu-central-1:{ACCOUNT}:snapshot:awsbackup:{id}");
        f.points.insert(arn.clone(), (vault, resource));
        DescribeBackupJobOutput::builder().backup_job_id(id).state(BackupJobState::Completed).recovery_point_arn(arn).build()
    });
    let s = state.clone();
    let describe_point = mock!(Client::describe_recovery_point).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        match f.points.get(i.recovery_point_arn().unwrap()) {
            Some((_, resource)) => MockResponse::Output(
                DescribeRecoveryPointOutput::builder()
                    .recovery_point_arn(i.recovery_point_arn().unwrap())
                    .resource_arn(resource)
                    .status(RecoveryPointStatus::Completed)
                    .creation_date(DateTime::from_secs(1_700_000_000))
                    .build(),
            ),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let list_points = mock!(Client::list_recovery_points_by_backup_vault).then_compute_output(move |i| {
        let f = s.lock().unwrap();
        let points = f.points.iter().filter(|(_, (v, _))| Some(v.as_str()) == i.backup_vault_name()).map(|(arn, (_, resource))| {
            RecoveryPointByBackupVault::builder()
                .recovery_point_arn(arn)
                .resource_arn(resource)
                .status(RecoveryPointStatus::Completed)
                .creation_date(DateTime::from_secs(1_700_000_000))
                .build()
        });
        ListRecoveryPointsByBackupVaultOutput::builder().set_recovery_points(Some(points.collect())).build()
    });
    let s = state.clone();
    let restore_metadata = mock!(Client::get_recovery_point_restore_metadata).then_compute_response(move |i| {
        let f = s.lock().unwrap();
        match f.points.get(i.recovery_point_arn().unwrap()) {
            Some(_) => MockResponse::Output(
                GetRecoveryPointRestoreMetadataOutput::builder().restore_metadata("DBInstanceIdentifier", "restored").build(),
            ),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let s = state.clone();
    let start_restore = mock!(Client::start_restore_job).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        if !f.points.contains_key(i.recovery_point_arn().unwrap()) {
            return error(404, "ResourceNotFoundException");
        }
        assert_eq!(
            i.metadata().and_then(|m| m.get("DBInstanceIdentifier")).map(String::as_str),
            Some("restored"),
            "metadata defaults were not passed"
        );
        let id = f.id("restore");
        f.restore_jobs.insert(id.clone(), 1);
        MockResponse::Output(StartRestoreJobOutput::builder().restore_job_id(id).build())
    });
    let s = state.clone();
    let describe_restore = mock!(Client::describe_restore_job).then_compute_output(move |i| {
        let mut f = s.lock().unwrap();
        let id = i.restore_job_id().unwrap().to_owned();
        let polls = f.restore_jobs[&id];
        if polls > 0 {
            f.restore_jobs.insert(id.clone(), polls - 1);
            return DescribeRestoreJobOutput::builder().restore_job_id(id).status(RestoreJobStatus::Running).build();
        }
        DescribeRestoreJobOutput::builder()
            .restore_job_id(id)
            .status(RestoreJobStatus::Completed)
            .created_resource_arn(format!("arn:aws:rds:eu-central-1:{ACCOUNT}:db:restored"))
            .build()
    });
    let s = state.clone();
    let delete_point = mock!(Client::delete_recovery_point).then_compute_response(move |i| {
        let mut f = s.lock().unwrap();
        match f.points.remove(i.recovery_point_arn().unwrap()) {
            Some(_) => MockResponse::Output(DeleteRecoveryPointOutput::builder().build()),
            None => error(404, "ResourceNotFoundException"),
        }
    });
    let rules = vec![
        describe_vault,
        create_vault,
        delete_vault,
        list_tags,
        list_plans,
        get_plan,
        create_plan,
        update_plan,
        delete_plan,
        list_selections,
        get_selection,
        create_selection,
        delete_selection,
        start_backup,
        describe_job,
        describe_point,
        list_points,
        restore_metadata,
        start_restore,
        describe_restore,
        delete_point,
    ];
    let ctx = crate::support::mock_context(RuleMode::MatchAny, rules.iter(), "eu-central-1", None);
    (ctx, rules)
}

#[tokio::test]
async fn conformance_backup_vault_and_plan_on_the_fake() {
    let state = State::default();
    let (ctx, _rules) = fake_client(&state);
    let backup = AwsBackupVault::new(&ctx).with_waiter(fast());
    let resources = vec![format!("arn:aws:rds:eu-central-1:{ACCOUNT}:db:prod-db"), "arn:aws:s3:::prod-assets".to_owned()];
    deploy_core::conformance::backup_vault_and_plan(&backup, &names(), resources).await;
    let f = state.lock().unwrap();
    assert!(f.vaults.is_empty() && f.plans.is_empty() && f.selections.is_empty(), "the suite's resources were not all deleted");
}

#[tokio::test]
async fn conformance_backup_recovery_points_on_the_fake() {
    let state = State::default();
    let (ctx, rules) = fake_client(&state);
    let backup = AwsBackupVault::new(&ctx).with_waiter(fast());
    deploy_core::conformance::backup_recovery_points(&backup, &names(), &format!("arn:aws:rds:eu-central-1:{ACCOUNT}:db:prod-db")).await;
    // rules[14] answers DescribeBackupJob, rules[19] DescribeRestoreJob.
    assert_eq!(rules[14].num_calls(), 3, "start_backup did not wait through RUNNING twice");
    assert_eq!(rules[19].num_calls(), 2, "restore did not wait through RUNNING");
}

#[tokio::test]
async fn the_selection_follows_the_resources_and_the_role() {
    let state = State::default();
    let (ctx, _rules) = fake_client(&state);
    let backup = AwsBackupVault::new(&ctx).with_waiter(fast());
    let n = names();
    let mut spec = spec(&n, vec![format!("arn:aws:rds:eu-central-1:{ACCOUNT}:db:prod-db")]);
    backup.ensure_backup(&spec).await.unwrap();
    let role = |state: &State| state.lock().unwrap().selections.values().next().map(|(_, s)| s.iam_role_arn().to_owned());
    assert_eq!(role(&state).as_deref(), Some(format!("arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole").as_str()));
    spec.plan.as_mut().unwrap().resources.push("arn:aws:s3:::prod-assets".into());
    spec.plan.as_mut().unwrap().role = Some(format!("arn:aws:iam::{ACCOUNT}:role/prod-backup"));
    let plan = backup.plan_backup(&spec).await.unwrap();
    assert!(
        plan.changes.iter().any(|c| c.kind == "backup selection" && matches!(&c.action, Action::Update { fields } if fields.len() == 2)),
        "{plan}"
    );
    backup.ensure_backup(&spec).await.unwrap();
    {
        let f = state.lock().unwrap();
        assert_eq!(f.selections.len(), 1, "the old selection was not replaced");
        let (_, selection) = f.selections.values().next().unwrap();
        assert_eq!(selection.resources().len(), 2);
        assert_eq!(selection.iam_role_arn(), format!("arn:aws:iam::{ACCOUNT}:role/prod-backup"));
    }
    assert!(backup.ensure_backup(&spec).await.unwrap().is_empty());
}
