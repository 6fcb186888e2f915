//! [`BackupVault`]: a vault of recovery points, a plan that fills it, restores.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Confirm, Error, Result};
use crate::forward::provider_trait;
use crate::plan::Plan;
use crate::reconcile::Mode;
use crate::validate::{CronSchedule, ResourceName, RetentionDays};

/// A vault holding recovery points, always encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSpec {
    /// The vault's name.
    pub name: ResourceName,
    /// A customer-managed key (KMS key ARN); `None`: the provider's key.
    #[serde(default)]
    pub encryption_key: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// One rule of a backup plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRule {
    /// The rule's name.
    pub name: ResourceName,
    /// When backups start.
    pub schedule: CronSchedule,
    /// How long recovery points are kept.
    pub retention: RetentionDays,
    /// Continuous backup for point-in-time restore (retention at most 35 days).
    #[serde(default)]
    pub continuous: bool,
}

/// A plan that fills a vault, and the resources it backs up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupPlanSpec {
    /// The plan's name.
    pub name: ResourceName,
    /// Its rules.
    pub rules: Vec<BackupRule>,
    /// The resources to back up (ARNs on AWS).
    #[serde(default)]
    pub resources: Vec<String>,
    /// The role the backup service assumes (AWS: an IAM role ARN).
    #[serde(default)]
    pub role: Option<String>,
}

/// A vault and, optionally, the plan that fills it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSpec {
    /// The vault.
    pub vault: VaultSpec,
    /// The plan.
    #[serde(default)]
    pub plan: Option<BackupPlanSpec>,
}

impl BackupSpec {
    /// Check the rules' constraints that no type carries.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`plan.rules[0].retention`).
    pub fn validate(&self) -> Result<()> {
        let Some(plan) = &self.plan else { return Ok(()) };
        if plan.rules.is_empty() {
            return Err(Error::invalid("plan.rules", "is empty", "a backup plan has at least one rule"));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, rule) in plan.rules.iter().enumerate() {
            if rule.continuous && rule.retention.days() > 35 {
                return Err(Error::invalid(
                    format!("plan.rules[{i}].retention"),
                    format!("is {} for a continuous backup", rule.retention),
                    "continuous backups keep 1 to 35 days",
                ));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(Error::invalid(
                    format!("plan.rules[{i}].name"),
                    format!("repeats `{}`", rule.name),
                    "rule names are unique in a plan",
                ));
            }
        }
        if let Some(i) = plan.resources.iter().position(|r| r.trim().is_empty()) {
            return Err(Error::invalid(format!("plan.resources[{i}]"), "is blank", "resource identifiers such as ARNs"));
        }
        Ok(())
    }
}

/// A vault as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultInfo {
    /// The vault's name.
    pub name: ResourceName,
    /// The encryption key in use (`None`: the provider's).
    pub encryption_key: Option<String>,
    /// How many recovery points it holds.
    pub recovery_points: u64,
}

/// The state of a recovery point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecoveryPointStatus {
    /// Being written.
    Partial,
    /// Complete.
    Completed,
    /// Being deleted.
    Deleting,
    /// Expired or failed.
    Other(String),
}

/// One recovery point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    /// Its id (an ARN on AWS).
    pub id: String,
    /// The vault holding it.
    pub vault: ResourceName,
    /// The resource it backs up.
    pub resource: String,
    /// When it was taken.
    pub created: Option<Timestamp>,
    /// Its state.
    pub status: RecoveryPointStatus,
    /// Whether it is a continuous (point-in-time) recovery point.
    pub continuous: bool,
}

/// Options of [`BackupVault::restore`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// The role the backup service assumes for the restore.
    pub role: Option<String>,
    /// Resource-type specific settings (AWS restore metadata such as
    /// `DestinationBucketName`, `NewBucket`, `RestoreTime`).
    pub metadata: BTreeMap<String, String>,
}

/// What a restore job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreResult {
    /// The job's id.
    pub job_id: String,
    /// The resource it created or wrote, when the provider says.
    pub created_resource: Option<String>,
}

provider_trait! {
    /// A backup vault and its plan: AWS Backup, or in memory. (Azure has no
    /// neutral counterpart; see `deploy-azure`'s documentation for the mapping.)
    #[cfg_attr(feature = "mock", mockall::automock)]
    #[async_trait]
    pub trait BackupVault: Send + Sync + Debug {
        /// The backend's name.
        fn backend(&self) -> &'static str;

        /// Compare the vault, the plan and its resource selection with `spec` and, in [`Mode::Apply`],
        /// create what is missing and bring them to `spec`; answers the changes planned or made.
        ///
        /// # Errors
        /// [`Error::InvalidInput`] before any request; provider errors.
        reconcile_backup(BackupSpec) with plan_backup, ensure_backup for "backup";

        /// The vault as the provider reports it.
        ///
        /// # Errors
        /// [`Error::NotFound`].
        async fn describe_vault(&self, vault: &ResourceName) -> Result<VaultInfo>;

        /// Start an on-demand backup of `resource` into the vault and wait until its
        /// recovery point is complete.
        ///
        /// # Errors
        /// [`Error::NotFound`] for the vault; [`Error::Timeout`].
        async fn start_backup(&self, vault: &ResourceName, resource: &str, role: Option<String>) -> Result<RecoveryPoint>;

        /// The vault's recovery points, oldest first.
        ///
        /// # Errors
        /// [`Error::NotFound`] for the vault.
        async fn list_recovery_points(&self, vault: &ResourceName) -> Result<Vec<RecoveryPoint>>;

        /// Restore a recovery point and wait until the restore job completes.
        ///
        /// # Errors
        /// [`Error::NotFound`]; [`Error::Timeout`].
        async fn restore(&self, vault: &ResourceName, recovery_point: &str, options: &RestoreOptions) -> Result<RestoreResult>;

        /// Delete a recovery point: data, so `confirm` must name the vault. Waits until gone.
        ///
        /// # Errors
        /// [`Error::ConfirmationRequired`]; [`Error::NotFound`].
        async fn delete_recovery_point(&self, vault: &ResourceName, recovery_point: &str, confirm: &Confirm) -> Result<()>;

        /// Whether a backup plan of this name exists.
        ///
        /// # Errors
        /// Provider errors.
        async fn backup_plan_exists(&self, plan: &ResourceName) -> Result<bool>;

        /// Delete the backup plan and its selections.
        ///
        /// # Errors
        /// [`Error::NotFound`].
        async fn delete_plan(&self, plan: &ResourceName) -> Result<()>;

        /// Delete the vault. It must hold no recovery points (delete them first).
        ///
        /// # Errors
        /// [`Error::Conflict`] while recovery points remain; [`Error::NotFound`].
        async fn delete_vault(&self, vault: &ResourceName) -> Result<()>;
    }
}
