//! Snapshot: copy every object of a bucket into another bucket under a
//! timestamped folder, then write the manifest — in constant memory: the
//! source's listing and the snapshot folder's listing are merged in key
//! order, outcomes are folded as they come, and the manifest is written as it
//! goes in bounded parts. A snapshot runs as one or more shards
//! ([`super::shards`]); the one-shard run is [`snapshot_bucket`] by default.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::{BoxFuture, Either, FutureExt, Ready, ready};
use futures::stream::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::Serialize;

use super::common::{CopyMode, Location, NAMED_KEYS, NamedKeys, prefixed_key, retried};
use super::copy::{CopyHow, copy_object};
use super::layout::{SnapshotId, SnapshotLayout};
use super::listing::list_resilient;
use super::manifest::{KeyRange, ManifestEntry};
use super::merge::{Merged, Side, merge};
use super::parts::PartWriter;
use super::progress::Progress;
use super::shards::{Boundaries, ShardPlan, ShardRecord, ShardReport, plan_shards, read_json, record_key, shard_folder, write_json};
use super::snapshot_options::{SnapshotOptions, check_options, refuse_complete};
use crate::error::{Error, Result};
use crate::object_store::{DeleteOptions, KeyOrder, ListOptions, ObjectMeta, PutMode};
use crate::recipes::limit::AdaptiveLimit;
use crate::validate::ObjectKey;

/// What a snapshot did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotReport {
    /// The snapshot's id.
    pub id: SnapshotId,
    /// The folder holding its objects.
    pub folder: String,
    /// The manifest's key (its index).
    pub manifest_key: String,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub bytes: u64,
    /// Objects copied by this run.
    pub copied: u64,
    /// Objects already in the snapshot from an earlier run, left alone.
    pub skipped: u64,
    /// Copies in the folder of objects no longer in the source (left by an earlier run), removed.
    pub removed: u64,
    /// Shards it ran in.
    pub shards: usize,
    /// Manifest parts.
    pub parts: usize,
    /// Whether copies were server-side.
    pub server_side: bool,
    /// Throttling answers seen (each halved the copies in flight).
    pub throttled: u64,
    /// The fewest copies allowed in flight after throttling (the configured concurrency when never throttled).
    pub lowest_concurrency: usize,
    /// How long it took.
    pub duration: Duration,
}

impl fmt::Display for SnapshotReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "snapshot {}: {} objects, {} bytes ({} copied {}, {} already there) in {:.2}s; manifest {} ({} parts)",
            self.id,
            self.objects,
            self.bytes,
            self.copied,
            if self.server_side { "server-side" } else { "streamed" },
            self.skipped,
            self.duration.as_secs_f64(),
            self.manifest_key,
            self.parts
        )?;
        if self.shards > 1 {
            write!(f, "; {} shards", self.shards)?;
        }
        if self.removed > 0 {
            write!(f, "; removed {} stale copies", self.removed)?;
        }
        if self.throttled > 0 {
            write!(f, "; throttled {} times, slowed to {} copies at once", self.throttled, self.lowest_concurrency)?;
        }
        Ok(())
    }
}

/// Listed objects held ahead of the copies (an S3 listing page).
const LIST_AHEAD: usize = 1000;

/// Listed objects handed over at once.
const LIST_BATCH: usize = 100;

/// Objects that failed, named with their errors (the first [`NAMED_KEYS`]).
#[derive(Default)]
pub(super) struct Failures {
    keys: NamedKeys,
    errors: Vec<String>,
    changed: u64,
}

impl Failures {
    pub(super) fn push(&mut self, key: &str, error: &Error) {
        if error.is_precondition_failed() || error.is_not_found() {
            self.changed += 1;
        }
        if self.keys.first.len() < NAMED_KEYS {
            self.errors.push(format!("{key}: {error}"));
        }
        self.keys.push(key);
    }

    pub(super) fn count(&self) -> u64 {
        self.keys.count
    }

    pub(super) fn describe(&self) -> String {
        let more = self.keys.count - self.errors.len() as u64;
        let mut text = self.errors.join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        if self.changed > 0 {
            text = format!(
                "{} changed or vanished while the snapshot ran (their copies would not be the listed objects); {text}",
                self.changed
            );
        }
        text
    }
}

