//! Aurora clusters behind [`RdsDatabase`]: the Aurora engines of a
//! [`DatabaseSpec`] become a DB cluster with a writer and reader instances.
//!
//! - The cluster `NAME` (`CreateDBCluster`) holds the data, the master user,
//!   encryption, deletion protection and backups, and uses the DB *cluster*
//!   parameter group [`parameter_group_name`] (`rds.force_ssl` /
//!   `rds.allowed_extensions` for Aurora PostgreSQL, `require_secure_transport`
//!   for Aurora MySQL).
//! - Its instances: the writer `NAME-1` in `topology.writer_zone`, then a reader
//!   `NAME-N` per `topology.readers` entry in that reader's zone (never the
//!   writer's). Missing readers are created, readers no entry asks for are
//!   deleted (the data stays in the cluster volume).
//! - `topology.cross_region_replica` makes an Aurora global database
//!   `NAME-global` (`CreateGlobalCluster`) whose secondary cluster
//!   `NAME-replica` (with the instance `NAME-replica-1`) runs in the replica's
//!   region.
//! - Snapshots (`CreateDBClusterSnapshot`) and restores
//!   (`RestoreDBClusterFromSnapshot`, `RestoreDBClusterToPointInTime`) make a
//!   new cluster with the subnet group, security groups and parameter group of
//!   the source, then its writer and the readers the source has, in the same zones.
//! - Waits go through [`deploy_core::waiter::Waiter`]: a cluster is ready when
//!   it and every instance are `available`.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{DbCluster, DbClusterSnapshot, DbInstance, Filter};
use deploy_core::database::{
    CrossRegionReplica, DatabaseInfo, DatabaseNetwork, DatabaseSpec, DatabaseStatus, Endpoint, FinalSnapshot, Reader, RestorePoint,
    RestoreTarget, SnapshotInfo, SnapshotStatus, Topology,
};
use deploy_core::plan::{Action, Change, FieldChange, Plan};
use deploy_core::waiter::Poll;
use deploy_core::{Error, ResourceName, Result};
use jiff::Timestamp;

use super::common::{RdsDatabase, SERVICE, merge, op, rds_error, rds_tags, sorted, status_of, sync_tags, validate_network};
use super::params::{GroupKind, engine_name, engine_of, ensure_parameter_group, extensions_of, family, parameter_group_name, read_parameters, tls_of};
use crate::convert::{datetime, timestamp};
use crate::error::{SdkResultExt, map_sdk_error, missing};

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

