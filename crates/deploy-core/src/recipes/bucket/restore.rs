//! Restore: copy a snapshot back into a bucket without losing what the
//! bucket holds.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::{BoxFuture, Either, FutureExt, Ready, ready};
use futures::stream::TryStreamExt;
use serde::Serialize;

use super::classify::{Classified, KeyClass, Resolved, RestorePlan, Scope, classify, identical};
use super::common::{CopyMode, DEFAULT_ATTEMPTS, Location, NamedKeys, prefixed_key, retried, validate_attempts, validate_concurrency};
use super::copy::{CopyHow, copy_object};
use super::layout::{SnapshotId, SnapshotLayout, SnapshotSelector};
use super::manifest::{KeyRange, ManifestEntry, ManifestInfo, OpenManifest, list_snapshots, open_manifest};
use super::progress::Progress;
use super::snapshot::Failures;
use super::snapshot_options::MAX_SHARDS;
use crate::error::{Confirm, Error, Result};
use crate::object_store::{DeleteOptions, ObjectMeta, PutMode};
use crate::observe::Observer;
use crate::recipes::limit::AdaptiveLimit;

/// Options of [`restore_bucket`].
#[derive(Clone, Debug)]
pub struct RestoreBucketOptions {
    /// Where snapshots live in the backup bucket.
    pub layout: SnapshotLayout,
    /// Which snapshot.
    pub snapshot: SnapshotSelector,
    /// Prefix put before every restored key (default none: the original keys).
    pub target_prefix: String,
    /// Copies in flight at once (default 32).
    pub concurrency: usize,
    /// Server-side or streamed.
    pub copy_mode: CopyMode,
    /// Attempts per object for retryable errors (default 8).
    pub attempts: usize,
    /// Leave objects written after the snapshot started as they are (default off).
    pub keep_newer: bool,
    /// Also delete the objects under the snapshot's scope that are not in the
    /// snapshot, so the target becomes exactly the snapshot (default off).
    pub exact: bool,
    /// The confirmation, naming the target bucket, that an unversioned target
    /// may lose objects (overwritten or deleted). Missing objects alone need none;
    /// a versioned target keeps what it overwrites as noncurrent versions.
    pub confirm: Option<Confirm>,
    /// The target is deliberately not the snapshot's source (another bucket,
    /// or a prefix): without it, a snapshot of another source is refused, and
    /// [`SnapshotSelector::Latest`] picks only snapshots of the target.
    pub other_target: bool,
    /// Restore only the snapshot's keys in this range (default all): one
    /// shard of a restore split across processes ([`restore_ranges`]).
    pub range: KeyRange,
    /// Ranges restored concurrently by this process (1 to 1024; default 1),
    /// split at the manifest's part boundaries.
    pub shards: usize,
    /// Progress events.
    pub observer: Observer,
}