/// What happened to one key of a shard.
enum Outcome {
    /// In the snapshot: copied now (`true`) or by an earlier run.
    Entry(ManifestEntry, bool),
    /// A stale copy removed from the folder.
    Removed,
    /// Nothing to record (handled from the other side of the merge).
    Nothing,
    Failed(String, Error),
}

/// The entry of an object already copied by an earlier run.
fn skipped(key: String, listed: &ObjectMeta, have: &ObjectMeta) -> ManifestEntry {
    ManifestEntry {
        key,
        size: listed.size,
        etag: listed.etag.clone(),
        version: listed.version.clone(),
        copy_etag: have.etag.clone(),
        sha256: None,
        copy_tag: have.entity_tag.clone(),
    }
}

fn already_copied(listed: &ObjectMeta, have: &ObjectMeta) -> bool {
    have.size == listed.size && have.etag.is_some() && have.etag == listed.etag
}

/// Run shard `index` of snapshot `options.id` (planned with
/// [`super::plan_shards`]): copy the source's objects in the shard's key
/// range, write its manifest parts and, when every object is copied, its
/// record. Alone, again after a failure or a kill (copying only what is
/// missing), in this process or another. A shard whose record exists is not
/// run again.
///
/// # Errors
/// [`Error::InvalidInput`] for bad options or no id; [`Error::NotFound`] when
/// the snapshot was not planned; [`Error::InvalidInput`] on `shard` for an
/// index out of the plan; [`Error::Verification`] naming the objects that
/// failed, changed or vanished (no record is written; a rerun copies those).
#[tracing::instrument(level = "info", skip_all, fields(source = %source.bucket, destination = %destination.bucket, shard = index))]
pub async fn snapshot_shard(
    source: Location<'_>,
    destination: Location<'_>,
    options: &SnapshotOptions,
    index: usize,
) -> Result<ShardReport> {
    let id = options.id.clone().ok_or_else(|| Error::invalid("id", "is missing", "a shard runs a planned snapshot: give its id"))?;
    check_options(source, destination, options, &id)?;
    let plan = super::shards::read_shard_plan(destination, &options.layout, &id).await?;
    let limit = AdaptiveLimit::new(options.concurrency);
    run_shard(source, destination, options, &plan, index, &limit).await
}

