//! Objects: streaming put (single or multipart, aborted when dropped),
//! streaming get, paged list, server-side copy (single or multipart, every
//! part of one version), batched delete; reads, writes, copies and deletes on
//! the conditions the caller gives (`If-Match`, `If-None-Match`,
//! `x-amz-copy-source-if-match`, version ids).

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ObjectIdentifier};
use bytes::{Bytes, BytesMut};
use deploy_core::object_store::{
    ByteStream, CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ObjectMeta, PutMode, PutOptions,
};
use deploy_core::{BucketName, Error, ObjectKey, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::store::{MAX_PARTS, S3Store, SERVICE, op};
use crate::convert::{encode_path, timestamp, unquote_etag};
use crate::error::{Op, SdkResultExt, build_error, error_code, map_sdk_error, missing};

/// Map an error of an object operation: a missing bucket is `NotFound` of the
/// bucket, anything else is about the object.
fn object_error<E>(err: SdkError<E, aws_smithy_runtime_api::http::Response>, op: Op, bucket: &BucketName, key: &ObjectKey) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if error_code(&err) == Some("NoSuchBucket") {
        return Error::not_found("bucket", bucket.as_str());
    }
    map_sdk_error(err, op, "object", &format!("{bucket}/{key}"))
}

/// `self.client.OPERATION().bucket(bucket).key(key)`: how every request
/// about one object starts.
macro_rules! object_request {
    ($store:expr, $operation:ident, $bucket:expr, $key:expr) => {
        $store.client.$operation().bucket($bucket.as_str()).key($key.as_str())
    };
}

/// The metadata of `key` as `GetObject` and `HeadObject` answer it.
fn answered_meta(
    key: &ObjectKey,
    e_tag: Option<&str>,
    content_length: Option<i64>,
    version: Option<&str>,
    last_modified: Option<&aws_sdk_s3::primitives::DateTime>,
) -> ObjectMeta {
    let etag = e_tag.map(unquote_etag);
    ObjectMeta {
        key: key.clone(),
        size: size(content_length),
        entity_tag: etag.clone(),
        etag,
        version: version.map(str::to_owned),
        last_modified: last_modified.and_then(timestamp),
    }
}

fn size(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

fn parse_key(op: Op, key: Option<&str>) -> Result<ObjectKey> {
    ObjectKey::new(key.ok_or_else(|| missing(op, "key"))?)
}

/// Reads a body stream in parts of a fixed size, holding at most one part
/// and one chunk of the stream.
struct PartReader {
    body: ByteStream,
    /// Bytes read from the stream and not yet handed out.
    pending: Bytes,
    ended: bool,
}

impl PartReader {
    fn new(body: ByteStream) -> Self {
        PartReader { body, pending: Bytes::new(), ended: false }
    }

    /// The next part: `size` bytes, or fewer at the end of the stream; `None`
    /// once the stream is exhausted.
    async fn next_part(&mut self, size: usize) -> Result<Option<Bytes>> {
        let mut part = BytesMut::new();
        loop {
            if !self.pending.is_empty() {
                let take = (size - part.len()).min(self.pending.len());
                let head = self.pending.split_to(take);
                if part.is_empty() && head.len() == size {
                    return Ok(Some(head));
                }
                part.extend_from_slice(&head);
            }
            if part.len() == size {
                return Ok(Some(part.freeze()));
            }
            match self.body.next().await {
                Some(chunk) => {
                    self.pending = chunk?;
                    if part.capacity() == 0 {
                        part.reserve(size.min(self.pending.len().max(64 * 1024)));
                    }
                }
                None => {
                    self.ended = true;
                    return Ok(if part.is_empty() { None } else { Some(part.freeze()) });
                }
            }
        }
    }

    /// Whether the stream has no more bytes (reads ahead one chunk to know).
    async fn at_end(&mut self) -> Result<bool> {
        while self.pending.is_empty() && !self.ended {
            match self.body.next().await {
                Some(chunk) => self.pending = chunk?,
                None => self.ended = true,
            }
        }
        Ok(self.pending.is_empty() && self.ended)
    }
}

/// `"tag"`: S3 takes entity tags quoted, as HTTP does.
fn quoted(tag: &str) -> String {
    if tag.starts_with('"') { tag.to_owned() } else { format!("\"{tag}\"") }
}

/// The conditions of a write: (`If-Match`, `If-None-Match`).
fn write_condition(mode: &PutMode) -> (Option<String>, Option<String>) {
    match mode {
        PutMode::Overwrite => (None, None),
        PutMode::Create => (None, Some("*".to_owned())),
        PutMode::Update { entity_tag } => (Some(quoted(entity_tag)), None),
    }
}

/// A multipart upload in progress: aborted when dropped before it completed
/// (a cancelled future, a panic), so no incomplete upload is left behind; the
/// bucket's `AbortIncompleteMultipartUpload` rule removes what a killed
/// process leaves.
struct Upload {
    client: aws_sdk_s3::Client,
    bucket: BucketName,
    key: ObjectKey,
    id: String,
    open: bool,
}

impl Upload {
    /// It completed (or was aborted): nothing to do on drop.
    fn close(&mut self) {
        self.open = false;
    }

    /// Abort it now; a failure is logged, not returned (the first error is the one that matters).
    async fn abort(mut self) {
        self.open = false;
        abort_upload(&self.client, &self.bucket, &self.key, &self.id).await;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (client, bucket, key, id) = (self.client.clone(), self.bucket.clone(), self.key.clone(), std::mem::take(&mut self.id));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { abort_upload(&client, &bucket, &key, &id).await });
            }
            Err(_) => {
                tracing::warn!(bucket = %bucket, key = %key, upload_id = id, "a dropped multipart upload could not be aborted outside a runtime; the bucket's lifecycle rule removes it after a day")
            }
        }
    }
}

