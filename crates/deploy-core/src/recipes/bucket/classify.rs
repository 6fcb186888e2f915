//! Restore, first step: classify every key under the target — missing,
//! identical, differs, not in the snapshot — by merging the manifest with the
//! target's listing in key order.

use std::fmt;

use futures::future::{BoxFuture, Either, FutureExt, Ready, ready};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::Serialize;

use super::common::{Location, NamedKeys, prefixed_key, retried};
use super::layout::SnapshotId;
use super::listing::list_resilient;
use super::manifest::{KeyRange, ManifestEntry, OpenManifest};
use super::merge::{Merged, Side, merge};
use crate::error::Result;
use crate::object_store::{KeyOrder, ListOptions, ObjectMeta};

/// What a key of the target is, against the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyClass {
    /// In the snapshot, not in the target: written back.
    Missing,
    /// In both, the same size and content fingerprint: left alone.
    Identical,
    /// In both, different: overwritten (unless kept as newer).
    Differs,
    /// In the target only: left alone, or deleted by an exact restore.
    NotInSnapshot,
}

/// One classified key.
#[derive(Clone, Debug)]
pub(super) struct Classified {
    /// The key as the snapshot names it (the target's key without the target prefix).
    pub key: String,
    pub class: KeyClass,
    pub entry: Option<ManifestEntry>,
    /// The target's object, when there is one.
    pub target: Option<ObjectMeta>,
    /// The target's object was last written after the snapshot started.
    pub newer: bool,
}

/// Where a restore reads and writes, for classification.
pub(super) struct Scope<'a> {
    pub backup: Location<'a>,
    /// The snapshot's folder in the backup bucket.
    pub folder: String,
    pub target: Location<'a>,
    /// Put before every restored key.
    pub target_prefix: String,
    /// What is listed in the target: the target prefix and the snapshot's source prefix.
    pub list_prefix: String,
    /// Target keys never classified: the backup's own area when the backup bucket is the target.
    pub exclude: Option<String>,
    /// When the snapshot started.
    pub started: Timestamp,
    pub attempts: usize,
    /// The keys classified (the snapshot's keys, in the manifest's order).
    pub range: KeyRange,
}

pub(super) fn identical(entry: &ManifestEntry, have: &ObjectMeta) -> bool {
    have.size == entry.size && have.etag.is_some() && (have.etag == entry.etag || have.etag == entry.copy_etag)
}

/// Whether `have` was written after the snapshot started. Listings give
/// whole seconds (S3's `LastModified`): an object of the second the snapshot
/// started in counts as newer, so `keep_newer` errs on the side of keeping.
fn newer(scope: &Scope<'_>, have: &ObjectMeta) -> bool {
    let started_second = jiff::Timestamp::from_second(scope.started.as_second()).unwrap_or(scope.started);
    have.last_modified.is_some_and(|t| t > scope.started || (t.subsec_nanosecond() == 0 && t >= started_second))
}

/// Boxed: a classified key passes through several stream stages, moved at each.
fn classified(scope: &Scope<'_>, key: String, entry: Option<ManifestEntry>, target: Option<ObjectMeta>) -> Box<Classified> {
    let class = match (&entry, &target) {
        (Some(_), None) => KeyClass::Missing,
        (Some(e), Some(t)) if identical(e, t) => KeyClass::Identical,
        (Some(_), Some(_)) => KeyClass::Differs,
        (None, _) => KeyClass::NotInSnapshot,
    };
    let newer = target.as_ref().is_some_and(|t| newer(scope, t));
    Box::new(Classified { key, class, entry, target, newer })
}

/// A classified key at once, or after a lookup; `None` for a key the other side classifies.
type Step<'a> = Either<Ready<Result<Option<Box<Classified>>>>, BoxFuture<'a, Result<Option<Box<Classified>>>>>;

