//! Bucket snapshot and restore: copy every object of a bucket into another
//! bucket under a timestamped folder, with a manifest written last; copy a
//! snapshot back, verified against its manifest.
//!
//! Layout in the backup bucket, for destination prefix `backups`:
//!
//! ```text
//! backups/2026-11-23T20-21-40.123Z/<every source key>
//! backups/manifests/2026-11-23T20-21-40.123Z.json
//! ```
//!
//! A snapshot is complete exactly when its manifest exists: the manifest is
//! written after every object was copied and checked, so an interrupted
//! snapshot is never taken for a complete one, and running it again with the
//! same id copies only what is missing.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::object_store::{ListOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutOptions};
use crate::observe::{Event, Observer};
use crate::validate::{BucketName, ObjectKey};

use super::limit::AdaptiveLimit;

/// A bucket in a store.
#[derive(Clone, Copy, Debug)]
pub struct Location<'a> {
    /// The store.
    pub store: &'a dyn ObjectStore,
    /// The bucket.
    pub bucket: &'a BucketName,
}

impl<'a> Location<'a> {
    /// `bucket` in `store`.
    pub fn new(store: &'a dyn ObjectStore, bucket: &'a BucketName) -> Self {
        Location { store, bucket }
    }

    fn same_store(&self, other: &Location<'_>) -> bool {
        std::ptr::addr_eq(self.store as *const dyn ObjectStore, other.store as *const dyn ObjectStore)
    }
}

/// How objects are copied between two locations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CopyMode {
    /// Server-side when both locations are in the same store (the same
    /// `&dyn ObjectStore`), streamed otherwise.
    #[default]
    Auto,
    /// Always stream through this process (bounded memory: one chunk in flight per copy).
    Streamed,
}

/// The id of a snapshot: its UTC start time, sortable, without colons
/// (`2026-11-23T20-21-40.123Z`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

const SNAPSHOT_ID_FORMAT: &str = "%Y-%m-%dT%H-%M-%S%.3fZ";
const SNAPSHOT_ID_PARSE: &str = "%Y-%m-%dT%H-%M-%S%.fZ";
const SNAPSHOT_ID_RULE: &str = "snapshot ids: a UTC time as YYYY-MM-DDTHH-MM-SS.mmmZ";

impl SnapshotId {
    /// The id for `at`.
    pub fn at(at: Timestamp) -> Self {
        SnapshotId(at.strftime(SNAPSHOT_ID_FORMAT).to_string())
    }

    /// The id for now.
    pub fn now() -> Self {
        SnapshotId::at(Timestamp::now())
    }

    /// The time it names.
    pub fn timestamp(&self) -> Timestamp {
        parse_id(&self.0).expect("validated on construction")
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SnapshotId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match parse_id(s) {
            Some(t) if SnapshotId::at(t).0 == s => Ok(SnapshotId(s.to_owned())),
            _ => Err(Error::invalid("snapshot", format!("`{s}` is not a snapshot id"), SNAPSHOT_ID_RULE)),
        }
    }
}

fn parse_id(s: &str) -> Option<Timestamp> {
    let civil = jiff::civil::DateTime::strptime(SNAPSHOT_ID_PARSE, s).ok()?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

impl TryFrom<String> for SnapshotId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> String {
        id.0
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a snapshot's objects and manifest live in the backup bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLayout {
    prefix: String,
}

impl SnapshotLayout {
    /// Snapshots under `prefix` (`""` for the bucket's root).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `prefix` for a prefix starting with `/`,
    /// holding `//`, `.` or `..` segments, or longer than 512 bytes.
    pub fn new(prefix: &str) -> Result<Self> {
        let rule = "snapshot prefixes: at most 512 bytes, no leading `/`, no empty, `.` or `..` segments";
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if trimmed.len() > 512 || trimmed.starts_with('/') {
            return Err(Error::invalid("prefix", format!("`{prefix}` is too long or starts with `/`"), rule));
        }
        if !trimmed.is_empty() && trimmed.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(Error::invalid("prefix", format!("`{prefix}` has an empty, `.` or `..` segment"), rule));
        }
        Ok(SnapshotLayout { prefix: trimmed.to_owned() })
    }

    fn join(&self, rest: &str) -> String {
        if self.prefix.is_empty() { rest.to_owned() } else { format!("{}/{rest}", self.prefix) }
    }

    /// The folder holding the snapshot's objects, with a trailing `/`.
    pub fn folder(&self, id: &SnapshotId) -> String {
        self.join(&format!("{id}/"))
    }

    /// The key of the snapshot's manifest.
    pub fn manifest_key(&self, id: &SnapshotId) -> String {
        self.join(&format!("manifests/{id}.json"))
    }

    fn manifests_prefix(&self) -> String {
        self.join("manifests/")
    }
}

