//! Objects of a [`BlobStore`]: get, head, put, list, copy, delete, each on
//! the conditions the caller gives (`If-Match`, `If-None-Match`,
//! `x-ms-source-if-match`, version ids), each bounded by the store's
//! per-operation timeout.

use std::future::Future;

use azure_core::http::Etag;
use azure_storage_blob::BlobClient;
use azure_storage_blob::models::{
    BlobClientDeleteOptions, BlobClientDownloadOptions, BlobClientGetPropertiesOptions, BlobClientGetPropertiesResultHeaders,
    BlobClientStartCopyFromUrlOptions, BlobClientStartCopyFromUrlResultHeaders, BlobContainerClientListBlobsOptions, CopyStatus,
    DeleteSnapshotsOptionType, ListBlobsIncludeItem,
};
use deploy_core::object_store::{CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ObjectMeta, PutMode, PutOptions};
use deploy_core::{BucketName, ByteStream, ContainerName, Error, ObjectKey, Poll, Result};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use super::{BACKEND, BlobStore, conditional_error, container, etag_of, timestamp, upload};
use crate::error::{Call, error_code, from_azure};

/// (`If-Match`, `If-None-Match`) of a write.
fn write_condition(mode: &PutMode) -> (Option<Etag>, Option<Etag>) {
    match mode {
        PutMode::Overwrite => (None, None),
        PutMode::Create => (None, Some(Etag::from("*"))),
        PutMode::Update { entity_tag } => (Some(Etag::from(entity_tag.as_str())), None),
    }
}

impl BlobStore {
    /// Run `op` within the store's per-operation timeout.
    pub(super) async fn bounded<T>(&self, what: impl FnOnce() -> String, op: impl Future<Output = Result<T>>) -> Result<T> {
        let limit = self.inner.timeouts.operation;
        match tokio::time::timeout(limit, op).await {
            Ok(done) => done,
            Err(_) => Err(Error::Timeout { what: what(), elapsed: limit, last_state: "no answer (operation timeout)".into() }),
        }
    }

    /// The blob, or the version of it, that a call is about.
    fn versioned_client(&self, name: &ContainerName, key: &ObjectKey, version: Option<&str>) -> Result<BlobClient> {
        let blob = self.blob_client(name, key)?;
        match version {
            None => Ok(blob),
            Some(v) => blob.with_version(v).map_err(|e| from_azure(Self::call("client", "object", &format!("{name}/{key}")), e)),
        }
    }

    /// Get Blob Properties, optionally of a version and on the condition of an
    /// entity tag, as core metadata.
    pub(super) async fn blob_meta(
        &self,
        name: &ContainerName,
        key: &ObjectKey,
        if_match: Option<&str>,
        version: Option<&str>,
    ) -> Result<ObjectMeta> {
        let blob = self.versioned_client(name, key, version)?;
        let object = format!("{name}/{key}");
        let call = Self::call("GetBlobProperties", "object", &object);
        let options = BlobClientGetPropertiesOptions { if_match: if_match.map(Etag::from), ..Default::default() };
        let props = blob
            .get_properties(Some(options))
            .await
            .map_err(|e| conditional_error(call, e, &format!("If-Match {}", if_match.unwrap_or(""))))?;
        let h = |e| from_azure(call, e);
        Ok(ObjectMeta {
            key: key.clone(),
            size: props.content_length().map_err(h)?.unwrap_or(0),
            etag: etag_of(props.content_md5().map_err(h)?.as_deref()),
            version: props.version_id().map_err(h)?,
            last_modified: props.last_modified().map_err(h)?.and_then(timestamp),
            entity_tag: props.etag().map_err(h)?.map(String::from),
        })
    }