impl RestoreBucketOptions {
    /// Restore `snapshot` from `layout` to the original keys.
    pub fn new(layout: SnapshotLayout, snapshot: SnapshotSelector) -> Self {
        RestoreBucketOptions {
            layout,
            snapshot,
            target_prefix: String::new(),
            concurrency: 32,
            copy_mode: CopyMode::Auto,
            attempts: DEFAULT_ATTEMPTS,
            keep_newer: false,
            exact: false,
            confirm: None,
            other_target: false,
            range: KeyRange::all(),
            shards: 1,
            observer: Observer::default(),
        }
    }
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestoreBucketReport {
    /// The snapshot restored.
    pub id: SnapshotId,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub bytes: u64,
    /// Whether the target keeps versions (an overwritten object's content stays as a noncurrent version).
    pub versioned: bool,
    /// Objects written (missing ones written back, and overwrites).
    pub restored: u64,
    /// Objects overwritten.
    pub overwritten: NamedKeys,
    /// Of those, how many had been written after the snapshot started.
    pub overwritten_newer: u64,
    /// Objects that differ but were written after the snapshot started, kept (`keep_newer`).
    pub kept_newer: NamedKeys,
    /// Objects not in the snapshot that were deleted (`exact`).
    pub deleted: NamedKeys,
    /// Objects not in the snapshot left as they are.
    pub not_in_snapshot: u64,
    /// Objects already identical in the target, left alone.
    pub unchanged: u64,
    /// Objects checked against the manifest (identical ones when classified,
    /// written ones when written), then all read back once more.
    pub verified: u64,
    /// How long it took.
    pub duration: Duration,
}

impl fmt::Display for RestoreBucketReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restore of snapshot {}: {} objects, {} bytes ({} written, {} already identical), {} verified against the manifest in {:.2}s",
            self.id,
            self.objects,
            self.bytes,
            self.restored,
            self.unchanged,
            self.verified,
            self.duration.as_secs_f64()
        )?;
        if !self.overwritten.is_empty() {
            let kept = if self.versioned { "; their old content stays as noncurrent versions" } else { "" };
            write!(f, "; overwrote {} ({} written after the snapshot started{kept})", self.overwritten.describe(), self.overwritten_newer)?;
        }
        if !self.kept_newer.is_empty() {
            write!(f, "; kept {} newer than the snapshot", self.kept_newer.describe())?;
        }
        if !self.deleted.is_empty() {
            write!(f, "; deleted {} not in the snapshot", self.deleted.describe())?;
        }
        if self.not_in_snapshot > 0 {
            write!(f, "; left {} not in the snapshot", self.not_in_snapshot)?;
        }
        Ok(())
    }
}

pub(super) fn resolve(c: &Classified, options: &RestoreBucketOptions) -> Resolved {
    let keep = options.keep_newer && c.newer;
    match c.class {
        KeyClass::Identical => Resolved::Leave,
        KeyClass::Missing => Resolved::Write,
        KeyClass::Differs if keep => Resolved::KeepNewer,
        KeyClass::Differs => Resolved::Write,
        KeyClass::NotInSnapshot if options.exact && keep => Resolved::KeepNewer,
        KeyClass::NotInSnapshot if options.exact => Resolved::Delete,
        KeyClass::NotInSnapshot => Resolved::Leave,
    }
}

/// A restore's snapshot, opened and checked, and what is known of the target.
pub(super) struct Prepared<'a> {
    pub backup: Location<'a>,
    pub target: Location<'a>,
    pub manifest: OpenManifest<'a>,
    pub versioned: bool,
    folder: String,
    options: &'a RestoreBucketOptions,
}

impl<'a> Prepared<'a> {
    /// What the restore classifies, for the keys of `range`.
    pub(super) fn scope(&self, range: KeyRange) -> Scope<'a> {
        let source_prefix = self.manifest.info.source_prefix.clone().unwrap_or_default();
        // The backup's own area is never part of what a restore into its bucket classifies.
        let exclude = self.backup.same_bucket(&self.target).then(|| self.options.layout.root());
        Scope {
            backup: self.backup,
            folder: self.folder.clone(),
            target: self.target,
            target_prefix: self.options.target_prefix.clone(),
            list_prefix: format!("{}{source_prefix}", self.options.target_prefix),
            exclude,
            started: self.manifest.info.id.timestamp(),
            attempts: self.options.attempts,
            range,
        }
    }
}

fn source_matches(manifest: &OpenManifest<'_>, target: Location<'_>, options: &RestoreBucketOptions) -> bool {
    manifest.info.source_bucket == target.bucket.as_str()
        && manifest.info.source_backend == target.store.backend()
        && options.target_prefix.is_empty()
}

