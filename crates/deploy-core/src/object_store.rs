//! [`ObjectStore`]: buckets and objects, as streams.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Confirm, Result};
use crate::plan::Plan;
use crate::validate::{BucketName, ObjectKey};

/// A stream of bytes: object bodies are never held whole in memory.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A [`ByteStream`] over bytes already in memory.
pub fn bytes_stream(bytes: impl Into<Bytes>) -> ByteStream {
    let bytes = bytes.into();
    futures::stream::once(async move { Ok(bytes) }).boxed()
}

/// Encryption at rest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// Keys managed by the provider (SSE-S3, Azure platform-managed keys).
    #[default]
    ProviderManaged,
    /// A customer-managed key (a KMS key id or ARN, a Key Vault key URL).
    Key(String),
}

/// What a bucket (or container) should be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSpec {
    /// The bucket's name.
    pub name: BucketName,
    /// Keep object versions (default on).
    #[serde(default = "yes")]
    pub versioning: bool,
    /// Encryption at rest (always on; provider-managed by default).
    #[serde(default)]
    pub encryption: Encryption,
    /// Block every form of public access (default on).
    #[serde(default = "yes")]
    pub block_public_access: bool,
    /// Refuse requests that are not over TLS (default on).
    #[serde(default = "yes")]
    pub require_tls: bool,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

impl BucketSpec {
    /// A bucket with the safe defaults: versioned, encrypted, private, TLS only.
    pub fn new(name: BucketName) -> Self {
        BucketSpec {
            name,
            versioning: true,
            encryption: Encryption::ProviderManaged,
            block_public_access: true,
            require_tls: true,
            tags: BTreeMap::new(),
        }
    }
}

/// What a bucket is, as its store reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketInfo {
    /// The bucket's name.
    pub name: BucketName,
    /// Whether versioning is on.
    pub versioning: bool,
    /// Encryption at rest.
    pub encryption: Encryption,
    /// Whether public access is blocked.
    pub block_public_access: bool,
    /// Whether non-TLS requests are refused.
    pub require_tls: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl BucketInfo {
    /// The plan that brings this bucket to `spec`.
    pub fn diff(&self, spec: &BucketSpec) -> Plan {
        let mut d = crate::plan::Diff::new();
        d.field("versioning", &self.versioning, &spec.versioning)
            .field("encryption", &self.encryption, &spec.encryption)
            .field("block_public_access", &self.block_public_access, &spec.block_public_access)
            .field("require_tls", &self.require_tls, &spec.require_tls)
            .field("tags", &self.tags, &spec.tags);
        if d.is_empty() {
            Plan::new()
        } else {
            Plan::from_iter([crate::plan::Change::update("bucket", spec.name.as_str(), d.into_fields())])
        }
    }
}

/// One object's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The key.
    pub key: ObjectKey,
    /// Size in bytes.
    pub size: u64,
    /// The store's fingerprint of the content (an S3 ETag without quotes, a
    /// blob's Content-MD5 in hex): equal for equal content written the same way.
    pub etag: Option<String>,
    /// The version id, on versioned buckets.
    pub version: Option<String>,
    /// When the object was last written.
    pub last_modified: Option<Timestamp>,
}

/// Options of [`ObjectStore::put`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The Content-Type.
    pub content_type: Option<String>,
    /// The body's size, when known (lets backends pick a single request or multipart).
    pub size_hint: Option<u64>,
}

/// What [`ObjectStore::get`] answers: the metadata and the body as a stream.
pub struct GetResult {
    /// The metadata.
    pub meta: ObjectMeta,
    /// The body.
    pub body: ByteStream,
}

impl Debug for GetResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetResult").field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// Options of [`ObjectStore::list`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys starting with this prefix.
    pub prefix: Option<String>,
    /// Only keys sorting after this one (for resuming a listing).
    pub start_after: Option<String>,
}

impl ListOptions {
    /// Keys under `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        ListOptions { prefix: Some(prefix.into()), start_after: None }
    }
}

