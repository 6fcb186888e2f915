//! [`AuroraClusters`]: the [`Database`] on Aurora clusters; the Aurora engines
//! of a [`DatabaseSpec`] become a DB cluster with a writer and reader instances.
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

use async_trait::async_trait;
use aws_sdk_rds::types::{DbCluster, DbInstance, Filter};
use deploy_core::database::{
    CrossRegionReplica, Database, DatabaseInfo, DatabaseNetwork, DatabaseSpec, DatabaseStatus, Endpoint, FinalSnapshot, Reader,
    RestorePoint, RestoreTarget, SnapshotInfo, Topology,
};
use deploy_core::plan::{Change, Plan};
use deploy_core::waiter::Poll;
use deploy_core::{Confirm, Error, ResourceName, Result};

use super::aurora_spec::{Cluster, Member, MemberSpec, global_name, plan_cluster, replica_name, writer_name};
use super::common::{
    SERVICE, check_admin_password, check_restore, create_error, op, rds_backend, rds_error, rds_tags, status_of, sync_tags, updated_fields,
};
use super::params::{GroupKind, engine_name, engine_of, ensure_parameter_group, extensions_of, read_parameters, tls_of};
use super::spec::check_backend_spec;
use crate::convert::timestamp;
use crate::error::{SdkResultExt, missing};

rds_backend!(
    /// The [`Database`] on Aurora PostgreSQL and Aurora MySQL clusters. See the
    /// [module docs](super).
    AuroraClusters, "Aurora"
);

impl AuroraClusters {
    /// The same RDS in another region (same credentials, interceptors and waiter).
    pub(super) fn in_region(&self, region: &str) -> AuroraClusters {
        AuroraClusters { waiter: self.waiter.clone(), ..AuroraClusters::new(&self.ctx.in_region(region)) }
    }
    /// The user-set parameters of a cluster parameter group; `None` when it does not exist.
    pub(super) async fn read_cluster_parameters(&self, group: &str) -> Result<Option<BTreeMap<String, String>>> {
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
        let writers: BTreeMap<&str, bool> = c
            .db_cluster_members()
            .iter()
            .filter_map(|m| Some((m.db_instance_identifier()?, m.is_cluster_writer().unwrap_or(false))))
            .collect();
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
        let readers: Vec<Reader> = members.iter().filter(|m| !m.writer).filter_map(|m| Some(Reader { zone: m.zone.clone()? })).collect();
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
    pub(super) async fn cluster_instances(&self, id: &str) -> Result<Vec<DbInstance>> {
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
    pub(super) async fn global_members(&self, name: &str) -> Result<Option<Vec<(String, bool)>>> {
        let global = global_name(name);
        let Some(out) = self.client.describe_global_clusters().global_cluster_identifier(&global).send().await.found(
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
            .filter_map(|(a, _)| {
                a.split(':').nth(3).map(|r| CrossRegionReplica { region: r.to_owned(), network: DatabaseNetwork::default() })
            })
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

    /// Create a cluster instance (the writer or a reader) in `zone`.
    pub(super) async fn create_member(&self, cluster: &str, instance: &str, zone: Option<&str>, spec_like: &MemberSpec<'_>) -> Result<()> {
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
            .map_err(|e| create_error(e, op("CreateDBCluster"), spec, "DBClusterParameterGroup", &group))?;
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
        let taken: Vec<Member> = members
            .iter()
            .cloned()
            .chain(std::iter::once(Member {
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
            self.client.delete_db_instance().db_instance_identifier(&extra.name).skip_final_snapshot(true).send().await.on(
                op("DeleteDBInstance"),
                "database",
                &extra.name,
            )?;
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
        let fields = updated_fields(plan);
        let has = |f: &str| fields.contains(f);
        let name = spec.name.as_str();
        let needs_group = ["require_tls", "allowed_extensions", "parameter_group", "engine_version"].iter().any(|f| has(f));
        let group = if needs_group { Some(self.ensure_cluster_parameter_group(spec).await?) } else { None };
        let switch_group = group.filter(|g| cluster.parameter_group.as_deref() != Some(g.as_str()));
        let major_upgrade = has("engine_version")
            && spec.engine.major_version(&cluster.info.engine_version) != spec.engine.major_version(&spec.engine_version);
        if has("engine_version")
            || has("deletion_protection")
            || has("backup_retention_days")
            || has("network.security_groups")
            || switch_group.is_some()
        {
            self.modify_cluster(name, |r| {
                r.set_engine_version(has("engine_version").then(|| spec.engine_version.clone()))
                    .set_allow_major_version_upgrade(major_upgrade.then_some(true))
                    .set_deletion_protection(has("deletion_protection").then_some(spec.deletion_protection))
                    .set_backup_retention_period(
                        has("backup_retention_days").then(|| i32::try_from(spec.backup_retention_days).unwrap_or(35)),
                    )
                    .set_vpc_security_group_ids(has("network.security_groups").then(|| spec.network.security_groups.clone()))
                    .set_db_cluster_parameter_group_name(switch_group)
            })
            .await?;
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
            Some(cluster) => plan_cluster(&cluster, spec),
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
        let plan = plan_cluster(&cluster, spec);
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
}

#[async_trait]
impl Database for AuroraClusters {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %spec.name))]
    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        check_backend_spec(&self.ctx, spec, true)?;
        if mode.is_apply() { self.ensure_cluster(spec).await } else { self.plan_cluster_spec(spec).await }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "database", name = %name))]
    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        self.describe_cluster(name).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        self.create_cluster_snapshot(database, snapshot).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        let mut snapshots = self.list_cluster_snapshots(database).await?;
        snapshots.sort_by_key(|s| s.created);
        Ok(snapshots)
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %snapshot))]
    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete snapshot", snapshot.as_str())?;
        if self.delete_cluster_snapshot(snapshot).await? { Ok(()) } else { Err(Error::not_found("snapshot", snapshot.as_str())) }
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %snapshot))]
    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, None)?;
        let (snap, raw) = self.cluster_snapshot(snapshot).await?.ok_or_else(|| Error::not_found("snapshot", snapshot.as_str()))?;
        self.restore_cluster_snapshot(&snap, &raw, target).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %source))]
    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, Some(point))?;
        let cluster = self.get_cluster(source).await?;
        self.restore_cluster_to_point_in_time(cluster, point, target).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        let cluster = self.get_cluster(database).await?;
        self.set_cluster_deletion_protection(&cluster, on).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn set_admin_password(&self, database: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        check_admin_password(password)?;
        self.set_cluster_admin_password(database, password).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "database", name = %database))]
    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        confirm.check("delete database", database.as_str())?;
        let cluster = self.get_cluster(database).await?;
        self.delete_cluster(cluster, final_snapshot).await
    }
}