/// Validate, pick and open the snapshot, check it is of the target, and see
/// whether the target keeps versions. Writes nothing.
pub(super) async fn prepare<'a>(backup: Location<'a>, target: Location<'a>, options: &'a RestoreBucketOptions) -> Result<Prepared<'a>> {
    validate_concurrency(options.concurrency)?;
    validate_attempts(options.attempts)?;
    if !(1..=MAX_SHARDS).contains(&options.shards) {
        return Err(Error::invalid("shards", format!("is {}", options.shards), "1 to 1024 ranges restored at once"));
    }
    if let Some(confirm) = &options.confirm {
        // A confirmation naming another bucket is a mistake, refused before any request.
        confirm.check("overwrite or delete objects in", target.bucket.as_str())?;
    }
    if options.exact && backup.same_bucket(&target) && options.layout.root().is_empty() {
        return Err(Error::invalid(
            "exact",
            "the snapshots live at the root of the target bucket",
            "an exact restore into the backup bucket needs snapshots under a prefix, which it leaves alone",
        ));
    }
    let manifest = match &options.snapshot {
        SnapshotSelector::Id(id) => open_manifest(backup, &options.layout, id, options.attempts).await?,
        SnapshotSelector::Latest => {
            let mut found = None;
            for id in list_snapshots(backup, &options.layout).await?.into_iter().rev() {
                let open = open_manifest(backup, &options.layout, &id, options.attempts).await?;
                if options.other_target || source_matches(&open, target, options) {
                    found = Some(open);
                    break;
                }
            }
            found.ok_or_else(|| {
                Error::not_found(
                    "complete snapshot",
                    format!("of {}/{} in {}/{}", target.bucket, options.target_prefix, backup.bucket, options.layout.root()),
                )
            })?
        }
    };
    if !options.other_target && !source_matches(&manifest, target, options) {
        let info = &manifest.info;
        return Err(Error::invalid(
            "target",
            format!(
                "snapshot {} is of {} bucket {}/{}, not of {} bucket {}/{}",
                info.id,
                info.source_backend,
                info.source_bucket,
                info.source_prefix.as_deref().unwrap_or(""),
                target.store.backend(),
                target.bucket,
                options.target_prefix
            ),
            "a snapshot is restored into its own source unless the restore names another target explicitly (other_target)",
        ));
    }
    let versioned = match retried(options.attempts, || target.store.versioning_enabled(target.bucket)).await {
        Ok(versioning) => versioning,
        Err(e) if e.is_not_found() => return Err(e),
        // A store that cannot say (an S3-compatible server without bucket configuration) is taken as unversioned: the safe side.
        Err(_) => false,
    };
    let folder = options.layout.folder(&manifest.info.id);
    Ok(Prepared { backup, target, manifest, versioned, folder, options })
}

/// `n` key ranges splitting the snapshot `id` in parts of about the same
/// number of objects (at its manifest's part boundaries): the shards of a
/// restore run by several processes, each with its range in
/// [`RestoreBucketOptions::range`].
///
/// # Errors
/// [`Error::InvalidInput`] on `shards` (0 or above 1024); [`Error::NotFound`]
/// when the snapshot is not complete.
pub async fn restore_ranges(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId, n: usize) -> Result<Vec<KeyRange>> {
    if !(1..=MAX_SHARDS).contains(&n) {
        return Err(Error::invalid("shards", format!("is {n}"), "1 to 1024 ranges"));
    }
    Ok(open_manifest(backup, layout, id, DEFAULT_ATTEMPTS).await?.split(n))
}

/// Shard `index` of `count` of a restore run by several processes (the pods
/// of an Indexed Job, each told its index): the snapshot `options` names,
/// split by [`restore_ranges`], and this shard's range restored with
/// `options` (its own `range` replaced). `None` when the snapshot has fewer
/// manifest parts than shards and no range is left for this one.
///
/// # Errors
/// [`Error::InvalidInput`] on `index` (not below `count`) or `snapshot`
/// (`latest`: every shard must restore the same snapshot, by id); as
/// [`restore_ranges`] and [`restore_bucket`].
pub async fn restore_shard(
    backup: Location<'_>,
    target: Location<'_>,
    options: &RestoreBucketOptions,
    index: usize,
    count: usize,
) -> Result<Option<RestoreBucketReport>> {
    let SnapshotSelector::Id(id) = &options.snapshot else {
        return Err(Error::invalid("snapshot", "is `latest`", "the id of the snapshot every shard restores"));
    };
    if index >= count {
        return Err(Error::invalid("index", format!("is {index}"), format!("below the shard count {count}")));
    }
    let ranges = restore_ranges(backup, &options.layout, id, count).await?;
    let Some(range) = ranges.get(index).cloned() else { return Ok(None) };
    restore_bucket(backup, target, &RestoreBucketOptions { range, ..options.clone() }).await.map(Some)
}

