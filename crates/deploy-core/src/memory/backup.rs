use async_trait::async_trait;
use jiff::Timestamp;

use super::InMemoryCloud;
use super::state::{MemVault, Pending, current};
use crate::backup::{
    BackupPlanSpec, BackupSpec, BackupVault, RecoveryPoint, RecoveryPointStatus, RestoreOptions, RestoreResult, VaultInfo,
};
use crate::error::{Confirm, Error, Result};
use crate::plan::{Change, Diff, Plan};
use crate::reconcile::Mode;
use crate::validate::ResourceName;
use crate::waiter::Poll;

fn no_vault(name: &ResourceName) -> Error {
    Error::not_found("backup vault", name.as_str())
}

impl InMemoryCloud {
    fn backup_plan(&self, spec: &BackupSpec) -> Result<Plan> {
        spec.validate()?;
        let state = self.state();
        let mut plan = Plan::new();
        match state.vaults.get(spec.vault.name.as_str()) {
            None => plan.push(Change::create("backup vault", spec.vault.name.as_str())),
            Some(v) => {
                let mut d = Diff::new();
                d.field("tags", &v.spec.tags, &spec.vault.tags);
                if !d.is_empty() {
                    plan.push(Change::update("backup vault", spec.vault.name.as_str(), d.into_fields()));
                }
                let mut drift = Diff::new();
                drift.field("encryption_key", &v.spec.encryption_key, &spec.vault.encryption_key);
                if !drift.is_empty() {
                    plan.push(Change::drift("backup vault", spec.vault.name.as_str(), drift.into_fields()));
                }
            }
        }
        if let Some(want) = &spec.plan {
            match state.plans.get(want.name.as_str()) {
                None => plan.push(Change::create("backup plan", want.name.as_str())),
                Some(have) => {
                    let mut d = Diff::new();
                    d.field("rules", &have.rules, &want.rules)
                        .field("resources", &have.resources, &want.resources)
                        .field("role", &have.role, &want.role);
                    if !d.is_empty() {
                        plan.push(Change::update("backup plan", want.name.as_str(), d.into_fields()));
                    }
                }
            }
        }
        Ok(plan)
    }

    fn points_view(&self, vault: &ResourceName) -> Result<Vec<RecoveryPoint>> {
        let mut state = self.state();
        let v = state.vaults.get_mut(vault.as_str()).ok_or_else(|| no_vault(vault))?;
        Ok(v.points
            .iter_mut()
            .map(|(p, pending)| {
                if current(pending).is_none() && p.status == RecoveryPointStatus::Partial {
                    p.status = RecoveryPointStatus::Completed;
                }
                p.clone()
            })
            .collect())
    }
}

