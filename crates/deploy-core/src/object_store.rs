//! [`ObjectStore`]: buckets and objects, as streams.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Confirm, Result};
use crate::forward::provider_trait;
use crate::plan::Plan;
use crate::reconcile::Mode;
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
    /// The store's entity tag (its HTTP `ETag`), which conditional requests
    /// name ([`GetOptions::if_match`], [`PutMode::Update`],
    /// [`CopyOptions::source_if_match`]): on S3 the same as `etag`; on Azure
    /// the blob's `ETag` header, which changes on every write, even of the
    /// same bytes. `None` when the store did not report one.
    #[serde(default)]
    pub entity_tag: Option<String>,
}

/// How a write treats an object already at the key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PutMode {
    /// Replace whatever is there (on a versioned bucket the old content stays as a noncurrent version).
    #[default]
    Overwrite,
    /// Write only if nothing is at the key (`If-None-Match: *`); otherwise
    /// [`crate::Error::PreconditionFailed`].
    Create,
    /// Write only if the object at the key still has this entity tag
    /// (`If-Match`); otherwise [`crate::Error::PreconditionFailed`].
    Update {
        /// The entity tag the object must have ([`ObjectMeta::entity_tag`]).
        entity_tag: String,
    },
}

impl PutMode {
    /// The condition, for messages (`If-Match "abc"`, `If-None-Match *`).
    pub fn describe(&self) -> String {
        match self {
            PutMode::Overwrite => "none".to_owned(),
            PutMode::Create => "If-None-Match *".to_owned(),
            PutMode::Update { entity_tag } => format!("If-Match {entity_tag}"),
        }
    }
}

/// Options of [`ObjectStore::put`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The Content-Type.
    pub content_type: Option<String>,
    /// The body's size, when known (lets backends pick a single request or multipart).
    pub size_hint: Option<u64>,
    /// Whether (and on what condition) an existing object is replaced.
    pub mode: PutMode,
}

/// Options of [`ObjectStore::get_opts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Read only if the object has this entity tag (`If-Match`); otherwise
    /// [`crate::Error::PreconditionFailed`]. The whole body is then of that
    /// very object, however long it streams.
    pub if_match: Option<String>,
    /// Read this version (on a versioned bucket) instead of the latest.
    pub version: Option<String>,
}

/// Options of [`ObjectStore::copy_opts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// The source's size as the caller knows it (from a listing): a backend
    /// that would read the source's metadata to choose how to copy (S3:
    /// `CopyObject` or `UploadPartCopy`) takes it instead.
    pub source_size: Option<u64>,
    /// Copy only if the source has this entity tag
    /// (`x-amz-copy-source-if-match`, `x-ms-source-if-match`); otherwise
    /// [`crate::Error::PreconditionFailed`]. Every part of a multipart copy
    /// carries it, so a copy is never made of two versions.
    pub source_if_match: Option<String>,
    /// Copy this version of the source.
    pub source_version: Option<String>,
    /// Whether (and on what condition) an object at the destination is replaced.
    pub mode: PutMode,
}

/// Options of [`ObjectStore::delete_opts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Delete only if the object has this entity tag (`If-Match`); otherwise
    /// [`crate::Error::PreconditionFailed`].
    pub if_match: Option<String>,
}

/// The order in which a store lists keys. Two listings are merged in key
/// order by the recipes; they must know each store's order to merge exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyOrder {
    /// By the bytes of the UTF-8 encoding (S3, and the in-memory store by default).
    #[default]
    Utf8,
    /// By the UTF-16 code units (Azure Blob Storage, and Azurite): the same
    /// order as UTF-8 except between characters `U+E000`..=`U+FFFF` and those
    /// above `U+FFFF`, which UTF-16 sorts first.
    Utf16,
}

impl KeyOrder {
    /// Compare two keys in this order.
    pub fn compare(self, a: &str, b: &str) -> std::cmp::Ordering {
        match self {
            KeyOrder::Utf8 => a.cmp(b),
            KeyOrder::Utf16 => a.encode_utf16().cmp(b.encode_utf16()),
        }
    }

    /// Whether two orders may sort `key` differently relative to another key:
    /// only keys holding a character at or above `U+E000` can (any two keys
    /// where at least one has none compare the same in both orders).
    pub fn is_order_sensitive(key: &str) -> bool {
        key.chars().any(|c| c >= '\u{E000}')
    }
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
    /// Only keys sorting after this one in the store's [`KeyOrder`] (for
    /// resuming a listing, or listing a range).
    pub start_after: Option<String>,
}

impl ListOptions {
    /// Keys under `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        ListOptions { prefix: Some(prefix.into()), start_after: None }
    }
}