/// The snapshot a restore with `options` would copy back, checked as the
/// restore checks it before its first write: complete, of the target's source
/// (unless `other_target`), the confirmation naming the target, and on an
/// unversioned target no object overwritten or deleted without it. Reads only.
///
/// # Errors
/// As [`restore_bucket`] before its first write.
pub async fn resolve_restore(backup: Location<'_>, target: Location<'_>, options: &RestoreBucketOptions) -> Result<ManifestInfo> {
    Ok(checked(backup, target, options).await?.0.manifest.info)
}

/// [`prepare`], then on an unversioned target without a confirmation, a
/// classification of every key: refused while anything would be lost.
/// Answers whether the target may lose objects (versioned, or confirmed).
async fn checked<'a>(backup: Location<'a>, target: Location<'a>, options: &'a RestoreBucketOptions) -> Result<(Prepared<'a>, bool)> {
    let p = prepare(backup, target, options).await?;
    let confirmed = p.versioned || options.confirm.as_ref().is_some_and(|c| c.check("", target.bucket.as_str()).is_ok());
    if !confirmed {
        let scope = p.scope(options.range.clone());
        let id = p.manifest.info.id.clone();
        let mut plan = RestorePlan::new(id.clone(), target.bucket.to_string(), p.manifest.info.objects, p.manifest.info.total_bytes, false);
        let mut classified = classify(&scope, &p.manifest);
        while let Some(c) = classified.try_next().await? {
            plan.count(&c, resolve(&c, options));
        }
        if plan.destroys() {
            return Err(Error::ConfirmationRequired {
                action: format!(
                    "restore of snapshot {id} into unversioned bucket `{}`: overwrite {}, delete {}",
                    target.bucket,
                    plan.overwrite.describe(),
                    plan.delete.describe()
                ),
                expected: target.bucket.to_string(),
            });
        }
    }
    Ok((p, confirmed))
}

#[derive(Default)]
struct Outcomes {
    report_overwritten: NamedKeys,
    overwritten_newer: u64,
    kept_newer: NamedKeys,
    deleted: NamedKeys,
    not_in_snapshot: u64,
    unchanged: u64,
    created: u64,
    /// Snapshot objects that are not what the manifest recorded.
    refused: Failures,
    /// Target objects changed between classification and write: left as they are.
    changed: Failures,
    /// Other failures.
    failed: Failures,
}

/// The snapshot's copy of `entry`, as the restore reads it: on the condition
/// of the entity tag the manifest recorded or, for manifests without one, of
/// the entity tag of a copy checked against the recorded size and ETag first.
async fn snapshot_copy(p: &Prepared<'_>, entry: &ManifestEntry) -> Result<ObjectMeta> {
    let key = prefixed_key(&p.folder, &entry.key)?;
    if entry.copy_tag.is_some() {
        return Ok(ObjectMeta {
            key,
            size: entry.size,
            etag: entry.copy_etag.clone(),
            version: None,
            last_modified: None,
            entity_tag: entry.copy_tag.clone(),
        });
    }
    let have = retried(p.options.attempts, || p.backup.store.head(p.backup.bucket, &key)).await?;
    if have.size != entry.size || have.etag.is_none() || have.etag != entry.copy_etag {
        return Err(Error::precondition(
            "object",
            format!("{}/{key}", p.backup.bucket),
            format!("size {} and ETag {:?} recorded, {} and {:?} found", entry.size, entry.copy_etag, have.size, have.etag),
        ));
    }
    Ok(have)
}

enum Done {
    Written,
    AlreadyThere,
}

