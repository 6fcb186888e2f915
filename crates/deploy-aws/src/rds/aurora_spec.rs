//! The Aurora cluster spec and its diff: the names a cluster's parts take,
//! a cluster as RDS reports it and the plan
//! that turns it into the spec. No request is made here.

use std::collections::BTreeMap;

use aws_sdk_rds::types::DbClusterSnapshot;
use deploy_core::Result;
use deploy_core::database::{DatabaseInfo, DatabaseSpec, DatabaseStatus, SnapshotInfo};
use deploy_core::plan::{Action, FieldChange, Plan};
use jiff::Timestamp;

use super::common::{merge, snapshot_of, sorted};
use super::params::parameter_group_name;
use crate::error::missing;

/// The writer instance of cluster `name`.
pub(super) fn writer_name(name: &str) -> String {
    format!("{name}-1")
}

/// The global database of cluster `name`.
pub(super) fn global_name(name: &str) -> String {
    format!("{name}-global")
}

/// The secondary cluster of cluster `name` in the replica region.
pub(super) fn replica_name(name: &str) -> String {
    format!("{name}-replica")
}

/// A cluster as RDS reports it, with its instances.
#[derive(Clone, Debug)]
pub(super) struct Cluster {
    pub(super) info: DatabaseInfo,
    pub(super) arn: String,
    pub(super) engine_raw: String,
    pub(super) parameter_group: Option<String>,
    /// (name, zone, is writer, class, status)
    pub(super) members: Vec<Member>,
    pub(super) created: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub(super) struct Member {
    pub(super) name: String,
    pub(super) zone: Option<String>,
    pub(super) writer: bool,
    pub(super) class: String,
    pub(super) status: DatabaseStatus,
}

/// The plan of an existing cluster.
pub(super) fn plan_cluster(cluster: &Cluster, spec: &DatabaseSpec) -> Plan {
    let mut info = cluster.info.clone();
    let spec_parts: Vec<&str> = spec.engine_version.split('.').collect();
    if info.engine_version.split('.').take(spec_parts.len()).eq(spec_parts.iter().copied()) {
        info.engine_version = spec.engine_version.clone();
    }
    // Aurora storage grows by itself; a standby is a reader (compared below).
    info.storage_gib = spec.storage_gib;
    info.max_storage_gib = spec.max_storage_gib;
    info.high_availability = spec.high_availability;
    info.encryption_key = match (&spec.encryption_key, &info.encryption_key) {
        (None, _) => None,
        (Some(wanted), Some(actual)) if actual == wanted || actual.ends_with(&format!("key/{wanted}")) => Some(wanted.clone()),
        (_, actual) => actual.clone(),
    };
    if spec.topology.writer_zone.is_none() {
        info.topology.writer_zone = None;
    }
    // The replica's placement is compared by region.
    if let (Some(have), Some(want)) = (&mut info.topology.cross_region_replica, &spec.topology.cross_region_replica)
        && have.region == want.region
    {
        have.network = want.network.clone();
    }
    let mut plan = info.diff(spec);
    let mut updates = Vec::new();
    let mut drift = Vec::new();
    if cluster.members.iter().any(|m| m.class != spec.instance_class) && info.instance_class == spec.instance_class {
        let odd: Vec<&str> = cluster.members.iter().filter(|m| m.class != spec.instance_class).map(|m| m.class.as_str()).collect();
        updates.push(FieldChange::new("instance_class", odd.join(","), &spec.instance_class));
    }
    let wanted_sgs: std::collections::BTreeSet<&String> = spec.network.security_groups.iter().collect();
    let actual_sgs: std::collections::BTreeSet<&String> = info.network.security_groups.iter().collect();
    if !wanted_sgs.is_empty() && wanted_sgs != actual_sgs {
        updates.push(FieldChange::new("network.security_groups", format!("{actual_sgs:?}"), format!("{wanted_sgs:?}")));
    }
    if info.network.publicly_accessible != spec.network.publicly_accessible {
        updates.push(FieldChange::new("network.publicly_accessible", info.network.publicly_accessible, spec.network.publicly_accessible));
    }
    if let Some(wanted) = &spec.network.subnet_group
        && info.network.subnet_group.as_ref() != Some(wanted)
    {
        drift.push(FieldChange::new("network.subnet_group", info.network.subnet_group.as_deref().unwrap_or("-"), wanted));
    }
    if !info.encrypted {
        drift.push(FieldChange::new("encrypted", false, true));
    }
    if cluster.members.iter().all(|m| !m.writer) {
        updates.push(FieldChange::new("writer", "-", writer_name(spec.name.as_str())));
    }
    let group = parameter_group_name(spec);
    let parameters_differ = info.require_tls != spec.require_tls || sorted(&info.allowed_extensions) != sorted(&spec.allowed_extensions);
    if (parameters_differ || spec.engine.major_version(&info.engine_version) != spec.engine.major_version(&spec.engine_version))
        && cluster.parameter_group.as_deref() != Some(group.as_str())
    {
        updates.push(FieldChange::new("parameter_group", cluster.parameter_group.as_deref().unwrap_or("-"), &group));
    }
    // A replica in another region than asked cannot move: drift, not an update.
    if let (Some(have), Some(want)) = (&cluster.info.topology.cross_region_replica, &spec.topology.cross_region_replica)
        && have.region != want.region
    {
        plan.changes.iter_mut().for_each(|c| {
            if let Action::Update { fields } = &mut c.action {
                fields.retain(|f| f.field != "topology.cross_region_replica");
            }
        });
        plan.changes.retain(|c| !matches!(&c.action, Action::Update { fields } if fields.is_empty()));
        drift.push(FieldChange::new("topology.cross_region_replica.region", &have.region, &want.region));
    }
    merge(&mut plan, spec, updates, drift);
    plan
}

/// What a cluster instance is made with.
pub(super) struct MemberSpec<'a> {
    pub(super) engine: &'a str,
    pub(super) class: &'a str,
    pub(super) publicly_accessible: bool,
    pub(super) tags: &'a BTreeMap<String, String>,
}

pub(super) fn cluster_snapshot_info(s: &DbClusterSnapshot, describe: crate::error::Op) -> Result<SnapshotInfo> {
    let database = s.db_cluster_identifier().ok_or_else(|| missing(describe, "cluster identifier"))?;
    snapshot_of(s.db_cluster_snapshot_identifier(), database, s.status(), s.snapshot_create_time(), describe)
}
