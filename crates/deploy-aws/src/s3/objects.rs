//! Objects: streaming put (single or multipart), streaming get, paged list,
//! server-side copy (single or multipart), batched delete.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ObjectIdentifier};
use bytes::{Bytes, BytesMut};
use deploy_core::object_store::{ByteStream, GetResult, ListOptions, ObjectMeta, PutOptions};
use deploy_core::{BucketName, Error, ObjectKey, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::{MAX_PARTS, S3Store, op};
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
        let out = self
            .client
            .put_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .set_content_type(options.content_type.clone())
            .content_length(i64::try_from(len).unwrap_or(i64::MAX))
            .body(SdkByteStream::from(body))
            .send()
            .await
            .map_err(|e| object_error(e, put, bucket, key))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size: len,
            etag: out.e_tag().map(unquote_etag),
            version: out.version_id().map(str::to_owned),
            last_modified: None,
        })
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
        let create = op("CreateMultipartUpload");
        let out = self
            .client
            .create_multipart_upload()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .set_content_type(options.content_type.clone())
            .send()
            .await
            .map_err(|e| object_error(e, create, bucket, key))?;
        let upload_id = out.upload_id().ok_or_else(|| missing(create, "upload id"))?.to_owned();
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
                parts.push(self.upload_part(bucket, key, &upload_id, number, part).await?);
                next = reader.next_part(part_size).await?;
            }
            Ok(parts)
        }
        .await;
        let completed = match uploaded {
            Ok(parts) => self.complete(bucket, key, &upload_id, parts).await,
            Err(e) => Err(e),
        };
        match completed {
            Ok((etag, version)) => Ok(ObjectMeta { key: key.clone(), size: total, etag, version, last_modified: None }),
            Err(e) => {
                self.abort(bucket, key, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn upload_part(&self, bucket: &BucketName, key: &ObjectKey, upload_id: &str, number: i32, part: Bytes) -> Result<CompletedPart> {
        let upload = op("UploadPart");
        let len = i64::try_from(part.len()).unwrap_or(i64::MAX);
        let out = self
            .client
            .upload_part()
            .bucket(bucket.as_str())
            .key(key.as_str())
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

    async fn complete(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(Option<String>, Option<String>)> {
        let out = self
            .client
            .complete_multipart_upload()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|e| object_error(e, op("CompleteMultipartUpload"), bucket, key))?;
        Ok((out.e_tag().map(unquote_etag), out.version_id().map(str::to_owned)))
    }

    /// Abort an upload after a failure; its own failure is logged, not returned
    /// (the first error is the one that matters).
    async fn abort(&self, bucket: &BucketName, key: &ObjectKey, upload_id: &str) {
        let aborted = self.client.abort_multipart_upload().bucket(bucket.as_str()).key(key.as_str()).upload_id(upload_id).send().await;
        if let Err(e) = aborted {
            tracing::warn!(bucket = %bucket, key = %key, upload_id, error = %map_sdk_error(e, op("AbortMultipartUpload"), "upload", key.as_str()), "could not abort a failed multipart upload; a lifecycle rule removes it later");
        }
    }

    pub(super) async fn get_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<GetResult> {
        let get = op("GetObject");
        let out = self
            .client
            .get_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| object_error(e, get, bucket, key))?;
        let meta = ObjectMeta {
            key: key.clone(),
            size: size(out.content_length()),
            etag: out.e_tag().map(unquote_etag),
            version: out.version_id().map(str::to_owned),
            last_modified: out.last_modified().and_then(timestamp),
        };
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
                            provider: super::SERVICE,
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
        let head = op("HeadObject");
        let out = self
            .client
            .head_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| object_error(e, head, bucket, key))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size: size(out.content_length()),
            etag: out.e_tag().map(unquote_etag),
            version: out.version_id().map(str::to_owned),
            last_modified: out.last_modified().and_then(timestamp),
        })
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
                        Ok(ObjectMeta {
                            key: parse_key(list, o.key())?,
                            size: size(o.size()),
                            etag: o.e_tag().map(unquote_etag),
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

    pub(super) async fn copy_object(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
    ) -> Result<ObjectMeta> {
        let source = self.head_object(from_bucket, from).await?;
        self.copy_sized(from_bucket, from, source.size, None, to_bucket, to).await
    }

    /// Copy `from`, of `size` bytes: one `CopyObject` up to the copy threshold,
    /// `UploadPartCopy` above it. No request reads the source's metadata first
    /// for a single `CopyObject`; with `if_match` (the ETag the size came with,
    /// from a listing) it copies that very object or fails with
    /// [`Error::Conflict`] when the object changed since (`PreconditionFailed`).
    pub(super) async fn copy_sized(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        size: u64,
        if_match: Option<&str>,
        to_bucket: &BucketName,
        to: &ObjectKey,
    ) -> Result<ObjectMeta> {
        if size > self.options.copy_threshold {
            return self.copy_multipart(from_bucket, from, to_bucket, to, size).await;
        }
        let copy = op("CopyObject");
        let out = self
            .client
            .copy_object()
            .copy_source(copy_source(from_bucket, from))
            .set_copy_source_if_match(if_match.map(|etag| format!("\"{etag}\"")))
            .bucket(to_bucket.as_str())
            .key(to.as_str())
            .send()
            .await
            .map_err(|e| {
                if error_code(&e) == Some("PreconditionFailed") {
                    Error::conflict("object", format!("{from_bucket}/{from}"), "it changed since it was listed (another ETag): copy it again")
                } else {
                    object_error(e, copy, to_bucket, to)
                }
            })?;
        Ok(ObjectMeta {
            key: to.clone(),
            size,
            etag: out.copy_object_result().and_then(|r| r.e_tag()).map(unquote_etag),
            version: out.version_id().map(str::to_owned),
            last_modified: out.copy_object_result().and_then(|r| r.last_modified()).and_then(timestamp),
        })
    }

    async fn copy_multipart(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        size: u64,
    ) -> Result<ObjectMeta> {
        let head = self
            .client
            .head_object()
            .bucket(from_bucket.as_str())
            .key(from.as_str())
            .send()
            .await
            .map_err(|e| object_error(e, op("HeadObject"), from_bucket, from))?;
        let create = op("CreateMultipartUpload");
        let out = self
            .client
            .create_multipart_upload()
            .bucket(to_bucket.as_str())
            .key(to.as_str())
            .set_content_type(head.content_type().map(str::to_owned))
            .set_metadata(head.metadata().cloned())
            .send()
            .await
            .map_err(|e| object_error(e, create, to_bucket, to))?;
        let upload_id = out.upload_id().ok_or_else(|| missing(create, "upload id"))?.to_owned();
        let part_size = self.options.copy_part_size.max(size.div_ceil(MAX_PARTS));
        let ranges: Vec<(i32, u64, u64)> = (0..size.div_ceil(part_size))
            .map(|i| (i32::try_from(i + 1).unwrap_or(i32::MAX), i * part_size, ((i + 1) * part_size).min(size) - 1))
            .collect();
        let source = copy_source(from_bucket, from);
        let copied: Result<Vec<CompletedPart>> = stream::iter(ranges)
            .map(|(number, first, last)| {
                let (source, upload_id) = (source.clone(), upload_id.clone());
                async move {
                    let out = self
                        .client
                        .upload_part_copy()
                        .copy_source(source)
                        .copy_source_range(format!("bytes={first}-{last}"))
                        .bucket(to_bucket.as_str())
                        .key(to.as_str())
                        .upload_id(upload_id)
                        .part_number(number)
                        .send()
                        .await
                        .map_err(|e| object_error(e, op("UploadPartCopy"), to_bucket, to))?;
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
            Ok(parts) => self.complete(to_bucket, to, &upload_id, parts).await,
            Err(e) => Err(e),
        };
        match completed {
            Ok((etag, version)) => Ok(ObjectMeta { key: to.clone(), size, etag, version, last_modified: None }),
            Err(e) => {
                self.abort(to_bucket, to, &upload_id).await;
                Err(e)
            }
        }
    }

    pub(super) async fn delete_object(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()> {
        self.client
            .delete_object()
            .bucket(bucket.as_str())
            .key(key.as_str())
            .send()
            .await
            .map_err(|e| object_error(e, op("DeleteObject"), bucket, key))?;
        Ok(())
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

/// `x-amz-copy-source`: the bucket and the URL-encoded key.
fn copy_source(bucket: &BucketName, key: &ObjectKey) -> String {
    format!("{bucket}/{}", encode_path(key.as_str()))
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
        assert_eq!(copy_source(&b, &k), "src-bucket/dir/with%20space%2Bplus%25/%C3%BC.txt");
    }
}
