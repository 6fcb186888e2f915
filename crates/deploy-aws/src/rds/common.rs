//! What RDS instances and Aurora clusters share: the service's name, its
//! errors, network, region, restore and password checks, statuses, tags and plans.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_rds::Client;
use aws_sdk_rds::error::SdkError;
use aws_sdk_rds::types::Tag;
use deploy_core::database::{
    DatabaseInfo, DatabaseNetwork, DatabaseSpec, DatabaseStatus, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotInfo, SnapshotStatus,
};
use deploy_core::plan::{Action, Change, FieldChange, Plan};
use deploy_core::waiter::{Poll, Waiter};
use deploy_core::{Error, PasswordRules, PgIdentifier, ResourceName, Result};
use jiff::Timestamp;

use crate::context::AwsContext;
use crate::convert::timestamp;
use crate::error::{Op, SdkResultExt, error_code, map_sdk_error, missing};

pub(super) const SERVICE: &str = "aws-rds";

/// Declare one of the two RDS backends: the SDK client, the context it was
/// built from (for the same RDS in another region) and the waiter of long
/// operations, with `new`, `with_waiter` and `client`.
macro_rules! rds_backend {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name {
            pub(super) client: aws_sdk_rds::Client,
            pub(super) ctx: crate::context::AwsContext,
            pub(super) waiter: deploy_core::waiter::Waiter,
        }

        impl $name {
            #[doc = concat!($what, " built from `ctx`, waiting with its waiter.")]
            pub fn new(ctx: &crate::context::AwsContext) -> Self {
                $name { client: ctx.client(), ctx: ctx.clone(), waiter: ctx.waiter() }
            }

            /// Wait for long operations with `waiter`.
            #[must_use]
            pub fn with_waiter(mut self, waiter: deploy_core::waiter::Waiter) -> Self {
                self.waiter = waiter;
                self
            }

            /// The SDK client.
            pub fn client(&self) -> &aws_sdk_rds::Client {
                &self.client
            }
        }
    };
}
pub(super) use rds_backend;

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

/// The error of a `CreateDBInstance` / `CreateDBCluster` of `spec`: a
/// `DBSubnetGroup*` code names the subnet group, a `group_code*` code
/// (`DBParameterGroup`, `DBClusterParameterGroup`) the parameter group `group`.
pub(super) fn create_error<E>(
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
    op: Op,
    spec: &DatabaseSpec,
    group_code: &str,
    group: &str,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let subnet_group = spec.network.subnet_group.as_deref().unwrap_or("-");
    rds_error(
        err,
        op,
        ("database", spec.name.as_str()),
        &[("DBSubnetGroup", "subnet group", subnet_group), (group_code, "parameter group", group)],
    )
}

/// A DB or cluster snapshot as RDS describes it: its identifier, the
/// database's, its status and creation time.
pub(super) fn snapshot_of(
    identifier: Option<&str>,
    database: &str,
    status: Option<&str>,
    created: Option<&aws_smithy_types::DateTime>,
    describe: Op,
) -> Result<SnapshotInfo> {
    Ok(SnapshotInfo {
        name: ResourceName::new(identifier.ok_or_else(|| missing(describe, "snapshot identifier"))?)?,
        database: ResourceName::new(database)?,
        status: match status {
            Some("available") => SnapshotStatus::Available,
            Some("creating") => SnapshotStatus::Creating,
            other => SnapshotStatus::Other(other.unwrap_or("unknown").to_owned()),
        },
        created: created.and_then(timestamp),
    })
}

/// The fields the `Update` changes of `plan` name.
pub(super) fn updated_fields(plan: &Plan) -> BTreeSet<&str> {
    plan.changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Update { fields } => Some(fields),
            _ => None,
        })
        .flatten()
        .map(|f| f.field.as_str())
        .collect()
}

/// How a delete treats its final snapshot: `skip_final_snapshot`, the
/// snapshot's identifier, and its name for errors (`-` when skipped).
pub(super) fn final_snapshot_args(final_snapshot: &FinalSnapshot) -> (bool, Option<String>, &str) {
    match final_snapshot {
        FinalSnapshot::Skip => (true, None, "-"),
        FinalSnapshot::Take(snapshot) => (false, Some(snapshot.as_str().to_owned()), snapshot.as_str()),
    }
}

/// Wait with `waiter` until `status` finds nothing: it answers the status of
/// what is left (`None` when gone).
pub(super) async fn wait_gone<F, Fut>(waiter: &Waiter, what: &str, status: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>>>,
{
    waiter
        .wait(what, || async {
            Ok(match status().await? {
                None => Poll::Ready(()),
                Some(status) => Poll::Pending(status),
            })
        })
        .await
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
pub(super) async fn sync_tags(
    client: &Client,
    arn: &str,
    name: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<()> {
    let stale: Vec<String> = have.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
    if !stale.is_empty() {
        client.remove_tags_from_resource().resource_name(arn).set_tag_keys(Some(stale)).send().await.on(
            op("RemoveTagsFromResource"),
            "database",
            name,
        )?;
    }
    let changed: BTreeMap<String, String> =
        want.iter().filter(|(k, v)| have.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    if !changed.is_empty() {
        client.add_tags_to_resource().resource_name(arn).set_tags(rds_tags(&changed)).send().await.on(
            op("AddTagsToResource"),
            "database",
            name,
        )?;
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

/// Refuse a cross-region replica in the client's own region, before any request.
pub(super) fn check_regions(ctx: &AwsContext, spec: &DatabaseSpec) -> Result<()> {
    if let (Some(replica), Some(own)) = (&spec.topology.cross_region_replica, ctx.region())
        && replica.region == own
    {
        return Err(Error::invalid(
            "topology.cross_region_replica.region",
            format!("`{}` is the source's own region", replica.region),
            "a cross-region replica runs in another region than its source",
        ));
    }
    if let (Some(zone), Some(own)) = (&spec.topology.writer_zone, ctx.region())
        && deploy_core::database::zone_region(zone) != own
    {
        return Err(Error::invalid(
            "topology.writer_zone",
            format!("`{zone}` is not in region {own}"),
            "the writer runs in a zone of the client's region",
        ));
    }
    Ok(())
}

/// The checks of a restore made before any request: the target's network and,
/// for a point in time, that it is not in the future.
pub(super) fn check_restore(target: &RestoreTarget, point: Option<RestorePoint>) -> Result<()> {
    if let Some(network) = &target.network {
        validate_network(network, "target.network")?;
    }
    // A time in the future is wrong whatever the source: refuse it before any request.
    let now = Timestamp::now();
    if let Some(RestorePoint::At(t)) = point
        && t > now
    {
        let rule = "restore times: not in the future and within the source's restorable window (its backup retention)";
        return Err(Error::invalid("restore_time", format!("{t} is in the future (now {now})"), rule));
    }
    Ok(())
}

/// RDS's rules for a master password, checked before any request.
pub(super) fn check_admin_password(password: &deploy_core::Password) -> Result<()> {
    PasswordRules::rds_master().check(password.expose()).map_err(|e| match e {
        Error::InvalidInput { problem, rule, .. } => Error::InvalidInput { field: "admin_password".into(), problem, rule },
        other => other,
    })?;
    Ok(())
}

/// Where a restore puts the new database: the target's network, else its source's.
pub(super) fn placement(target: &RestoreTarget, source: Option<&DatabaseInfo>) -> DatabaseNetwork {
    target.network.clone().or_else(|| source.map(|s| s.network.clone())).unwrap_or_default()
}
