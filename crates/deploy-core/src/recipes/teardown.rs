//! Teardown in dependency order: recovery points, backup plans and vaults,
//! deletion protection off, databases, buckets, node pools, clusters.
//!
//! Every data-bearing deletion (a recovery point, a database, a bucket holding
//! objects, older versions or snapshots) needs a [`Confirm`] that names it (or an environment prefix,
//! [`Confirm::prefix`]); without one, nothing at all is deleted. Resources that
//! are already gone are skipped, so a teardown can be run again.

use std::fmt;

use super::bucket::SnapshotId;
use super::dr::snapshot_name;
use crate::backup::BackupVault;
use crate::cluster::Cluster;
use crate::database::{Database, FinalSnapshot};
use crate::error::{Confirm, Error, Result};
use crate::object_store::ObjectStore;
use crate::observe::Observer;
use crate::validate::{BucketName, ResourceName};

/// What to tear down, and with which backends.
#[derive(Clone, Debug, Default)]
pub struct Teardown<'a> {
    /// The backup backend.
    pub backup: Option<&'a dyn BackupVault>,
    /// Vaults to empty and delete.
    pub vaults: Vec<ResourceName>,
    /// Backup plans to delete.
    pub backup_plans: Vec<ResourceName>,
    /// The database backend.
    pub database: Option<&'a dyn Database>,
    /// Instances to delete.
    pub databases: Vec<ResourceName>,
    /// Take a final snapshot of each instance before deleting it (default off; on is safer).
    pub final_snapshots: bool,
    /// The object store.
    pub objects: Option<&'a dyn ObjectStore>,
    /// Buckets to empty and delete.
    pub buckets: Vec<BucketName>,
    /// The cluster backend.
    pub cluster: Option<&'a dyn Cluster>,
    /// Clusters to delete with their node pools.
    pub clusters: Vec<ResourceName>,
    /// The confirmation for data-bearing deletions.
    pub confirm: Option<Confirm>,
    /// Progress events.
    pub observer: Observer,
}

/// One step of a teardown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeardownStep {
    /// What is done (`delete recovery point`, `turn off deletion protection of`, ...).
    pub action: &'static str,
    /// On what.
    pub target: String,
    /// The name a confirmation must match, when the step destroys data.
    pub destroys: Option<String>,
}

impl fmt::Display for TeardownStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  - {} {}{}", self.action, self.target, if self.destroys.is_some() { "  [destroys data]" } else { "" })
    }
}

/// The steps of a teardown, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeardownPlan {
    /// The steps.
    pub steps: Vec<TeardownStep>,
}

impl fmt::Display for TeardownPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return write!(f, "  (nothing to tear down)");
        }
        let lines: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("\n"))
    }
}

fn step(action: &'static str, target: impl Into<String>, destroys: Option<&str>) -> TeardownStep {
    TeardownStep { action, target: target.into(), destroys: destroys.map(str::to_owned) }
}

fn gone<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

