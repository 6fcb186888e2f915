use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use md5::{Digest, Md5};

use super::InMemoryCloud;
use super::state::{MemBucket, MemVersion};
use crate::error::{Confirm, Error, Result};
use crate::object_store::{
    BucketInfo, BucketSpec, ByteStream, CopyOptions, DeleteOptions, GetOptions, GetResult, KeyOrder, ListOptions, ObjectMeta, ObjectStore,
    PutMode, PutOptions, bytes_stream,
};
use crate::plan::{Change, Plan};
use crate::reconcile::Mode;
use crate::validate::{BucketName, ObjectKey};

fn meta(key: &str, v: &MemVersion) -> ObjectMeta {
    ObjectMeta {
        key: ObjectKey::new(key).expect("stored keys were validated"),
        size: v.data.as_ref().map_or(0, |d| d.len() as u64),
        etag: Some(v.etag.clone()),
        version: v.version.clone(),
        last_modified: Some(v.modified),
        entity_tag: Some(v.entity_tag.clone()),
    }
}

fn no_bucket(bucket: &BucketName) -> Error {
    Error::not_found("bucket", bucket.as_str())
}

fn no_object(bucket: &BucketName, key: &ObjectKey, version: Option<&str>) -> Error {
    match version {
        None => Error::not_found("object", format!("{bucket}/{key}")),
        Some(v) => Error::not_found("object version", format!("{bucket}/{key}?versionId={v}")),
    }
}

impl InMemoryCloud {
    fn new_version(&self, versioning: bool, data: Option<Bytes>) -> MemVersion {
        let etag = data.as_ref().map(|d| hex::encode(Md5::digest(d))).unwrap_or_default();
        self.version_with_etag(versioning, data, etag)
    }

    fn version_with_etag(&self, versioning: bool, data: Option<Bytes>, etag: String) -> MemVersion {
        let id = self.state().next_id();
        MemVersion {
            data,
            etag,
            entity_tag: format!("\"0x{id:x}\""),
            version: versioning.then(|| format!("v{id}")),
            modified: Timestamp::now(),
        }
    }

    fn bucket_plan(&self, spec: &BucketSpec) -> Plan {
        match self.state().buckets.get(spec.name.as_str()) {
            None => Plan::from_iter([Change::create("bucket", spec.name.as_str())]),
            Some(b) => b.info.diff(spec),
        }
    }
}

