//! Snapshot: copy every object of a bucket into another bucket under a
//! timestamped folder, then write the manifest.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::Retryable;
use bytes::Bytes;
use futures::stream::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::Serialize;

use super::copy::{CopyHow, copy_object};
use super::layout::{SnapshotId, SnapshotLayout};
use super::listing::list_resilient;
use super::manifest::{Manifest, ManifestEntry};
use super::{CopyMode, DEFAULT_ATTEMPTS, Location, NamedKeys, prefixed_key, retried, retry_policy, validate_attempts, validate_concurrency};
use crate::error::{Error, Result};
use crate::object_store::{ListOptions, ObjectMeta, ObjectStoreExt, PutMode};
use crate::observe::{Event, Observer};
use crate::recipes::limit::AdaptiveLimit;
use crate::validate::ObjectKey;

/// Options of [`snapshot_bucket`].
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Only copy source keys under this prefix.
    pub source_prefix: Option<String>,
    /// Where snapshots live in the destination bucket.
    pub layout: SnapshotLayout,
    /// The snapshot's id (default: now). Give the id of an interrupted snapshot
    /// to resume it: what its folder already holds with the same size and ETag
    /// is not copied again.
    pub id: Option<SnapshotId>,
    /// Copies in flight at once (1 to 1024; default 32).
    pub concurrency: usize,
    /// Server-side or streamed.
    pub copy_mode: CopyMode,
    /// Attempts per object for retryable errors (default 8).
    pub attempts: usize,
    /// Progress events.
    pub observer: Observer,
}

impl SnapshotOptions {
    /// A new snapshot under `layout`, 32 copies at once.
    pub fn new(layout: SnapshotLayout) -> Self {
        SnapshotOptions {
            source_prefix: None,
            layout,
            id: None,
            concurrency: 32,
            copy_mode: CopyMode::Auto,
            attempts: DEFAULT_ATTEMPTS,
            observer: Observer::default(),
        }
    }

    fn validate(&self) -> Result<()> {
        validate_concurrency(self.concurrency)?;
        validate_attempts(self.attempts)
    }
}

/// What a snapshot did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotReport {
    /// The snapshot's id.
    pub id: SnapshotId,
    /// The folder holding its objects.
    pub folder: String,
    /// The manifest's key.
    pub manifest_key: String,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub bytes: u64,
    /// Objects copied by this run.
    pub copied: u64,
    /// Objects already in the snapshot from an earlier run, left alone.
    pub skipped: u64,
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
            "snapshot {}: {} objects, {} bytes ({} copied {}, {} already there) in {:.2}s; manifest {}",
            self.id,
            self.objects,
            self.bytes,
            self.copied,
            if self.server_side { "server-side" } else { "streamed" },
            self.skipped,
            self.duration.as_secs_f64(),
            self.manifest_key
        )?;
        if self.throttled > 0 {
            write!(f, "; throttled {} times, slowed to {} copies at once", self.throttled, self.lowest_concurrency)?;
        }
        Ok(())
    }
}

/// Listed objects held ahead of the copies (an S3 listing page).
const LIST_AHEAD: usize = 1000;

/// Objects that failed, named with their errors (the first [`super::NAMED_KEYS`]).
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
        if self.keys.first.len() < super::NAMED_KEYS {
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
            text = format!("{} changed or vanished while the snapshot ran (their copies would not be the listed objects); {text}", self.changed);
        }
        text
    }
}