/// Write `c`'s snapshot object over the target, on the condition of what the
/// target held when classified.
async fn write_back(p: &Prepared<'_>, c: &Classified, how: CopyHow<'_>) -> std::result::Result<Done, (bool, Error)> {
    let entry = c.entry.as_ref().expect("written keys are in the snapshot");
    let to = prefixed_key(&p.options.target_prefix, &c.key).map_err(|e| (false, e))?;
    // The snapshot object must be what the manifest recorded before it replaces anything.
    let from = snapshot_copy(p, entry).await.map_err(|e| (e.is_precondition_failed() || e.is_not_found(), e))?;
    let mode = match &c.target {
        None => PutMode::Create,
        Some(have) => have.entity_tag.clone().map_or(PutMode::Overwrite, |entity_tag| PutMode::Update { entity_tag }),
    };
    match copy_object(p.backup, &from, p.target, &to, &mode, how).await {
        Ok(done) => {
            let mut faults = Vec::new();
            if done.written.size != entry.size {
                faults.push(format!("wrote {} bytes, manifest says {}", done.written.size, entry.size));
            }
            if how.server_side {
                if !(done.written.etag.is_some() && (done.written.etag == entry.copy_etag || done.written.etag == entry.etag)) {
                    faults.push(format!("ETag {:?} matches neither {:?} nor {:?}", done.written.etag, entry.etag, entry.copy_etag));
                }
            } else if let (Some(want), Some(got)) = (&entry.sha256, &done.sha256)
                && want != got
            {
                faults.push("SHA-256 differs from the manifest".to_owned());
            }
            if faults.is_empty() {
                Ok(Done::Written)
            } else {
                Err((false, Error::Verification { what: format!("restored {}", c.key), detail: faults.join("; ") }))
            }
        }
        Err(e) if e.is_precondition_failed() || e.is_not_found() => {
            // Which side failed: the snapshot object, or the target since it was classified?
            match retried(how.attempts, || p.backup.store.head(p.backup.bucket, &from.key)).await {
                Ok(now) if from.entity_tag.is_none() || now.entity_tag == from.entity_tag => {}
                _ => return Err((true, e)),
            }
            match retried(how.attempts, || p.target.store.head(p.target.bucket, &to)).await {
                // Already the snapshot's object: an earlier attempt of this very write landed.
                Ok(now) if identical(entry, &now) => Ok(Done::AlreadyThere),
                _ => Err((
                    false,
                    Error::precondition("object", format!("{}/{to}", p.target.bucket), format!("changed since it was classified: {e}")),
                )),
            }
        }
        Err(e) => Err((false, e)),
    }
}

