//! The state of an [`InMemoryCloud`](super::InMemoryCloud): one record per
//! resource (a leaf: the cloud holds it, every backend file reads it).

use std::collections::BTreeMap;

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::backup::{BackupPlanSpec, RecoveryPoint, VaultSpec};
use crate::cluster::{ClusterInfo, ClusterStatus, NodePoolInfo};
use crate::database::{DatabaseInfo, DatabaseStatus, SnapshotInfo};
use crate::error::{Error, Result};
use crate::object_store::{BucketInfo, PutMode};
use crate::validate::BucketName;

#[derive(Default)]
pub(super) struct State {
    pub(super) buckets: BTreeMap<String, MemBucket>,
    pub(super) databases: BTreeMap<String, MemDatabase>,
    pub(super) snapshots: BTreeMap<String, MemSnapshot>,
    pub(super) clusters: BTreeMap<String, MemCluster>,
    pub(super) secrets: BTreeMap<String, MemSecret>,
    pub(super) vaults: BTreeMap<String, MemVault>,
    pub(super) plans: BTreeMap<String, BackupPlanSpec>,
    pub(super) counter: u64,
}

impl State {
    pub(super) fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

/// A provisioning state: pending until an instant, then settled.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    pub(super) until: Instant,
    pub(super) state: &'static str,
}

impl Pending {
    pub(super) fn new(until: Instant, state: &'static str) -> Option<Pending> {
        Some(Pending { until, state })
    }
}

/// The state a resource shows now: the pending state until its instant passes.
pub(super) fn current(pending: &mut Option<Pending>) -> Option<&'static str> {
    match pending {
        Some(p) if Instant::now() < p.until => Some(p.state),
        _ => {
            *pending = None;
            None
        }
    }
}

pub(super) struct MemBucket {
    pub(super) info: BucketInfo,
    /// Versions of each key, oldest first; `None` data is a delete marker.
    pub(super) objects: BTreeMap<String, Vec<MemVersion>>,
}

#[derive(Clone)]
pub(super) struct MemVersion {
    pub(super) data: Option<Bytes>,
    pub(super) etag: String,
    /// The entity tag: new at every write, even of the same bytes (as Azure's `ETag`),
    /// so that code mixing it up with the content's `etag` fails here too.
    pub(super) entity_tag: String,
    pub(super) version: Option<String>,
    pub(super) modified: Timestamp,
}

impl MemBucket {
    pub(super) fn latest(&self, key: &str) -> Option<&MemVersion> {
        self.objects.get(key).and_then(|v| v.last()).filter(|v| v.data.is_some())
    }

    pub(super) fn version(&self, key: &str, version: Option<&str>) -> Option<&MemVersion> {
        match version {
            None => self.latest(key),
            Some(id) => self.objects.get(key)?.iter().find(|v| v.version.as_deref() == Some(id) && v.data.is_some()),
        }
    }

    pub(super) fn write(&mut self, key: &str, version: MemVersion) {
        let versions = self.objects.entry(key.to_owned()).or_default();
        if !self.info.versioning {
            versions.clear();
        }
        versions.push(version);
    }

    /// Check a write's condition against what is at `key` now.
    pub(super) fn check_mode(&self, bucket: &BucketName, key: &str, mode: &PutMode) -> Result<()> {
        let current = self.latest(key);
        let holds = match mode {
            PutMode::Overwrite => true,
            PutMode::Create => current.is_none(),
            PutMode::Update { entity_tag } => current.is_some_and(|v| &v.entity_tag == entity_tag),
        };
        if holds { Ok(()) } else { Err(Error::precondition("object", format!("{bucket}/{key}"), mode.describe())) }
    }
}

pub(super) struct MemCluster {
    pub(super) info: ClusterInfo,
    pub(super) pending: Option<Pending>,
    pub(super) pools: Vec<MemPool>,
}

pub(super) struct MemPool {
    pub(super) info: NodePoolInfo,
    pub(super) pending: Option<Pending>,
}

pub(super) fn status(pending: &mut Option<Pending>) -> ClusterStatus {
    match current(pending) {
        Some("creating") => ClusterStatus::Creating,
        Some("updating") => ClusterStatus::Updating,
        Some("deleting") => ClusterStatus::Deleting,
        Some(other) => ClusterStatus::Other(other.to_owned()),
        None => ClusterStatus::Active,
    }
}

impl MemCluster {
    pub(super) fn view(&mut self) -> ClusterInfo {
        let mut info = self.info.clone();
        info.status = status(&mut self.pending);
        info.node_pools =
            self.pools.iter_mut().map(|p| NodePoolInfo { spec: p.info.spec.clone(), status: status(&mut p.pending) }).collect();
        info
    }
}

pub(super) struct MemDatabase {
    pub(super) info: DatabaseInfo,
    pub(super) created: Timestamp,
    pub(super) pending: Option<Pending>,
    /// The administrator's password the instance uses now.
    pub(super) admin_password: Option<SecretString>,
}

pub(super) struct MemSnapshot {
    pub(super) info: SnapshotInfo,
    /// The instance as it was when the snapshot was taken.
    pub(super) source: DatabaseInfo,
    pub(super) pending: Option<Pending>,
}

impl MemDatabase {
    pub(super) fn view(&mut self) -> DatabaseInfo {
        let mut info = self.info.clone();
        info.status = match current(&mut self.pending) {
            Some("creating") => DatabaseStatus::Creating,
            Some("modifying") => DatabaseStatus::Modifying,
            Some("backing-up") => DatabaseStatus::BackingUp,
            Some("deleting") => DatabaseStatus::Deleting,
            Some(other) => DatabaseStatus::Other(other.to_owned()),
            None => DatabaseStatus::Available,
        };
        if info.status != DatabaseStatus::Creating {
            let now = Timestamp::now();
            let window = SignedDuration::from_hours(24 * i64::from(info.backup_retention_days));
            let earliest = now.checked_sub(window).unwrap_or(self.created).max(self.created);
            info.earliest_restorable_time = Some(earliest);
            info.latest_restorable_time = Some(now);
        }
        info
    }
}

pub(super) struct MemVault {
    pub(super) spec: VaultSpec,
    pub(super) points: Vec<(RecoveryPoint, Option<Pending>)>,
}

pub(super) struct MemSecret {
    /// Versions, oldest first.
    pub(super) versions: Vec<(String, SecretString)>,
}
