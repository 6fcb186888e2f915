//! What RDS instances and Aurora clusters share: the service's name, its
//! errors, network checks, statuses, tags, plans, and [`RdsDatabase`], the
//! service both are reached through.

use std::collections::BTreeMap;

use aws_sdk_rds::Client;
use aws_sdk_rds::error::SdkError;
use aws_sdk_rds::types::Tag;
use deploy_core::database::{DatabaseNetwork, DatabaseSpec, DatabaseStatus};
use deploy_core::plan::{Action, Change, FieldChange, Plan};
use deploy_core::waiter::Waiter;
use deploy_core::{Error, PgIdentifier, Result};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, error_code, map_sdk_error};

pub(super) const SERVICE: &str = "aws-rds";

pub(super) const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// Map an RDS error to the resource its code is about: `DBSnapshot*` codes
/// name the snapshot, `DBParameterGroup*` the parameter group,
/// `DBSubnetGroup*` the subnet group, anything else `subject`.
pub(super) fn rds_error<E>(
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
    op: Op,
    subject: (&'static str, &str),
    others: &[(&str, &'static str, &str)],
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error_code(&err).unwrap_or_default().to_owned();
    let (kind, name) = others.iter().find(|(prefix, _, _)| code.starts_with(prefix)).map_or(subject, |(_, kind, name)| (*kind, *name));
    map_sdk_error(err, op, kind, name)
}

pub(super) fn validate_network(network: &DatabaseNetwork, field: &str) -> Result<()> {
    for (i, sg) in network.security_groups.iter().enumerate() {
        let hex = sg.strip_prefix("sg-").unwrap_or("");
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                format!("{field}.security_groups[{i}]"),
                format!("`{sg}` is not a security group id"),
                "VPC security group ids: sg- and hexadecimal digits",
            ));
        }
    }
    if let Some(group) = &network.subnet_group
        && (group.is_empty() || group.len() > 255 || !group.chars().all(|c| c.is_ascii_alphanumeric() || " ._-".contains(c)))
    {
        return Err(Error::invalid(
            format!("{field}.subnet_group"),
            format!("`{group}` is not a DB subnet group name"),
            "DB subnet group names: 1-255 letters, digits, spaces, periods, underscores and hyphens",
        ));
    }
    Ok(())
}

pub(super) fn status_of(s: &str) -> DatabaseStatus {
    match s {
        "available" | "storage-optimization" => DatabaseStatus::Available,
        "creating" => DatabaseStatus::Creating,
        "backing-up" => DatabaseStatus::BackingUp,
        "deleting" => DatabaseStatus::Deleting,
        "modifying"
        | "configuring-enhanced-monitoring"
        | "configuring-iam-database-auth"
        | "configuring-log-exports"
        | "converting-to-vpc"
        | "moving-to-vpc"
        | "rebooting"
        | "renaming"
        | "resetting-master-credentials"
        | "upgrading"
        | "maintenance"
        | "starting"
        | "storage-config-upgrade" => DatabaseStatus::Modifying,
        "failed"
        | "incompatible-network"
        | "incompatible-option-group"
        | "incompatible-parameters"
        | "incompatible-restore"
        | "inaccessible-encryption-credentials"
        | "restore-error"
        | "storage-full" => DatabaseStatus::Failed,
        other => DatabaseStatus::Other(other.to_owned()),
    }
}

pub(super) fn sorted(v: &[PgIdentifier]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|e| e.as_str().to_ascii_lowercase()).collect();
    v.sort();
    v
}

/// Bring the tags of the resource `arn` (database `name`) from `have` to
/// `want`: remove the keys `want` lacks, add or change the others.
pub(super) async fn sync_tags(client: &Client, arn: &str, name: &str, have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> Result<()> {
    let stale: Vec<String> = have.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
    if !stale.is_empty() {
        client.remove_tags_from_resource().resource_name(arn).set_tag_keys(Some(stale)).send().await.on(
            op("RemoveTagsFromResource"),
            "database",
            name,
        )?;
    }
    let changed: BTreeMap<String, String> = want.iter().filter(|(k, v)| have.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !changed.is_empty() {
        client.add_tags_to_resource().resource_name(arn).set_tags(rds_tags(&changed)).send().await.on(op("AddTagsToResource"), "database", name)?;
    }
    Ok(())
}

pub(super) fn rds_tags(tags: &BTreeMap<String, String>) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect())
}

/// Add AWS-only fields to the neutral plan's update and drift changes.
pub(super) fn merge(plan: &mut Plan, spec: &DatabaseSpec, updates: Vec<FieldChange>, drift: Vec<FieldChange>) {
    for (fields, is_update) in [(updates, true), (drift, false)] {
        if fields.is_empty() {
            continue;
        }
        let existing = plan.changes.iter_mut().find(|c| match &c.action {
            Action::Update { .. } => is_update,
            Action::Drift { .. } => !is_update,
            _ => false,
        });
        match existing.map(|c| &mut c.action) {
            Some(Action::Update { fields: have } | Action::Drift { fields: have }) => have.extend(fields),
            _ if is_update => plan.push(Change::update("database", spec.name.as_str(), fields)),
            _ => plan.push(Change::drift("database", spec.name.as_str(), fields)),
        }
    }
}

/// The [`Database`](deploy_core::Database) on RDS for PostgreSQL. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct RdsDatabase {
    pub(super) client: Client,
    pub(super) ctx: AwsContext,
    pub(super) waiter: Waiter,
}

impl RdsDatabase {
    /// RDS built from `ctx`, waiting with its waiter.
    pub fn new(ctx: &AwsContext) -> Self {
        RdsDatabase { client: ctx.client(), ctx: ctx.clone(), waiter: ctx.waiter() }
    }

    /// Wait for long operations with `waiter`.
    #[must_use]
    pub fn with_waiter(mut self, waiter: Waiter) -> Self {
        self.waiter = waiter;
        self
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