async fn abort_upload(client: &aws_sdk_s3::Client, bucket: &BucketName, key: &ObjectKey, upload_id: &str) {
    let aborted = client.abort_multipart_upload().bucket(bucket.as_str()).key(key.as_str()).upload_id(upload_id).send().await;
    if let Err(e) = aborted {
        tracing::warn!(bucket = %bucket, key = %key, upload_id, error = %map_sdk_error(e, op("AbortMultipartUpload"), "upload", key.as_str()), "could not abort a multipart upload; the bucket's lifecycle rule removes it after a day");
    }
}

impl S3Store {
    /// The part size of an upload: the configured size, grown so that a body of
    /// `size_hint` bytes fits in 10,000 parts.
    fn upload_part_size(&self, size_hint: Option<u64>) -> usize {
        let needed = size_hint.map_or(0, |s| s.div_ceil(MAX_PARTS));
        usize::try_from(self.options.part_size.max(needed)).unwrap_or(usize::MAX)
    }

    pub(super) async fn put_object(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        body: ByteStream,
        options: &PutOptions,
    ) -> Result<ObjectMeta> {
        let part_size = self.upload_part_size(options.size_hint);
        let mut reader = PartReader::new(body);
        let first = reader.next_part(part_size).await?.unwrap_or_default();
        if first.len() < part_size || reader.at_end().await? {
            return self.put_single(bucket, key, first, options).await;
        }
        self.put_multipart(bucket, key, first, reader, part_size, options).await
    }

    async fn put_single(&self, bucket: &BucketName, key: &ObjectKey, body: Bytes, options: &PutOptions) -> Result<ObjectMeta> {
        let put = op("PutObject");
        let len = body.len() as u64;
        let (if_match, if_none_match) = write_condition(&options.mode);
        let out = object_request!(self, put_object, bucket, key)
            .set_content_type(options.content_type.clone())
            .set_if_match(if_match)
            .set_if_none_match(if_none_match)
            .content_length(i64::try_from(len).unwrap_or(i64::MAX))
            .body(SdkByteStream::from(body))
            .send()
            .await
            .map_err(|e| object_error(e, put, bucket, key))?;
        let etag = out.e_tag().map(unquote_etag);
        Ok(ObjectMeta {
            key: key.clone(),
            size: len,
            entity_tag: etag.clone(),
            etag,
            version: out.version_id().map(str::to_owned),
            last_modified: None,
        })
    }