    pub(super) async fn get_blob(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult> {
        let name = container(bucket)?;
        let object = format!("{name}/{key}");
        self.bounded(|| format!("{BACKEND} GetBlob of object `{object}`"), async {
            let meta = self.blob_meta(&name, key, options.if_match.as_deref(), options.version.as_deref()).await?;
            let blob = self.versioned_client(&name, key, options.version.as_deref())?;
            let concurrency = std::num::NonZero::new(self.inner.concurrency).unwrap_or(std::num::NonZero::<usize>::MIN);
            let partition = std::num::NonZero::new(self.inner.block_size.min(4 * 1024 * 1024)).unwrap_or(std::num::NonZero::<usize>::MIN);
            // Every ranged read is pinned to the entity tag read above: a concurrent
            // overwrite fails the read rather than mixing two versions.
            let options = BlobClientDownloadOptions {
                if_match: meta.entity_tag.as_deref().map(Etag::from),
                parallel: Some(concurrency),
                partition_size: Some(partition),
                ..Default::default()
            };
            let call = Self::call("GetBlob", "object", &object);
            let condition = format!("If-Match {}", meta.entity_tag.as_deref().unwrap_or(""));
            let downloaded = blob.download(Some(options)).await.map_err(|e| conditional_error(call, e, &condition))?;
            let object = object.clone();
            let body = downloaded
                .body
                .map_err(move |e| {
                    conditional_error(Call { provider: BACKEND, operation: "GetBlob", kind: "object", name: &object }, e, &condition)
                })
                .boxed();
            Ok(GetResult { meta, body })
        })
        .await
    }

    pub(super) async fn head_blob(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        let name = container(bucket)?;
        self.bounded(|| format!("{BACKEND} GetBlobProperties of object `{name}/{key}`"), self.blob_meta(&name, key, None, None)).await
    }

    pub(super) async fn put_blob(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        body: ByteStream,
        options: &PutOptions,
    ) -> Result<ObjectMeta> {
        let name = container(bucket)?;
        let blob = self.blob_client(&name, key)?;
        let object = format!("{name}/{key}");
        let condition = write_condition(&options.mode);
        let written = self
            .bounded(
                || format!("{BACKEND} PutBlob of object `{object}`"),
                upload::upload(&self.inner, &blob, &object, body, options, condition),
            )
            .await?;
        Ok(ObjectMeta {
            key: key.clone(),
            size: written.size,
            etag: Some(hex::encode(written.md5)),
            version: written.version,
            last_modified: written.last_modified.and_then(timestamp),
            entity_tag: written.entity_tag,
        })
    }

    pub(super) fn list_blobs(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let name = match container(bucket) {
            Ok(n) => n,
            Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
        };
        let client = match self.container_client(&name) {
            Ok(c) => c,
            Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
        };
        // `startFrom` (inclusive) skips what lies before the range on the
        // server; the key itself is skipped here (a server ignoring the
        // parameter only costs the skipped pages).
        let list_options = BlobContainerClientListBlobsOptions {
            prefix: options.prefix.clone(),
            start_from: options.start_after.clone(),
            ..Default::default()
        };
        let container_name = name.as_str().to_owned();
        let call_err = move |e: azure_core::Error| {
            from_azure(Call { provider: BACKEND, operation: "ListBlobs", kind: "bucket", name: &container_name }, e)
        };
        let pages = match client.list_blobs(Some(list_options)) {
            Ok(p) => p.into_pages(),
            Err(e) => return futures::stream::once(async move { Err(call_err(e)) }).boxed(),
        };
        let start_after = options.start_after;
        let limit = self.inner.timeouts.operation;
        let what = format!("{BACKEND} ListBlobs of bucket `{name}`");
        // Each page within the operation timeout.
        let pages = futures::stream::unfold(Some(pages), move |pages| {
            let what = what.clone();
            async move {
                let mut pages = pages?;
                match tokio::time::timeout(limit, pages.next()).await {
                    Ok(None) => None,
                    Ok(Some(page)) => Some((Ok(page), Some(pages))),
                    Err(_) => {
                        Some((Err(Error::Timeout { what, elapsed: limit, last_state: "no answer (operation timeout)".into() }), None))
                    }
                }
            }
        });
        let mut failed = false;
        pages
            .map(move |page| {
                let page = page?.and_then(|p| p.into_model()).map_err(&call_err)?;
                let metas: Vec<Result<ObjectMeta>> = page
                    .blob_items
                    .into_iter()
                    .filter_map(|item| {
                        let key = item.name?;
                        // Azure lists by UTF-16 code units: so does the comparison.
                        if start_after.as_deref().is_some_and(|after| key.encode_utf16().cmp(after.encode_utf16()).is_le()) {
                            return None;
                        }
                        let props = item.properties.unwrap_or_default();
                        Some(ObjectKey::new(key).map(|key| ObjectMeta {
                            key,
                            size: props.content_length.unwrap_or(0),
                            etag: etag_of(props.content_md5.as_deref()),
                            version: item.version_id,
                            last_modified: props.last_modified.and_then(timestamp),
                            entity_tag: props.etag.map(String::from),
                        }))
                    })
                    .collect();
                Ok::<_, Error>(futures::stream::iter(metas))
            })
            // One error ends the listing: a missing container answers a single NotFound.
            .take_while(move |page| {
                let go = !failed;
                failed |= page.is_err();
                futures::future::ready(go)
            })
            .try_flatten()
            .boxed()
    }

    /// Whether the container's blobs carry version ids: `None` for an empty
    /// container, else whether the first blob listed has one.
    pub(super) async fn observed_versioning(&self, name: &ContainerName) -> Result<Option<bool>> {
        let client = self.container_client(name)?;
        let call = Self::call("ListBlobs", "bucket", name.as_str());
        let options = BlobContainerClientListBlobsOptions {
            maxresults: Some(1),
            include: Some(vec![ListBlobsIncludeItem::Versions]),
            ..Default::default()
        };
        let mut pages = client.list_blobs(Some(options)).map_err(|e| from_azure(call, e))?.into_pages();
        let first = self
            .bounded(|| format!("{BACKEND} ListBlobs of bucket `{name}`"), async {
                pages.try_next().await.map_err(|e| from_azure(call, e))
            })
            .await?;
        let Some(page) = first else { return Ok(None) };
        let items = page.into_model().map_err(|e| from_azure(call, e))?.blob_items;
        Ok(items.first().map(|item| item.version_id.is_some()))
    }

    /// Whether the container holds any blob, older version or snapshot.
    pub(super) async fn holds_anything(&self, name: &ContainerName) -> Result<bool> {
        let client = self.container_client(name)?;
        let call = Self::call("ListBlobs", "bucket", name.as_str());
        let options = BlobContainerClientListBlobsOptions {
            maxresults: Some(1),
            include: Some(vec![ListBlobsIncludeItem::Versions, ListBlobsIncludeItem::Snapshots]),
            ..Default::default()
        };
        let mut pages = client.list_blobs(Some(options)).map_err(|e| from_azure(call, e))?.into_pages();
        let first = self
            .bounded(|| format!("{BACKEND} ListBlobs of bucket `{name}`"), async {
                pages.try_next().await.map_err(|e| from_azure(call, e))
            })
            .await?;
        Ok(match first {
            None => false,
            Some(page) => !page.into_model().map_err(|e| from_azure(call, e))?.blob_items.is_empty(),
        })
    }

    pub(super) async fn copy_blob(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        let (source_name, dest_name) = (container(from_bucket)?, container(to_bucket)?);
        let object = format!("{dest_name}/{to}");
        self.bounded(|| format!("{BACKEND} CopyBlob of `{source_name}/{from}` to `{object}`"), async {
            // The source must exist: its NotFound (or changed entity tag) names the source, not the destination.
            let source = self.blob_meta(&source_name, from, options.source_if_match.as_deref(), options.source_version.as_deref()).await?;
            let source_url = self.versioned_client(&source_name, from, options.source_version.as_deref())?.url().to_string();
            let dest = self.blob_client(&dest_name, to)?;
            let call = Self::call("CopyBlob", "object", &object);
            let (if_match, if_none_match) = write_condition(&options.mode);
            let copy_options = BlobClientStartCopyFromUrlOptions {
                // The entity tag just read: the copy is of that very blob.
                source_if_match: source.entity_tag.as_deref().map(Etag::from),
                if_match,
                if_none_match,
                ..Default::default()
            };
            let started = dest.start_copy_from_url(source_url, Some(copy_options)).await.map_err(|e| {
                let status = e.http_status().map(u16::from);
                if status == Some(412) && error_code(&e).is_some_and(|c| c.starts_with("Source")) {
                    Error::precondition("object", format!("{source_name}/{from}"), "x-ms-source-if-match: the source changed")
                } else {
                    conditional_error(Call { name: &format!("{source_name}/{from} -> {object}"), ..call }, e, &options.mode.describe())
                }
            })?;
            let status = started.copy_status().map_err(|e| from_azure(call, e))?;
            if status != Some(CopyStatus::Success) {
                let what = format!("copy of {source_name}/{from} to {object}");
                self.inner
                    .copy_waiter
                    .wait(&what, || async {
                        let props = dest.get_properties(None).await.map_err(|e| from_azure(call, e))?;
                        let status = props.copy_status().map_err(|e| from_azure(call, e))?;
                        Ok(match status {
                            Some(CopyStatus::Success) | None => Poll::Ready(()),
                            Some(CopyStatus::Pending) => Poll::Pending("pending".into()),
                            Some(other) => {
                                Poll::Failed(format!("{other:?}: {}", props.copy_status_description().ok().flatten().unwrap_or_default()))
                            }
                        })
                    })
                    .await?;
            }
            let meta = self.blob_meta(&dest_name, to, None, None).await?;
            // Copy Blob keeps the Content-MD5; fall back to the source's when a service does not.
            Ok(ObjectMeta { etag: meta.etag.clone().or(source.etag), ..meta })
        })
        .await
    }

    pub(super) async fn delete_blob(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()> {
        let name = container(bucket)?;
        let blob = self.blob_client(&name, key)?;
        let object = format!("{name}/{key}");
        let delete_options = BlobClientDeleteOptions {
            delete_snapshots: Some(DeleteSnapshotsOptionType::Include),
            if_match: options.if_match.as_deref().map(Etag::from),
            ..Default::default()
        };
        let condition = format!("If-Match {}", options.if_match.as_deref().unwrap_or(""));
        self.bounded(|| format!("{BACKEND} DeleteBlob of object `{object}`"), async {
            match blob.delete(Some(delete_options)).await {
                Ok(_) => Ok(()),
                Err(e) if error_code(&e) == Some("BlobNotFound") && options.if_match.is_some() => {
                    Err(Error::precondition("object", object.clone(), format!("{condition}: the blob is gone")))
                }
                Err(e) if error_code(&e) == Some("BlobNotFound") => Ok(()),
                Err(e) => Err(conditional_error(Self::call("DeleteBlob", "object", &object), e, &condition)),
            }
        })
        .await
    }
}