/// The rules an Aurora spec keeps that the instance rules do not.
pub(super) fn validate_cluster_spec(spec: &DatabaseSpec) -> Result<()> {
    // NAME-replica-1 is the longest name made from it: at most 63 characters.
    if spec.name.as_str().len() > 53 {
        return Err(Error::invalid(
            "name",
            format!("has {} characters", spec.name.as_str().len()),
            "Aurora cluster names: at most 53 characters (instances are named NAME-N and NAME-replica-1)",
        ));
    }
    if spec.high_availability && !spec.topology.readers.iter().any(|r| Some(&r.zone) != spec.topology.writer_zone.as_ref()) {
        return Err(Error::invalid("high_availability", "is on with no reader in another zone", "add topology.readers"));
    }
    if let Some(replica) = &spec.topology.cross_region_replica {
        validate_network(&replica.network, "topology.cross_region_replica.network")?;
        if replica.network.delegated_subnet.is_some() || replica.network.private_dns_zone.is_some() {
            return Err(Error::not_supported(SERVICE, "topology.cross_region_replica.network", "Azure settings: RDS takes a subnet group"));
        }
    }
    Ok(())
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

impl RdsDatabase {
    /// The region the client talks to.
    fn region(&self) -> Option<String> {
        self.ctx.region().map(str::to_owned)
    }

    /// The same RDS in another region (same credentials, interceptors and waiter).
    fn in_region(&self, region: &str) -> RdsDatabase {
        RdsDatabase { waiter: self.waiter.clone(), ..RdsDatabase::new(&self.ctx.in_region(region)) }
    }

    /// Refuse a cross-region replica in the client's own region, before any request.
    pub(super) fn check_replica_region(&self, spec: &DatabaseSpec) -> Result<()> {
        if let (Some(replica), Some(own)) = (&spec.topology.cross_region_replica, self.region())
            && replica.region == own
        {
            return Err(Error::invalid(
                "topology.cross_region_replica.region",
                format!("`{}` is the source's own region", replica.region),
                "a cross-region replica runs in another region than its source",
            ));
        }
        if let (Some(zone), Some(own)) = (&spec.topology.writer_zone, self.region())
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

    /// The user-set parameters of a cluster parameter group; `None` when it does not exist.
    async fn read_cluster_parameters(&self, group: &str) -> Result<Option<BTreeMap<String, String>>> {
        read_parameters(&self.client, GroupKind::Cluster, group).await
    }

    /// Create the cluster parameter group if missing and set the parameters where they differ.
    async fn ensure_cluster_parameter_group(&self, spec: &DatabaseSpec) -> Result<String> {
        ensure_parameter_group(&self.client, GroupKind::Cluster, spec).await
    }

    /// The cluster, or `None` when it does not exist.
    pub(super) async fn find_cluster(&self, name: &str) -> Result<Option<Cluster>> {
        let describe = op("DescribeDBClusters");
        let Some(out) = self.client.describe_db_clusters().db_cluster_identifier(name).send().await.found(describe, "database", name)?
        else {
            return Ok(None);
        };
        let Some(c) = out.db_clusters().iter().find(|c| c.db_cluster_identifier() == Some(name)) else { return Ok(None) };
        self.cluster(c).await.map(Some)
    }

    pub(super) async fn get_cluster(&self, name: &ResourceName) -> Result<Cluster> {
        self.find_cluster(name.as_str()).await?.ok_or_else(|| Error::not_found("database", name.as_str()))
    }

    async fn cluster(&self, c: &DbCluster) -> Result<Cluster> {
        let describe = op("DescribeDBClusters");
        let id = c.db_cluster_identifier().ok_or_else(|| missing(describe, "cluster identifier"))?;
        let engine_raw = c.engine().unwrap_or_default().to_owned();
        let engine = engine_of(&engine_raw).filter(|e| e.is_aurora()).ok_or_else(|| {
            Error::not_supported(SERVICE, "engine", format!("cluster `{id}` runs {engine_raw}: not an Aurora cluster deploy manages"))
        })?;
        let parameter_group = c.db_cluster_parameter_group().map(str::to_owned);
        let parameters = match &parameter_group {
            Some(group) => self.read_cluster_parameters(group).await?.unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let writers: BTreeMap<&str, bool> =
            c.db_cluster_members().iter().filter_map(|m| Some((m.db_instance_identifier()?, m.is_cluster_writer().unwrap_or(false)))).collect();
        let instances = self.cluster_instances(id).await?;
        let mut members: Vec<Member> = instances
            .iter()
            .filter_map(|db| {
                let name = db.db_instance_identifier()?.to_owned();
                Some(Member {
                    writer: writers.get(name.as_str()).copied().unwrap_or(false),
                    zone: db.availability_zone().map(str::to_owned),
                    class: db.db_instance_class().unwrap_or_default().to_owned(),
                    status: status_of(db.db_instance_status().unwrap_or("unknown")),
                    name,
                })
            })
            .collect();
        members.sort_by(|a, b| (!a.writer, &a.name).cmp(&(!b.writer, &b.name)));
        let writer = members.iter().find(|m| m.writer);
        let writer_zone = writer.and_then(|m| m.zone.clone());
        let readers: Vec<Reader> =
            members.iter().filter(|m| !m.writer).filter_map(|m| Some(Reader { zone: m.zone.clone()? })).collect();
        let arn = c.db_cluster_arn().ok_or_else(|| missing(describe, "cluster ARN"))?.to_owned();
        let cross_region_replica = self.replica_of(id, &arn).await?;
        let publicly_accessible = instances
            .iter()
            .find(|db| Some(db.db_instance_identifier().unwrap_or_default()) == writer.map(|w| w.name.as_str()))
            .and_then(DbInstance::publicly_accessible)
            .unwrap_or(false);
        let info = DatabaseInfo {
            name: ResourceName::new(id)?,
            status: status_of(c.status().unwrap_or("unknown")),
            engine,
            engine_version: c.engine_version().unwrap_or_default().to_owned(),
            instance_class: writer.map(|w| w.class.clone()).unwrap_or_default(),
            endpoint: c.endpoint().and_then(|host| Some(Endpoint { host: host.to_owned(), port: u16::try_from(c.port()?).ok()? })),
            require_tls: tls_of(engine, &parameters),
            allowed_extensions: extensions_of(&parameters)?,
            deletion_protection: c.deletion_protection().unwrap_or(false),
            storage_gib: c.allocated_storage().and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
            max_storage_gib: None,
            backup_retention_days: c.backup_retention_period().and_then(|d| u32::try_from(d).ok()).unwrap_or(0),
            encrypted: c.storage_encrypted().unwrap_or(false),
            encryption_key: c.kms_key_id().map(str::to_owned),
            high_availability: readers.iter().any(|r| Some(&r.zone) != writer_zone.as_ref()),
            network: DatabaseNetwork {
                subnet_group: c.db_subnet_group().map(str::to_owned),
                security_groups: c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_owned)).collect(),
                delegated_subnet: None,
                private_dns_zone: None,
                publicly_accessible,
            },
            topology: Topology { writer_zone, readers, cross_region_replica },
            earliest_restorable_time: c.earliest_restorable_time().and_then(timestamp),
            latest_restorable_time: c.latest_restorable_time().and_then(timestamp),
            tags: c.tag_list().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect(),
        };
        Ok(Cluster { info, arn, engine_raw, parameter_group, members, created: c.cluster_create_time().and_then(timestamp) })
    }

    /// The instances of cluster `id`.
    async fn cluster_instances(&self, id: &str) -> Result<Vec<DbInstance>> {
        let describe = op("DescribeDBInstances");
        let mut instances = Vec::new();
        let filter = Filter::builder().name("db-cluster-id").values(id).build();
        let mut pages = self.client.describe_db_instances().filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            instances.extend(
                page.on(describe, "database", id)?.db_instances().iter().filter(|db| db.db_cluster_identifier() == Some(id)).cloned(),
            );
        }
        Ok(instances)
    }

    /// The members of the global database `NAME-global`, when there is one.
    async fn global_members(&self, name: &str) -> Result<Option<Vec<(String, bool)>>> {
        let global = global_name(name);
        let Some(out) =
            self.client.describe_global_clusters().global_cluster_identifier(&global).send().await.found(
                op("DescribeGlobalClusters"),
                "global database",
                &global,
            )?
        else {
            return Ok(None);
        };
        // moto answers every global cluster whatever the identifier: keep ours.
        Ok(out.global_clusters().iter().find(|g| g.global_cluster_identifier() == Some(global.as_str())).map(|g| {
            g.global_cluster_members()
                .iter()
                .filter_map(|m| Some((m.db_cluster_arn()?.to_owned(), m.is_writer().unwrap_or(false))))
                .collect()
        }))
    }

    /// The secondary region of the global database `NAME-global` the cluster writes to.
    async fn replica_of(&self, name: &str, arn: &str) -> Result<Option<CrossRegionReplica>> {
        let Some(members) = self.global_members(name).await? else { return Ok(None) };
        if !members.iter().any(|(a, _)| a == arn) {
            return Ok(None);
        }
        Ok(members
            .iter()
            .filter(|(a, writer)| a != arn && !writer)
            .filter_map(|(a, _)| a.split(':').nth(3).map(|r| CrossRegionReplica { region: r.to_owned(), network: DatabaseNetwork::default() }))
            .next())
    }

    /// Wait until the cluster and all its instances are available and `done` holds.
    pub(super) async fn wait_cluster(&self, name: &ResourceName, what: &str, done: impl Fn(&Cluster) -> bool) -> Result<DatabaseInfo> {
        self.waiter
            .wait(&format!("cluster {name} to be {what}"), || async {
                let cluster = self.get_cluster(name).await?;
                let not_ready = cluster.members.iter().find(|m| m.status != DatabaseStatus::Available);
                Ok(match (&cluster.info.status, not_ready) {
                    (DatabaseStatus::Failed, _) => Poll::Failed(format!("failed ({name})")),
                    (_, Some(m)) if m.status == DatabaseStatus::Failed => Poll::Failed(format!("instance {} failed", m.name)),
                    (DatabaseStatus::Available, None) if done(&cluster) => Poll::Ready(cluster.info),
                    (DatabaseStatus::Available, Some(m)) => Poll::Pending(format!("instance {} {}", m.name, m.status)),
                    (status, _) => Poll::Pending(status.to_string()),
                })
            })
            .await
    }

    /// The plan of an existing cluster.
    pub(super) fn plan_cluster(&self, cluster: &Cluster, spec: &DatabaseSpec) -> Plan {
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
        let parameters_differ =
            info.require_tls != spec.require_tls || sorted(&info.allowed_extensions) != sorted(&spec.allowed_extensions);
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

    /// Create a cluster instance (the writer or a reader) in `zone`.
    async fn create_member(&self, cluster: &str, instance: &str, zone: Option<&str>, spec_like: &MemberSpec<'_>) -> Result<()> {
        self.client
            .create_db_instance()
            .db_instance_identifier(instance)
            .db_cluster_identifier(cluster)
            .engine(spec_like.engine)
            .db_instance_class(spec_like.class)
            .set_availability_zone(zone.map(str::to_owned))
            .publicly_accessible(spec_like.publicly_accessible)
            .set_tags(rds_tags(spec_like.tags))
            .send()
            .await
            .map_err(|e| rds_error(e, op("CreateDBInstance"), ("database", instance), &[("DBCluster", "database", cluster)]))?;
        Ok(())
    }

    /// The next free reader names of cluster `name`: `NAME-2`, `NAME-3`, ...
    fn free_names(name: &str, taken: &[Member], count: usize) -> Vec<String> {
        (2..).map(|i| format!("{name}-{i}")).filter(|n| !taken.iter().any(|m| &m.name == n)).take(count).collect()
    }

    /// Create cluster, writer, readers and the cross-region replica.
    pub(super) async fn create_cluster(&self, spec: &DatabaseSpec) -> Result<()> {
        let Some(password) = &spec.admin_password else {
            return Err(Error::invalid("admin_password", "is missing", "creating a cluster needs an admin password"));
        };
        let group = self.ensure_cluster_parameter_group(spec).await?;
        let name = spec.name.as_str();
        let engine = engine_name(spec.engine);
        let global = spec.topology.cross_region_replica.as_ref().map(|_| global_name(name));
        if let Some(global) = &global
            && self.global_members(name).await?.is_none()
        {
            self.client
                .create_global_cluster()
                .global_cluster_identifier(global)
                .engine(engine)
                .engine_version(&spec.engine_version)
                .storage_encrypted(true)
                .send()
                .await
                .on(op("CreateGlobalCluster"), "global database", global)?;
        }
        self.client
            .create_db_cluster()
            .db_cluster_identifier(name)
            .engine(engine)
            .engine_version(&spec.engine_version)
            .master_username(spec.admin_username.as_str())
            .master_user_password(password.expose())
            .storage_encrypted(true)
            .set_kms_key_id(spec.encryption_key.clone())
            .deletion_protection(spec.deletion_protection)
            .backup_retention_period(i32::try_from(spec.backup_retention_days).unwrap_or(35))
            .set_db_subnet_group_name(spec.network.subnet_group.clone())
            .set_vpc_security_group_ids((!spec.network.security_groups.is_empty()).then(|| spec.network.security_groups.clone()))
            .db_cluster_parameter_group_name(&group)
            .set_global_cluster_identifier(global.clone())
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&spec.tags))
            .send()
            .await
            .map_err(|e| {
                rds_error(
                    e,
                    op("CreateDBCluster"),
                    ("database", name),
                    &[
                        ("DBSubnetGroup", "subnet group", spec.network.subnet_group.as_deref().unwrap_or("-")),
                        ("DBClusterParameterGroup", "parameter group", &group),
                    ],
                )
            })?;
        self.wait_cluster(&spec.name, "available", |_| true).await?;
        self.ensure_members(spec, &[]).await?;
        self.wait_cluster(&spec.name, "available with its instances", |_| true).await?;
        if let Some(replica) = &spec.topology.cross_region_replica {
            self.ensure_replica(spec, replica).await?;
        }
        Ok(())
    }

    /// Create the writer if there is none and the readers the spec asks for
    /// that are missing; delete readers no entry asks for.
    async fn ensure_members(&self, spec: &DatabaseSpec, members: &[Member]) -> Result<()> {
        let name = spec.name.as_str();
        let member = MemberSpec {
            engine: engine_name(spec.engine),
            class: &spec.instance_class,
            publicly_accessible: spec.network.publicly_accessible,
            tags: &spec.tags,
        };
        if !members.iter().any(|m| m.writer) {
            let writer = writer_name(name);
            if members.iter().any(|m| m.name == writer) {
                return Err(Error::conflict("database", name, format!("has no writer but an instance named {writer}")));
            }
            self.create_member(name, &writer, spec.topology.writer_zone.as_deref(), &member).await?;
        }
        // Match readers by zone: keep those asked for, create the missing, delete the rest.
        let mut unmatched: Vec<&Member> = members.iter().filter(|m| !m.writer).collect();
        let mut missing_zones = Vec::new();
        for reader in &spec.topology.readers {
            match unmatched.iter().position(|m| m.zone.as_deref() == Some(reader.zone.as_str())) {
                Some(i) => {
                    unmatched.remove(i);
                }
                None => missing_zones.push(reader.zone.as_str()),
            }
        }
        let taken: Vec<Member> = members.iter().cloned().chain(std::iter::once(Member {
            name: writer_name(name),
            zone: None,
            writer: true,
            class: String::new(),
            status: DatabaseStatus::Creating,
        }))
        .collect();
        for (zone, instance) in missing_zones.iter().zip(Self::free_names(name, &taken, missing_zones.len())) {
            self.create_member(name, &instance, Some(zone), &member).await?;
        }
        for extra in unmatched {
            self.client
                .delete_db_instance()
                .db_instance_identifier(&extra.name)
                .skip_final_snapshot(true)
                .send()
                .await
                .on(op("DeleteDBInstance"), "database", &extra.name)?;
        }
        Ok(())
    }

    /// The secondary cluster `NAME-replica` and its instance in the replica's region.
    async fn ensure_replica(&self, spec: &DatabaseSpec, replica: &CrossRegionReplica) -> Result<()> {
        let name = spec.name.as_str();
        let global = global_name(name);
        if self.global_members(name).await?.is_none() {
            // An existing cluster joins a new global database as its primary.
            let cluster = self.get_cluster(&spec.name).await?;
            self.client
                .create_global_cluster()
                .global_cluster_identifier(&global)
                .source_db_cluster_identifier(&cluster.arn)
                .send()
                .await
                .on(op("CreateGlobalCluster"), "global database", &global)?;
        }
        let remote = self.in_region(&replica.region);
        let secondary = replica_name(name);
        let secondary_name = ResourceName::new(&secondary)?;
        if remote.find_cluster(&secondary).await?.is_none() {
            remote
                .client
                .create_db_cluster()
                .db_cluster_identifier(&secondary)
                .engine(engine_name(spec.engine))
                .engine_version(&spec.engine_version)
                .global_cluster_identifier(&global)
                .storage_encrypted(true)
                .deletion_protection(spec.deletion_protection)
                .set_db_subnet_group_name(replica.network.subnet_group.clone())
                .set_vpc_security_group_ids((!replica.network.security_groups.is_empty()).then(|| replica.network.security_groups.clone()))
                .copy_tags_to_snapshot(true)
                .set_tags(rds_tags(&spec.tags))
                .send()
                .await
                .on(op("CreateDBCluster"), "database", &secondary)?;
            remote.wait_cluster(&secondary_name, "available", |_| true).await?;
        }
        let members = remote.get_cluster(&secondary_name).await?.members;
        if members.is_empty() {
            let spec_like = MemberSpec {
                engine: engine_name(spec.engine),
                class: &spec.instance_class,
                publicly_accessible: replica.network.publicly_accessible,
                tags: &spec.tags,
            };
            remote.create_member(&secondary, &format!("{secondary}-1"), None, &spec_like).await?;
        }
        remote.wait_cluster(&secondary_name, "available with its instance", |_| true).await?;
        Ok(())
    }

    /// Bring an existing cluster to `spec` along `plan`.
    pub(super) async fn update_cluster(&self, cluster: &Cluster, spec: &DatabaseSpec, plan: &Plan) -> Result<()> {
        let fields: std::collections::BTreeSet<&str> = plan
            .changes
            .iter()
            .filter_map(|c| match &c.action {
                Action::Update { fields } => Some(fields),
                _ => None,
            })
            .flatten()
            .map(|f| f.field.as_str())
            .collect();
        let has = |f: &str| fields.contains(f);
        let name = spec.name.as_str();
        let needs_group = ["require_tls", "allowed_extensions", "parameter_group", "engine_version"].iter().any(|f| has(f));
        let group = if needs_group { Some(self.ensure_cluster_parameter_group(spec).await?) } else { None };
        let switch_group = group.filter(|g| cluster.parameter_group.as_deref() != Some(g.as_str()));
        let major_upgrade =
            has("engine_version") && spec.engine.major_version(&cluster.info.engine_version) != spec.engine.major_version(&spec.engine_version);
        if has("engine_version") || has("deletion_protection") || has("backup_retention_days") || has("network.security_groups") || switch_group.is_some()
        {
            self.client
                .modify_db_cluster()
                .db_cluster_identifier(name)
                .apply_immediately(true)
                .set_engine_version(has("engine_version").then(|| spec.engine_version.clone()))
                .set_allow_major_version_upgrade(major_upgrade.then_some(true))
                .set_deletion_protection(has("deletion_protection").then_some(spec.deletion_protection))
                .set_backup_retention_period(has("backup_retention_days").then(|| i32::try_from(spec.backup_retention_days).unwrap_or(35)))
                .set_vpc_security_group_ids(has("network.security_groups").then(|| spec.network.security_groups.clone()))
                .set_db_cluster_parameter_group_name(switch_group)
                .send()
                .await
                .on(op("ModifyDBCluster"), "database", name)?;
        }
        if has("instance_class") || has("network.publicly_accessible") {
            for m in &cluster.members {
                let class = (m.class != spec.instance_class).then(|| spec.instance_class.clone());
                let public = has("network.publicly_accessible").then_some(spec.network.publicly_accessible);
                if class.is_none() && public.is_none() {
                    continue;
                }
                self.client
                    .modify_db_instance()
                    .db_instance_identifier(&m.name)
                    .apply_immediately(true)
                    .set_db_instance_class(class)
                    .set_publicly_accessible(public)
                    .send()
                    .await
                    .on(op("ModifyDBInstance"), "database", &m.name)?;
            }
        }
        if has("topology.readers") || has("writer") {
            self.ensure_members(spec, &cluster.members).await?;
        }
        if has("tags") {
            sync_tags(&self.client, &cluster.arn, name, &cluster.info.tags, &spec.tags).await?;
        }
        if has("topology.cross_region_replica")
            && let Some(replica) = &spec.topology.cross_region_replica
        {
            self.ensure_replica(spec, replica).await?;
        }
        Ok(())
    }

    /// Plan for an Aurora spec.
    pub(super) async fn plan_cluster_spec(&self, spec: &DatabaseSpec) -> Result<Plan> {
        Ok(match self.find_cluster(spec.name.as_str()).await? {
            None => {
                let mut plan = Plan::from_iter([Change::create("database", spec.name.as_str())]);
                plan.push(Change::create("database instance", format!("{} (writer)", writer_name(spec.name.as_str()))));
                for (i, r) in spec.topology.readers.iter().enumerate() {
                    plan.push(Change::create("database instance", format!("{}-{} (reader in {})", spec.name, i + 2, r.zone)));
                }
                if let Some(replica) = &spec.topology.cross_region_replica {
                    plan.push(Change::create("global database", global_name(spec.name.as_str())));
                    plan.push(Change::create("database", format!("{} (replica in {})", replica_name(spec.name.as_str()), replica.region)));
                }
                plan
            }
            Some(cluster) => self.plan_cluster(&cluster, spec),
        })
    }

    /// Ensure for an Aurora spec.
    pub(super) async fn ensure_cluster(&self, spec: &DatabaseSpec) -> Result<Plan> {
        let Some(mut cluster) = self.find_cluster(spec.name.as_str()).await? else {
            let plan = self.plan_cluster_spec(spec).await?;
            self.create_cluster(spec).await?;
            return Ok(plan);
        };
        if cluster.info.status == DatabaseStatus::Failed {
            return Err(Error::conflict("database", spec.name.as_str(), "is in a failed state"));
        }
        if cluster.info.status != DatabaseStatus::Available || cluster.members.iter().any(|m| m.status != DatabaseStatus::Available) {
            self.wait_cluster(&spec.name, "available", |_| true).await?;
            cluster = self.get_cluster(&spec.name).await?;
        }
        let plan = self.plan_cluster(&cluster, spec);
        if plan.has_mutations() {
            self.update_cluster(&cluster, spec, &plan).await?;
            let protection = spec.deletion_protection;
            let readers = spec.topology.readers.len();
            self.wait_cluster(&spec.name, "modified", |c| {
                c.info.deletion_protection == protection && c.members.iter().filter(|m| !m.writer).count() == readers
            })
            .await?;
        }
        Ok(plan)
    }

    /// Describe a cluster with its restore window.
    pub(super) async fn describe_cluster(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        Ok(self.get_cluster(name).await?.info)
    }

    pub(super) async fn create_cluster_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.client
            .create_db_cluster_snapshot()
            .db_cluster_identifier(database.as_str())
            .db_cluster_snapshot_identifier(snapshot.as_str())
            .send()
            .await
            .map_err(|e| {
                rds_error(e, op("CreateDBClusterSnapshot"), ("database", database.as_str()), &[("DBClusterSnapshot", "snapshot", snapshot.as_str())])
            })?;
        self.waiter
            .wait(&format!("cluster snapshot {snapshot} to be available"), || async {
                let info = self.cluster_snapshot(snapshot).await?.ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?.0;
                Ok(match &info.status {
                    SnapshotStatus::Available => Poll::Ready(info),
                    SnapshotStatus::Other(s) if s == "failed" => Poll::Failed(s.clone()),
                    other => Poll::Pending(format!("{other:?}")),
                })
            })
            .await
    }

    /// A cluster snapshot, or `None`.
    pub(super) async fn cluster_snapshot(&self, snapshot: &ResourceName) -> Result<Option<(SnapshotInfo, DbClusterSnapshot)>> {
        let describe = op("DescribeDBClusterSnapshots");
        let Some(out) =
            self.client.describe_db_cluster_snapshots().db_cluster_snapshot_identifier(snapshot.as_str()).send().await.found(
                describe,
                "snapshot",
                snapshot.as_str(),
            )?
        else {
            return Ok(None);
        };
        let Some(s) = out.db_cluster_snapshots().iter().find(|s| s.db_cluster_snapshot_identifier() == Some(snapshot.as_str())) else {
            return Ok(None);
        };
        Ok(Some((cluster_snapshot_info(s, describe)?, s.clone())))
    }

    /// The manual snapshots of cluster `database`.
    pub(super) async fn list_cluster_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        let describe = op("DescribeDBClusterSnapshots");
        let mut snapshots = Vec::new();
        let mut pages = self
            .client
            .describe_db_cluster_snapshots()
            .db_cluster_identifier(database.as_str())
            .snapshot_type("manual")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => match map_sdk_error(e, describe, "database", database.as_str()) {
                    e if e.is_not_found() => return Ok(snapshots),
                    e => return Err(e),
                },
            };
            for s in page.db_cluster_snapshots() {
                if s.snapshot_type().is_none_or(|t| t == "manual") && s.db_cluster_identifier() == Some(database.as_str()) {
                    snapshots.push(cluster_snapshot_info(s, describe)?);
                }
            }
        }
        Ok(snapshots)
    }

    /// The new cluster's writer and readers: like the source's, else one writer.
    async fn restore_members(&self, target: &RestoreTarget, engine: &str, source: Option<&Cluster>) -> Result<DatabaseInfo> {
        let name = target.name.as_str();
        let class = match (&target.instance_class, source) {
            (Some(class), _) => class.clone(),
            (None, Some(s)) => s.info.instance_class.clone(),
            (None, None) => {
                return Err(Error::invalid(
                    "target.instance_class",
                    "is missing and the source cluster is gone",
                    "restoring a cluster whose source is gone needs an instance class",
                ));
            }
        };
        self.wait_cluster(&target.name, "available", |_| true).await?;
        let tags = source.map(|s| s.info.tags.clone()).unwrap_or_default();
        let public = Self::placement(target, source.map(|s| &s.info)).publicly_accessible;
        let writer_zone = source.and_then(|s| s.info.topology.writer_zone.clone());
        let member = MemberSpec { engine, class: &class, publicly_accessible: public, tags: &tags };
        self.create_member(name, &writer_name(name), writer_zone.as_deref(), &member).await?;
        for (i, reader) in source.map(|s| s.info.topology.readers.clone()).unwrap_or_default().iter().enumerate() {
            self.create_member(name, &format!("{name}-{}", i + 2), Some(&reader.zone), &member).await?;
        }
        self.wait_cluster(&target.name, "available with its instances", |_| true).await
    }

    pub(super) async fn restore_cluster_snapshot(&self, snap: &SnapshotInfo, raw: &DbClusterSnapshot, target: &RestoreTarget) -> Result<DatabaseInfo> {
        let source = self.find_cluster(snap.database.as_str()).await?;
        let network = Self::placement(target, source.as_ref().map(|s| &s.info));
        let engine = raw.engine().unwrap_or("aurora-postgresql").to_owned();
        let group = match &source {
            Some(s) => s.parameter_group.clone(),
            None => {
                let version = raw.engine_version().unwrap_or_default();
                let candidate = engine_of(&engine).map(|e| format!("{}-{}", snap.database, family(e, version).replace('.', "-")));
                match candidate {
                    Some(c) => self.read_cluster_parameters(&c).await?.map(|_| c),
                    None => None,
                }
            }
        };
        let name = target.name.as_str();
        self.client
            .restore_db_cluster_from_snapshot()
            .db_cluster_identifier(name)
            .snapshot_identifier(snap.name.as_str())
            .engine(&engine)
            .set_engine_version(raw.engine_version().map(str::to_owned))
            .set_db_subnet_group_name(network.subnet_group.clone())
            .set_vpc_security_group_ids((!network.security_groups.is_empty()).then(|| network.security_groups.clone()))
            .set_db_cluster_parameter_group_name(group)
            .deletion_protection(target.deletion_protection)
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&source.as_ref().map(|s| s.info.tags.clone()).unwrap_or_default()))
            .send()
            .await
            .map_err(|e| {
                rds_error(e, op("RestoreDBClusterFromSnapshot"), ("database", name), &[("DBClusterSnapshot", "snapshot", snap.name.as_str())])
            })?;
        self.restore_members(target, &engine, source.as_ref()).await
    }

    pub(super) async fn restore_cluster_to_point_in_time(&self, source: Cluster, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        let now = Timestamp::now();
        let mut window = source.info.clone();
        if window.earliest_restorable_time.is_none() {
            window.earliest_restorable_time = source.created;
        }
        point.validate(now, &window)?;
        let network = Self::placement(target, Some(&source.info));
        let name = target.name.as_str();
        let mut request = self
            .client
            .restore_db_cluster_to_point_in_time()
            .db_cluster_identifier(name)
            .source_db_cluster_identifier(source.info.name.as_str())
            .set_db_subnet_group_name(network.subnet_group.clone())
            .set_vpc_security_group_ids((!network.security_groups.is_empty()).then(|| network.security_groups.clone()))
            .set_db_cluster_parameter_group_name(source.parameter_group.clone())
            .deletion_protection(target.deletion_protection)
            .copy_tags_to_snapshot(true)
            .set_tags(rds_tags(&source.info.tags));
        request = match point {
            RestorePoint::Latest => request.use_latest_restorable_time(true),
            RestorePoint::At(t) => request.restore_to_time(datetime(t)),
        };
        request.send().await.map_err(|e| {
            rds_error(e, op("RestoreDBClusterToPointInTime"), ("database", name), &[("DBClusterNotFound", "database", source.info.name.as_str())])
        })?;
        self.restore_members(target, &source.engine_raw, Some(&source)).await
    }

    pub(super) async fn set_cluster_deletion_protection(&self, cluster: &Cluster, on: bool) -> Result<()> {
        let name = &cluster.info.name;
        if let Some(replica) = &cluster.info.topology.cross_region_replica {
            let remote = self.in_region(&replica.region);
            let secondary = ResourceName::new(replica_name(name.as_str()))?;
            if let Some(c) = remote.find_cluster(secondary.as_str()).await?
                && c.info.deletion_protection != on
            {
                remote.modify_protection(&secondary, on).await?;
            }
        }
        if cluster.info.deletion_protection != on {
            self.modify_protection(name, on).await?;
        }
        Ok(())
    }

    /// Set the cluster's master password and wait until no change of it is pending.
    pub(super) async fn set_cluster_admin_password(&self, name: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        self.get_cluster(name).await?;
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(name.as_str())
            .master_user_password(password.expose())
            .apply_immediately(true)
            .send()
            .await
            .on(op("ModifyDBCluster"), "database", name.as_str())?;
        self.waiter
            .wait(&format!("cluster {name} to use the new admin password"), || async {
                let out = self.client.describe_db_clusters().db_cluster_identifier(name.as_str()).send().await.on(
                    op("DescribeDBClusters"),
                    "database",
                    name.as_str(),
                )?;
                let pending = out.db_clusters().first().and_then(|c| c.pending_modified_values()).is_some_and(|p| p.master_user_password().is_some());
                Ok(if pending { Poll::Pending("resetting-master-credentials".into()) } else { Poll::Ready(()) })
            })
            .await?;
        self.wait_cluster(name, "available", |_| true).await.map(|_| ())
    }

    async fn modify_protection(&self, name: &ResourceName, on: bool) -> Result<()> {
        self.client
            .modify_db_cluster()
            .db_cluster_identifier(name.as_str())
            .deletion_protection(on)
            .apply_immediately(true)
            .send()
            .await
            .on(op("ModifyDBCluster"), "database", name.as_str())?;
        self.wait_cluster(name, if on { "deletion-protected" } else { "unprotected" }, |c| c.info.deletion_protection == on).await?;
        Ok(())
    }

    /// Delete the instances of a cluster, then the cluster, and wait until it is gone.
    async fn delete_cluster_and_members(&self, cluster: &Cluster, final_snapshot: &FinalSnapshot) -> Result<()> {
        let name = cluster.info.name.as_str();
        for m in cluster.members.iter().filter(|m| !m.writer).chain(cluster.members.iter().filter(|m| m.writer)) {
            match self.client.delete_db_instance().db_instance_identifier(&m.name).skip_final_snapshot(true).send().await {
                Ok(_) => {}
                Err(e) => match map_sdk_error(e, op("DeleteDBInstance"), "database", &m.name) {
                    e if e.is_not_found() => {}
                    e => return Err(e),
                },
            }
        }
        let cluster_name = cluster.info.name.clone();
        self.waiter
            .wait(&format!("the instances of cluster {name} to be deleted"), || async {
                let left = self.cluster_instances(cluster_name.as_str()).await?;
                Ok(match left.first() {
                    None => Poll::Ready(()),
                    Some(db) => Poll::Pending(format!("{} {}", db.db_instance_identifier().unwrap_or("?"), db.db_instance_status().unwrap_or("?"))),
                })
            })
            .await?;
        let request = self.client.delete_db_cluster().db_cluster_identifier(name);
        let request = match final_snapshot {
            FinalSnapshot::Skip => request.skip_final_snapshot(true),
            FinalSnapshot::Take(snapshot) => request.skip_final_snapshot(false).final_db_snapshot_identifier(snapshot.as_str()),
        };
        let snapshot_name = match final_snapshot {
            FinalSnapshot::Take(s) => s.as_str(),
            FinalSnapshot::Skip => "-",
        };
        request
            .send()
            .await
            .map_err(|e| rds_error(e, op("DeleteDBCluster"), ("database", name), &[("DBClusterSnapshot", "snapshot", snapshot_name)]))?;
        self.waiter
            .wait(&format!("cluster {name} to be deleted"), || async {
                Ok(match self.find_cluster(cluster_name.as_str()).await? {
                    None => Poll::Ready(()),
                    Some(c) => Poll::Pending(c.info.status.to_string()),
                })
            })
            .await
    }

    /// Delete the cluster: the replica region's secondary first (detached from
    /// the global database, no final snapshot: its data is the primary's), then
    /// the readers, the writer, the cluster (with `final_snapshot`), and the
    /// global database.
    pub(super) async fn delete_cluster(&self, cluster: Cluster, final_snapshot: &FinalSnapshot) -> Result<()> {
        let name = cluster.info.name.clone();
        if cluster.info.deletion_protection {
            return Err(Error::DeletionProtected { kind: "database", name: name.to_string() });
        }
        let global = global_name(name.as_str());
        if let Some(replica) = &cluster.info.topology.cross_region_replica {
            let remote = self.in_region(&replica.region);
            if let Some(secondary) = remote.find_cluster(&replica_name(name.as_str())).await? {
                if secondary.info.deletion_protection {
                    return Err(Error::DeletionProtected { kind: "database", name: secondary.info.name.to_string() });
                }
                remote.remove_from_global(&global, &secondary.arn).await?;
                remote.delete_cluster_and_members(&secondary, &FinalSnapshot::Skip).await?;
            }
        }
        let in_global = self.global_members(name.as_str()).await?;
        if in_global.as_ref().is_some_and(|m| m.iter().any(|(arn, _)| *arn == cluster.arn)) {
            self.remove_from_global(&global, &cluster.arn).await?;
        }
        self.delete_cluster_and_members(&cluster, final_snapshot).await?;
        if in_global.is_some() {
            self.client.delete_global_cluster().global_cluster_identifier(&global).send().await.on(
                op("DeleteGlobalCluster"),
                "global database",
                &global,
            )?;
        }
        Ok(())
    }

    async fn remove_from_global(&self, global: &str, arn: &str) -> Result<()> {
        self.client
            .remove_from_global_cluster()
            .global_cluster_identifier(global)
            .db_cluster_identifier(arn)
            .send()
            .await
            .on(op("RemoveFromGlobalCluster"), "global database", global)?;
        Ok(())
    }

    /// Delete a cluster snapshot; `false` when there is none by that name.
    pub(super) async fn delete_cluster_snapshot(&self, snapshot: &ResourceName) -> Result<bool> {
        match self.client.delete_db_cluster_snapshot().db_cluster_snapshot_identifier(snapshot.as_str()).send().await {
            Ok(_) => Ok(true),
            Err(e) => match map_sdk_error(e, op("DeleteDBClusterSnapshot"), "snapshot", snapshot.as_str()) {
                e if e.is_not_found() => Ok(false),
                e => Err(e),
            },
        }
    }
}

/// What a cluster instance is made with.
struct MemberSpec<'a> {
    engine: &'a str,
    class: &'a str,
    publicly_accessible: bool,
    tags: &'a BTreeMap<String, String>,
}

fn cluster_snapshot_info(s: &DbClusterSnapshot, describe: crate::error::Op) -> Result<SnapshotInfo> {
    Ok(SnapshotInfo {
        name: ResourceName::new(s.db_cluster_snapshot_identifier().ok_or_else(|| missing(describe, "snapshot identifier"))?)?,
        database: ResourceName::new(s.db_cluster_identifier().ok_or_else(|| missing(describe, "cluster identifier"))?)?,
        status: match s.status() {
            Some("available") => SnapshotStatus::Available,
            Some("creating") => SnapshotStatus::Creating,
            other => SnapshotStatus::Other(other.unwrap_or("unknown").to_owned()),
        },
        created: s.snapshot_create_time().and_then(timestamp),
    })
}
