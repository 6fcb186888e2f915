//! Progress of a copy run: objects and bytes copied so far, reported to the
//! observer as [`Event::Copied`] every [`EVERY_OBJECTS`] objects and every
//! [`EVERY_BYTES`] bytes (streamed copies count their bytes as they flow, so
//! one large object reports progress too), and once at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::observe::{Event, Observer};

/// An event at least every this many objects.
pub(super) const EVERY_OBJECTS: u64 = 500;
/// An event at least every this many bytes.
pub(super) const EVERY_BYTES: u64 = 8 << 20;

/// Objects and bytes copied so far by one run (shared: a streamed body counts
/// its bytes from inside the stream).
#[derive(Clone, Debug)]
pub(super) struct Progress(Arc<Counts>);

#[derive(Debug)]
pub(super) struct Counts {
    observer: Observer,
    objects: AtomicU64,
    bytes: AtomicU64,
    total: Option<u64>,
    total_bytes: Option<u64>,
}

impl std::ops::Deref for Progress {
    type Target = Counts;
    fn deref(&self) -> &Counts {
        &self.0
    }
}

impl Progress {
    /// A run of `total` objects and `total_bytes` bytes, when known.
    pub(super) fn new(observer: &Observer, total: Option<u64>, total_bytes: Option<u64>) -> Self {
        Progress(Arc::new(Counts { observer: observer.clone(), objects: AtomicU64::new(0), bytes: AtomicU64::new(0), total, total_bytes }))
    }

    /// `n` more bytes copied.
    pub(super) fn bytes(&self, n: u64) {
        let before = self.bytes.fetch_add(n, Ordering::Relaxed);
        if before / EVERY_BYTES != (before + n) / EVERY_BYTES {
            self.emit();
        }
    }

    /// `n` bytes counted by a copy attempt that failed (its retry counts them again).
    pub(super) fn unsay_bytes(&self, n: u64) {
        self.bytes.fetch_sub(n, Ordering::Relaxed);
    }

    /// One more object done (copied, or found already there).
    pub(super) fn object(&self) {
        let n = self.objects.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(EVERY_OBJECTS) {
            self.emit();
        }
    }

    /// Report where the run stands.
    pub(super) fn emit(&self) {
        self.observer.emit(Event::Copied {
            objects: self.objects.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            total: self.total,
            total_bytes: self.total_bytes,
        });
    }

    /// The last report: the run's totals now known.
    pub(super) fn finish(&self, total: u64, total_bytes: u64) {
        self.observer.emit(Event::Copied {
            objects: self.objects.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            total: Some(total),
            total_bytes: Some(total_bytes),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;

    use super::super::{
        CopyMode, Location, RestoreBucketOptions, SnapshotLayout, SnapshotOptions, SnapshotSelector, restore_bucket, snapshot_bucket,
    };
    use crate::memory::InMemoryCloud;
    use crate::object_store::{BucketSpec, ObjectStore as _, ObjectStoreExt as _};
    use crate::observe::{Event, Observer};
    use crate::validate::{BucketName, ObjectKey};

    /// `(objects, bytes, total, total_bytes)` of every `Copied` event.
    type Seen = Arc<Mutex<Vec<(u64, u64, Option<u64>, Option<u64>)>>>;

    fn recorder() -> (Observer, Seen) {
        let seen: Seen = Arc::default();
        let s = seen.clone();
        let observer = Observer::new(move |event: &Event| {
            if let Event::Copied { objects, bytes, total, total_bytes } = event {
                s.lock().expect("not poisoned").push((*objects, *bytes, *total, *total_bytes));
            }
        });
        (observer, seen)
    }

    #[tokio::test]
    async fn a_streamed_copy_reports_bytes_while_one_large_object_flows_and_the_totals_last() -> crate::Result<()> {
        const BIG: usize = 20 << 20;
        let cloud = InMemoryCloud::new();
        let (assets, backup) = (BucketName::new("progress-assets")?, BucketName::new("progress-backup")?);
        cloud.ensure_bucket(&BucketSpec::new(assets.clone())).await?;
        cloud.ensure_bucket(&BucketSpec::new(backup.clone())).await?;
        cloud.put_bytes(&assets, &ObjectKey::new("big.bin")?, Bytes::from(vec![7u8; BIG])).await?;
        cloud.put_bytes(&assets, &ObjectKey::new("small.txt")?, Bytes::from_static(b"small")).await?;

        let (observer, seen) = recorder();
        let mut options = SnapshotOptions::new(SnapshotLayout::new("p")?);
        options.copy_mode = CopyMode::Streamed;
        options.observer = observer.clone();
        let report = snapshot_bucket(Location::new(&cloud, &assets), Location::new(&cloud, &backup), &options).await?;
        let events = seen.lock().expect("not poisoned").clone();
        // While the 20 MiB object streamed: reports at 8 and 16 MiB, before it was done.
        let during = events.iter().filter(|(_, bytes, total, _)| total.is_none() && *bytes > 0 && *bytes < BIG as u64).count();
        assert!(during >= 2, "no byte progress within the large object: {events:?}");
        let total_bytes = (BIG + 5) as u64;
        assert_eq!(events.last(), Some(&(2, total_bytes, Some(2), Some(total_bytes))), "{events:?}");

        // The restore of both (deleted): the snapshot's totals known from the start.
        seen.lock().expect("not poisoned").clear();
        cloud.delete(&assets, &ObjectKey::new("big.bin")?).await?;
        let mut restore = RestoreBucketOptions::new(SnapshotLayout::new("p")?, SnapshotSelector::Id(report.id.clone()));
        restore.copy_mode = CopyMode::Streamed;
        restore.observer = observer;
        restore_bucket(Location::new(&cloud, &backup), Location::new(&cloud, &assets), &restore).await?;
        let events = seen.lock().expect("not poisoned").clone();
        assert!(events.iter().all(|e| e.2 == Some(2) && e.3 == Some(total_bytes)), "{events:?}");
        assert!(events.iter().any(|e| e.1 > 0 && e.1 < BIG as u64), "no byte progress within the restored object: {events:?}");
        // The last: both objects done (one written, one identical), the written bytes.
        assert_eq!(events.last().map(|e| (e.0, e.1)), Some((2, BIG as u64)), "{events:?}");
        Ok(())
    }
}
