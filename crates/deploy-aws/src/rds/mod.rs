//! The [`Database`] on Amazon RDS: [`RdsInstances`] for RDS for PostgreSQL and
//! MySQL instances, [`AuroraClusters`] for Aurora PostgreSQL and Aurora MySQL
//! clusters, both over the same parameter groups. [`RdsDatabase`] is the front
//! that takes either: the spec's engine picks the backend, and a call by name
//! only (describe, snapshots, restores, protection, password, delete) goes to
//! the instance of that name, else to the cluster.
//!
//! - TLS and extensions live in a DB parameter group made for the instance,
//!   named [`parameter_group_name`] (`NAME-postgresMAJOR`, family
//!   `postgresMAJOR`): `rds.force_ssl` is `1` when TLS is required and
//!   `rds.allowed_extensions` lists the allowed extensions (`*`, RDS's default,
//!   when the spec allows any). Both are dynamic parameters, applied
//!   `immediate`ly.
//! - The instance: class, storage and its autoscaling ceiling
//!   (`MaxAllocatedStorage`), storage always encrypted (with the spec's KMS key,
//!   else RDS's), deletion protection, backup retention, subnet group and
//!   security groups, multi-AZ, the master user — its password is sent on
//!   creation only, never compared or changed by `ensure_database`;
//!   [`Database::set_admin_password`] changes it (`ModifyDBInstance` or
//!   `ModifyDBCluster` `MasterUserPassword`) and waits until RDS applied it,
//!   for [`deploy_core::recipes::rotate_admin_password`].
//! - `ensure_database` compares what RDS reports with the spec and sends one
//!   `ModifyDBInstance` (`ApplyImmediately`) with only the fields that differ;
//!   engine, encryption key and subnet group cannot change in place and are
//!   reported as drift. A second call makes no mutating request.
//! - Snapshots, restore from a snapshot and point-in-time restore create new
//!   instances placed like their source (its subnet group, security groups and
//!   parameter group) unless the target says otherwise.
//! - Every long operation waits through [`deploy_core::waiter::Waiter`] until
//!   the instance is `available` with no pending modification (or gone).
//!
//! MySQL: TLS is `require_secure_transport=ON` in the parameter group (family
//! `mysql8.0`, group `NAME-mysql8-0`); there are no extensions. Multi-AZ is
//! `high_availability`; `topology.writer_zone` pins a single-AZ instance's zone.
//!
//! # Aurora clusters
//!
//! The Aurora engines make a DB cluster `NAME` with a DB *cluster* parameter
//! group, its writer `NAME-1` in `topology.writer_zone` and a reader `NAME-N`
//! per `topology.readers` entry in that zone (never the writer's). A
//! `topology.cross_region_replica` is an Aurora global database `NAME-global`
//! whose secondary cluster `NAME-replica` (instance `NAME-replica-1`) runs in
//! the replica's region. Snapshots, restores, deletion protection and deletion
//! take the same calls as for instances, with the cluster's name; restores
//! create the new cluster's writer and readers in the source's zones.
//!
//! `storage-optimization` (after a storage change, for hours, the instance
//! serving) is reported as available.

use async_trait::async_trait;
use aws_sdk_rds::Client;
use deploy_core::database::{Database, DatabaseInfo, DatabaseSpec, FinalSnapshot, RestorePoint, RestoreTarget, SnapshotInfo};
use deploy_core::plan::Plan;
use deploy_core::waiter::Waiter;
use deploy_core::{Confirm, ResourceName, Result};

use crate::context::AwsContext;

mod aurora;
mod aurora_restore;
mod aurora_spec;
mod common;
mod instances;
mod params;
mod spec;
mod subnet_group;

pub use aurora::AuroraClusters;
pub use instances::RdsInstances;
pub use params::{engine_name, family, parameter_group_name};
pub use subnet_group::{DbSubnetGroupInfo, DbSubnetGroupSpec};

use common::{SERVICE, check_admin_password, check_restore};
use spec::validate_spec;

/// The [`Database`] on RDS: [`RdsInstances`] or [`AuroraClusters`] by the
/// spec's engine, by the identifier for a call by name. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct RdsDatabase {
    instances: RdsInstances,
    clusters: AuroraClusters,
}

impl RdsDatabase {
    /// RDS built from `ctx`, waiting with its waiter.
    pub fn new(ctx: &AwsContext) -> Self {
        RdsDatabase { instances: RdsInstances::new(ctx), clusters: AuroraClusters::new(ctx) }
    }