/// One object of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The key in the source bucket.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The source's ETag.
    pub etag: Option<String>,
    /// The source version copied.
    pub version: Option<String>,
    /// The ETag of the copy in the snapshot.
    pub copy_etag: Option<String>,
    /// SHA-256 of the content (hex), when it streamed through this process.
    pub sha256: Option<String>,
}

/// The record of a complete snapshot, written last.
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
    /// When the snapshot completed.
    pub completed: Timestamp,
    /// Bytes in all.
    pub total_bytes: u64,
    /// Every object, in key order.
    pub objects: Vec<ManifestEntry>,
}

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
        if self.attempts == 0 || self.attempts > 20 {
            return Err(Error::invalid("attempts", format!("is {}", self.attempts), "1 to 20 attempts per object"));
        }
        Ok(())
    }
}

fn validate_concurrency(n: usize) -> Result<()> {
    if (1..=1024).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid("concurrency", format!("is {n}"), "1 to 1024 copies at once"))
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

/// Attempts per request for retryable errors, unless the options say otherwise.
const DEFAULT_ATTEMPTS: usize = 8;

fn retry_policy(attempts: usize) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(attempts.saturating_sub(1))
        .with_jitter()
}

/// Every object of `location` matching `options`, as a stream that survives
/// retryable errors: after one, the listing starts again after the last key it
/// handed out (up to `attempts` failures in a row), so a throttled page does
/// not end a snapshot of a million objects.
fn list_resilient<'a>(location: Location<'a>, options: ListOptions, attempts: usize) -> BoxStream<'a, Result<ObjectMeta>> {
    struct State<'a> {
        location: Location<'a>,
        options: ListOptions,
        inner: Option<BoxStream<'static, Result<ObjectMeta>>>,
        last: Option<String>,
        failures: usize,
        done: bool,
    }
    let state = State { location, options, inner: None, last: None, failures: 0, done: false };
    futures::stream::unfold(state, move |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            let inner = st.inner.get_or_insert_with(|| {
                let start_after = st.last.clone().or_else(|| st.options.start_after.clone());
                st.location.store.list(st.location.bucket, ListOptions { prefix: st.options.prefix.clone(), start_after })
            });
            match inner.next().await {
                None => return None,
                Some(Ok(meta)) => {
                    st.last = Some(meta.key.as_str().to_owned());
                    st.failures = 0;
                    return Some((Ok(meta), st));
                }
                Some(Err(e)) if e.is_retryable() && st.failures + 1 < attempts => {
                    st.failures += 1;
                    st.inner = None;
                    let delay = Duration::from_millis(50 << st.failures.min(7)).min(Duration::from_secs(5));
                    tokio::time::sleep(delay).await;
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}

/// Run `op` again on retryable errors, up to `attempts` times.
async fn retried<T, F, Fut>(attempts: usize, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    op.retry(retry_policy(attempts)).when(Error::is_retryable).await
}

/// Copy one object, server-side or streamed, retrying retryable errors.
/// `source` is what the caller knows of it (from the listing or the manifest):
/// a server-side copy does not read its metadata again.
/// Answers the written object's metadata and, when streamed, the content's
/// SHA-256 and the source metadata as read.
async fn copy_object(
    from: Location<'_>,
    source: &ObjectMeta,
    to: Location<'_>,
    to_key: &ObjectKey,
    server_side: bool,
    attempts: usize,
    limit: &AdaptiveLimit,
) -> Result<(ObjectMeta, Option<String>, Option<ObjectMeta>)> {
    let once = || async {
        let slot = limit.acquire().await;
        let outcome = copy_once(from, source, to, to_key, server_side).await;
        match &outcome {
            Ok(_) => slot.succeeded(),
            Err(Error::Throttled { .. }) => slot.throttled(),
            Err(_) => {}
        }
        outcome
    };
    once.retry(retry_policy(attempts)).when(Error::is_retryable).await
}

async fn copy_once(
    from: Location<'_>,
    source: &ObjectMeta,
    to: Location<'_>,
    to_key: &ObjectKey,
    server_side: bool,
) -> Result<(ObjectMeta, Option<String>, Option<ObjectMeta>)> {
    {
        if server_side {
            let written = from.store.copy_listed(from.bucket, source, to.bucket, to_key).await?;
            return Ok((written, None, None));
        }
        let got = from.store.get(from.bucket, &source.key).await?;
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let h = hasher.clone();
        let body = got
            .body
            .inspect_ok(move |chunk: &Bytes| h.lock().unwrap_or_else(std::sync::PoisonError::into_inner).update(chunk))
            .boxed();
        let options = PutOptions { size_hint: Some(got.meta.size), ..PutOptions::default() };
        let written = to.store.put(to.bucket, to_key, body, &options).await?;
        let digest = hasher.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone().finalize();
        Ok((written, Some(hex::encode(digest)), Some(got.meta)))
    }
}

fn prefixed_key(prefix: &str, key: &str) -> Result<ObjectKey> {
    ObjectKey::new(format!("{prefix}{key}")).map_err(|e| match e {
        Error::InvalidInput { problem, rule, .. } => {
            Error::invalid("key", format!("`{key}` under `{prefix}` {problem}"), rule)
        }
        other => other,
    })
}

/// Copy every object of `source` (optionally under a prefix) into
/// `destination` under `<prefix>/<snapshot id>/`, then write the manifest.
///
/// Server-side copies when both are the same store (see [`CopyMode`]);
/// otherwise a streamed copy with one chunk per copy in flight. Objects already
/// in the snapshot folder with the same size and ETag (from an interrupted run,
/// resumed with [`SnapshotOptions::id`]) are not copied again.
///
/// # Errors
/// [`Error::InvalidInput`] for bad options or a destination inside the source
/// (before any request); [`Error::AlreadyExists`] when the snapshot id is
/// already complete; [`Error::Verification`] naming the objects that failed
/// (no manifest is written then, and a resume copies only those); listing
/// errors of either store.
pub async fn snapshot_bucket(source: Location<'_>, destination: Location<'_>, options: &SnapshotOptions) -> Result<SnapshotReport> {
    options.validate()?;
    let started = std::time::Instant::now();
    let id = options.id.clone().unwrap_or_else(SnapshotId::now);
    let folder = options.layout.folder(&id);
    let manifest_key = ObjectKey::new(options.layout.manifest_key(&id))?;
    let same_store = source.same_store(&destination);
    if same_store && source.bucket == destination.bucket {
        let src_prefix = options.source_prefix.as_deref().unwrap_or("");
        if folder.starts_with(src_prefix) || manifest_key.as_str().starts_with(src_prefix) {
            return Err(Error::invalid(
                "layout.prefix",
                format!("snapshot folder `{folder}` lies inside the source `{}/{src_prefix}`", source.bucket),
                "a snapshot is written outside what it copies",
            ));
        }
    }
    let server_side = same_store && options.copy_mode == CopyMode::Auto;
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
                let entry = |copy_etag: Option<String>, sha256: Option<String>| ManifestEntry {
                    key: key.clone(),
                    size: meta.size,
                    etag: meta.etag.clone(),
                    version: meta.version.clone(),
                    copy_etag,
                    sha256,
                };
                if let Some(have) = existing.get(&key)
                    && have.size == meta.size && have.etag.is_some() && have.etag == meta.etag {
                        return Ok(Ok(entry(have.etag.clone(), None)));
                    }
                let outcome = async {
                    let to_key = prefixed_key(folder, &key)?;
                    let (written, sha256, read) = copy_object(source, &meta, destination, &to_key, server_side, options.attempts, limit).await?;
                    let size = read.as_ref().map_or(meta.size, |r| r.size);
                    if written.size != size {
                        return Err(Error::Verification {
                            what: format!("copy of {key}"),
                            detail: format!("wrote {} bytes, source has {size}", written.size),
                        });
                    }
                    Ok(entry(written.etag, sha256))
                }
                .await;
                match outcome {
                    Ok(e) => {
                        let n = copied.fetch_add(1, Ordering::Relaxed) + 1;
                        bytes.fetch_add(e.size, Ordering::Relaxed);
                        if n % 500 == 0 {
                            options.observer.emit(Event::Copied {
                                objects: n,
                                bytes: bytes.load(Ordering::Relaxed),
                                total: None,
                            });
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
    let mut failed = Vec::new();
    for outcome in outcomes {
        match outcome? {
            Ok(entry) => objects.push(entry),
            Err(failure) => failed.push(failure),
        }
    }
    let copied = copied.into_inner();
    options.observer.emit(Event::Copied { objects: copied, bytes: bytes.into_inner(), total: Some(objects.len() as u64 + failed.len() as u64) });
    if !failed.is_empty() {
        let sample: Vec<String> = failed.iter().take(3).map(|(k, e)| format!("{k}: {e}")).collect();
        return Err(Error::Verification {
            what: format!("snapshot {id}"),
            detail: format!(
                "{} of {} objects failed and no manifest was written (resume it to copy only what is missing); first: {}",
                failed.len(),
                failed.len() + objects.len(),
                sample.join("; ")
            ),
        });
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let total_bytes = objects.iter().map(|e| e.size).sum();
    let manifest = Manifest {
        format: 1,
        id: id.clone(),
        source_backend: source.store.backend().to_owned(),
        source_bucket: source.bucket.to_string(),
        source_prefix: options.source_prefix.clone(),
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
    let put = || destination.store.put_bytes(destination.bucket, &manifest_key, Bytes::from(json.clone()));
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

/// What happened to one key: a value, or the key and its error.
type KeyOutcome<T> = std::result::Result<(String, T), (String, Error)>;

/// The complete snapshots under `layout`, oldest first (those with a manifest).
///
/// # Errors
/// Listing errors; [`Error::NotFound`] for the bucket.
pub async fn list_snapshots(backup: Location<'_>, layout: &SnapshotLayout) -> Result<Vec<SnapshotId>> {
    let prefix = layout.manifests_prefix();
    let metas: Vec<ObjectMeta> = list_resilient(backup, ListOptions::prefix(prefix.clone()), DEFAULT_ATTEMPTS).try_collect().await?;
    let mut ids: Vec<SnapshotId> = metas
        .iter()
        .filter_map(|m| m.key.as_str()[prefix.len()..].strip_suffix(".json").and_then(|id| id.parse().ok()))
        .collect();
    ids.sort();
    Ok(ids)
}

/// Read a snapshot's manifest.
///
/// # Errors
/// [`Error::NotFound`] naming the snapshot as incomplete when it has no manifest.
pub async fn read_manifest(backup: Location<'_>, layout: &SnapshotLayout, id: &SnapshotId) -> Result<Manifest> {
    let key = ObjectKey::new(layout.manifest_key(id))?;
    let bytes = match retried(DEFAULT_ATTEMPTS, || backup.store.get_bytes(backup.bucket, &key)).await {
        Err(e) if e.is_not_found() => {
            return Err(Error::not_found("complete snapshot (no manifest: missing or unfinished)", format!("{}/{}", backup.bucket, layout.folder(id))));
        }
        other => other?,
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::Verification { what: format!("manifest {key}"), detail: e.to_string() })
}

/// Which snapshot to restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotSelector {
    /// The newest complete one.
    Latest,
    /// This one.
    Id(SnapshotId),
}

impl FromStr for SnapshotSelector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s == "latest" { Ok(SnapshotSelector::Latest) } else { s.parse().map(SnapshotSelector::Id) }
    }
}

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
    /// Objects written.
    pub restored: u64,
    /// Objects already identical in the target, left alone.
    pub unchanged: u64,
    /// Objects checked against the manifest after the copy (all of them).
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
        )
    }
}

/// Copy a snapshot from `backup` back into `target`, and verify every object
/// against the manifest. Refuses a snapshot with no manifest.
///
/// Objects already identical in the target (same size and ETag as recorded)
/// are left alone, so a restore can be run again after an interruption.
///
/// # Errors
/// [`Error::NotFound`] when there is no complete snapshot; [`Error::Verification`]
/// naming the objects that did not match after the copy.
pub async fn restore_bucket(backup: Location<'_>, target: Location<'_>, options: &RestoreBucketOptions) -> Result<RestoreBucketReport> {
    validate_concurrency(options.concurrency)?;
    let started = std::time::Instant::now();
    let id = match &options.snapshot {
        SnapshotSelector::Id(id) => id.clone(),
        SnapshotSelector::Latest => list_snapshots(backup, &options.layout)
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("complete snapshot", format!("{}/{}", backup.bucket, options.layout.join(""))))?,
    };
    let manifest = read_manifest(backup, &options.layout, &id).await?;
    let folder = options.layout.folder(&id);
    let server_side = backup.same_store(&target) && options.copy_mode == CopyMode::Auto;
    options.observer.step(format!(
        "restore snapshot {id} ({} objects) from {}/{folder} -> {}/{} ({})",
        manifest.objects.len(),
        backup.bucket,
        target.bucket,
        options.target_prefix,
        if server_side { "server-side" } else { "streamed" }
    ));
    let prefix_listing = || async {
        list_resilient(target, ListOptions::prefix(options.target_prefix.clone()), options.attempts)
            .map_ok(|m| (m.key.as_str()[options.target_prefix.len()..].to_owned(), m))
            .try_collect::<HashMap<String, ObjectMeta>>()
            .await
    };
    let before = prefix_listing().await?;
    let matches = |entry: &ManifestEntry, have: &ObjectMeta| {
        have.size == entry.size && have.etag.is_some() && (have.etag == entry.etag || have.etag == entry.copy_etag)
    };
    let restored = AtomicU64::new(0);
    let limit = &AdaptiveLimit::new(options.concurrency);
    let results: Vec<KeyOutcome<Option<String>>> = futures::stream::iter(manifest.objects.iter())
        .map(|entry| {
            let (before, folder, restored) = (&before, &folder, &restored);
            async move {
                if let Some(have) = before.get(&entry.key)
                    && matches(entry, have) {
                        return Ok((entry.key.clone(), have.etag.clone()));
                    }
                let outcome = async {
                    let from = ObjectMeta {
                        key: prefixed_key(folder, &entry.key)?,
                        size: entry.size,
                        etag: entry.copy_etag.clone(),
                        version: None,
                        last_modified: None,
                    };
                    let to = prefixed_key(&options.target_prefix, &entry.key)?;
                    let (written, sha256, read) = copy_object(backup, &from, target, &to, server_side, options.attempts, limit).await?;
                    let mut faults = Vec::new();
                    if written.size != entry.size {
                        faults.push(format!("wrote {} bytes, manifest says {}", written.size, entry.size));
                    }
                    if server_side {
                        if !(written.etag.is_some() && (written.etag == entry.copy_etag || written.etag == entry.etag)) {
                            faults.push(format!("ETag {:?} matches neither {:?} nor {:?}", written.etag, entry.etag, entry.copy_etag));
                        }
                    } else if let (Some(want), Some(got)) = (&entry.sha256, &sha256) {
                        if want != got {
                            faults.push("SHA-256 differs from the manifest".to_owned());
                        }
                    } else if let Some(read) = read
                        && read.etag != entry.copy_etag {
                            faults.push(format!("snapshot copy's ETag {:?} is not the recorded {:?}", read.etag, entry.copy_etag));
                        }
                    if faults.is_empty() {
                        Ok(written.etag)
                    } else {
                        Err(Error::Verification { what: format!("restored {}", entry.key), detail: faults.join("; ") })
                    }
                }
                .await;
                match outcome {
                    Ok(etag) => {
                        restored.fetch_add(1, Ordering::Relaxed);
                        Ok((entry.key.clone(), etag))
                    }
                    Err(e) => Err((entry.key.clone(), e)),
                }
            }
        })
        .buffer_unordered(options.concurrency)
        .collect()
        .await;
    let mut written_etags = HashMap::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok((key, etag)) => {
                written_etags.insert(key, etag);
            }
            Err(f) => failed.push(f),
        }
    }
    if !failed.is_empty() {
        let sample: Vec<String> = failed.iter().take(3).map(|(k, e)| format!("{k}: {e}")).collect();
        return Err(Error::Verification {
            what: format!("restore of snapshot {id}"),
            detail: format!("{} of {} objects failed; first: {}", failed.len(), manifest.objects.len(), sample.join("; ")),
        });
    }
    // Read the target back and check every object of the manifest is there as written.
    let after = prefix_listing().await?;
    let mut faults = Vec::new();
    for entry in &manifest.objects {
        match after.get(&entry.key) {
            None => faults.push(format!("{} is missing", entry.key)),
            Some(have) if have.size != entry.size => faults.push(format!("{} has {} bytes, manifest says {}", entry.key, have.size, entry.size)),
            Some(have) if have.etag != written_etags.get(&entry.key).cloned().flatten() => {
                faults.push(format!("{} changed after it was restored", entry.key));
            }
            Some(_) => {}
        }
    }
    if !faults.is_empty() {
        return Err(Error::Verification {
            what: format!("restore of snapshot {id}"),
            detail: format!("{} objects do not match the manifest; first: {}", faults.len(), faults[..faults.len().min(3)].join("; ")),
        });
    }
    let restored = restored.into_inner();
    let objects = manifest.objects.len() as u64;
    Ok(RestoreBucketReport {
        id,
        objects,
        bytes: manifest.total_bytes,
        restored,
        unchanged: objects - restored,
        verified: objects,
        duration: started.elapsed(),
    })
}
