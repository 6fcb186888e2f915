//! The manifest: the record of a complete snapshot, written last.
//!
//! Format 2 (what snapshots write): the entries as numbered parts of JSON
//! Lines under `manifests/<id>/`, each of a bounded size, written as the
//! snapshot goes, one folder per shard; a record per shard once its parts are
//! all written; and, written last by [`super::finalize_snapshot`], the index
//! `manifests/<id>.json`: totals and each part's key, size, SHA-256 and first
//! and last key. Format 1 (one JSON document with every entry, written before)
//! stays readable.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::common::{DEFAULT_ATTEMPTS, Location, retried};
use super::layout::{SnapshotId, SnapshotLayout};
use super::listing::list_resilient;
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The source version copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The ETag (content fingerprint) of the copy in the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_etag: Option<String>,
    /// SHA-256 of the content (hex), when it streamed through this process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The entity tag of the copy in the snapshot: a restore reads or copies
    /// it on this condition, so a copy changed since is refused. Absent from
    /// manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_tag: Option<String>,
}

/// The record of a complete snapshot in format 1: one JSON document holding
/// every entry. Snapshots now write format 2; [`read_manifest`] reads both
/// into this shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
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

/// One part of a format-2 manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// Its key in the backup bucket.
    pub key: String,
    /// Entries in it.
    pub objects: u64,
    /// Bytes of the objects its entries describe.
    pub object_bytes: u64,
    /// Its own size in bytes.
    pub size: u64,
    /// SHA-256 of its content (hex).
    pub sha256: String,
    /// The key of its first entry.
    pub first_key: String,
    /// The key of its last entry.
    pub last_key: String,
}

/// What a manifest says of its snapshot besides its entries. `P` is its
/// parts: every [`PartInfo`] in the index a snapshot writes
/// ([`ManifestIndex`]), how many there are in what a restore reads of a
/// manifest of either format ([`ManifestInfo`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSummary<P> {
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
    /// The order of the entries (the source's listing order).
    pub key_order: KeyOrder,
    /// When the snapshot completed.
    pub completed: Timestamp,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub total_bytes: u64,
    /// How many shards wrote it (1 for a format-1 manifest).
    pub shards: usize,
    /// The manifest's parts, in key order (a format-1 manifest is one part).
    pub parts: P,
}

/// The index of a format-2 manifest (format 2), written last: a snapshot is
/// complete exactly when it exists.
pub type ManifestIndex = ManifestSummary<Vec<PartInfo>>;

/// What a manifest of either format says about its snapshot, without its
/// entries: its parts are counted.
pub type ManifestInfo = ManifestSummary<usize>;

#[derive(Clone)]
enum Entries {
    /// Format 1: every entry, in memory.
    Whole(Arc<Vec<ManifestEntry>>),
    /// Format 2: the parts, read as needed.
    Parts(Arc<Vec<PartInfo>>),
}

/// A complete snapshot's manifest, opened: its info, and its entries as a
/// stream that can be read again.
#[derive(Clone)]
pub(super) struct OpenManifest<'a> {
    pub info: ManifestInfo,
    entries: Entries,
    backup: Location<'a>,
    attempts: usize,
}

/// Keys in `(after, until]`, in a store's key order; `None` bounds are open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRange {
    /// Keys sort after this one (exclusive).
    pub after: Option<String>,
    /// Keys sort up to this one (inclusive).
    pub until: Option<String>,
}

impl KeyRange {
    /// Every key.
    pub fn all() -> Self {
        KeyRange::default()
    }

    /// Whether `key` lies in the range, in `order`.
    pub fn contains(&self, order: KeyOrder, key: &str) -> bool {
        self.after.as_deref().is_none_or(|a| order.compare(key, a).is_gt())
            && self.until.as_deref().is_none_or(|u| order.compare(key, u).is_le())
    }

    /// Whether `key` lies beyond the range's upper bound, in `order`.
    pub fn is_past(&self, order: KeyOrder, key: &str) -> bool {
        self.until.as_deref().is_some_and(|u| order.compare(key, u).is_gt())
    }

