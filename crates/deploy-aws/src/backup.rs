//! [`AwsBackupVault`]: the [`BackupVault`] on AWS Backup, as a
//! reference architecture uses it: a vault (encrypted with the spec's KMS key,
//! else AWS Backup's), a plan of rules (cron schedule, retention, continuous
//! backup for point-in-time restore) and a selection of the resources to back
//! up (RDS instances, S3 buckets by ARN) with the IAM role AWS Backup assumes.
//!
//! - `ensure_backup` creates what is missing and brings the plan's rules to the
//!   spec with `UpdateBackupPlan`; selections cannot change in place, so a
//!   changed resource list or role replaces the plan's selection
//!   (`deploy-resources`). An empty resource list leaves selections alone.
//!   Without a role in the spec, selections use the account's
//!   `service-role/AWSBackupDefaultServiceRole`.
//! - A vault's encryption key cannot change: a different one is drift.
//! - `start_backup`, `restore` and `delete_recovery_point` wait through
//!   [`Waiter`] until the job completes or the recovery point is gone.
//! - `delete_plan` deletes the plan's selections first, `delete_vault` refuses
//!   while the vault holds recovery points.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_backup::Client;
use aws_sdk_backup::types::{
    BackupJobState, BackupPlanInput, BackupRuleInput, BackupSelection, Lifecycle, RecoveryPointStatus as AwsPointStatus, RestoreJobStatus,
};
use deploy_core::backup::{
    BackupPlanSpec, BackupSpec, BackupVault, RecoveryPoint, RecoveryPointStatus, RestoreOptions, RestoreResult, VaultInfo,
};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::waiter::{Poll, Waiter};
use deploy_core::{Confirm, Error, Mode, ResourceName, Result};

use crate::context::AwsContext;
use crate::convert::timestamp;
use crate::error::{Op, SdkResultExt, build_error, error_code, missing};

const SERVICE: &str = "aws-backup";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// The name of the selection `ensure_backup` manages in each plan.
pub const SELECTION_NAME: &str = "deploy-resources";

/// The AWS-managed policies of the role AWS Backup assumes: backups and
/// restores of RDS (under `service-role/`) and of S3.
pub const ROLE_POLICIES: &[&str] = &[
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
];

/// The role `PREFIX-backup` that AWS Backup assumes for a plan's selection
/// and for restore jobs: trusting `backup.amazonaws.com`, with
/// [`ROLE_POLICIES`]. [`crate::iam::Iam`] reconciles it
/// ([`deploy_core::Reconcile`]: `plan` / `ensure`).
///
/// # Errors
/// [`Error::InvalidInput`] when `PREFIX-backup` is not an IAM name.
#[cfg(feature = "iam")]
pub fn role_spec(prefix: &str, partition: &str) -> Result<crate::iam::RoleSpec> {
    use crate::iam::{IamName, RoleSpec};
    let mut role = RoleSpec::new(IamName::new(format!("{prefix}-backup"))?, crate::policy::trust_service("backup.amazonaws.com"));
    role.managed_policies = ROLE_POLICIES.iter().map(|p| format!("arn:{partition}:iam::aws:policy/{p}")).collect();
    role.description = "AWS Backup: backups and restores of RDS and S3".into();
    Ok(role)
}

fn is_arn(s: &str, service: Option<&str>) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && !parts[5].is_empty() && service.is_none_or(|svc| parts[2] == svc)
}