provider_trait! {
    /// A bucket of objects: AWS S3, Azure Blob Storage, or in memory.
    ///
    /// Bodies are streams ([`ByteStream`]), listings are streams that page under
    /// the hood, so a 10 GiB object or a million keys never sit in memory.
    #[cfg_attr(feature = "mock", mockall::automock)]
    #[async_trait]
    pub trait ObjectStore: Send + Sync + Debug {
        /// The backend's name (`memory`, `aws-s3`, `azure-blob`), for reports and errors.
        fn backend(&self) -> &'static str;

        /// Compare the bucket with `spec` and, in [`Mode::Apply`], create it if missing and bring its
        /// settings to `spec`; answers the changes planned or made. A second `Apply` with the same spec
        /// makes no mutating request.
        ///
        /// # Errors
        /// [`crate::Error::InvalidInput`] for a spec this backend cannot take; [`crate::Error::AlreadyExists`]
        /// when the name is taken by another account; provider errors.
        reconcile_bucket(BucketSpec) with plan_bucket, ensure_bucket for "bucket";

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

        /// Write an object from a stream (multipart above the backend's part
        /// size), on the condition of `options.mode`. A multipart upload that
        /// fails or is dropped half-way is aborted where the backend allows it.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist; an error of
        /// the body stream; [`crate::Error::PreconditionFailed`] when the mode's
        /// condition does not hold.
        async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta>;

        /// Read an object as a stream, on the conditions of `options`.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket, object or version does not
        /// exist; [`crate::Error::PreconditionFailed`] when `if_match` does not match.
        async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult>;

        /// Read an object (its latest version) as a stream.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket or object does not exist.
        async fn get(&self, bucket: &BucketName, key: &ObjectKey) -> Result<GetResult> {
            self.get_opts(bucket, key, &GetOptions::default()).await
        }

        /// An object's metadata.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket or object does not exist.
        async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta>;

        /// Every object (latest versions) whose key matches `options`, in
        /// [`ObjectStore::key_order`], paging under the hood.
        fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>>;

        /// The order [`ObjectStore::list`] answers keys in (default [`KeyOrder::Utf8`]).
        fn key_order(&self) -> KeyOrder {
            KeyOrder::Utf8
        }

        /// Server-side copy of an object within this store (across buckets too),
        /// on the conditions of `options`; the data does not pass through the
        /// caller. Answers the new object's metadata (its size is
        /// `options.source_size` when the backend does not report one).
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the source (or its version) or the
        /// destination bucket does not exist; [`crate::Error::PreconditionFailed`]
        /// when a condition on the source or the destination does not hold.
        async fn copy_opts(
            &self,
            from_bucket: &BucketName,
            from: &ObjectKey,
            to_bucket: &BucketName,
            to: &ObjectKey,
            options: &CopyOptions,
        ) -> Result<ObjectMeta>;

        /// Server-side copy of the latest version of an object, replacing the destination.
        ///
        /// # Errors
        /// As [`ObjectStore::copy_opts`].
        async fn copy(&self, from_bucket: &BucketName, from: &ObjectKey, to_bucket: &BucketName, to: &ObjectKey) -> Result<ObjectMeta> {
            self.copy_opts(from_bucket, from, to_bucket, to, &CopyOptions::default()).await
        }

        /// [`ObjectStore::copy_opts`] of `source`, an object whose metadata the
        /// caller holds from a listing: the copy takes the listed size (no
        /// metadata read) and is conditional on the listed entity tag (and
        /// version), so it copies exactly what was listed or fails with
        /// [`crate::Error::PreconditionFailed`].
        ///
        /// # Errors
        /// As [`ObjectStore::copy_opts`].
        async fn copy_listed(
            &self,
            from_bucket: &BucketName,
            source: &ObjectMeta,
            to_bucket: &BucketName,
            to: &ObjectKey,
        ) -> Result<ObjectMeta> {
            let options = CopyOptions {
                source_size: Some(source.size),
                source_if_match: source.entity_tag.clone(),
                source_version: source.version.clone(),
                mode: PutMode::Overwrite,
            };
            self.copy_opts(from_bucket, &source.key, to_bucket, to, &options).await
        }

        /// Delete an object (its latest version: on a versioned bucket the older
        /// versions stay) on the conditions of `options`. Deleting a missing
        /// object without a condition succeeds.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist;
        /// [`crate::Error::PreconditionFailed`] when `if_match` does not match
        /// (or the object is gone).
        async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()>;

        /// Delete an object (its latest version). Deleting a missing object succeeds.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist.
        async fn delete(&self, bucket: &BucketName, key: &ObjectKey) -> Result<()> {
            self.delete_opts(bucket, key, &DeleteOptions::default()).await
        }

        /// Delete many objects in as few requests as the backend allows.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist.
        async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()>;

        /// Whether overwriting or deleting an object of this bucket keeps its old
        /// content as an older version, as far as the store can tell: what a
        /// restore relies on before it overwrites anything without a
        /// confirmation. The default reads [`ObjectStore::describe_bucket`];
        /// backends that can observe it on the objects themselves do.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist.
        async fn versioning_enabled(&self, bucket: &BucketName) -> Result<bool> {
            Ok(self.describe_bucket(bucket).await?.versioning)
        }

        /// Whether the bucket holds anything that deleting it would destroy:
        /// objects, older versions, delete markers or snapshots — what
        /// [`ObjectStore::delete_bucket`] asks a confirmation for. The default
        /// looks at the listing of current objects only; backends with versions
        /// or snapshots count them too.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`] when the bucket does not exist.
        async fn holds_data(&self, bucket: &BucketName) -> Result<bool> {
            match self.list(bucket, ListOptions::default()).next().await {
                None => Ok(false),
                Some(Ok(_)) => Ok(true),
                Some(Err(e)) => Err(e),
            }
        }
    }
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