/// Every key of the snapshot and of the target's scope, classified, in key order
/// (order-sensitive keys of a cross-store restore resolved by a lookup, out of order).
pub(super) fn classify<'a>(scope: &'a Scope<'a>, manifest: &OpenManifest<'a>) -> BoxStream<'a, Result<Box<Classified>>> {
    let strip = scope.target_prefix.len();
    let exclude = scope.exclude.clone();
    let (manifest_order, target_order) = (manifest.info.key_order, scope.target.store.key_order());
    let (past, within) = (scope.range.clone(), scope.range.clone());
    let start_after = scope.range.after.as_ref().map(|a| format!("{}{a}", scope.target_prefix));
    let listing = list_resilient(scope.target, ListOptions { prefix: Some(scope.list_prefix.clone()), start_after }, scope.attempts)
        .try_filter(move |m| futures::future::ready(exclude.as_deref().is_none_or(|x| !m.key.as_str().starts_with(x))))
        // The range's keys only: stop at the first one past it that both orders agree on.
        .try_take_while(move |m| {
            let k = &m.key.as_str()[strip..];
            futures::future::ready(Ok(KeyOrder::is_order_sensitive(k) || !past.is_past(target_order, k)))
        })
        .try_filter(move |m| futures::future::ready(within.contains(manifest_order, &m.key.as_str()[strip..])))
        .boxed();
    let left = Side {
        items: manifest.entries_in(&scope.range),
        key: |e: &ManifestEntry| e.key.as_str(),
        skip: 0,
        order: manifest.info.key_order,
        name: format!("manifest of snapshot {}", manifest.info.id),
    };
    let right = Side {
        items: listing,
        key: |m: &ObjectMeta| m.key.as_str(),
        skip: strip,
        order: scope.target.store.key_order(),
        name: format!("listing of {}/{}", scope.target.bucket, scope.list_prefix),
    };
    merge(left, right)
        .map(move |step| -> Step<'a> {
            let step = match step {
                Ok(step) => step,
                Err(e) => return Either::Left(ready(Err(e))),
            };
            let target_key = move |m: &ObjectMeta| m.key.as_str()[strip..].to_owned();
            Either::Left(ready(Ok(Some(match step {
                Merged::Left(entry) => classified(scope, entry.key.clone(), Some(entry), None),
                Merged::Right(have) => classified(scope, target_key(&have), None, Some(have)),
                Merged::Both(entry, have) => classified(scope, entry.key.clone(), Some(entry), Some(have)),
                Merged::LeftAlone(entry) => {
                    // Where the target's listing puts this key is not known: ask for it.
                    return Either::Right(
                        async move {
                            let key = entry.key.clone();
                            let to = prefixed_key(&scope.target_prefix, &key)?;
                            let have = match retried(scope.attempts, || scope.target.store.head(scope.target.bucket, &to)).await {
                                Ok(m) => Some(m),
                                Err(e) if e.is_not_found() => None,
                                Err(e) => return Err(e),
                            };
                            Ok(Some(classified(scope, key, Some(entry), have)))
                        }
                        .boxed(),
                    );
                }
                Merged::RightAlone(have) => {
                    // In the snapshot exactly when its copy is in the snapshot's folder
                    // (then the manifest's side classifies it).
                    return Either::Right(
                        async move {
                            let key = target_key(&have);
                            let copy = prefixed_key(&scope.folder, &key)?;
                            match retried(scope.attempts, || scope.backup.store.head(scope.backup.bucket, &copy)).await {
                                Ok(_) => Ok(None),
                                Err(e) if e.is_not_found() => Ok(Some(classified(scope, key, None, Some(have)))),
                                Err(e) => Err(e),
                            }
                        }
                        .boxed(),
                    );
                }
            }))))
        })
        .buffered(16)
        .try_filter_map(|c| futures::future::ready(Ok(c)))
        .boxed()
}

/// What a restore would do, from a classification of every key; mutates nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    /// The snapshot.
    pub id: SnapshotId,
    /// The target bucket.
    pub target: String,
    /// Objects in the snapshot.
    pub objects: u64,
    /// Bytes in the snapshot.
    pub bytes: u64,
    /// Whether the target keeps versions (then an overwritten object stays as a noncurrent version).
    pub versioned: bool,
    /// Objects of the snapshot missing from the target: written back.
    pub missing: NamedKeys,
    /// Objects already identical: left alone.
    pub identical: u64,
    /// Objects that differ and will be overwritten.
    pub overwrite: NamedKeys,
    /// Of those, how many were last written after the snapshot started.
    pub overwrite_newer: u64,
    /// Objects that differ but were written after the snapshot started, kept (`keep_newer`).
    pub keep_newer: NamedKeys,
    /// Objects not in the snapshot that an exact restore deletes.
    pub delete: NamedKeys,
    /// Objects not in the snapshot left as they are.
    pub not_in_snapshot: NamedKeys,
}