/// AWS Backup's rules on names and ARNs, before any request.
fn validate_spec(spec: &BackupSpec) -> Result<()> {
    spec.validate()?;
    let vault = spec.vault.name.as_str();
    if vault.len() < 2 || vault.len() > 50 {
        return Err(Error::invalid("vault.name", format!("is {} characters long", vault.len()), "AWS Backup vault names: 2-50 characters"));
    }
    if let Some(key) = &spec.vault.encryption_key
        && !is_arn(key, Some("kms"))
    {
        return Err(Error::invalid(
            "vault.encryption_key",
            format!("`{key}` is not a KMS key ARN"),
            "AWS Backup vaults take a KMS key ARN",
        ));
    }
    let Some(plan) = &spec.plan else { return Ok(()) };
    let name_rule = "AWS Backup plan and rule names: 1-50 characters";
    if plan.name.as_str().len() > 50 {
        return Err(Error::invalid("plan.name", "is longer than 50 characters", name_rule));
    }
    for (i, rule) in plan.rules.iter().enumerate() {
        if rule.name.as_str().len() > 50 {
            return Err(Error::invalid(format!("plan.rules[{i}].name"), "is longer than 50 characters", name_rule));
        }
    }
    for (i, resource) in plan.resources.iter().enumerate() {
        if !is_arn(resource, None) && resource != "*" {
            return Err(Error::invalid(
                format!("plan.resources[{i}]"),
                format!("`{resource}` is not an ARN"),
                "AWS Backup selects resources by ARN",
            ));
        }
    }
    if let Some(role) = &plan.role
        && !is_arn(role, Some("iam"))
    {
        return Err(Error::invalid("plan.role", format!("`{role}` is not an IAM role ARN"), "AWS Backup assumes an IAM role given by ARN"));
    }
    Ok(())
}

/// The rules as comparable text: name → `schedule, N days[, continuous]`.
fn rules_of_spec(plan: &BackupPlanSpec, vault: &str) -> BTreeMap<String, String> {
    plan.rules
        .iter()
        .map(|r| (r.name.to_string(), describe_rule(&r.schedule.to_aws(), r.retention.days().into(), r.continuous, vault)))
        .collect()
}

fn describe_rule(schedule: &str, days: i64, continuous: bool, vault: &str) -> String {
    format!("{schedule}, {days} days{} into {vault}", if continuous { ", continuous" } else { "" })
}

/// A vault as AWS Backup holds it.
struct VaultState {
    arn: String,
    encryption_key: Option<String>,
    recovery_points: i64,
}

/// A plan as AWS Backup holds it.
struct PlanState {
    id: String,
    rules: BTreeMap<String, String>,
}

/// The [`BackupVault`] on AWS Backup. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct AwsBackupVault {
    client: Client,
    partition: &'static str,
    waiter: Waiter,
}

impl AwsBackupVault {
    /// AWS Backup built from `ctx`, waiting with its waiter.
    pub fn new(ctx: &AwsContext) -> Self {
        AwsBackupVault { client: ctx.client(), partition: ctx.partition(), waiter: ctx.waiter() }
    }