/// A shard of `plan`, under a concurrency limit shared with the process's other shards.
pub(super) async fn run_shard(
    source: Location<'_>,
    destination: Location<'_>,
    options: &SnapshotOptions,
    plan: &ShardPlan,
    index: usize,
    limit: &AdaptiveLimit,
) -> Result<ShardReport> {
    let started = std::time::Instant::now();
    let (id, layout, count) = (&plan.id, &options.layout, plan.count);
    let range =
        plan.ranges.get(index).cloned().ok_or_else(|| {
            Error::invalid("shard", format!("is {index}"), format!("0 to {} for a snapshot of {count} shards", count - 1))
        })?;
    if source.bucket.as_str() != plan.source_bucket
        || source.store.backend() != plan.source_backend
        || options.source_prefix != plan.source_prefix
    {
        return Err(Error::invalid(
            "source",
            format!("is not {} bucket {} of the plan", plan.source_backend, plan.source_bucket),
            "every shard copies the planned source",
        ));
    }
    let report = |objects, bytes, copied, skipped, removed, parts, already_complete| ShardReport {
        id: id.clone(),
        index,
        count,
        range: range.clone(),
        objects,
        bytes,
        copied,
        skipped,
        removed,
        parts,
        already_complete,
        duration: started.elapsed(),
    };
    let record_key = record_key(layout, id, index, count);
    if let Some(record) = read_json::<ShardRecord>(destination, &record_key, options.attempts).await? {
        // Every object of the shard was copied by an earlier run.
        return Ok(report(record.objects, record.total_bytes, 0, record.objects, 0, record.parts.len(), true));
    }
    let folder = layout.folder(id);
    let server_side = source.same_store(&destination) && options.copy_mode == CopyMode::Auto;
    options.observer.step(format!(
        "snapshot shard {index} of {count} {range}: {}{} -> {}/{folder} ({}, {} at once)",
        source.bucket,
        options.source_prefix.as_deref().map(|p| format!("/{p}")).unwrap_or_default(),
        destination.bucket,
        if server_side { "server-side" } else { "streamed" },
        options.concurrency
    ));
    let (source_order, dest_order) = (source.store.key_order(), destination.store.key_order());

    // The source's keys in the range, in its order.
    let past = range.clone();
    let listing =
        list_resilient(source, ListOptions { prefix: options.source_prefix.clone(), start_after: range.after.clone() }, options.attempts)
            .try_take_while(move |m| futures::future::ready(Ok(!past.is_past(source_order, m.key.as_str()))));
    // What an earlier run of this snapshot copied in the range: the folder's listing, keys without the folder.
    let strip = folder.len();
    let (past, within) = (range.clone(), range.clone());
    let copies = list_resilient(
        destination,
        ListOptions { prefix: Some(folder.clone()), start_after: range.after.as_ref().map(|a| format!("{folder}{a}")) },
        options.attempts,
    )
    // Stop at the first key past the range that both orders agree on; keep only the range's (in the source's order).
    .try_take_while(move |m| {
        let k = &m.key.as_str()[strip..];
        futures::future::ready(Ok(KeyOrder::is_order_sensitive(k) || !past.is_past(dest_order, k)))
    })
    .try_filter(move |m| futures::future::ready(within.contains(source_order, &m.key.as_str()[strip..])))
    .boxed();
    // The listing runs ahead of the copies by up to a page, sent in batches:
    // one channel operation per batch, not per object.
    let (ahead, listed) = futures::channel::mpsc::channel::<Vec<Result<ObjectMeta>>>(LIST_AHEAD / LIST_BATCH);
    let lister = listing.ready_chunks(LIST_BATCH).map(Ok::<_, futures::channel::mpsc::SendError>).forward(ahead);
    let listed = listed.flat_map(futures::stream::iter);
    let meta_key: fn(&ObjectMeta) -> &str = |m| m.key.as_str();
    let steps = merge(
        Side { items: listed.boxed(), key: meta_key, skip: 0, order: source_order, name: format!("listing of {}", source.bucket) },
        Side { items: copies, key: meta_key, skip: strip, order: dest_order, name: format!("listing of {}/{folder}", destination.bucket) },
    );
    let progress = &Progress::new(&options.observer, None, None);
    let how = CopyHow { server_side, attempts: options.attempts, limit, progress: Some(progress) };
    let copied = AtomicU64::new(0);
    let folder_ref = &folder;
    let copy = |key: String, listed: ObjectMeta| {
        let copied = &copied;
        async move {
            let to = match prefixed_key(folder_ref, &key) {
                Ok(to) => to,
                Err(e) => return Outcome::Failed(key, e),
            };
            match copy_object(source, &listed, destination, &to, &PutMode::Overwrite, how).await {
                Ok(done) => {
                    // The entry says what was copied: the source as read (streamed) or as
                    // listed (server-side, on the condition of the listed entity tag).
                    let read = done.read.as_ref().unwrap_or(&listed);
                    if done.written.size != read.size {
                        let e = Error::Verification {
                            what: format!("copy of {key}"),
                            detail: format!("wrote {} bytes, source has {}", done.written.size, read.size),
                        };
                        return Outcome::Failed(key, e);
                    }
                    copied.fetch_add(1, Ordering::Relaxed);
                    progress.object();
                    let entry = ManifestEntry {
                        size: read.size,
                        etag: read.etag.clone(),
                        version: read.version.clone(),
                        copy_etag: done.written.etag.clone(),
                        sha256: done.sha256,
                        copy_tag: done.written.entity_tag.clone(),
                        key,
                    };
                    Outcome::Entry(entry, true)
                }
                Err(e) => Outcome::Failed(key, e),
            }
        }
    };
    let remove = |key: String, have: ObjectMeta| async move {
        let condition = DeleteOptions { if_match: have.entity_tag.clone() };
        match retried(options.attempts, || destination.store.delete_opts(destination.bucket, &have.key, &condition)).await {
            Ok(()) => Outcome::Removed,
            Err(e) => Outcome::Failed(key, e),
        }
    };
    // What needs no request is answered at once; the rest is boxed, so the
    // futures waiting in the window stay small.
    let outcomes = steps.map(|step| -> Either<Ready<Outcome>, BoxFuture<'_, Outcome>> {
        let source_key = |m: &ObjectMeta| m.key.as_str().to_owned();
        let folder_key = |m: &ObjectMeta| m.key.as_str()[strip..].to_owned();
        match step {
            Err(e) => Either::Left(ready(Outcome::Failed(String::new(), e))),
            Ok(Merged::Both(listed, have)) if already_copied(&listed, &have) => {
                Either::Left(ready(Outcome::Entry(skipped(source_key(&listed), &listed, &have), false)))
            }
            Ok(Merged::Both(listed, _) | Merged::Left(listed)) => Either::Right(copy(source_key(&listed), listed).boxed()),
            Ok(Merged::LeftAlone(listed)) => Either::Right(
                async move {
                    // Where the folder's listing puts this key is not known: ask for it.
                    let key = source_key(&listed);
                    let at = match prefixed_key(folder_ref, &key) {
                        Ok(at) => at,
                        Err(e) => return Outcome::Failed(key, e),
                    };
                    match retried(options.attempts, || destination.store.head(destination.bucket, &at)).await {
                        Ok(have) if already_copied(&listed, &have) => Outcome::Entry(skipped(key, &listed, &have), false),
                        Ok(_) => copy(key, listed).await,
                        Err(e) if e.is_not_found() => copy(key, listed).await,
                        Err(e) => Outcome::Failed(key, e),
                    }
                }
                .boxed(),
            ),
            // A copy in the folder of an object no longer in the source: from an earlier run.
            Ok(Merged::Right(have)) => Either::Right(remove(folder_key(&have), have).boxed()),
            Ok(Merged::RightAlone(have)) => Either::Right(
                async move {
                    let key = folder_key(&have);
                    let at = match ObjectKey::new(key.clone()) {
                        Ok(at) => at,
                        Err(e) => return Outcome::Failed(key, e),
                    };
                    match retried(options.attempts, || source.store.head(source.bucket, &at)).await {
                        Ok(_) => Outcome::Nothing,
                        Err(e) if e.is_not_found() => remove(key, have).await,
                        Err(e) => Outcome::Failed(key, e),
                    }
                }
                .boxed(),
            ),
        }
    });
    // In key order, with a window of finished copies waiting for a slow one
    // ahead of them: memory stays bounded whatever the object count.
    let window = (options.concurrency * 32).clamp(256, 8192);
    let mut writer = PartWriter::new(destination, shard_folder(layout, id, index, count), options.attempts, options.manifest_part_bytes);
    let mut failures = Failures::default();
    let (mut objects, mut bytes, mut skipped_count, mut removed) = (0u64, 0u64, 0u64, 0u64);
    let fold = async {
        let mut outcomes = outcomes.buffered(window);
        while let Some(outcome) = outcomes.next().await {
            match outcome {
                Outcome::Entry(entry, copied_now) => {
                    objects += 1;
                    bytes += entry.size;
                    if !copied_now {
                        skipped_count += 1;
                        progress.object();
                    }
                    // Entries of a failed shard are not needed: its parts are rewritten by the rerun.
                    if failures.count() == 0 {
                        writer.push(&entry).await?;
                    }
                }
                Outcome::Removed => removed += 1,
                Outcome::Nothing => {}
                Outcome::Failed(key, e) if key.is_empty() => return Err(e),
                Outcome::Failed(key, e) => failures.push(&key, &e),
            }
        }
        Ok::<(), Error>(())
    };
    // The lister ends when the listing does; it fails only if the merge stopped listening.
    let (_, folded) = futures::join!(lister, fold);
    folded?;
    let copied = copied.into_inner();
    progress.finish(objects + failures.count(), bytes);
    if failures.count() > 0 {
        return Err(Error::Verification {
            what: format!("snapshot {id}{}", if count > 1 { format!(" shard {index} of {count}") } else { String::new() }),
            detail: format!(
                "{} of {} objects failed and no manifest was written (resume it to copy only what is missing): {}",
                failures.count(),
                failures.count() + objects,
                failures.describe()
            ),
        });
    }
    let parts = writer.finish().await?;
    remove_stale_parts(destination, layout, id, index, count, &parts, options.attempts).await?;
    let record = ShardRecord {
        format: 2,
        id: id.clone(),
        index,
        count,
        range: range.clone(),
        key_order: source_order,
        objects,
        total_bytes: bytes,
        parts: parts.clone(),
        completed: Timestamp::now(),
    };
    write_json(destination, &record_key, &record, options.attempts).await?;
    Ok(report(objects, bytes, copied, skipped_count, removed, parts.len(), false))
}

