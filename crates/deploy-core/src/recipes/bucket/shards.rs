//! Shards: a snapshot split into N key ranges, each copied by its own run
//! (in this process, another one, or a pod of a Kubernetes Indexed Job) and
//! writing its own manifest parts and record; then one `finalize` writes the
//! index once every shard's record is there and agrees with the plan.
//!
//! Layout under `manifests/` of the snapshot's layout:
//!
//! ```text
//! manifests/<id>/shards.json                       the plan: N, the key ranges (written first)
//! manifests/<id>/shard-00002-of-00004/part-000000.jsonl   parts of shard 2
//! manifests/<id>/shard-00002-of-00004.json         shard 2's record (written when its parts are)
//! manifests/<id>.json                              the index (written last, by finalize)
//! ```

use std::time::Duration;

use bytes::Bytes;
use futures::stream::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::common::{DEFAULT_ATTEMPTS, Location, retried};
use super::layout::{SnapshotId, SnapshotLayout};
use super::listing::list_resilient;
use super::manifest::{KeyRange, ManifestIndex, PartInfo};
use super::snapshot_options::{SnapshotOptions, check_options, refuse_complete};
use crate::error::{Error, Result};
use crate::object_store::{KeyOrder, ListOptions, ObjectStoreExt};
use crate::validate::ObjectKey;

pub use super::snapshot_options::MAX_SHARDS;

/// How a snapshot is split: written once, read by every shard and by finalize.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPlan {
    /// Format version (2).
    pub format: u32,
    /// The snapshot.
    pub id: SnapshotId,
    /// How many shards.
    pub count: usize,
    /// Each shard's key range, in the source's key order: contiguous, together every key.
    pub ranges: Vec<KeyRange>,
    /// The source's backend.
    pub source_backend: String,
    /// The source bucket.
    pub source_bucket: String,
    /// The source prefix, when only part of the bucket is copied.
    pub source_prefix: Option<String>,
    /// The source's key order, which the ranges are in.
    pub key_order: KeyOrder,
}

/// Where the boundaries between shards come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Boundaries {
    /// A listing pass over the source picks `count - 1` keys splitting it in
    /// parts of about the same number of objects (one pass, bounded memory).
    Listed,
    /// These `count - 1` keys, strictly increasing in the source's key order:
    /// shard `i` holds the keys after boundary `i - 1` up to boundary `i`.
    Given(Vec<String>),
}

/// What one shard did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShardReport {
    /// The snapshot.
    pub id: SnapshotId,
    /// This shard.
    pub index: usize,
    /// Of how many.
    pub count: usize,
    /// Its key range.
    pub range: KeyRange,
    /// Objects in its part of the snapshot.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Objects copied by this run.
    pub copied: u64,
    /// Objects already copied by an earlier run, left alone.
    pub skipped: u64,
    /// Copies in the snapshot's folder of objects no longer in the source (from an earlier run), removed.
    pub removed: u64,
    /// Its manifest parts.
    pub parts: usize,
    /// The shard had completed in an earlier run: nothing was done.
    pub already_complete: bool,
    /// How long it took.
    pub duration: Duration,
}

/// A shard's record, written when all its parts are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ShardRecord {
    pub format: u32,
    pub id: SnapshotId,
    pub index: usize,
    pub count: usize,
    pub range: KeyRange,
    pub key_order: KeyOrder,
    pub objects: u64,
    pub total_bytes: u64,
    pub parts: Vec<PartInfo>,
    pub completed: Timestamp,
}

pub(super) fn plan_key(layout: &SnapshotLayout, id: &SnapshotId) -> String {
    format!("{}shards.json", layout.parts_folder(id))
}

pub(super) fn shard_folder(layout: &SnapshotLayout, id: &SnapshotId, index: usize, count: usize) -> String {
    format!("{}shard-{index:05}-of-{count:05}/", layout.parts_folder(id))
}

pub(super) fn record_key(layout: &SnapshotLayout, id: &SnapshotId, index: usize, count: usize) -> String {
    format!("{}shard-{index:05}-of-{count:05}.json", layout.parts_folder(id))
}

fn serialize<T: Serialize>(what: &str, value: &T) -> Result<Bytes> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| Error::Provider {
        provider: "deploy",
        operation: format!("serialize {what}"),
        message: e.to_string(),
        retryable: false,
        source: Some(Box::new(e)),
    })
}