/// Copy a snapshot from `backup` back into `target`, losing nothing:
///
/// 1. every key under the target (the snapshot's source prefix under
///    [`RestoreBucketOptions::target_prefix`]) is classified against the
///    manifest: missing, identical, differs, not in the snapshot;
/// 2. on an unversioned target, nothing is written while any object would be
///    overwritten or deleted, unless [`RestoreBucketOptions::confirm`] names
///    the target; on a versioned one, overwritten objects stay as noncurrent
///    versions;
/// 3. each snapshot object is read or copied on the condition of the entity
///    tag the manifest recorded (a damaged or replaced copy is refused and the
///    live object stays), and written on the condition of the target's entity
///    tag as classified (an object changed since is reported, never
///    overwritten blindly); missing objects are written only if still missing;
/// 4. `keep_newer` leaves objects written after the snapshot started alone;
///    `exact` deletes (on the same conditions) what is not in the snapshot;
/// 5. every object of the snapshot is read back from the target's listing.
///
/// A snapshot of another source is refused unless `other_target` says so.
/// Run again, a restore writes nothing.
///
/// # Errors
/// [`Error::InvalidInput`] for bad options, a confirmation naming another
/// bucket, or a snapshot of another source (before any write);
/// [`Error::NotFound`] when there is no complete snapshot;
/// [`Error::ConfirmationRequired`] for an unversioned target that would lose
/// objects (nothing written); [`Error::Verification`] naming the snapshot
/// objects refused, the target objects changed meanwhile and any other
/// failure, after every other object was restored.
#[tracing::instrument(level = "info", skip_all, fields(backup = %backup.bucket, target = %target.bucket, target_backend = target.store.backend()))]
pub async fn restore_bucket(backup: Location<'_>, target: Location<'_>, options: &RestoreBucketOptions) -> Result<RestoreBucketReport> {
    let started = std::time::Instant::now();
    // Classify everything before the first write where the target could lose objects.
    let (p, confirmed) = checked(backup, target, options).await?;
    let scope = p.scope(options.range.clone());
    // In-process shards: ranges at the manifest's part boundaries, restored concurrently.
    let ranges = if options.shards > 1 && options.range.is_all() { p.manifest.split(options.shards) } else { vec![options.range.clone()] };
    let scopes: Vec<Scope<'_>> = ranges.into_iter().map(|r| p.scope(r)).collect();
    let id = p.manifest.info.id.clone();
    let server_side = backup.same_store(&target) && options.copy_mode == CopyMode::Auto;
    options.observer.step(format!(
        "restore snapshot {id} ({} objects) from {}/{} -> {}/{} ({}{})",
        p.manifest.info.objects,
        backup.bucket,
        p.folder,
        target.bucket,
        options.target_prefix,
        if server_side { "server-side" } else { "streamed" },
        if p.versioned { ", versioned target" } else { "" }
    ));
    let limit = &AdaptiveLimit::new(options.concurrency);
    // Objects done (written, identical, kept) and bytes written, of the snapshot's totals.
    let progress = &Progress::new(&options.observer, Some(p.manifest.info.objects), Some(p.manifest.info.total_bytes));
    let how = CopyHow { server_side, attempts: options.attempts, limit, progress: Some(progress) };
    let outcomes = Mutex::new(Outcomes::default());
    let lock = || outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let p = &p;
    let write = |c: Box<Classified>| {
        let lock = &lock;
        async move {
            match write_back(p, &c, how).await {
                Ok(done) => {
                    progress.object();
                    let mut o = lock();
                    match (done, c.class) {
                        (Done::AlreadyThere, _) => o.unchanged += 1,
                        (Done::Written, KeyClass::Missing) => o.created += 1,
                        (Done::Written, _) => {
                            o.report_overwritten.push(&c.key);
                            if c.newer {
                                o.overwritten_newer += 1;
                            }
                        }
                    }
                }
                Err((true, e)) => lock().refused.push(&c.key, &e),
                Err((false, e)) if e.is_precondition_failed() => lock().changed.push(&c.key, &e),
                Err((false, e)) => lock().failed.push(&c.key, &e),
            }
            Ok(())
        }
    };
    let delete = |c: Box<Classified>| {
        let lock = &lock;
        async move {
            let to = prefixed_key(&options.target_prefix, &c.key);
            let if_match = c.target.as_ref().and_then(|t| t.entity_tag.clone());
            let condition = DeleteOptions { if_match };
            let deleted = match to {
                Ok(to) => retried(options.attempts, || target.store.delete_opts(target.bucket, &to, &condition)).await,
                Err(e) => Err(e),
            };
            match deleted {
                Ok(()) => lock().deleted.push(&c.key),
                Err(e) if e.is_precondition_failed() => lock().changed.push(&c.key, &e),
                Err(e) => lock().failed.push(&c.key, &e),
            }
            Ok(())
        }
    };
    // What needs no request is counted at once; the rest is boxed, so the futures in flight stay small.
    let act = |scope| {
        classify(scope, &p.manifest)
            .map_ok(|c| -> Either<Ready<Result<()>>, BoxFuture<'_, Result<()>>> {
                match resolve(&c, options) {
                    Resolved::Leave if c.class == KeyClass::Identical => {
                        lock().unchanged += 1;
                        progress.object();
                    }
                    Resolved::Leave => lock().not_in_snapshot += 1,
                    Resolved::KeepNewer => {
                        lock().kept_newer.push(&c.key);
                        progress.object();
                    }
                    // Found between the refusal check and now on an unconfirmed unversioned target.
                    Resolved::Write | Resolved::Delete if !confirmed && c.class != KeyClass::Missing => {
                        let e = Error::precondition("object", format!("{}/{}", target.bucket, c.key), "changed since it was classified");
                        lock().changed.push(&c.key, &e);
                    }
                    Resolved::Write => return Either::Right(write(c).boxed()),
                    Resolved::Delete => return Either::Right(delete(c).boxed()),
                }
                Either::Left(ready(Ok(())))
            })
            .try_buffer_unordered(options.concurrency)
            .try_collect::<Vec<()>>()
    };
    for done in futures::future::join_all(scopes.iter().map(act)).await {
        done?;
    }
    progress.emit();
    let o = outcomes.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let problems = o.refused.count() + o.changed.count() + o.failed.count();
    if problems > 0 {
        let mut detail = Vec::new();
        if o.refused.count() > 0 {
            detail.push(format!(
                "{} snapshot objects refused, not what the manifest recorded (damaged or replaced; the live objects were left as they are): {}",
                o.refused.count(),
                o.refused.describe()
            ));
        }
        if o.changed.count() > 0 {
            detail.push(format!(
                "{} target objects changed since they were classified, left as they are: {}",
                o.changed.count(),
                o.changed.describe()
            ));
        }
        if o.failed.count() > 0 {
            detail.push(format!("{} failed: {}", o.failed.count(), o.failed.describe()));
        }
        return Err(Error::Verification {
            what: format!("restore of snapshot {id}"),
            detail: format!(
                "{problems} of {} objects were not restored; every other one was. {}",
                p.manifest.info.objects,
                detail.join(". ")
            ),
        });
    }
    // Read the target back: every object of the snapshot is there, as big as
    // recorded, but those kept as newer on purpose.
    let mut faults = NamedKeys::default();
    let mut checked = 0u64;
    let mut again = classify(&scope, &p.manifest);
    while let Some(c) = again.try_next().await? {
        let Some(entry) = &c.entry else { continue };
        match (&c.target, resolve(&c, options)) {
            (_, Resolved::KeepNewer) => {}
            (Some(have), _) if have.size == entry.size => checked += 1,
            _ => faults.push(&c.key),
        }
    }
    if !faults.is_empty() {
        return Err(Error::Verification {
            what: format!("restore of snapshot {id}"),
            detail: format!("{} objects are missing or of the wrong size after the restore: {}", faults.count, faults.describe()),
        });
    }
    let restored = o.created + o.report_overwritten.count;
    // Written concurrently, named in key order.
    let mut o = o;
    for keys in [&mut o.report_overwritten, &mut o.kept_newer, &mut o.deleted] {
        keys.first.sort();
    }
    Ok(RestoreBucketReport {
        id,
        objects: p.manifest.info.objects,
        bytes: p.manifest.info.total_bytes,
        versioned: p.versioned,
        restored,
        overwritten: o.report_overwritten,
        overwritten_newer: o.overwritten_newer,
        kept_newer: o.kept_newer,
        deleted: o.deleted,
        not_in_snapshot: o.not_in_snapshot,
        unchanged: o.unchanged,
        verified: checked,
        duration: started.elapsed(),
    })
}

/// Classify every key of `target` against the snapshot `options.snapshot`:
/// what [`super::restore_bucket`] would write back, overwrite, keep and
/// delete with these options. Reads only.
///
/// # Errors
/// As [`super::restore_bucket`] before its first write: no complete snapshot,
/// a snapshot of another source, listing errors.
#[tracing::instrument(level = "info", skip_all, fields(backup = %backup.bucket, target = %target.bucket))]
pub async fn plan_restore(backup: Location<'_>, target: Location<'_>, options: &RestoreBucketOptions) -> Result<RestorePlan> {
    let prepared = prepare(backup, target, options).await?;
    let scope = prepared.scope(options.range.clone());
    let mut plan = RestorePlan::new(
        prepared.manifest.info.id.clone(),
        format!("{}/{}", target.bucket, options.target_prefix),
        prepared.manifest.info.objects,
        prepared.manifest.info.total_bytes,
        prepared.versioned,
    );
    let mut classified = classify(&scope, &prepared.manifest);
    while let Some(c) = classified.try_next().await? {
        plan.count(&c, resolve(&c, options));
    }
    Ok(plan)
}