    /// Start a multipart upload, aborted if dropped before [`Upload::close`].
    /// The request runs on its own task: a caller dropped while it is in
    /// flight would never learn the upload's id, so the task aborts the upload
    /// when nobody is left to take it.
    async fn create_upload(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        content_type: Option<String>,
        metadata: Option<std::collections::HashMap<String, String>>,
    ) -> Result<Upload> {
        let create = op("CreateMultipartUpload");
        let request = object_request!(self, create_multipart_upload, bucket, key).set_content_type(content_type).set_metadata(metadata);
        let (client, bucket, key) = (self.client.clone(), bucket.clone(), key.clone());
        let (answer, started) = futures::channel::oneshot::channel();
        tokio::spawn(async move {
            let created = match request.send().await {
                Ok(out) => match out.upload_id() {
                    Some(id) => Ok(Upload { client, bucket, key, id: id.to_owned(), open: true }),
                    None => Err(missing(create, "upload id")),
                },
                Err(e) => Err(object_error(e, create, &bucket, &key)),
            };
            // The caller is gone: dropping the upload here aborts it.
            drop(answer.send(created));
        });
        started.await.map_err(|_| Error::Provider {
            provider: SERVICE,
            operation: "CreateMultipartUpload".to_owned(),
            message: "the task starting the upload ended without an answer".to_owned(),
            retryable: true,
            source: None,
        })?
    }

    async fn put_multipart(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        first: Bytes,
        mut reader: PartReader,
        part_size: usize,
        options: &PutOptions,
    ) -> Result<ObjectMeta> {
        let mut upload = self.create_upload(bucket, key, options.content_type.clone(), None).await?;
        let mut total = 0u64;
        let uploaded = async {
            let mut parts = Vec::new();
            let mut next = Some(first);
            while let Some(part) = next {
                let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
                if u64::try_from(number).unwrap_or(u64::MAX) > MAX_PARTS {
                    return Err(Error::invalid(
                        "part_size",
                        format!("{part_size} bytes makes more than {MAX_PARTS} parts for this body"),
                        "pass a size hint or a larger part size: S3 takes at most 10,000 parts",
                    ));
                }
                total += part.len() as u64;
                parts.push(self.upload_part(bucket, key, &upload.id, number, part).await?);
                next = reader.next_part(part_size).await?;
            }
            Ok(parts)
        }
        .await;
        let completed = match uploaded {
            Ok(parts) => self.complete(bucket, key, &upload.id, parts, &options.mode).await,
            Err(e) => Err(e),
        };
        match completed {
            Ok((etag, version)) => {
                upload.close();
                Ok(ObjectMeta { key: key.clone(), size: total, entity_tag: etag.clone(), etag, version, last_modified: None })
            }
            Err(e) => {
                upload.abort().await;
                Err(e)
            }
        }
    }