/// Read a JSON document of the backup bucket, `None` when missing.
pub(super) async fn read_json<T: for<'de> Deserialize<'de>>(backup: Location<'_>, key: &str, attempts: usize) -> Result<Option<T>> {
    let object = ObjectKey::new(key)?;
    match retried(attempts, || backup.store.get_bytes(backup.bucket, &object)).await {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Verification { what: key.to_owned(), detail: e.to_string() })
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

pub(super) async fn write_json<T: Serialize>(backup: Location<'_>, key: &str, value: &T, attempts: usize) -> Result<()> {
    let object = ObjectKey::new(key)?;
    let body = serialize(key, value)?;
    retried(attempts, || backup.store.put_bytes(backup.bucket, &object, body.clone())).await?;
    Ok(())
}

fn ranges_from(boundaries: &[String]) -> Vec<KeyRange> {
    let mut ranges = Vec::with_capacity(boundaries.len() + 1);
    let mut after = None;
    for b in boundaries {
        ranges.push(KeyRange { after: after.clone(), until: Some(b.clone()) });
        after = Some(b.clone());
    }
    ranges.push(KeyRange { after, until: None });
    ranges
}

/// One listing pass keeping evenly spaced keys (at most `2 * keep`, every
/// `step`-th, the step doubling as needed): `count - 1` boundaries splitting
/// the listing in parts of about equal numbers of objects.
async fn listed_boundaries(source: Location<'_>, options: &SnapshotOptions, count: usize) -> Result<Vec<String>> {
    let keep = (count * 16).max(256);
    let (mut samples, mut step, mut seen) = (Vec::<String>::new(), 1u64, 0u64);
    let mut listing = list_resilient(source, ListOptions { prefix: options.source_prefix.clone(), start_after: None }, options.attempts);
    while let Some(meta) = listing.try_next().await? {
        if seen % step == 0 {
            samples.push(meta.key.as_str().to_owned());
            if samples.len() >= 2 * keep {
                samples = samples.into_iter().step_by(2).collect();
                step *= 2;
            }
        }
        seen += 1;
    }
    let mut boundaries: Vec<String> = (1..count).filter_map(|i| samples.get(i * samples.len() / count).cloned()).collect();
    boundaries.dedup();
    // Fewer distinct keys than shards: the last shards get empty ranges.
    while boundaries.len() < count - 1 {
        let last = boundaries.last().cloned().or_else(|| samples.last().cloned()).unwrap_or_default();
        boundaries.push(last);
    }
    Ok(boundaries)
}

/// Plan snapshot `options.id` (now, when unset) in `count` shards and write
/// the plan `manifests/<id>/shards.json`; a plan already written for the id is
/// read back instead (so every shard, in any process, sees the same ranges).
///
/// # Errors
/// [`Error::InvalidInput`] on `shards` (0, or more than [`MAX_SHARDS`]) or on
/// `boundaries` (not `count - 1` strictly increasing keys), before any
/// request; [`Error::Conflict`] when the id was planned with another count;
/// [`Error::AlreadyExists`] when the snapshot is complete; listing errors.
#[tracing::instrument(level = "info", skip_all, fields(source = %source.bucket, destination = %destination.bucket, count))]
pub async fn plan_shards(
    source: Location<'_>,
    destination: Location<'_>,
    options: &SnapshotOptions,
    count: usize,
    boundaries: Boundaries,
) -> Result<ShardPlan> {
    if !(1..=MAX_SHARDS).contains(&count) {
        return Err(Error::invalid("shards", format!("is {count}"), format!("1 to {MAX_SHARDS} shards")));
    }
    let order = source.store.key_order();
    if let Boundaries::Given(given) = &boundaries {
        let increasing = given.windows(2).all(|w| order.compare(&w[0], &w[1]).is_lt());
        if given.len() != count - 1 || !increasing {
            return Err(Error::invalid(
                "boundaries",
                format!("{} keys for {count} shards", given.len()),
                "count - 1 keys, strictly increasing in the source's key order",
            ));
        }
    }
    let id = options.id.clone().unwrap_or_else(SnapshotId::now);
    check_options(source, destination, options, &id)?;
    let layout = &options.layout;
    refuse_complete(destination, layout, &id, options.attempts).await?;
    let key = plan_key(layout, &id);
    if let Some(plan) = read_json::<ShardPlan>(destination, &key, options.attempts).await? {
        if plan.count != count {
            return Err(Error::conflict("snapshot", id.to_string(), format!("planned in {} shards, not {count}", plan.count)));
        }
        return Ok(plan);
    }
    let boundaries = match boundaries {
        Boundaries::Given(given) => given,
        Boundaries::Listed if count == 1 => Vec::new(),
        Boundaries::Listed => listed_boundaries(source, options, count).await?,
    };
    let plan = ShardPlan {
        format: 2,
        id,
        count,
        ranges: ranges_from(&boundaries),
        source_backend: source.store.backend().to_owned(),
        source_bucket: source.bucket.to_string(),
        source_prefix: options.source_prefix.clone(),
        key_order: order,
    };
    write_json(destination, &key, &plan, options.attempts).await?;
    Ok(plan)
}

/// Read the plan of snapshot `id`.
///
/// # Errors
/// [`Error::NotFound`] when the snapshot was never planned.
pub async fn read_shard_plan(destination: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<ShardPlan> {
    read_json(destination, &plan_key(layout, id), DEFAULT_ATTEMPTS)
        .await?
        .ok_or_else(|| Error::not_found("shard plan", format!("{}/{}", destination.bucket, plan_key(layout, id))))
}

/// Write the index of snapshot `id` once every shard of its plan has written
/// its record and its parts: the snapshot is then complete. Refuses while a
/// shard has not completed, or when a record does not agree with the plan
/// (another range, count or key order) or names a part that is missing or of
/// another size. Finalizing a complete snapshot again answers its index.
///
/// # Errors
/// [`Error::NotFound`] when the snapshot was never planned;
/// [`Error::Conflict`] naming the shards not completed;
/// [`Error::Verification`] for a record or part that does not agree.
#[tracing::instrument(level = "info", skip_all, fields(destination = %destination.bucket, id = %id))]
pub async fn finalize_snapshot(destination: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<ManifestIndex> {
    let attempts = DEFAULT_ATTEMPTS;
    let index_key = layout.manifest_key(id);
    if let Some(index) = read_json::<ManifestIndex>(destination, &index_key, attempts).await? {
        return Ok(index);
    }
    let plan = read_shard_plan(destination, layout, id).await?;
    let mut records = Vec::with_capacity(plan.count);
    let mut missing = Vec::new();
    for i in 0..plan.count {
        match read_json::<ShardRecord>(destination, &record_key(layout, id, i, plan.count), attempts).await? {
            Some(record) => records.push(record),
            None => missing.push(i),
        }
    }
    if !missing.is_empty() {
        let named: Vec<String> = missing.iter().take(20).map(ToString::to_string).collect();
        return Err(Error::conflict(
            "snapshot",
            id.to_string(),
            format!(
                "{} of {} shards have not completed (shards {}): run or resume them, then finalize",
                missing.len(),
                plan.count,
                named.join(", ")
            ),
        ));
    }
    let disagree = |detail: String| Error::Verification { what: format!("snapshot {id}"), detail };
    let mut parts = Vec::new();
    let (mut objects, mut total_bytes) = (0u64, 0u64);
    for (i, record) in records.into_iter().enumerate() {
        if record.id != *id
            || record.index != i
            || record.count != plan.count
            || record.range != plan.ranges[i]
            || record.key_order != plan.key_order
        {
            return Err(disagree(format!(
                "the record of shard {i} does not agree with the plan (range {} planned, {} recorded)",
                plan.ranges[i], record.range
            )));
        }
        for part in &record.parts {
            let key = ObjectKey::new(part.key.clone())?;
            let have = match retried(attempts, || destination.store.head(destination.bucket, &key)).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => return Err(disagree(format!("part {} of shard {i} is missing", part.key))),
                Err(e) => return Err(e),
            };
            if have.size != part.size {
                return Err(disagree(format!("part {} of shard {i} has {} bytes, the record says {}", part.key, have.size, part.size)));
            }
        }
        objects += record.objects;
        total_bytes += record.total_bytes;
        parts.extend(record.parts);
    }
    let index = ManifestIndex {
        format: 2,
        id: id.clone(),
        source_backend: plan.source_backend,
        source_bucket: plan.source_bucket,
        source_prefix: plan.source_prefix,
        key_order: plan.key_order,
        completed: Timestamp::now(),
        objects,
        total_bytes,
        shards: plan.count,
        parts,
    };
    write_json(destination, &index_key, &index, attempts).await?;
    Ok(index)
}