    /// Wait for long operations with `waiter`.
    #[must_use]
    pub fn with_waiter(self, waiter: Waiter) -> Self {
        RdsDatabase { instances: self.instances.with_waiter(waiter.clone()), clusters: self.clusters.with_waiter(waiter) }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        self.instances.client()
    }

    /// Delete the DB parameter group `group` (see [`RdsInstances::delete_parameter_group`]).
    ///
    /// # Errors
    /// [`deploy_core::Error::NotFound`]; [`deploy_core::Error::Conflict`] while an instance uses it.
    pub async fn delete_parameter_group(&self, group: &str) -> Result<()> {
        self.instances.delete_parameter_group(group).await
    }

    /// The instance backend.
    pub fn instances(&self) -> &RdsInstances {
        &self.instances
    }

    /// The cluster backend.
    pub fn clusters(&self) -> &AuroraClusters {
        &self.clusters
    }

    /// The backend the spec's engine picks.
    fn backend_for(&self, spec: &DatabaseSpec) -> &dyn Database {
        if spec.engine.is_aurora() { &self.clusters } else { &self.instances }
    }
}

#[async_trait]
impl Database for RdsDatabase {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    async fn reconcile_database(&self, spec: &DatabaseSpec, mode: deploy_core::Mode) -> Result<Plan> {
        validate_spec(spec)?;
        self.backend_for(spec).reconcile_database(spec, mode).await
    }

    async fn describe_database(&self, name: &ResourceName) -> Result<DatabaseInfo> {
        match self.instances.find(name.as_str()).await? {
            Some(instance) => self.instances.describe_found(instance, name).await,
            None => self.clusters.describe_database(name).await,
        }
    }

    async fn create_snapshot(&self, database: &ResourceName, snapshot: &ResourceName) -> Result<SnapshotInfo> {
        if self.instances.find(database.as_str()).await?.is_none() && self.clusters.find_cluster(database.as_str()).await?.is_some() {
            return self.clusters.create_snapshot(database, snapshot).await;
        }
        self.instances.create_snapshot(database, snapshot).await
    }

    async fn list_snapshots(&self, database: &ResourceName) -> Result<Vec<SnapshotInfo>> {
        let snapshots = self.instances.list_snapshots(database).await?;
        if snapshots.is_empty() { self.clusters.list_snapshots(database).await } else { Ok(snapshots) }
    }

    async fn delete_snapshot(&self, snapshot: &ResourceName, confirm: &Confirm) -> Result<()> {
        match self.instances.delete_snapshot(snapshot, confirm).await {
            Err(e) if e.is_not_found() => match self.clusters.delete_snapshot(snapshot, confirm).await {
                Err(cluster) if cluster.is_not_found() => Err(e),
                other => other,
            },
            other => other,
        }
    }

    async fn restore_snapshot(&self, snapshot: &ResourceName, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, None)?;
        match self.instances.db_snapshot(snapshot).await? {
            Some(raw) => self.instances.restore_db_snapshot(snapshot, &raw, target).await,
            None => self.clusters.restore_snapshot(snapshot, target).await,
        }
    }

    async fn restore_to_point_in_time(&self, source: &ResourceName, point: RestorePoint, target: &RestoreTarget) -> Result<DatabaseInfo> {
        check_restore(target, Some(point))?;
        match self.instances.find(source.as_str()).await? {
            Some(instance) => self.instances.restore_found_to(instance, source, point, target).await,
            None => self.clusters.restore_to_point_in_time(source, point, target).await,
        }
    }

    async fn set_deletion_protection(&self, database: &ResourceName, on: bool) -> Result<()> {
        match self.instances.find(database.as_str()).await? {
            Some(current) => self.instances.protect_found(current, database, on).await,
            None => self.clusters.set_deletion_protection(database, on).await,
        }
    }

    async fn set_admin_password(&self, database: &ResourceName, password: &deploy_core::Password) -> Result<()> {
        check_admin_password(password)?;
        match self.instances.find(database.as_str()).await? {
            Some(_) => self.instances.modify_password(database, password).await,
            None => self.clusters.set_admin_password(database, password).await,
        }
    }

    async fn delete_database(&self, database: &ResourceName, final_snapshot: &FinalSnapshot, confirm: &Confirm) -> Result<()> {
        confirm.check("delete database", database.as_str())?;
        match self.instances.find(database.as_str()).await? {
            Some(instance) => self.instances.delete_found(instance, database, final_snapshot).await,
            None => self.clusters.delete_database(database, final_snapshot, confirm).await,
        }
    }
}
