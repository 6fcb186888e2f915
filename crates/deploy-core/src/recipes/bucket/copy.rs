//! Copy one object, server-side or streamed, on the condition of the source's
//! entity tag (and version), retrying retryable errors under an adaptive
//! concurrency limit.

use std::sync::{Arc, Mutex};

use backon::Retryable;
use bytes::Bytes;
use futures::stream::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

use super::common::{Location, retry_event, retry_policy};
use super::progress::Progress;
use crate::error::{Error, Result};
use crate::object_store::{CopyOptions, GetOptions, ObjectMeta, PutMode, PutOptions};
use crate::recipes::limit::AdaptiveLimit;
use crate::validate::ObjectKey;

/// What a copy did.
#[derive(Debug)]
pub(super) struct Copied {
    /// The written object.
    pub written: ObjectMeta,
    /// The source as read, when the copy streamed.
    pub read: Option<ObjectMeta>,
    /// SHA-256 of the content (hex), when the copy streamed.
    pub sha256: Option<String>,
}

/// How one copy is made.
#[derive(Clone, Copy, Debug)]
pub(super) struct CopyHow<'a> {
    pub server_side: bool,
    pub attempts: usize,
    pub limit: &'a AdaptiveLimit,
    /// Where the bytes copied are counted, as they flow.
    pub progress: Option<&'a Progress>,
}

/// Copy `source` (what the caller knows of it: key, size, entity tag,
/// version) to `to_key`, writing on the condition `mode`. The read of the
/// source is conditional on its entity tag and pinned to its version when
/// known: the copy is of exactly that object, or the copy fails with
/// [`Error::PreconditionFailed`] (or [`Error::NotFound`] when it is gone).
pub(super) async fn copy_object(
    from: Location<'_>,
    source: &ObjectMeta,
    to: Location<'_>,
    to_key: &ObjectKey,
    mode: &PutMode,
    how: CopyHow<'_>,
) -> Result<Copied> {
    let once = || async {
        let slot = how.limit.acquire().await;
        let outcome = copy_once(from, source, to, to_key, mode, how.server_side, how.progress).await;
        match &outcome {
            Ok(_) => slot.succeeded(),
            Err(Error::Throttled { .. }) => slot.throttled(),
            Err(_) => {}
        }
        outcome
    };
    once.retry(retry_policy(how.attempts)).when(Error::is_retryable).notify(retry_event).await
}

async fn copy_once(
    from: Location<'_>,
    source: &ObjectMeta,
    to: Location<'_>,
    to_key: &ObjectKey,
    mode: &PutMode,
    server_side: bool,
    progress: Option<&Progress>,
) -> Result<Copied> {
    if server_side {
        let options = CopyOptions {
            source_size: Some(source.size),
            source_if_match: source.entity_tag.clone(),
            source_version: source.version.clone(),
            mode: mode.clone(),
        };
        let written = from.store.copy_opts(from.bucket, &source.key, to.bucket, to_key, &options).await?;
        if let Some(progress) = progress {
            progress.bytes(written.size);
        }
        return Ok(Copied { written, read: None, sha256: None });
    }
    let get = GetOptions { if_match: source.entity_tag.clone(), version: source.version.clone() };
    let got = from.store.get_opts(from.bucket, &source.key, &get).await?;
    let hasher = Arc::new(Mutex::new(Sha256::new()));
    let h = hasher.clone();
    // The bytes are counted as they flow (progress of a large object), and
    // taken back when this attempt fails: its retry counts them again.
    let counted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (c, p) = (counted.clone(), progress.cloned());
    let body = got
        .body
        .inspect_ok(move |chunk: &Bytes| {
            h.lock().unwrap_or_else(std::sync::PoisonError::into_inner).update(chunk);
            if let Some(p) = &p {
                c.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                p.bytes(chunk.len() as u64);
            }
        })
        .boxed();
    let options = PutOptions { size_hint: Some(got.meta.size), mode: mode.clone(), ..PutOptions::default() };
    let written = match to.store.put(to.bucket, to_key, body, &options).await {
        Ok(written) => written,
        Err(e) => {
            if let Some(progress) = progress {
                progress.unsay_bytes(counted.load(std::sync::atomic::Ordering::Relaxed));
            }
            return Err(e);
        }
    };
    let digest = hasher.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone().finalize();
    Ok(Copied { written, read: Some(got.meta), sha256: Some(hex::encode(digest)) })
}