/// A bucket of objects: AWS S3, Azure Blob Storage, or in memory.
///
/// Bodies are streams ([`ByteStream`]), listings are streams that page under
/// the hood, so a 10 GiB object or a million keys never sit in memory.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ObjectStore: Send + Sync + Debug {
    /// The backend's name (`memory`, `aws-s3`, `azure-blob`), for reports and errors.
    fn backend(&self) -> &'static str;

    /// The changes [`ObjectStore::ensure_bucket`] would make; mutates nothing.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] for a spec this backend cannot take; provider errors.
    async fn plan_bucket(&self, spec: &BucketSpec) -> Result<Plan>;

    /// Create the bucket if missing and bring its settings to `spec`; answers the changes made.
    /// A second call with the same spec makes no mutating request.
    ///
    /// # Errors
    /// As [`ObjectStore::plan_bucket`], and [`crate::Error::AlreadyExists`] when the
    /// name is taken by another account.
    async fn ensure_bucket(&self, spec: &BucketSpec) -> Result<Plan>;

    /// The bucket's settings.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when it does not exist.
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo>;

    /// Delete the bucket. A bucket holding objects (or versions) is emptied and
    /// deleted only with `confirm` naming it; an empty one needs none.
    ///
    /// # Errors
    /// [`crate::Error::ConfirmationRequired`] for a non-empty bucket without confirmation;
    /// [`crate::Error::NotFound`].
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()>;

    /// Write an object from a stream (multipart above the backend's part size).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the bucket does not exist; an error of the body stream.
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta>;

    /// Read an object as a stream.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the bucket or object does not exist.
    async fn get(&self, bucket: &BucketName, key: &ObjectKey) -> Result<GetResult>;

    /// An object's metadata.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the bucket or object does not exist.
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta>;

    /// Every object (latest versions) whose key matches `options`, in key order, paging under the hood.
    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>>;

    /// Server-side copy of an object within this store (across buckets too); the
    /// data does not pass through the caller. Answers the new object's metadata.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the source or the destination bucket does not exist.
    async fn copy(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta>;

    /// [`ObjectStore::copy`] of `source.key`, an object whose metadata the
    /// caller already holds (from a listing or a manifest): a backend that would
    /// read the source's metadata first (S3 reads its size to choose between
    /// `CopyObject` and `UploadPartCopy`) takes `source.size` instead, saving a
    /// request per object. The answer's size is `source.size` when the backend
    /// does not report one. The default calls [`ObjectStore::copy`].
    ///
    /// # Errors
    /// As [`ObjectStore::copy`].
    async fn copy_listed(&self, from_bucket: &BucketName, source: &ObjectMeta, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta> {
        self.copy(from_bucket, &source.key, to_bucket, to).await
    }

    /// Delete an object (its latest version: on a versioned bucket the older
    /// versions stay). Deleting a missing object succeeds.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the bucket does not exist.
    async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()>;

    /// Delete many objects in as few requests as the backend allows.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`] when the bucket does not exist.
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()>;
}

/// Helpers over any [`ObjectStore`].
#[async_trait]
pub trait ObjectStoreExt: ObjectStore {
    /// Write an object from bytes in memory.
    ///
    /// # Errors
    /// As [`ObjectStore::put`].
    async fn put_bytes(&self, bucket: &BucketName, key: &ObjectKey, bytes: Bytes) -> Result<ObjectMeta> {
        let options = PutOptions { size_hint: Some(bytes.len() as u64), ..PutOptions::default() };
        self.put(bucket, key, bytes_stream(bytes), &options).await
    }

    /// Read a whole object into memory.
    ///
    /// # Errors
    /// As [`ObjectStore::get`], and the body stream's errors.
    async fn get_bytes(&self, bucket: &BucketName, key: &ObjectKey) -> Result<Bytes> {
        let got = self.get(bucket, key).await?;
        let chunks: Vec<Bytes> = got.body.try_collect().await?;
        Ok(chunks.concat().into())
    }

    /// Every object matching `options`, collected.
    ///
    /// # Errors
    /// As [`ObjectStore::list`].
    async fn list_all(&self, bucket: &BucketName, options: ListOptions) -> Result<Vec<ObjectMeta>> {
        self.list(bucket, options).try_collect().await
    }
}

impl<T: ObjectStore + ?Sized> ObjectStoreExt for T {}
