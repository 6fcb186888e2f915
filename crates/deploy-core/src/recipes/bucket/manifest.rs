//! The manifest: the record of a complete snapshot, written last.

use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::layout::{SnapshotId, SnapshotLayout};
use super::listing::list_resilient;
use super::{DEFAULT_ATTEMPTS, Location, retried};
use crate::error::{Error, Result};
use crate::object_store::{KeyOrder, ListOptions, ObjectMeta, ObjectStoreExt};
use crate::validate::ObjectKey;

/// One object of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The key in the source bucket.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The source's ETag (content fingerprint) of what was copied.
    pub etag: Option<String>,
    /// The source version copied.
    pub version: Option<String>,
    /// The ETag (content fingerprint) of the copy in the snapshot.
    pub copy_etag: Option<String>,
    /// SHA-256 of the content (hex), when it streamed through this process.
    pub sha256: Option<String>,
    /// The entity tag of the copy in the snapshot: a restore reads or copies
    /// it on this condition, so a copy changed since is refused. Absent from
    /// manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_tag: Option<String>,
}

/// The record of a complete snapshot (format 1: one JSON document holding
/// every entry), written last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version (1).
    pub format: u32,
    /// The snapshot's id.
    pub id: SnapshotId,
    /// The source's backend.
    pub source_backend: String,
    /// The source bucket.
    pub source_bucket: String,
    /// The source prefix, when only part of the bucket was copied.
    pub source_prefix: Option<String>,
    /// The order of `objects` (the source's listing order).
    #[serde(default)]
    pub key_order: KeyOrder,
    /// When the snapshot completed.
    pub completed: Timestamp,
    /// Bytes in all.
    pub total_bytes: u64,
    /// Every object, in key order.
    pub objects: Vec<ManifestEntry>,
}

/// What a manifest says about its snapshot, without its entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManifestInfo {
    /// The manifest's format (1: one document; 2: an index and parts).
    pub format: u32,
    /// The snapshot's id (its start time).
    pub id: SnapshotId,
    /// The source's backend.
    pub source_backend: String,
    /// The source bucket.
    pub source_bucket: String,
    /// The source prefix, when only part of the bucket was copied.
    pub source_prefix: Option<String>,
    /// The order the entries are in.
    pub key_order: KeyOrder,
    /// When the snapshot completed.
    pub completed: Timestamp,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub total_bytes: u64,
}

/// A complete snapshot's manifest, opened: its info, and its entries as a
/// stream that can be read again.
#[derive(Clone)]
pub(super) struct OpenManifest {
    pub info: ManifestInfo,
    entries: Arc<Vec<ManifestEntry>>,
}

impl OpenManifest {
    /// Every entry, in the manifest's key order.
    pub fn entries(&self) -> BoxStream<'static, Result<ManifestEntry>> {
        let entries = self.entries.clone();
        futures::stream::iter((0..entries.len()).map(move |i| Ok(entries[i].clone()))).boxed()
    }
}

fn not_complete(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Error {
    Error::not_found("complete snapshot (no manifest: missing or unfinished)", format!("{}/{}", backup.bucket, layout.folder(id)))
}

/// Open the manifest of snapshot `id`.
pub(super) async fn open_manifest(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId, attempts: usize) -> Result<OpenManifest> {
    let key = ObjectKey::new(layout.manifest_key(id))?;
    let bytes = match retried(attempts, || backup.store.get_bytes(backup.bucket, &key)).await {
        Err(e) if e.is_not_found() => return Err(not_complete(backup, layout, id)),
        other => other?,
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Verification { what: format!("manifest {key}"), detail: e.to_string() })?;
    if &manifest.id != id {
        return Err(Error::Verification { what: format!("manifest {key}"), detail: format!("names snapshot {}, not {id}", manifest.id) });
    }
    let info = ManifestInfo {
        format: manifest.format,
        id: manifest.id,
        source_backend: manifest.source_backend,
        source_bucket: manifest.source_bucket,
        source_prefix: manifest.source_prefix,
        key_order: manifest.key_order,
        completed: manifest.completed,
        objects: manifest.objects.len() as u64,
        total_bytes: manifest.total_bytes,
    };
    Ok(OpenManifest { info, entries: Arc::new(manifest.objects) })
}

/// The complete snapshots under `layout`, oldest first (those with a manifest).
///
/// # Errors
/// Listing errors; [`Error::NotFound`] for the bucket.
pub async fn list_snapshots(backup: Location<'_>, layout: &SnapshotLayout) -> Result<Vec<SnapshotId>> {
    let prefix = layout.manifests_prefix();
    let metas: Vec<ObjectMeta> = list_resilient(backup, ListOptions::prefix(prefix.clone()), DEFAULT_ATTEMPTS).try_collect().await?;
    let mut ids: Vec<SnapshotId> =
        metas.iter().filter_map(|m| m.key.as_str()[prefix.len()..].strip_suffix(".json").and_then(|id| id.parse().ok())).collect();
    ids.sort();
    Ok(ids)
}

/// The newest complete snapshot under `layout` of `source` (its backend and
/// bucket; any prefix): `latest` for a restore into `source`, never a
/// snapshot of another bucket sharing the backup bucket.
///
/// # Errors
/// [`Error::NotFound`] when there is none; listing and reading errors.
pub async fn latest_snapshot_of(backup: Location<'_>, layout: &SnapshotLayout, source: Location<'_>) -> Result<SnapshotId> {
    for id in list_snapshots(backup, layout).await?.into_iter().rev() {
        let info = open_manifest(backup, layout, &id, DEFAULT_ATTEMPTS).await?.info;
        if info.source_bucket == source.bucket.as_str() && info.source_backend == source.store.backend() {
            return Ok(id);
        }
    }
    Err(Error::not_found("complete snapshot", format!("of {} in {}/{}", source.bucket, backup.bucket, layout.root())))
}

/// Read a snapshot's manifest whole, every entry in memory: for small
/// snapshots and tests. Restores stream the entries instead.
///
/// # Errors
/// [`Error::NotFound`] naming the snapshot as incomplete when it has no manifest.
pub async fn read_manifest(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<Manifest> {
    let open = open_manifest(backup, layout, id, DEFAULT_ATTEMPTS).await?;
    let objects: Vec<ManifestEntry> = open.entries().try_collect().await?;
    let info = open.info;
    Ok(Manifest {
        format: info.format,
        id: info.id,
        source_backend: info.source_backend,
        source_bucket: info.source_bucket,
        source_prefix: info.source_prefix,
        key_order: info.key_order,
        completed: info.completed,
        total_bytes: info.total_bytes,
        objects,
    })
}

/// What a snapshot's manifest says, without its entries.
///
/// # Errors
/// [`Error::NotFound`] naming the snapshot as incomplete when it has no manifest.
pub async fn read_manifest_info(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<ManifestInfo> {
    Ok(open_manifest(backup, layout, id, DEFAULT_ATTEMPTS).await?.info)
}