    /// Whether the range is every key.
    pub fn is_all(&self) -> bool {
        self.after.is_none() && self.until.is_none()
    }
}

impl std::fmt::Display for KeyRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}, {}]",
            self.after.as_deref().map_or("start".into(), |a| format!("`{a}`")),
            self.until.as_deref().map_or("end".into(), |u| format!("`{u}`"))
        )
    }
}

fn part_error(key: &str, detail: impl Into<String>) -> Error {
    Error::Verification { what: format!("manifest part {key}"), detail: detail.into() }
}

/// Read one part whole (it is bounded), check its size and SHA-256 against the
/// index, and parse its entries.
pub(super) async fn read_part(backup: Location<'_>, part: &PartInfo, attempts: usize) -> Result<Vec<ManifestEntry>> {
    let key = ObjectKey::new(part.key.clone())?;
    let bytes: Bytes = retried(attempts, || backup.store.get_bytes(backup.bucket, &key)).await?;
    if bytes.len() as u64 != part.size {
        return Err(part_error(&part.key, format!("{} bytes, the index says {}", bytes.len(), part.size)));
    }
    if hex::encode(Sha256::digest(&bytes)) != part.sha256 {
        return Err(part_error(&part.key, "its SHA-256 is not the one the index recorded"));
    }
    let entries: Vec<ManifestEntry> = bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).map_err(|e| part_error(&part.key, e.to_string())))
        .collect::<Result<_>>()?;
    if entries.len() as u64 != part.objects {
        return Err(part_error(&part.key, format!("{} entries, the index says {}", entries.len(), part.objects)));
    }
    Ok(entries)
}

impl<'a> OpenManifest<'a> {
    /// Every entry, in the manifest's key order.
    pub fn entries(&self) -> BoxStream<'a, Result<ManifestEntry>> {
        self.entries_in(&KeyRange::all())
    }

    /// The entries in `range` (in the manifest's key order): for format 2,
    /// only the parts that may hold some are read, one ahead of the reader.
    pub fn entries_in(&self, range: &KeyRange) -> BoxStream<'a, Result<ManifestEntry>> {
        let order = self.info.key_order;
        let in_range = {
            let range = range.clone();
            move |e: &ManifestEntry| range.contains(order, &e.key)
        };
        match &self.entries {
            Entries::Whole(entries) => {
                let entries = entries.clone();
                futures::stream::iter((0..entries.len()).map(move |i| entries[i].clone()))
                    .filter(move |e| futures::future::ready(in_range(e)))
                    .map(Ok)
                    .boxed()
            }
            Entries::Parts(parts) => {
                let (backup, attempts) = (self.backup, self.attempts);
                let wanted: Vec<PartInfo> = parts
                    .iter()
                    .filter(|p| {
                        // A part lies wholly outside the range only when its keys do, in the manifest's order.
                        let before = range.after.as_deref().is_some_and(|a| order.compare(&p.last_key, a).is_le());
                        let past = range.is_past(order, &p.first_key);
                        !(before || past)
                    })
                    .cloned()
                    .collect();
                let all = range.is_all();
                futures::stream::iter(wanted)
                    .map(move |part| async move { read_part(backup, &part, attempts).await })
                    .buffered(2)
                    .map_ok(move |mut entries| {
                        if !all {
                            entries.retain(&in_range);
                        }
                        futures::stream::iter(entries.into_iter().map(Ok))
                    })
                    .try_flatten()
                    .boxed()
            }
        }
    }

    /// `n` ranges (fewer when the manifest is small) covering every key:
    /// boundaries at part ends (format 2) or entries (format 1), evenly spaced.
    pub fn split(&self, n: usize) -> Vec<KeyRange> {
        let keys: Vec<String> = match &self.entries {
            Entries::Parts(parts) => parts.iter().map(|p| p.last_key.clone()).collect(),
            Entries::Whole(entries) => entries.iter().map(|e| e.key.clone()).collect(),
        };
        let mut boundaries: Vec<String> = (1..n).filter_map(|i| keys.get((i * keys.len() / n).checked_sub(1)?).cloned()).collect();
        boundaries.dedup();
        let mut ranges = Vec::with_capacity(boundaries.len() + 1);
        let mut after = None;
        for b in boundaries {
            ranges.push(KeyRange { after: after.clone(), until: Some(b.clone()) });
            after = Some(b);
        }
        ranges.push(KeyRange { after, until: None });
        ranges
    }
}