    async fn upload_part(&self, bucket: &BucketName, key: &ObjectKey, upload_id: &str, number: i32, part: Bytes) -> Result<CompletedPart> {
        let upload = op("UploadPart");
        let len = i64::try_from(part.len()).unwrap_or(i64::MAX);
        let out = object_request!(self, upload_part, bucket, key)
            .upload_id(upload_id)
            .part_number(number)
            .content_length(len)
            .body(SdkByteStream::from(part))
            .send()
            .await
            .map_err(|e| object_error(e, upload, bucket, key))?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .set_e_tag(out.e_tag().map(str::to_owned))
            .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
            .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_owned))
            .set_checksum_crc64_nvme(out.checksum_crc64_nvme().map(str::to_owned))
            .set_checksum_sha1(out.checksum_sha1().map(str::to_owned))
            .set_checksum_sha256(out.checksum_sha256().map(str::to_owned))
            .build())
    }

    /// Complete an upload, on the condition of `mode` on what is at the key.
    async fn complete(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
        parts: Vec<CompletedPart>,
        mode: &PutMode,
    ) -> Result<(Option<String>, Option<String>)> {
        let (if_match, if_none_match) = write_condition(mode);
        let out = object_request!(self, complete_multipart_upload, bucket, key)
            .upload_id(upload_id)
            .set_if_match(if_match)
            .set_if_none_match(if_none_match)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| object_error(e, op("CompleteMultipartUpload"), bucket, key))?;
        Ok((out.e_tag().map(unquote_etag), out.version_id().map(str::to_owned)))
    }

    pub(super) async fn get_object(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult> {
        let get = op("GetObject");
        let out = object_request!(self, get_object, bucket, key)
            .set_if_match(options.if_match.as_deref().map(quoted))
            .set_version_id(options.version.clone())
            .send()
            .await
            .map_err(|e| object_error(e, get, bucket, key))?;
        let meta = answered_meta(key, out.e_tag(), out.content_length(), out.version_id(), out.last_modified());
        let name = format!("{bucket}/{key}");
        let body = stream::unfold(Some(out.body), move |body| {
            let name = name.clone();
            async move {
                let mut body = body?;
                match body.next().await {
                    None => None,
                    Some(Ok(chunk)) => Some((Ok(chunk), Some(body))),
                    Some(Err(e)) => Some((
                        Err(Error::Provider {
                            provider: SERVICE,
                            operation: "GetObject".to_owned(),
                            message: format!("reading the body of `{name}` failed: {e}"),
                            retryable: true,
                            source: Some(Box::new(e)),
                        }),
                        None,
                    )),
                }
            }
        })
        .boxed();
        Ok(GetResult { meta, body })
    }

    pub(super) async fn head_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        Ok(self.head_full(bucket, key, None, None).await?.0)
    }

    /// `HeadObject`, optionally of a version and on the condition of an
    /// entity tag; answers the metadata and the full output.
    async fn head_full(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        if_match: Option<&str>,
        version: Option<&str>,
    ) -> Result<(ObjectMeta, aws_sdk_s3::operation::head_object::HeadObjectOutput)> {
        let head = op("HeadObject");
        let out = object_request!(self, head_object, bucket, key)
            .set_if_match(if_match.map(quoted))
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .map_err(|e| object_error(e, head, bucket, key))?;
        let meta = answered_meta(key, out.e_tag(), out.content_length(), out.version_id(), out.last_modified());
        Ok((meta, out))
    }

    pub(super) fn list_objects(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let list = op("ListObjectsV2");
        let name = bucket.to_string();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket.as_str())
            .set_prefix(options.prefix)
            .set_start_after(options.start_after)
            .into_paginator()
            .send();
        let pages = stream::poll_fn(move |cx| pages.poll_next(cx));
        pages
            .map(move |page| page.on(list, "bucket", &name))
            // The first error ends the listing.
            .scan(false, |failed, page| {
                let item = if *failed { None } else { Some(page) };
                if matches!(item, Some(Err(_))) {
                    *failed = true;
                }
                futures::future::ready(item)
            })
            .map_ok(move |page| {
                let metas: Vec<Result<ObjectMeta>> = page
                    .contents()
                    .iter()
                    .map(|o| {
                        let etag = o.e_tag().map(unquote_etag);
                        Ok(ObjectMeta {
                            key: parse_key(list, o.key())?,
                            size: size(o.size()),
                            entity_tag: etag.clone(),
                            etag,
                            version: None,
                            last_modified: o.last_modified().and_then(timestamp),
                        })
                    })
                    .collect();
                stream::iter(metas)
            })
            .try_flatten()
            .boxed()
    }

    /// Copy `from` to `to`: one `CopyObject` up to the copy threshold,
    /// `UploadPartCopy` above it. The source's size comes from the options
    /// (a listing) or a `HeadObject`. Every request carries the source's entity
    /// tag as `x-amz-copy-source-if-match` and its version in the copy source
    /// when the options give them, and the destination's condition
    /// (`If-Match` / `If-None-Match`): the copy is of exactly that object, or
    /// fails with [`Error::PreconditionFailed`].
    pub(super) async fn copy_object(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        let size = match options.source_size {
            Some(size) => size,
            None => {
                let (meta, _) =
                    self.head_full(from_bucket, from, options.source_if_match.as_deref(), options.source_version.as_deref()).await?;
                meta.size
            }
        };
        if size > self.options.copy_threshold {
            return self.copy_multipart(from_bucket, from, to_bucket, to, options).await;
        }
        let copy = op("CopyObject");
        let (if_match, if_none_match) = write_condition(&options.mode);
        let out = self
            .client
            .copy_object()
            .copy_source(copy_source(from_bucket, from, options.source_version.as_deref()))
            .set_copy_source_if_match(options.source_if_match.as_deref().map(quoted))
            .set_if_match(if_match)
            .set_if_none_match(if_none_match)
            .bucket(to_bucket.as_str())
            .key(to.as_str())
            .send()
            .await
            .map_err(|e| copy_error(e, copy, from_bucket, from, to_bucket, to))?;
        let etag = out.copy_object_result().and_then(|r| r.e_tag()).map(unquote_etag);
        Ok(ObjectMeta {
            key: to.clone(),
            size,
            entity_tag: etag.clone(),
            etag,
            version: out.version_id().map(str::to_owned),
            last_modified: out.copy_object_result().and_then(|r| r.last_modified()).and_then(timestamp),
        })
    }

    /// A multipart copy whose every part is of one object: the source's size,
    /// version and entity tag are read once (`HeadObject`, itself on the
    /// condition of the caller's entity tag), and each `UploadPartCopy` is
    /// pinned to that version and conditional on that entity tag. A source
    /// changed half-way fails the copy instead of tearing it.
    async fn copy_multipart(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        let (source, head) =
            self.head_full(from_bucket, from, options.source_if_match.as_deref(), options.source_version.as_deref()).await?;
        let size = source.size;
        let pin_version = source.version.clone().filter(|v| v != "null");
        let pin_tag = source.entity_tag.clone().or_else(|| options.source_if_match.clone());
        let mut upload = self.create_upload(to_bucket, to, head.content_type().map(str::to_owned), head.metadata().cloned()).await?;
        let part_size = self.options.copy_part_size.max(size.div_ceil(MAX_PARTS));
        let ranges: Vec<(i32, u64, u64)> = (0..size.div_ceil(part_size))
            .map(|i| (i32::try_from(i + 1).unwrap_or(i32::MAX), i * part_size, ((i + 1) * part_size).min(size) - 1))
            .collect();
        let source_path = copy_source(from_bucket, from, pin_version.as_deref());
        let upload_id = upload.id.clone();
        let copied: Result<Vec<CompletedPart>> = stream::iter(ranges)
            .map(|(number, first, last)| {
                let (source_path, upload_id, pin_tag) = (source_path.clone(), upload_id.clone(), pin_tag.clone());
                async move {
                    let out = self
                        .client
                        .upload_part_copy()
                        .copy_source(source_path)
                        .set_copy_source_if_match(pin_tag.as_deref().map(quoted))
                        .copy_source_range(format!("bytes={first}-{last}"))
                        .bucket(to_bucket.as_str())
                        .key(to.as_str())
                        .upload_id(upload_id)
                        .part_number(number)
                        .send()
                        .await
                        .map_err(|e| copy_error(e, op("UploadPartCopy"), from_bucket, from, to_bucket, to))?;
                    let result = out.copy_part_result();
                    Ok(CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(result.and_then(|r| r.e_tag()).map(str::to_owned))
                        .set_checksum_crc32(result.and_then(|r| r.checksum_crc32()).map(str::to_owned))
                        .set_checksum_crc32_c(result.and_then(|r| r.checksum_crc32_c()).map(str::to_owned))
                        .set_checksum_crc64_nvme(result.and_then(|r| r.checksum_crc64_nvme()).map(str::to_owned))
                        .set_checksum_sha1(result.and_then(|r| r.checksum_sha1()).map(str::to_owned))
                        .set_checksum_sha256(result.and_then(|r| r.checksum_sha256()).map(str::to_owned))
                        .build())
                }
            })
            .buffered(self.options.copy_concurrency)
            .try_collect()
            .await;
        let completed = match copied {
            Ok(parts) => self.complete(to_bucket, to, &upload.id, parts, &options.mode).await,
            Err(e) => Err(e),
        };
        match completed {
            Ok((etag, version)) => {
                upload.close();
                Ok(ObjectMeta { key: to.clone(), size, entity_tag: etag.clone(), etag, version, last_modified: None })
            }
            Err(e) => {
                upload.abort().await;
                Err(e)
            }
        }
    }

    pub(super) async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()> {
        let deleted = object_request!(self, delete_object, bucket, key)
            .set_if_match(options.if_match.as_deref().map(quoted))
            .send()
            .await
            .map_err(|e| object_error(e, op("DeleteObject"), bucket, key));
        match deleted {
            Ok(_) => Ok(()),
            // A conditional delete of an object that is gone did not find what it was conditional on.
            Err(e) if e.is_not_found() && options.if_match.is_some() && !matches!(&e, Error::NotFound { kind: "bucket", .. }) => {
                Err(Error::precondition("object", format!("{bucket}/{key}"), "If-Match: the object is gone"))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn delete_objects(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()> {
        for batch in keys.chunks(1000) {
            let ids = batch
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k.as_str()).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| build_error(op("DeleteObjects"), e))?;
            self.delete_identifiers(bucket, ids).await?;
        }
        Ok(())
    }
}

/// Map an error of a copy: a refused condition names both ends (S3 does not
/// say which condition failed).
fn copy_error<E>(
    err: SdkError<E, aws_smithy_runtime_api::http::Response>,
    op: Op,
    from_bucket: &BucketName,
    from: &ObjectKey,
    to_bucket: &BucketName,
    to: &ObjectKey,
) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match object_error(err, op, to_bucket, to) {
        Error::PreconditionFailed { condition, .. } => {
            Error::precondition("object", format!("{from_bucket}/{from} -> {to_bucket}/{to}"), condition)
        }
        // A 404 of a copy is the source's (the destination bucket's is NoSuchBucket, mapped above).
        Error::NotFound { kind: "object", .. } => Error::not_found("object", format!("{from_bucket}/{from}")),
        other => other,
    }
}