impl Teardown<'_> {
    /// The steps a teardown would take, read from the current state; mutates nothing.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when resources are named without their backend; read errors.
    #[tracing::instrument(name = "teardown_plan", level = "info", skip_all)]
    pub async fn plan(&self) -> Result<TeardownPlan> {
        let mut steps = Vec::new();
        if !self.vaults.is_empty() || !self.backup_plans.is_empty() {
            let backup = self.backup.ok_or_else(|| Error::invalid("backup", "is missing", "vaults and plans need a backup backend"))?;
            for vault in &self.vaults {
                if let Some(points) = gone(backup.list_recovery_points(vault).await)? {
                    for p in points {
                        steps.push(step(
                            "delete recovery point",
                            format!("{} ({}) in vault {vault}", p.id, p.resource),
                            Some(vault.as_str()),
                        ));
                    }
                }
            }
            for plan in &self.backup_plans {
                if backup.backup_plan_exists(plan).await? {
                    steps.push(step("delete backup plan", plan.as_str(), None));
                }
            }
            for vault in &self.vaults {
                if gone(backup.describe_vault(vault).await)?.is_some() {
                    steps.push(step("delete backup vault", vault.as_str(), None));
                }
            }
        }
        if !self.databases.is_empty() {
            let db = self.database.ok_or_else(|| Error::invalid("database", "is missing", "databases need a database backend"))?;
            for name in &self.databases {
                if let Some(info) = gone(db.describe_database(name).await)? {
                    if info.deletion_protection {
                        steps.push(step("turn off deletion protection of database", name.as_str(), Some(name.as_str())));
                    }
                    let what =
                        if self.final_snapshots { "delete database (final snapshot first)" } else { "delete database (no final snapshot)" };
                    steps.push(step(what, name.as_str(), Some(name.as_str())));
                }
            }
        }
        if !self.buckets.is_empty() {
            let store = self.objects.ok_or_else(|| Error::invalid("objects", "is missing", "buckets need an object store"))?;
            for bucket in &self.buckets {
                if gone(store.describe_bucket(bucket).await)?.is_some() {
                    // Older versions, delete markers and snapshots count: deleting the bucket destroys them too.
                    let empty = !store.holds_data(bucket).await?;
                    let what = if empty { "delete empty bucket" } else { "delete bucket and every object in" };
                    steps.push(step(what, bucket.as_str(), (!empty).then_some(bucket.as_str())));
                }
            }
        }
        if !self.clusters.is_empty() {
            let cluster = self.cluster.ok_or_else(|| Error::invalid("cluster", "is missing", "clusters need a cluster backend"))?;
            for name in &self.clusters {
                if let Some(info) = gone(cluster.describe_cluster(name).await)? {
                    for pool in info.node_pools {
                        steps.push(step("delete node pool", format!("{name}/{}", pool.spec.name), None));
                    }
                    steps.push(step("delete cluster", name.as_str(), None));
                }
            }
        }
        Ok(TeardownPlan { steps })
    }

    /// Tear down, in order. Checks every confirmation before the first deletion:
    /// without the confirmations, nothing is deleted.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] naming the first unconfirmed deletion
    /// (nothing is done then); errors of the deletions.
    #[tracing::instrument(name = "teardown", level = "info", skip_all)]
    pub async fn run(&self) -> Result<TeardownPlan> {
        let plan = self.plan().await?;
        for s in &plan.steps {
            if let Some(name) = &s.destroys {
                Confirm::require(self.confirm.as_ref(), s.action, name)?;
            }
        }
        let confirm = self.confirm.clone().unwrap_or_else(|| Confirm::new(""));
        if let Some(backup) = self.backup {
            for vault in &self.vaults {
                if let Some(points) = gone(backup.list_recovery_points(vault).await)? {
                    for p in points {
                        self.observer.step(format!("delete recovery point {} in vault {vault}", p.id));
                        gone(backup.delete_recovery_point(vault, &p.id, &confirm.for_name(vault.as_str())).await)?;
                    }
                }
            }
            for plan_name in &self.backup_plans {
                self.observer.step(format!("delete backup plan {plan_name}"));
                gone(backup.delete_plan(plan_name).await)?;
            }
            for vault in &self.vaults {
                self.observer.step(format!("delete backup vault {vault}"));
                gone(backup.delete_vault(vault).await)?;
            }
        }
        if let Some(db) = self.database {
            for name in &self.databases {
                let Some(info) = gone(db.describe_database(name).await)? else { continue };
                if info.deletion_protection {
                    self.observer.step(format!("turn off deletion protection of {name}"));
                    db.set_deletion_protection(name, false).await?;
                }
                let final_snapshot =
                    if self.final_snapshots { FinalSnapshot::Take(snapshot_name(name, &SnapshotId::now())?) } else { FinalSnapshot::Skip };
                self.observer.step(format!("delete database {name}"));
                gone(db.delete_database(name, &final_snapshot, &confirm.for_name(name.as_str())).await)?;
            }
        }
        if let Some(store) = self.objects {
            for bucket in &self.buckets {
                self.observer.step(format!("delete bucket {bucket}"));
                gone(store.delete_bucket(bucket, Some(confirm.for_name(bucket.as_str()))).await)?;
            }
        }
        if let Some(cluster) = self.cluster {
            for name in &self.clusters {
                let Some(info) = gone(cluster.describe_cluster(name).await)? else { continue };
                for pool in info.node_pools {
                    self.observer.step(format!("delete node pool {name}/{}", pool.spec.name));
                    gone(cluster.delete_node_pool(name, &pool.spec.name).await)?;
                }
                self.observer.step(format!("delete cluster {name}"));
                gone(cluster.delete_cluster(name).await)?;
            }
        }
        Ok(plan)
    }
}
