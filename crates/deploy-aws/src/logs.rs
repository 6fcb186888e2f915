//! CloudWatch Logs: a log group and how long it keeps its events — where
//! EKS sends a cluster's control-plane logs (`/aws/eks/CLUSTER/cluster`).
//!
//! [`Logs`] reconciles a [`LogGroupSpec`] ([`Reconcile`]: `plan` / `ensure`):
//! the group is created when missing (EKS would create it with no expiry on
//! the first log) and its retention set when it differs. Deleting the group
//! ([`Logs::delete_log_group`]) deletes its events: the confirmation names it.

use aws_sdk_cloudwatchlogs::Client;
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{Confirm, Error, Result, ResultExt as _};
use serde::{Deserialize, Serialize};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt};

const SERVICE: &str = "aws-logs";
const KIND: &str = "log group";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// What a log group should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupSpec {
    /// Its name (`/aws/eks/CLUSTER/cluster`).
    pub name: String,
    /// Days its events are kept (one of CloudWatch's retentions,
    /// [`deploy_core::env::ControlPlaneLogs::RETENTION_DAYS`]).
    pub retention_days: u32,
}

impl LogGroupSpec {
    /// The group EKS writes the control-plane logs of `cluster` to.
    pub fn eks_control_plane(cluster: &str, retention_days: u32) -> Self {
        LogGroupSpec { name: format!("/aws/eks/{cluster}/cluster"), retention_days }
    }

    /// Check the spec before any request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `name` (1-512 characters of `[A-Za-z0-9_\-/.#]`) or `retention_days`.
    pub fn validate(&self) -> Result<()> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 512
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.' | '#'));
        if !ok {
            return Err(Error::invalid("name", format!("`{}`", self.name), "1-512 letters, digits, `_`, `-`, `/`, `.` and `#`"));
        }
        deploy_core::env::ControlPlaneLogs { retention_days: self.retention_days }.validate().map_err(|e| match e {
            Error::InvalidInput { problem, rule, .. } => Error::InvalidInput { field: "retention_days".into(), problem, rule },
            other => other,
        })
    }
}

/// A log group as CloudWatch Logs reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGroupInfo {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: Option<String>,
    /// Days its events are kept (`None`: forever).
    pub retention_days: Option<u32>,
}

/// CloudWatch Logs groups. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Logs {
    client: Client,
}

/// The group of `spec`, created when missing, its retention set when it
/// differs. Callers use the provided [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request; provider errors.
#[async_trait::async_trait]
impl Reconcile<LogGroupSpec> for Logs {
    type Info = LogGroupInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = KIND, name = %spec.name, mode = ?mode))]
    async fn reconcile(&self, spec: &LogGroupSpec, mode: Mode) -> Result<Reconciled<LogGroupInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let found = self.describe_log_group(name).await.found()?;
        let mut plan = Plan::new();
        if found.is_none() {
            plan.push(Change::create(KIND, name));
            if !mode.is_apply() {
                return Ok(Reconciled { plan, info: None });
            }
            match self.client.create_log_group().log_group_name(name).send().await.on(op("CreateLogGroup"), KIND, name) {
                // Made meanwhile (EKS makes it on the first log, or an answer was lost).
                Err(Error::AlreadyExists { .. }) => {}
                r => {
                    r?;
                }
            }
        }
        let current = found.as_ref().and_then(|g| g.retention_days);
        if current != Some(spec.retention_days) {
            if found.is_some() {
                let from = current.map_or_else(|| "never expire".to_owned(), |d| format!("{d} days"));
                plan.push(Change::update(KIND, name, vec![FieldChange::new("retention", from, format!("{} days", spec.retention_days))]));
            }
            if mode.is_apply() {
                let days = i32::try_from(spec.retention_days).unwrap_or(i32::MAX);
                self.client.put_retention_policy().log_group_name(name).retention_in_days(days).send().await.on(
                    op("PutRetentionPolicy"),
                    KIND,
                    name,
                )?;
            }
        }
        if !mode.is_apply() {
            return Ok(Reconciled { plan, info: found });
        }
        Ok(Reconciled { plan, info: Some(self.describe_log_group(name).await?) })
    }
}

impl Logs {
    /// CloudWatch Logs built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        Logs { client: ctx.client() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The log group `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; provider errors.
    pub async fn describe_log_group(&self, name: &str) -> Result<LogGroupInfo> {
        let describe = op("DescribeLogGroups");
        let mut pages = self.client.describe_log_groups().log_group_name_prefix(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            if let Some(g) = page.on(describe, KIND, name)?.log_groups().iter().find(|g| g.log_group_name() == Some(name)) {
                return Ok(LogGroupInfo {
                    name: name.to_owned(),
                    arn: g.arn().map(str::to_owned),
                    retention_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                });
            }
        }
        Err(Error::not_found(KIND, name))
    }

    /// Delete the log group `name` and its events: `confirm` must name it.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] before any request; [`Error::NotFound`]; provider errors.
    pub async fn delete_log_group(&self, name: &str, confirm: &Confirm) -> Result<()> {
        confirm.check("delete the log group and its events", name)?;
        self.client.delete_log_group().log_group_name(name).send().await.on(op("DeleteLogGroup"), KIND, name)?;
        Ok(())
    }
}