/// `x-amz-copy-source`: the bucket and the URL-encoded key, and the version when pinned.
fn copy_source(bucket: &BucketName, key: &ObjectKey, version: Option<&str>) -> String {
    match version {
        None => format!("{bucket}/{}", encode_path(key.as_str())),
        Some(v) => format!("{bucket}/{}?versionId={}", encode_path(key.as_str()), encode_path(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> ByteStream {
        let chunks: Vec<Result<Bytes>> = sizes.iter().enumerate().map(|(i, n)| Ok(Bytes::from(vec![i as u8; *n]))).collect();
        stream::iter(chunks).boxed()
    }

    async fn parts(sizes: &[usize], part: usize) -> Vec<usize> {
        let mut r = PartReader::new(chunks(sizes));
        let mut out = Vec::new();
        while let Some(p) = r.next_part(part).await.unwrap() {
            out.push(p.len());
        }
        out
    }

    #[tokio::test]
    async fn parts_have_the_part_size_but_the_last() {
        assert_eq!(parts(&[3, 3, 3, 3], 5).await, [5, 5, 2]);
        assert_eq!(parts(&[10], 5).await, [5, 5]);
        assert_eq!(parts(&[1, 0, 1, 0], 5).await, [2]);
        assert_eq!(parts(&[], 5).await, Vec::<usize>::new());
        assert_eq!(parts(&[12, 1], 4).await, [4, 4, 4, 1]);
    }

    #[tokio::test]
    async fn parts_keep_the_bytes_in_order() {
        let mut r = PartReader::new(chunks(&[2, 3, 4]));
        let mut all = Vec::new();
        while let Some(p) = r.next_part(4).await.unwrap() {
            all.extend_from_slice(&p);
        }
        assert_eq!(all, [0, 0, 1, 1, 1, 2, 2, 2, 2]);
    }

    #[tokio::test]
    async fn end_is_seen_by_reading_ahead() {
        let mut r = PartReader::new(chunks(&[5, 0]));
        assert_eq!(r.next_part(5).await.unwrap().map(|p| p.len()), Some(5));
        assert!(r.at_end().await.unwrap());
        let mut r = PartReader::new(chunks(&[5, 1]));
        r.next_part(5).await.unwrap();
        assert!(!r.at_end().await.unwrap());
        assert_eq!(r.next_part(5).await.unwrap().map(|p| p.len()), Some(1));
    }

    #[test]
    fn copy_sources_are_url_encoded() {
        let b = BucketName::new("src-bucket").unwrap();
        let k = ObjectKey::new("dir/with space+plus%/ü.txt").unwrap();
        assert_eq!(copy_source(&b, &k, None), "src-bucket/dir/with%20space%2Bplus%25/%C3%BC.txt");
        assert_eq!(copy_source(&b, &k, Some("3+L4kqtJl")), "src-bucket/dir/with%20space%2Bplus%25/%C3%BC.txt?versionId=3%2BL4kqtJl");
    }
}