#[async_trait]
impl ObjectStore for InMemoryCloud {
    fn backend(&self) -> &'static str {
        "memory"
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "bucket", name = %spec.name))]
    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: Mode) -> Result<Plan> {
        match mode {
            Mode::Plan => {
                self.enter("plan_bucket", false)?;
                Ok(self.bucket_plan(spec))
            }
            Mode::Apply => {
                let plan = self.bucket_plan(spec);
                self.enter("ensure_bucket", !plan.is_empty())?;
                if plan.is_empty() {
                    return Ok(plan);
                }
                let info = BucketInfo {
                    name: spec.name.clone(),
                    versioning: spec.versioning,
                    encryption: spec.encryption.clone(),
                    block_public_access: spec.block_public_access,
                    require_tls: spec.require_tls,
                    tags: spec.tags.clone(),
                };
                let mut state = self.state();
                match state.buckets.get_mut(spec.name.as_str()) {
                    Some(b) => b.info = info,
                    None => {
                        state.buckets.insert(spec.name.as_str().to_owned(), MemBucket { info, objects: BTreeMap::new() });
                    }
                }
                Ok(plan)
            }
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo> {
        self.enter("describe_bucket", false)?;
        self.state().buckets.get(bucket.as_str()).map(|b| b.info.clone()).ok_or_else(|| no_bucket(bucket))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()> {
        let mut state = self.state();
        let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        // Older versions and delete markers count: deleting the bucket destroys them too.
        if !b.objects.is_empty() {
            Confirm::require(confirm.as_ref(), "delete bucket and every object in", bucket.as_str())?;
        }
        drop(state);
        self.enter("delete_bucket", true)?;
        state = self.state();
        state.buckets.remove(bucket.as_str());
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta> {
        self.enter("put", true)?;
        let versioning = self.state().buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?.info.versioning;
        let chunks: Vec<Bytes> = body.try_collect().await?;
        let version = self.new_version(versioning, Some(Bytes::from(chunks.concat())));
        let mut state = self.state();
        let b = state.buckets.get_mut(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        // The condition is checked when the upload completes, as S3 and Azure do.
        b.check_mode(bucket, key.as_str(), &options.mode)?;
        let m = meta(key.as_str(), &version);
        b.write(key.as_str(), version);
        Ok(m)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult> {
        self.enter("get", false)?;
        let state = self.state();
        let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        let v = b.version(key.as_str(), options.version.as_deref()).ok_or_else(|| no_object(bucket, key, options.version.as_deref()))?;
        if let Some(want) = &options.if_match
            && want != &v.entity_tag
        {
            return Err(Error::precondition("object", format!("{bucket}/{key}"), format!("If-Match {want}")));
        }
        let data = v.data.clone().unwrap_or_default();
        // Hand the body out in 64 KiB chunks, as a network body would arrive.
        let chunks: Vec<Result<Bytes>> =
            (0..data.len().div_ceil(65_536).max(1)).map(|i| Ok(data.slice(i * 65_536..((i + 1) * 65_536).min(data.len())))).collect();
        let body = if data.is_empty() { bytes_stream(Bytes::new()) } else { futures::stream::iter(chunks).boxed() };
        Ok(GetResult { meta: meta(key.as_str(), v), body })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        self.enter("head", false)?;
        let state = self.state();
        let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        let v = b.latest(key.as_str()).ok_or_else(|| no_object(bucket, key, None))?;
        Ok(meta(key.as_str(), v))
    }

    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let cloud = self.clone();
        let bucket = bucket.clone();
        let page_size = self.inner.config.list_page_size.max(1);
        let order = self.inner.config.key_order;
        let prefix = options.prefix.unwrap_or_default();
        // One page per step, re-reading state after the last key seen, as a paged API does.
        futures::stream::try_unfold(Some(options.start_after), move |after| {
            let (cloud, bucket, prefix) = (cloud.clone(), bucket.clone(), prefix.clone());
            async move {
                let Some(after) = after else { return Ok(None) };
                cloud.enter("list", false)?;
                let state = cloud.state();
                let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(&bucket))?;
                let page: Vec<ObjectMeta> = match order {
                    KeyOrder::Utf8 => {
                        let start = match &after {
                            Some(a) if a.as_str() >= prefix.as_str() => std::ops::Bound::Excluded(a.clone()),
                            _ => std::ops::Bound::Included(prefix.clone()),
                        };
                        b.objects
                            .range::<String, _>((start, std::ops::Bound::Unbounded))
                            .take_while(|(k, _)| k.starts_with(prefix.as_str()))
                            .filter_map(|(k, _)| b.latest(k).map(|v| meta(k, v)))
                            .take(page_size)
                            .collect()
                    }
                    KeyOrder::Utf16 => {
                        // As Azure and Azurite list: by UTF-16 code units.
                        let mut keys: Vec<&String> = b
                            .objects
                            .keys()
                            .filter(|k| k.starts_with(prefix.as_str()))
                            .filter(|k| after.as_deref().is_none_or(|a| order.compare(k, a).is_gt()))
                            .collect();
                        keys.sort_by(|x, y| order.compare(x, y));
                        keys.into_iter().filter_map(|k| b.latest(k).map(|v| meta(k, v))).take(page_size).collect()
                    }
                };
                let next = (page.len() == page_size).then(|| page.last().map(|m| m.key.as_str().to_owned()));
                Ok(Some((futures::stream::iter(page.into_iter().map(Ok)), next)))
            }
        })
        .try_flatten()
        .boxed()
    }

    fn key_order(&self) -> KeyOrder {
        self.inner.config.key_order
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %from_bucket))]
    async fn copy_opts(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        self.enter("copy", true)?;
        let (data, etag, versioning) = {
            let state = self.state();
            let src = state.buckets.get(from_bucket.as_str()).ok_or_else(|| no_bucket(from_bucket))?;
            let v = src
                .version(from.as_str(), options.source_version.as_deref())
                .ok_or_else(|| no_object(from_bucket, from, options.source_version.as_deref()))?;
            if let Some(want) = &options.source_if_match
                && want != &v.entity_tag
            {
                return Err(Error::precondition("object", format!("{from_bucket}/{from}"), format!("x-copy-source-if-match {want}")));
            }
            let dst = state.buckets.get(to_bucket.as_str()).ok_or_else(|| no_bucket(to_bucket))?;
            (v.data.clone(), v.etag.clone(), dst.info.versioning)
        };
        // Same content, same fingerprint: no need to hash it again.
        let version = self.version_with_etag(versioning, data, etag);
        let mut state = self.state();
        let dst = state.buckets.get_mut(to_bucket.as_str()).ok_or_else(|| no_bucket(to_bucket))?;
        dst.check_mode(to_bucket, to.as_str(), &options.mode)?;
        let m = meta(to.as_str(), &version);
        dst.write(to.as_str(), version);
        Ok(m)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()> {
        self.enter("delete", true)?;
        let marker = {
            let state = self.state();
            let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
            if let Some(want) = &options.if_match {
                b.check_mode(bucket, key.as_str(), &PutMode::Update { entity_tag: want.clone() })?;
            }
            if b.latest(key.as_str()).is_none() {
                return Ok(());
            }
            b.info.versioning
        };
        let version = self.new_version(marker, None);
        let mut state = self.state();
        let b = state.buckets.get_mut(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        if marker {
            b.write(key.as_str(), version);
        } else {
            b.objects.remove(key.as_str());
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()> {
        for key in keys {
            self.delete(bucket, key).await?;
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "bucket", name = %bucket))]
    async fn holds_data(&self, bucket: &BucketName) -> Result<bool> {
        self.enter("holds_data", false)?;
        let state = self.state();
        let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        Ok(!b.objects.is_empty())
    }
}

impl InMemoryCloud {
    /// Every version of `key` (oldest first, delete markers as `None`): for
    /// tests of versioning.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the bucket.
    pub fn object_versions(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Vec<Option<Bytes>>> {
        let state = self.state();
        let b = state.buckets.get(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        Ok(b.objects.get(key.as_str()).map(|vs| vs.iter().map(|v| v.data.clone()).collect()).unwrap_or_default())
    }

    /// Set an object's last-modified time (as if it was written then): for
    /// tests of restores that keep objects newer than a snapshot.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the bucket or the object.
    pub fn set_last_modified(&self, bucket: &BucketName, key: &ObjectKey, at: Timestamp) -> Result<()> {
        let mut state = self.state();
        let b = state.buckets.get_mut(bucket.as_str()).ok_or_else(|| no_bucket(bucket))?;
        let v = b.objects.get_mut(key.as_str()).and_then(|v| v.last_mut()).ok_or_else(|| no_object(bucket, key, None))?;
        v.modified = at;
        Ok(())
    }
}