impl RestorePlan {
    pub(super) fn new(id: SnapshotId, target: String, objects: u64, bytes: u64, versioned: bool) -> Self {
        RestorePlan {
            id,
            target,
            objects,
            bytes,
            versioned,
            missing: NamedKeys::default(),
            identical: 0,
            overwrite: NamedKeys::default(),
            overwrite_newer: 0,
            keep_newer: NamedKeys::default(),
            delete: NamedKeys::default(),
            not_in_snapshot: NamedKeys::default(),
        }
    }

    pub(super) fn count(&mut self, c: &Classified, resolved: Resolved) {
        match resolved {
            Resolved::Leave if c.class == KeyClass::Identical => self.identical += 1,
            Resolved::Leave if c.class == KeyClass::NotInSnapshot => self.not_in_snapshot.push(&c.key),
            Resolved::Leave => {}
            Resolved::KeepNewer => self.keep_newer.push(&c.key),
            Resolved::Write if c.class == KeyClass::Missing => self.missing.push(&c.key),
            Resolved::Write => {
                self.overwrite.push(&c.key);
                if c.newer {
                    self.overwrite_newer += 1;
                }
            }
            Resolved::Delete => self.delete.push(&c.key),
        }
    }

    /// The plan as changes to `target` (`bucket/prefix`), one per named key of
    /// `kind` (`object`, `blob`), the keys beyond the named ones counted in one line.
    pub fn changes(&self, kind: &str, target: &str) -> crate::plan::Plan {
        use crate::plan::{Change, FieldChange, Plan};
        let mut plan = Plan::new();
        let more = |keys: &NamedKeys| keys.count - keys.first.len() as u64;
        for k in &self.missing.first {
            plan.push(Change::create(kind, format!("{target}{k}")));
        }
        if more(&self.missing) > 0 {
            plan.push(Change::create(format!("{kind}s"), format!("{} more missing from {target}", more(&self.missing))));
        }
        let kept = if self.versioned {
            "the snapshot's (current content kept as a noncurrent version)"
        } else {
            "the snapshot's (current content lost)"
        };
        for k in &self.overwrite.first {
            plan.push(Change::update(kind, format!("{target}{k}"), vec![FieldChange::new("content", "differs from the snapshot", kept)]));
        }
        if more(&self.overwrite) > 0 {
            plan.push(Change::update(
                format!("{kind}s"),
                format!("{} more in {target}", more(&self.overwrite)),
                vec![FieldChange::new("content", "differs from the snapshot", kept)],
            ));
        }
        for k in &self.delete.first {
            plan.push(Change::delete(kind, format!("{target}{k}")));
        }
        if more(&self.delete) > 0 {
            plan.push(Change::delete(format!("{kind}s"), format!("{} more not in the snapshot from {target}", more(&self.delete))));
        }
        plan
    }

    /// Whether the restore overwrites or deletes anything.
    pub fn destroys(&self) -> bool {
        !self.overwrite.is_empty() || !self.delete.is_empty()
    }

    /// Whether the restore changes nothing.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && !self.destroys()
    }
}

impl fmt::Display for RestorePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "restore of snapshot {} ({} objects, {} bytes) into {}", self.id, self.objects, self.bytes, self.target)?;
        writeln!(f, "  + write back {} missing", self.missing.describe())?;
        let kept = if self.versioned {
            "their current content stays as a noncurrent version"
        } else {
            "UNVERSIONED bucket: their current content is lost"
        };
        writeln!(
            f,
            "  ~ overwrite {} that differ ({} of them written after the snapshot started; {kept})",
            self.overwrite.describe(),
            self.overwrite_newer
        )?;
        if !self.keep_newer.is_empty() {
            writeln!(f, "  = keep {} written after the snapshot started (--keep-newer)", self.keep_newer.describe())?;
        }
        if !self.delete.is_empty() {
            writeln!(f, "  - delete {} not in the snapshot (--exact)", self.delete.describe())?;
        }
        if !self.not_in_snapshot.is_empty() {
            writeln!(f, "  = leave {} not in the snapshot", self.not_in_snapshot.describe())?;
        }
        write!(f, "  = leave {} identical", self.identical)
    }
}

/// What to do with a classified key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resolved {
    Leave,
    KeepNewer,
    Write,
    Delete,
}