fn not_complete(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Error {
    Error::not_found("complete snapshot (no manifest: missing or unfinished)", format!("{}/{}", backup.bucket, layout.folder(id)))
}

/// Just the format of a manifest document.
#[derive(Deserialize)]
struct Format {
    format: u32,
}

/// What a manifest of either format says of its snapshot besides its entries.
#[derive(Deserialize)]
struct Header {
    id: SnapshotId,
    source_backend: String,
    source_bucket: String,
    source_prefix: Option<String>,
    #[serde(default)]
    key_order: KeyOrder,
    completed: Timestamp,
    total_bytes: u64,
}

/// Open the manifest of snapshot `id`, of either format.
pub(super) async fn open_manifest<'a>(
    backup: Location<'a>,
    layout: &SnapshotLayout,
    id: &SnapshotId,
    attempts: usize,
) -> Result<OpenManifest<'a>> {
    let key = ObjectKey::new(layout.manifest_key(id))?;
    let bytes = match retried(attempts, || backup.store.get_bytes(backup.bucket, &key)).await {
        Err(e) if e.is_not_found() => return Err(not_complete(backup, layout, id)),
        other => other?,
    };
    let bad = |e: serde_json::Error| Error::Verification { what: format!("manifest {key}"), detail: e.to_string() };
    let format: Format = serde_json::from_slice(&bytes).map_err(bad)?;
    let (objects, shards, parts, entries) = match format.format {
        1 => {
            let m: Manifest = serde_json::from_slice(&bytes).map_err(bad)?;
            (m.objects.len() as u64, 1, 1, Entries::Whole(Arc::new(m.objects)))
        }
        2 => {
            let index: ManifestIndex = serde_json::from_slice(&bytes).map_err(bad)?;
            (index.objects, index.shards, index.parts.len(), Entries::Parts(Arc::new(index.parts)))
        }
        other => {
            return Err(Error::Verification {
                what: format!("manifest {key}"),
                detail: format!("format {other} is not known to this version"),
            });
        }
    };
    // What both formats say alike (the typed parse above has checked the document).
    let header: Header = serde_json::from_slice(&bytes).map_err(bad)?;
    let info = ManifestInfo {
        format: format.format,
        id: header.id,
        source_backend: header.source_backend,
        source_bucket: header.source_bucket,
        source_prefix: header.source_prefix,
        key_order: header.key_order,
        completed: header.completed,
        objects,
        total_bytes: header.total_bytes,
        shards,
        parts,
    };
    if &info.id != id {
        return Err(Error::Verification { what: format!("manifest {key}"), detail: format!("names snapshot {}, not {id}", info.id) });
    }
    Ok(OpenManifest { info, entries, backup, attempts })
}

/// The complete snapshots under `layout`, oldest first (those with a manifest).
///
/// # Errors
/// Listing errors; [`Error::NotFound`] for the bucket.
pub async fn list_snapshots(backup: Location<'_>, layout: &SnapshotLayout) -> Result<Vec<SnapshotId>> {
    let prefix = layout.manifests_prefix();
    let mut ids = Vec::new();
    let mut listing = list_resilient(backup, ListOptions::prefix(prefix.clone()), DEFAULT_ATTEMPTS);
    while let Some(meta) = listing.try_next().await? {
        let meta: ObjectMeta = meta;
        // `manifests/<id>.json`; not the parts and records in `manifests/<id>/`.
        if let Some(id) = meta.key.as_str()[prefix.len()..].strip_suffix(".json").and_then(|id| id.parse::<SnapshotId>().ok()) {
            ids.push(id);
        }
    }
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

/// Read a snapshot's manifest whole, every entry in memory, whatever its
/// format: for small snapshots and tests. Restores stream the entries instead.
///
/// # Errors
/// [`Error::NotFound`] naming the snapshot as incomplete when it has no
/// manifest; [`Error::Verification`] for a part that is not what the index says.
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
