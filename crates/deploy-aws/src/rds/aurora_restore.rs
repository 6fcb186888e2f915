//! Aurora snapshots, restores, deletion protection, the admin password and
//! deletion: the calls on an existing cluster by its name.

use aws_sdk_rds::operation::modify_db_cluster::builders::ModifyDBClusterFluentBuilder;
use aws_sdk_rds::types::DbClusterSnapshot;
use deploy_core::database::{DatabaseInfo, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotInfo, SnapshotStatus};
use deploy_core::waiter::Poll;
use deploy_core::{Error, ResourceName, Result};
use jiff::Timestamp;

use super::aurora::AuroraClusters;
use super::aurora_spec::{Cluster, MemberSpec, cluster_snapshot_info, global_name, replica_name, writer_name};
use super::common::{final_snapshot_args, op, placement, rds_error, rds_tags, wait_gone};
use super::params::{engine_of, family};
use crate::convert::datetime;
use crate::error::{SdkResultExt, map_sdk_error};

impl AuroraClusters {
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
                rds_error(
                    e,
                    op("CreateDBClusterSnapshot"),
                    ("database", database.as_str()),
                    &[("DBClusterSnapshot", "snapshot", snapshot.as_str())],
                )
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
        let Some(out) = self.client.describe_db_cluster_snapshots().db_cluster_snapshot_identifier(snapshot.as_str()).send().await.found(
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
        let public = placement(target, source.map(|s| &s.info)).publicly_accessible;
        let writer_zone = source.and_then(|s| s.info.topology.writer_zone.clone());
        let member = MemberSpec { engine, class: &class, publicly_accessible: public, tags: &tags };
        self.create_member(name, &writer_name(name), writer_zone.as_deref(), &member).await?;
        for (i, reader) in source.map(|s| s.info.topology.readers.clone()).unwrap_or_default().iter().enumerate() {
            self.create_member(name, &format!("{name}-{}", i + 2), Some(&reader.zone), &member).await?;
        }
        self.wait_cluster(&target.name, "available with its instances", |_| true).await
    }

    pub(super) async fn restore_cluster_snapshot(
        &self,
        snap: &SnapshotInfo,
        raw: &DbClusterSnapshot,
        target: &RestoreTarget,
    ) -> Result<DatabaseInfo> {
        let source = self.find_cluster(snap.database.as_str()).await?;
        let network = placement(target, source.as_ref().map(|s| &s.info));
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
                rds_error(
                    e,
                    op("RestoreDBClusterFromSnapshot"),
                    ("database", name),
                    &[("DBClusterSnapshot", "snapshot", snap.name.as_str())],
                )
            })?;
        self.restore_members(target, &engine, source.as_ref()).await
    }

    pub(super) async fn restore_cluster_to_point_in_time(
        &self,
        source: Cluster,
        point: RestorePoint,
        target: &RestoreTarget,
    ) -> Result<DatabaseInfo> {
        let now = Timestamp::now();
        let mut window = source.info.clone();
        if window.earliest_restorable_time.is_none() {
            window.earliest_restorable_time = source.created;
        }
        point.validate(now, &window)?;
        let network = placement(target, Some(&source.info));
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
            rds_error(
                e,
                op("RestoreDBClusterToPointInTime"),
                ("database", name),
                &[("DBClusterNotFound", "database", source.info.name.as_str())],
            )
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

    /// `ModifyDBCluster` of `name`, applied at once, with what `change` sets.
    pub(super) async fn modify_cluster(
        &self,
        name: &str,
        change: impl FnOnce(ModifyDBClusterFluentBuilder) -> ModifyDBClusterFluentBuilder,
    ) -> Result<()> {
        let request = self.client.modify_db_cluster().db_cluster_identifier(name).apply_immediately(true);
        change(request).send().await.on(op("ModifyDBCluster"), "database", name)?;
        Ok(())
    }

    /// Set the cluster's master password and wait until no change of it is pending.
    pub(super) async fn set_cluster_admin_password(&self, name: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        self.get_cluster(name).await?;
        self.modify_cluster(name.as_str(), |r| r.master_user_password(password.expose())).await?;
        self.waiter
            .wait(&format!("cluster {name} to use the new admin password"), || async {
                let out = self.client.describe_db_clusters().db_cluster_identifier(name.as_str()).send().await.on(
                    op("DescribeDBClusters"),
                    "database",
                    name.as_str(),
                )?;
                let pending =
                    out.db_clusters().first().and_then(|c| c.pending_modified_values()).is_some_and(|p| p.master_user_password().is_some());
                Ok(if pending { Poll::Pending("resetting-master-credentials".into()) } else { Poll::Ready(()) })
            })
            .await?;
        self.wait_cluster(name, "available", |_| true).await.map(|_| ())
    }

    async fn modify_protection(&self, name: &ResourceName, on: bool) -> Result<()> {
        self.modify_cluster(name.as_str(), |r| r.deletion_protection(on)).await?;
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
                    Some(db) => {
                        Poll::Pending(format!("{} {}", db.db_instance_identifier().unwrap_or("?"), db.db_instance_status().unwrap_or("?")))
                    }
                })
            })
            .await?;
        let (skip, snapshot, snapshot_name) = final_snapshot_args(final_snapshot);
        let request = self.client.delete_db_cluster().db_cluster_identifier(name).skip_final_snapshot(skip);
        let sent = request.set_final_db_snapshot_identifier(snapshot).send().await;
        sent.map_err(|e| rds_error(e, op("DeleteDBCluster"), ("database", name), &[("DBClusterSnapshot", "snapshot", snapshot_name)]))?;
        wait_gone(&self.waiter, &format!("cluster {name} to be deleted"), || async {
            Ok(self.find_cluster(cluster_name.as_str()).await?.map(|c| c.info.status.to_string()))
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
        self.client.remove_from_global_cluster().global_cluster_identifier(global).db_cluster_identifier(arn).send().await.on(
            op("RemoveFromGlobalCluster"),
            "global database",
            global,
        )?;
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