    deploy_core::setters! {
        /// Wait for jobs with `waiter`.
        pub fn with_waiter(waiter: Waiter);
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn vault(&self, name: &str) -> Result<Option<VaultState>> {
        let describe = op("DescribeBackupVault");
        let out = self.client.describe_backup_vault().backup_vault_name(name).send().await;
        let Some(out) = out.found(describe, "backup vault", name)? else { return Ok(None) };
        Ok(Some(VaultState {
            arn: out.backup_vault_arn().ok_or_else(|| missing(describe, "vault ARN"))?.to_owned(),
            encryption_key: out.encryption_key_arn().map(str::to_owned),
            recovery_points: out.number_of_recovery_points(),
        }))
    }

    async fn vault_tags(&self, arn: &str, name: &str) -> Result<BTreeMap<String, String>> {
        let list = op("ListTags");
        let mut tags = BTreeMap::new();
        let mut pages = self.client.list_tags().resource_arn(arn).into_paginator().send();
        while let Some(page) = pages.next().await {
            if let Some(t) = page.on(list, "backup vault", name)?.tags() {
                tags.extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Ok(tags)
    }

    async fn plan_id(&self, name: &str) -> Result<Option<String>> {
        let list = op("ListBackupPlans");
        let mut pages = self.client.list_backup_plans().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(list, "backup plan", name)?;
            if let Some(p) = page.backup_plans_list().iter().find(|p| p.backup_plan_name() == Some(name) && p.deletion_date().is_none()) {
                return Ok(Some(p.backup_plan_id().ok_or_else(|| missing(list, "plan id"))?.to_owned()));
            }
        }
        Ok(None)
    }

    async fn plan_state(&self, name: &str) -> Result<Option<PlanState>> {
        let Some(id) = self.plan_id(name).await? else { return Ok(None) };
        let get = op("GetBackupPlan");
        let out = self.client.get_backup_plan().backup_plan_id(&id).send().await.on(get, "backup plan", name)?;
        let plan = out.backup_plan().ok_or_else(|| missing(get, "backup plan"))?;
        let rules = plan
            .rules()
            .iter()
            .map(|r| {
                let days = r.lifecycle().and_then(Lifecycle::delete_after_days).unwrap_or(0);
                let text = describe_rule(
                    r.schedule_expression().unwrap_or("-"),
                    days,
                    r.enable_continuous_backup().unwrap_or(false),
                    r.target_backup_vault_name(),
                );
                (r.rule_name().to_owned(), text)
            })
            .collect();
        Ok(Some(PlanState { id, rules }))
    }

    fn plan_input(plan: &BackupPlanSpec, vault: &str) -> Result<BackupPlanInput> {
        let build = op("CreateBackupPlan");
        let rules = plan
            .rules
            .iter()
            .map(|r| {
                BackupRuleInput::builder()
                    .rule_name(r.name.as_str())
                    .target_backup_vault_name(vault)
                    .schedule_expression(r.schedule.to_aws())
                    .lifecycle(Lifecycle::builder().delete_after_days(r.retention.days().into()).build())
                    .enable_continuous_backup(r.continuous)
                    .build()
                    .map_err(|e| build_error(build, e))
            })
            .collect::<Result<Vec<_>>>()?;
        BackupPlanInput::builder().backup_plan_name(plan.name.as_str()).set_rules(Some(rules)).build().map_err(|e| build_error(build, e))
    }

    /// The role a selection runs as: the spec's, else the account's default service role.
    fn role(&self, plan: &BackupPlanSpec, vault_arn: &str) -> String {
        plan.role.clone().unwrap_or_else(|| {
            let account = vault_arn.split(':').nth(4).unwrap_or_default();
            format!("arn:{}:iam::{account}:role/service-role/AWSBackupDefaultServiceRole", self.partition)
        })
    }

    /// The managed selection of a plan: its id, role and resources.
    async fn selection(&self, plan_id: &str, plan: &str) -> Result<Option<(String, String, BTreeSet<String>)>> {
        let list = op("ListBackupSelections");
        let mut pages = self.client.list_backup_selections().backup_plan_id(plan_id).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.on(list, "backup plan", plan)?;
            if let Some(s) = page.backup_selections_list().iter().find(|s| s.selection_name() == Some(SELECTION_NAME)) {
                let id = s.selection_id().ok_or_else(|| missing(list, "selection id"))?.to_owned();
                let get = op("GetBackupSelection");
                let out = self.client.get_backup_selection().backup_plan_id(plan_id).selection_id(&id).send().await.on(
                    get,
                    "backup plan",
                    plan,
                )?;
                let selection = out.backup_selection().ok_or_else(|| missing(get, "selection"))?;
                return Ok(Some((id, selection.iam_role_arn().to_owned(), selection.resources().iter().cloned().collect())));
            }
        }
        Ok(None)
    }

    /// Compare (and in [`Mode::Apply`], bring to the spec) the vault, the
    /// plan and its selection: one path, the calls made only when applying.
    async fn reconcile_spec(&self, spec: &BackupSpec, mode: Mode) -> Result<Plan> {
        validate_spec(spec)?;
        let apply = mode.is_apply();
        let mut plan = Plan::new();
        let vault_name = spec.vault.name.as_str();
        let vault = match self.vault(vault_name).await? {
            Some(vault) => {
                if let Some(wanted) = &spec.vault.encryption_key
                    && vault.encryption_key.as_ref() != Some(wanted)
                {
                    let from = vault.encryption_key.as_deref().unwrap_or("-");
                    plan.push(Change::drift("backup vault", vault_name, vec![FieldChange::new("encryption_key", from, wanted)]));
                }
                let tags = self.vault_tags(&vault.arn, vault_name).await?;
                if tags != spec.vault.tags {
                    plan.push(Change::update(
                        "backup vault",
                        vault_name,
                        vec![FieldChange::new("tags", format!("{tags:?}"), format!("{:?}", spec.vault.tags))],
                    ));
                    if apply {
                        self.retag(&vault.arn, vault_name, &tags, &spec.vault.tags).await?;
                    }
                }
                Some(vault)
            }
            None => {
                plan.push(Change::create("backup vault", vault_name));
                if apply {
                    let create = op("CreateBackupVault");
                    let out = self
                        .client
                        .create_backup_vault()
                        .backup_vault_name(vault_name)
                        .set_encryption_key_arn(spec.vault.encryption_key.clone())
                        .set_backup_vault_tags(
                            (!spec.vault.tags.is_empty()).then(|| spec.vault.tags.clone().into_iter().collect::<HashMap<_, _>>()),
                        )
                        .send()
                        .await
                        .on(create, "backup vault", vault_name)?;
                    Some(VaultState {
                        arn: out.backup_vault_arn().ok_or_else(|| missing(create, "vault ARN"))?.to_owned(),
                        encryption_key: None,
                        recovery_points: 0,
                    })
                } else {
                    None
                }
            }
        };
        let Some(wanted) = &spec.plan else { return Ok(plan) };
        let plan_name = wanted.name.as_str();
        let wanted_rules = rules_of_spec(wanted, vault_name);
        let plan_id = match self.plan_state(plan_name).await? {
            Some(current) => {
                if current.rules != wanted_rules {
                    plan.push(Change::update(
                        "backup plan",
                        plan_name,
                        vec![FieldChange::new("rules", format!("{:?}", current.rules), format!("{wanted_rules:?}"))],
                    ));
                    if apply {
                        self.client
                            .update_backup_plan()
                            .backup_plan_id(&current.id)
                            .backup_plan(Self::plan_input(wanted, vault_name)?)
                            .send()
                            .await
                            .on(op("UpdateBackupPlan"), "backup plan", plan_name)?;
                    }
                }
                Some(current.id)
            }
            None => {
                plan.push(Change::create("backup plan", plan_name));
                if apply {
                    let create = op("CreateBackupPlan");
                    let out = self.client.create_backup_plan().backup_plan(Self::plan_input(wanted, vault_name)?).send().await.on(
                        create,
                        "backup plan",
                        plan_name,
                    )?;
                    Some(out.backup_plan_id().ok_or_else(|| missing(create, "plan id"))?.to_owned())
                } else {
                    None
                }
            }
        };
        if wanted.resources.is_empty() {
            return Ok(plan);
        }
        let resources: BTreeSet<String> = wanted.resources.iter().cloned().collect();
        let current = match &plan_id {
            Some(id) => self.selection(id, plan_name).await?,
            None => None,
        };
        let vault_arn = vault.as_ref().map(|v| v.arn.clone()).unwrap_or_default();
        let role = self.role(wanted, &vault_arn);
        let selection_name = format!("{plan_name}/{SELECTION_NAME}");
        match &current {
            Some((_, have_role, have)) if *have == resources && (wanted.role.is_none() || *have_role == role) => {}
            Some((_, have_role, have)) => {
                let mut fields = Vec::new();
                if *have != resources {
                    fields.push(FieldChange::new("resources", format!("{have:?}"), format!("{resources:?}")));
                }
                if *have_role != role {
                    fields.push(FieldChange::new("role", have_role, &role));
                }
                plan.push(Change::update("backup selection", &selection_name, fields));
            }
            None => plan.push(Change::create("backup selection", &selection_name)),
        }
        let replace =
            !matches!(&current, Some((_, have_role, have)) if *have == resources && (wanted.role.is_none() || *have_role == role));
        if apply
            && replace
            && let Some(plan_id) = &plan_id
        {
            if let Some((id, _, _)) = &current {
                self.client.delete_backup_selection().backup_plan_id(plan_id).selection_id(id).send().await.on(
                    op("DeleteBackupSelection"),
                    "backup selection",
                    &selection_name,
                )?;
            }
            let create = op("CreateBackupSelection");
            let selection = BackupSelection::builder()
                .selection_name(SELECTION_NAME)
                .iam_role_arn(role)
                .set_resources(Some(wanted.resources.clone()))
                .build()
                .map_err(|e| build_error(create, e))?;
            self.client.create_backup_selection().backup_plan_id(plan_id).backup_selection(selection).send().await.on(
                create,
                "backup selection",
                &selection_name,
            )?;
        }
        Ok(plan)
    }

    async fn retag(&self, arn: &str, name: &str, have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Result<()> {
        let stale: Vec<String> = have.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
        if !stale.is_empty() {
            self.client.untag_resource().resource_arn(arn).set_tag_key_list(Some(stale)).send().await.on(
                op("UntagResource"),
                "backup vault",
                name,
            )?;
        }
        let changed: HashMap<String, String> =
            want.iter().filter(|(k, v)| have.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if !changed.is_empty() {
            self.client.tag_resource().resource_arn(arn).set_tags(Some(changed)).send().await.on(
                op("TagResource"),
                "backup vault",
                name,
            )?;
        }
        Ok(())
    }

    async fn recovery_point(&self, vault: &ResourceName, arn: &str) -> Result<Option<RecoveryPoint>> {
        let describe = op("DescribeRecoveryPoint");
        let request = self.client.describe_recovery_point().backup_vault_name(vault.as_str()).recovery_point_arn(arn);
        let Some(out) = request.send().await.found(describe, "recovery point", arn)? else { return Ok(None) };
        Ok(Some(RecoveryPoint {
            id: out.recovery_point_arn().unwrap_or(arn).to_owned(),
            vault: vault.clone(),
            resource: out.resource_arn().unwrap_or_default().to_owned(),
            created: out.creation_date().and_then(timestamp),
            status: point_status(out.status()),
            continuous: arn.contains(":recovery-point:continuous:"),
        }))
    }
}

fn point_status(s: Option<&AwsPointStatus>) -> RecoveryPointStatus {
    match s {
        Some(AwsPointStatus::Completed) => RecoveryPointStatus::Completed,
        Some(AwsPointStatus::Partial) => RecoveryPointStatus::Partial,
        Some(AwsPointStatus::Deleting) => RecoveryPointStatus::Deleting,
        Some(other) => RecoveryPointStatus::Other(other.as_str().to_ascii_lowercase()),
        None => RecoveryPointStatus::Other("unknown".into()),
    }
}

#[async_trait]
impl BackupVault for AwsBackupVault {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %spec.vault.name))]
    async fn reconcile_backup(&self, spec: &BackupSpec, mode: Mode) -> Result<Plan> {
        self.reconcile_spec(spec, mode).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn describe_vault(&self, vault: &ResourceName) -> Result<VaultInfo> {
        let state = self.vault(vault.as_str()).await?.ok_or_else(|| Error::not_found("backup vault", vault.as_str()))?;
        Ok(VaultInfo {
            name: vault.clone(),
            encryption_key: state.encryption_key,
            recovery_points: u64::try_from(state.recovery_points).unwrap_or(0),
        })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn start_backup(&self, vault: &ResourceName, resource: &str, role: Option<String>) -> Result<RecoveryPoint> {
        if !is_arn(resource, None) {
            return Err(Error::invalid("resource", format!("`{resource}` is not an ARN"), "AWS Backup backs up resources by ARN"));
        }
        let state = self.vault(vault.as_str()).await?.ok_or_else(|| Error::not_found("backup vault", vault.as_str()))?;
        let role = role.unwrap_or_else(|| {
            let account = state.arn.split(':').nth(4).unwrap_or_default();
            format!("arn:{}:iam::{account}:role/service-role/AWSBackupDefaultServiceRole", self.partition)
        });
        let start = op("StartBackupJob");
        let out =
            self.client.start_backup_job().backup_vault_name(vault.as_str()).resource_arn(resource).iam_role_arn(role).send().await.on(
                start,
                "backup vault",
                vault.as_str(),
            )?;
        let job = out.backup_job_id().ok_or_else(|| missing(start, "job id"))?.to_owned();
        let arn = self
            .waiter
            .wait(&format!("backup job {job} of {resource} to complete"), || async {
                let out =
                    self.client.describe_backup_job().backup_job_id(&job).send().await.on(op("DescribeBackupJob"), "backup job", &job)?;
                Ok(match out.state() {
                    Some(BackupJobState::Completed) => match out.recovery_point_arn() {
                        Some(arn) => Poll::Ready(arn.to_owned()),
                        None => Poll::Failed("completed without a recovery point".into()),
                    },
                    Some(s @ (BackupJobState::Failed | BackupJobState::Aborted | BackupJobState::Expired)) => {
                        Poll::Failed(format!("{} ({})", s.as_str(), out.status_message().unwrap_or("")))
                    }
                    other => Poll::Pending(other.map_or("unknown", BackupJobState::as_str).to_ascii_lowercase()),
                })
            })
            .await?;
        self.recovery_point(vault, &arn).await?.ok_or_else(|| Error::not_found("recovery point", arn))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn list_recovery_points(&self, vault: &ResourceName) -> Result<Vec<RecoveryPoint>> {
        let list = op("ListRecoveryPointsByBackupVault");
        let mut points = Vec::new();
        let mut pages = self.client.list_recovery_points_by_backup_vault().backup_vault_name(vault.as_str()).into_paginator().send();
        while let Some(page) = pages.next().await {
            for p in page.on(list, "backup vault", vault.as_str())?.recovery_points() {
                let id = p.recovery_point_arn().ok_or_else(|| missing(list, "recovery point ARN"))?.to_owned();
                points.push(RecoveryPoint {
                    continuous: id.contains(":recovery-point:continuous:"),
                    id,
                    vault: vault.clone(),
                    resource: p.resource_arn().unwrap_or_default().to_owned(),
                    created: p.creation_date().and_then(timestamp),
                    status: point_status(p.status()),
                });
            }
        }
        points.sort_by_key(|p| p.created);
        Ok(points)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn restore(&self, vault: &ResourceName, recovery_point: &str, options: &RestoreOptions) -> Result<RestoreResult> {
        let meta = op("GetRecoveryPointRestoreMetadata");
        let out = self
            .client
            .get_recovery_point_restore_metadata()
            .backup_vault_name(vault.as_str())
            .recovery_point_arn(recovery_point)
            .send()
            .await
            .on(meta, "recovery point", recovery_point)?;
        let mut metadata: HashMap<String, String> = out.restore_metadata().cloned().unwrap_or_default();
        metadata.extend(options.metadata.clone());
        let state = self.vault(vault.as_str()).await?.ok_or_else(|| Error::not_found("backup vault", vault.as_str()))?;
        let role = options.role.clone().unwrap_or_else(|| {
            let account = state.arn.split(':').nth(4).unwrap_or_default();
            format!("arn:{}:iam::{account}:role/service-role/AWSBackupDefaultServiceRole", self.partition)
        });
        let start = op("StartRestoreJob");
        let out = self
            .client
            .start_restore_job()
            .recovery_point_arn(recovery_point)
            .iam_role_arn(role)
            .set_metadata(Some(metadata))
            .send()
            .await
            .on(start, "recovery point", recovery_point)?;
        let job = out.restore_job_id().ok_or_else(|| missing(start, "job id"))?.to_owned();
        let created = self
            .waiter
            .wait(&format!("restore job {job} to complete"), || async {
                let out = self.client.describe_restore_job().restore_job_id(&job).send().await.on(
                    op("DescribeRestoreJob"),
                    "restore job",
                    &job,
                )?;
                Ok(match out.status() {
                    Some(RestoreJobStatus::Completed) => Poll::Ready(out.created_resource_arn().map(str::to_owned)),
                    Some(s @ (RestoreJobStatus::Failed | RestoreJobStatus::Aborted)) => {
                        Poll::Failed(format!("{} ({})", s.as_str(), out.status_message().unwrap_or("")))
                    }
                    other => Poll::Pending(other.map_or("unknown", RestoreJobStatus::as_str).to_ascii_lowercase()),
                })
            })
            .await?;
        Ok(RestoreResult { job_id: job, created_resource: created })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn delete_recovery_point(&self, vault: &ResourceName, recovery_point: &str, confirm: &Confirm) -> Result<()> {
        confirm.check("delete a recovery point of backup vault", vault.as_str())?;
        self.client.delete_recovery_point().backup_vault_name(vault.as_str()).recovery_point_arn(recovery_point).send().await.on(
            op("DeleteRecoveryPoint"),
            "recovery point",
            recovery_point,
        )?;
        self.waiter
            .wait(&format!("recovery point {recovery_point} to be deleted"), || async {
                Ok(match self.recovery_point(vault, recovery_point).await? {
                    None => Poll::Ready(()),
                    Some(p) => Poll::Pending(format!("{:?}", p.status)),
                })
            })
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %plan))]
    async fn backup_plan_exists(&self, plan: &ResourceName) -> Result<bool> {
        Ok(self.plan_id(plan.as_str()).await?.is_some())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %plan))]
    async fn delete_plan(&self, plan: &ResourceName) -> Result<()> {
        let name = plan.as_str();
        let id = self.plan_id(name).await?.ok_or_else(|| Error::not_found("backup plan", name))?;
        let delete = op("DeleteBackupPlan");
        match self.client.delete_backup_plan().backup_plan_id(&id).send().await {
            Ok(_) => return Ok(()),
            // AWS refuses to delete a plan that still has selections: delete them, then the plan.
            Err(e) if error_code(&e) == Some("InvalidRequestException") => {}
            Err(e) => return Err(e).on(delete, "backup plan", name),
        }
        let list = op("ListBackupSelections");
        let mut ids = Vec::new();
        let mut pages = self.client.list_backup_selections().backup_plan_id(&id).into_paginator().send();
        while let Some(page) = pages.next().await {
            ids.extend(
                page.on(list, "backup plan", name)?.backup_selections_list().iter().filter_map(|s| s.selection_id().map(str::to_owned)),
            );
        }
        for selection in ids {
            self.client.delete_backup_selection().backup_plan_id(&id).selection_id(selection).send().await.on(
                op("DeleteBackupSelection"),
                "backup plan",
                name,
            )?;
        }
        self.client.delete_backup_plan().backup_plan_id(&id).send().await.on(delete, "backup plan", name)?;
        Ok(())
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "backup vault", name = %vault))]
    async fn delete_vault(&self, vault: &ResourceName) -> Result<()> {
        let name = vault.as_str();
        let state = self.vault(name).await?.ok_or_else(|| Error::not_found("backup vault", name))?;
        if state.recovery_points > 0 {
            return Err(Error::conflict(
                "backup vault",
                name,
                format!("holds {} recovery points: delete them first", state.recovery_points),
            ));
        }
        self.client.delete_backup_vault().backup_vault_name(name).send().await.on(op("DeleteBackupVault"), "backup vault", name)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploy_core::backup::{BackupRule, VaultSpec};
    use deploy_core::{CronSchedule, RetentionDays};

    fn spec() -> BackupSpec {
        BackupSpec {
            vault: VaultSpec { name: ResourceName::new("prod-vault").unwrap(), encryption_key: None, tags: BTreeMap::new() },
            plan: Some(BackupPlanSpec {
                name: ResourceName::new("prod-plan").unwrap(),
                rules: vec![BackupRule {
                    name: ResourceName::new("daily").unwrap(),
                    schedule: CronSchedule::new("0 3 * * *").unwrap(),
                    retention: RetentionDays::new(35).unwrap(),
                    continuous: true,
                }],
                resources: vec!["arn:aws:rds:eu-central-1:123456789012:db:prod-db".into()],
                role: None,
            }),
        }
    }

    #[test]
    fn aws_backup_rules_are_checked_before_any_request() {
        assert!(validate_spec(&spec()).is_ok());
        let mut s = spec();
        s.vault.encryption_key = Some("alias/backup".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("vault.encryption_key"));
        let mut s = spec();
        s.plan.as_mut().unwrap().resources = vec!["prod-db".into()];
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("plan.resources[0]"));
        let mut s = spec();
        s.plan.as_mut().unwrap().role = Some("arn:aws:s3:::bucket".into());
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("plan.role"));
        let mut s = spec();
        s.vault.name = ResourceName::new("v").unwrap();
        assert_eq!(validate_spec(&s).unwrap_err().invalid_field(), Some("vault.name"));
    }

    #[test]
    fn rules_are_compared_in_aws_form() {
        let s = spec();
        let rules = rules_of_spec(s.plan.as_ref().unwrap(), "prod-vault");
        assert_eq!(rules["daily"], "cron(0 3 * * ? *), 35 days, continuous into prod-vault");
    }
}