#[async_trait]
impl BackupVault for InMemoryCloud {
    fn backend(&self) -> &'static str {
        "memory"
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %spec.vault.name))]
    async fn reconcile_backup(&self, spec: &BackupSpec, mode: Mode) -> Result<Plan> {
        let plan = self.backup_plan(spec)?;
        if self.enter_reconcile(mode, ["plan_backup", "ensure_backup"], &plan)? && plan.has_mutations() {
            let mut state = self.state();
            let vault = state
                .vaults
                .entry(spec.vault.name.as_str().to_owned())
                .or_insert_with(|| MemVault { spec: spec.vault.clone(), points: Vec::new() });
            vault.spec.tags = spec.vault.tags.clone();
            if let Some(p) = &spec.plan {
                state.plans.insert(p.name.as_str().to_owned(), BackupPlanSpec::clone(p));
            }
        }
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn describe_vault(&self, vault: &ResourceName) -> Result<VaultInfo> {
        self.enter("describe_vault", false)?;
        let state = self.state();
        let v = state.vaults.get(vault.as_str()).ok_or_else(|| no_vault(vault))?;
        Ok(VaultInfo { name: vault.clone(), encryption_key: v.spec.encryption_key.clone(), recovery_points: v.points.len() as u64 })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn start_backup(&self, vault: &ResourceName, resource: &str, _role: Option<String>) -> Result<RecoveryPoint> {
        if resource.trim().is_empty() {
            return Err(Error::invalid("resource", "is blank", "a resource identifier such as an ARN"));
        }
        self.enter("start_backup", true)?;
        let id = {
            let until = self.ready_at();
            let mut state = self.state();
            let n = state.next_id();
            let v = state.vaults.get_mut(vault.as_str()).ok_or_else(|| no_vault(vault))?;
            let id = format!("memory:recovery-point:{vault}:{n}");
            let point = RecoveryPoint {
                id: id.clone(),
                vault: vault.clone(),
                resource: resource.to_owned(),
                created: Some(Timestamp::now()),
                status: RecoveryPointStatus::Partial,
                continuous: false,
            };
            v.points.push((point, Pending::new(until, "partial")));
            id
        };
        self.waiter()
            .wait(&format!("recovery point {id} to complete"), || async {
                let point =
                    self.points_view(vault)?.into_iter().find(|p| p.id == id).ok_or_else(|| Error::not_found("recovery point", &id))?;
                Ok(match point.status {
                    RecoveryPointStatus::Completed => Poll::Ready(point),
                    other => Poll::Pending(format!("{other:?}").to_lowercase()),
                })
            })
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn list_recovery_points(&self, vault: &ResourceName) -> Result<Vec<RecoveryPoint>> {
        self.enter("list_recovery_points", false)?;
        self.points_view(vault)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn restore(&self, vault: &ResourceName, recovery_point: &str, options: &RestoreOptions) -> Result<RestoreResult> {
        let point = self
            .points_view(vault)?
            .into_iter()
            .find(|p| p.id == recovery_point)
            .ok_or_else(|| Error::not_found("recovery point", recovery_point))?;
        if point.status != RecoveryPointStatus::Completed {
            return Err(Error::conflict("recovery point", recovery_point, "is not complete"));
        }
        self.enter("restore", true)?;
        let job = format!("memory:restore-job:{}", self.state().next_id());
        let created = options.metadata.get("target").cloned().unwrap_or(point.resource);
        Ok(RestoreResult { job_id: job, created_resource: Some(created) })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn delete_recovery_point(&self, vault: &ResourceName, recovery_point: &str, confirm: &Confirm) -> Result<()> {
        confirm.check("delete recovery point in vault", vault.as_str())?;
        self.enter("delete_recovery_point", true)?;
        let mut state = self.state();
        let v = state.vaults.get_mut(vault.as_str()).ok_or_else(|| no_vault(vault))?;
        let before = v.points.len();
        v.points.retain(|(p, _)| p.id != recovery_point);
        if v.points.len() == before {
            return Err(Error::not_found("recovery point", recovery_point));
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "backup vault", name = %plan))]
    async fn backup_plan_exists(&self, plan: &ResourceName) -> Result<bool> {
        self.enter("backup_plan_exists", false)?;
        Ok(self.state().plans.contains_key(plan.as_str()))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %plan))]
    async fn delete_plan(&self, plan: &ResourceName) -> Result<()> {
        self.enter("delete_plan", true)?;
        self.state().plans.remove(plan.as_str()).map(|_| ()).ok_or_else(|| Error::not_found("backup plan", plan.as_str()))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "backup vault", name = %vault))]
    async fn delete_vault(&self, vault: &ResourceName) -> Result<()> {
        let state = self.state();
        let v = state.vaults.get(vault.as_str()).ok_or_else(|| no_vault(vault))?;
        if !v.points.is_empty() {
            return Err(Error::conflict(
                "backup vault",
                vault.as_str(),
                format!("holds {} recovery points; delete them first", v.points.len()),
            ));
        }
        drop(state);
        self.enter("delete_vault", true)?;
        self.state().vaults.remove(vault.as_str());
        Ok(())
    }
}