/// Copy every object of `source` (optionally under a prefix) into
/// `destination` under `<prefix>/<snapshot id>/`, then write the manifest.
///
/// Server-side copies when both are the same store (see [`CopyMode`]);
/// otherwise a streamed copy with one chunk per copy in flight. Every copy is
/// conditional on the entity tag (and version) the listing showed, and each
/// manifest entry is built from what was copied. Objects already in the
/// snapshot folder with the same size and ETag (from an interrupted run,
/// resumed with [`SnapshotOptions::id`]) are not copied again.
///
/// # Errors
/// [`Error::InvalidInput`] for bad options or a destination inside the source
/// (before any request); [`Error::AlreadyExists`] when the snapshot id is
/// already complete; [`Error::Verification`] naming the objects that failed,
/// changed or vanished during the snapshot (no manifest is written then, and
/// a resume copies only those); listing errors of either store.
pub async fn snapshot_bucket(source: Location<'_>, destination: Location<'_>, options: &SnapshotOptions) -> Result<SnapshotReport> {
    options.validate()?;
    let started = std::time::Instant::now();
    let id = options.id.clone().unwrap_or_else(SnapshotId::now);
    let folder = options.layout.folder(&id);
    let manifest_key = ObjectKey::new(options.layout.manifest_key(&id))?;
    if source.same_bucket(&destination) {
        let src_prefix = options.source_prefix.as_deref().unwrap_or("");
        if folder.starts_with(src_prefix) || manifest_key.as_str().starts_with(src_prefix) {
            return Err(Error::invalid(
                "layout.prefix",
                format!("snapshot folder `{folder}` lies inside the source `{}/{src_prefix}`", source.bucket),
                "a snapshot is written outside what it copies",
            ));
        }
    }
    let server_side = source.same_store(&destination) && options.copy_mode == CopyMode::Auto;
    match retried(options.attempts, || destination.store.head(destination.bucket, &manifest_key)).await {
        Ok(_) => return Err(Error::already_exists("snapshot", format!("{}/{}", destination.bucket, folder))),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    options.observer.step(format!(
        "snapshot {}{} -> {}/{folder} ({}, {} at once)",
        source.bucket,
        options.source_prefix.as_deref().map(|p| format!("/{p}")).unwrap_or_default(),
        destination.bucket,
        if server_side { "server-side" } else { "streamed" },
        options.concurrency
    ));

    // What an earlier run of this snapshot already copied.
    let existing: HashMap<String, ObjectMeta> = list_resilient(destination, ListOptions::prefix(folder.clone()), options.attempts)
        .map_ok(|m| (m.key.as_str()[folder.len()..].to_owned(), m))
        .try_collect()
        .await?;

    let copied = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let limit = &AdaptiveLimit::new(options.concurrency);
    let how = CopyHow { server_side, attempts: options.attempts, limit };
    let listing = list_resilient(source, ListOptions { prefix: options.source_prefix.clone(), start_after: None }, options.attempts);
    // The listing runs ahead of the copies by up to a page: the next page is
    // requested while the copies of this one are in flight, instead of when
    // the last of them was handed out.
    let (ahead, listed) = futures::channel::mpsc::channel(LIST_AHEAD);
    let lister = listing.map(Ok::<_, futures::channel::mpsc::SendError>).forward(ahead);
    let copies = listed
        .map(|item: Result<ObjectMeta>| {
            let (existing, folder, copied, bytes) = (&existing, &folder, &copied, &bytes);
            async move {
                let meta = item?;
                let key = meta.key.as_str().to_owned();
                if let Some(have) = existing.get(&key)
                    && have.size == meta.size
                    && have.etag.is_some()
                    && have.etag == meta.etag
                {
                    let entry = ManifestEntry {
                        key: key.clone(),
                        size: meta.size,
                        etag: meta.etag.clone(),
                        version: meta.version.clone(),
                        copy_etag: have.etag.clone(),
                        sha256: None,
                        copy_tag: have.entity_tag.clone(),
                    };
                    return Ok(Ok(entry));
                }
                let outcome = async {
                    let to_key = prefixed_key(folder, &key)?;
                    let done = copy_object(source, &meta, destination, &to_key, &PutMode::Overwrite, how).await?;
                    // The entry says what was copied: the source as read (streamed) or as
                    // listed (server-side, on the condition of the listed entity tag).
                    let read = done.read.as_ref().unwrap_or(&meta);
                    if done.written.size != read.size {
                        return Err(Error::Verification {
                            what: format!("copy of {key}"),
                            detail: format!("wrote {} bytes, source has {}", done.written.size, read.size),
                        });
                    }
                    Ok(ManifestEntry {
                        key: key.clone(),
                        size: read.size,
                        etag: read.etag.clone(),
                        version: read.version.clone(),
                        copy_etag: done.written.etag.clone(),
                        sha256: done.sha256,
                        copy_tag: done.written.entity_tag.clone(),
                    })
                }
                .await;
                match outcome {
                    Ok(e) => {
                        let n = copied.fetch_add(1, Ordering::Relaxed) + 1;
                        bytes.fetch_add(e.size, Ordering::Relaxed);
                        if n % 500 == 0 {
                            options.observer.emit(Event::Copied { objects: n, bytes: bytes.load(Ordering::Relaxed), total: None });
                        }
                        Ok(Ok(e))
                    }
                    Err(e) => Ok(Err((key, e))),
                }
            }
        })
        .buffer_unordered(options.concurrency)
        .collect::<Vec<Result<std::result::Result<ManifestEntry, (String, Error)>>>>();
    // The lister ends when the listing does; it fails only if the copies
    // stopped listening, which they do not before the listing ends.
    let (_, outcomes) = futures::join!(lister, copies);

    let mut objects = Vec::with_capacity(outcomes.len());
    let mut failed = Failures::default();
    for outcome in outcomes {
        match outcome? {
            Ok(entry) => objects.push(entry),
            Err((key, e)) => failed.push(&key, &e),
        }
    }
    let copied = copied.into_inner();
    options.observer.emit(Event::Copied { objects: copied, bytes: bytes.into_inner(), total: Some(objects.len() as u64 + failed.count()) });
    if failed.count() > 0 {
        return Err(Error::Verification {
            what: format!("snapshot {id}"),
            detail: format!(
                "{} of {} objects failed and no manifest was written (resume it to copy only what is missing): {}",
                failed.count(),
                failed.count() + objects.len() as u64,
                failed.describe()
            ),
        });
    }
    let order = source.store.key_order();
    objects.sort_by(|a, b| order.compare(&a.key, &b.key));
    let total_bytes = objects.iter().map(|e| e.size).sum();
    let manifest = Manifest {
        format: 1,
        id: id.clone(),
        source_backend: source.store.backend().to_owned(),
        source_bucket: source.bucket.to_string(),
        source_prefix: options.source_prefix.clone(),
        key_order: order,
        completed: Timestamp::now(),
        total_bytes,
        objects,
    };
    let json = serde_json::to_vec(&manifest).map_err(|e| Error::Provider {
        provider: "deploy",
        operation: "serialize manifest".into(),
        message: e.to_string(),
        retryable: false,
        source: Some(Box::new(e)),
    })?;
    let json = Bytes::from(json);
    let put = || destination.store.put_bytes(destination.bucket, &manifest_key, json.clone());
    put.retry(retry_policy(options.attempts)).when(Error::is_retryable).await?;
    let skipped = manifest.objects.len() as u64 - copied;
    Ok(SnapshotReport {
        id,
        folder,
        manifest_key: manifest_key.to_string(),
        objects: manifest.objects.len() as u64,
        bytes: total_bytes,
        copied,
        skipped,
        server_side,
        throttled: limit.stats().0,
        lowest_concurrency: limit.stats().1,
        duration: started.elapsed(),
    })
}