/// Parts of the shard's folder that this run did not write (an earlier run's, with more parts).
async fn remove_stale_parts(
    destination: Location<'_>,
    layout: &SnapshotLayout,
    id: &SnapshotId,
    index: usize,
    count: usize,
    parts: &[super::manifest::PartInfo],
    attempts: usize,
) -> Result<()> {
    let folder = shard_folder(layout, id, index, count);
    let mut listing = list_resilient(destination, ListOptions::prefix(folder), attempts);
    while let Some(meta) = listing.try_next().await? {
        if !parts.iter().any(|p| p.key == meta.key.as_str()) {
            retried(attempts, || destination.store.delete(destination.bucket, &meta.key)).await?;
        }
    }
    Ok(())
}

/// Copy every object of `source` (optionally under a prefix) into
/// `destination` under `<prefix>/<snapshot id>/`, writing the manifest as it
/// goes; then write its index, last.
///
/// Server-side copies when both are the same store (see [`CopyMode`]);
/// otherwise a streamed copy with one chunk per copy in flight. Every copy is
/// conditional on the entity tag (and version) the listing showed, and each
/// manifest entry is built from what was copied. The source's listing and the
/// snapshot folder's are merged in key order: objects already in the folder
/// with the same size and ETag (from an interrupted run, resumed with
/// [`SnapshotOptions::id`]) are not copied again, and copies of objects no
/// longer in the source are removed. With [`SnapshotOptions::shards`] above
/// one, a listing pass splits the source into key ranges copied concurrently
/// ([`super::plan_shards`], [`snapshot_shard`], [`super::finalize_snapshot`]).
/// Memory does not grow with the object count.
///
/// # Errors
/// [`Error::InvalidInput`] for bad options or a destination inside the source
/// (before any request); [`Error::AlreadyExists`] when the snapshot id is
/// already complete; [`Error::Verification`] naming the objects that failed,
/// changed or vanished during the snapshot (no index is written then, and a
/// resume copies only those); listing errors of either store.
#[tracing::instrument(level = "info", skip_all, fields(source = %source.bucket, source_backend = source.store.backend(), destination = %destination.bucket))]
pub async fn snapshot_bucket(source: Location<'_>, destination: Location<'_>, options: &SnapshotOptions) -> Result<SnapshotReport> {
    let started = std::time::Instant::now();
    let mut options = options.clone();
    let id = options.id.get_or_insert_with(SnapshotId::now).clone();
    check_options(source, destination, &options, &id)?;
    refuse_complete(destination, &options.layout, &id, options.attempts).await?;
    // A resumed snapshot keeps the shards it was planned with.
    let plan = match super::shards::read_shard_plan(destination, &options.layout, &id).await {
        Ok(plan) => plan,
        Err(e) if e.is_not_found() => plan_shards(source, destination, &options, options.shards, Boundaries::Listed).await?,
        Err(e) => return Err(e),
    };
    let limit = AdaptiveLimit::new(options.concurrency);
    let runs = (0..plan.count).map(|i| run_shard(source, destination, &options, &plan, i, &limit));
    let mut reports = Vec::with_capacity(plan.count);
    let mut failed = Vec::new();
    for outcome in futures::future::join_all(runs).await {
        match outcome {
            Ok(r) => reports.push(r),
            Err(e) => failed.push(e),
        }
    }
    match failed.len() {
        0 => {}
        1 => return Err(failed.remove(0)),
        n => {
            let all: Vec<String> = failed.iter().map(ToString::to_string).collect();
            return Err(Error::Verification { what: format!("snapshot {id}"), detail: format!("{n} shards failed: {}", all.join(" | ")) });
        }
    }
    let index = super::shards::finalize_snapshot(destination, &options.layout, &id).await?;
    let sum = |f: fn(&ShardReport) -> u64| reports.iter().map(f).sum::<u64>();
    Ok(SnapshotReport {
        folder: options.layout.folder(&id),
        manifest_key: options.layout.manifest_key(&id),
        objects: index.objects,
        bytes: index.total_bytes,
        copied: sum(|r| r.copied),
        skipped: sum(|r| r.skipped),
        removed: sum(|r| r.removed),
        shards: plan.count,
        parts: index.parts.len(),
        server_side: source.same_store(&destination) && options.copy_mode == CopyMode::Auto,
        throttled: limit.stats().0,
        lowest_concurrency: limit.stats().1,
        duration: started.elapsed(),
        id,
    })
}

/// The range of a shard, for callers that run shards themselves.
pub fn shard_range(plan: &ShardPlan, index: usize) -> Option<&KeyRange> {
    plan.ranges.get(index)
}
