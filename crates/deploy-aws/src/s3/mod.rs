//! [`S3Store`]: the [`ObjectStore`](deploy_core::ObjectStore) on Amazon S3.
//!
//! - `ensure_bucket` creates the bucket (with a `LocationConstraint` outside
//!   `us-east-1`) and brings five settings to the spec, each read back and
//!   written only when it differs: versioning, default encryption (SSE-S3, or
//!   SSE-KMS with the spec's key and an S3 Bucket Key), the public access
//!   block (all four switches), a bucket policy statement denying requests
//!   that are not over TLS (`aws:SecureTransport` `false`; other statements of
//!   the policy are kept), and tags; and one the spec does not name: a
//!   lifecycle rule aborting incomplete multipart uploads after a day (other
//!   rules are kept; planned as field `abort_incomplete_uploads`). A second
//!   `ensure` makes no mutating request.
//! - `put` reads the body stream part by part: a body smaller than
//!   [`S3Options::part_size`] goes in one `PutObject`, a larger one as a
//!   multipart upload (aborted on failure), so memory stays bounded by the
//!   part size whatever the object's size.
//! - `get` hands out the SDK's response body as a stream, never buffered whole.
//! - `list` pages through `ListObjectsV2` lazily.
//! - `copy` is server-side: `CopyObject` up to [`S3Options::copy_threshold`]
//!   (5 GiB, S3's limit), `UploadPartCopy` above it; it reads the source's size
//!   with `HeadObject` first, which `copy_listed` (the recipes' call) skips by
//!   taking the size from the listing. A multipart copy reads the source's
//!   version and entity tag once and pins every part to them.
//! - Conditions: `get_opts`, `put` (`PutOptions::mode`), `copy_opts` and
//!   `delete_opts` send `If-Match`, `If-None-Match`,
//!   `x-amz-copy-source-if-match` and version ids; a refused condition (412)
//!   is [`deploy_core::Error::PreconditionFailed`].
//! - A multipart upload (or copy) that fails is aborted; one whose future is
//!   dropped is aborted from its `Drop`; and every bucket `ensure_bucket`
//!   makes carries an `AbortIncompleteMultipartUpload` lifecycle rule (one
//!   day), which removes what a killed process leaves.
//! - Timeouts: [`client`] bounds connect, each attempt and each operation
//!   ([`crate::bounded_timeouts`]); an operation that gets no answer in time
//!   is a [`deploy_core::Error::Timeout`] naming it.
//! - `delete_many` deletes 1,000 keys a request; `delete_bucket` empties every
//!   version and delete marker first (with confirmation when there are any).
//!
//! - Cross-region replication ([`ReplicationSpec`]): `ensure_replication` (with
//!   the `iam` feature) sets up the destination bucket in its region, the
//!   source's versioning, a least-privilege role and the replication rule;
//!   `check_replication` reports whether it is all as the spec says.
//!
//! ETags are answered without their quotes.

mod bucket;
mod objects;
mod replication;

pub use bucket::{ABORT_INCOMPLETE_UPLOADS_DAYS, ABORT_INCOMPLETE_UPLOADS_RULE};
pub use replication::{ReplicationCheck, ReplicationKms, ReplicationReport, ReplicationSpec, REPLICATION_SERVICE, RoleName};

use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_types::SdkConfig;
use deploy_core::{Error, Result};

use crate::error::Op;

pub(crate) const SERVICE: &str = "aws-s3";

pub(crate) const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// S3's smallest part (all but the last part of a multipart upload).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// S3's largest part, and the largest single `CopyObject`.
pub const MAX_PART_SIZE: u64 = 5 * GIB;
/// S3's most parts of one multipart upload.
pub const MAX_PARTS: u64 = 10_000;

/// Sizes and limits of an [`S3Store`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Options {
    /// Bodies up to this size go in one `PutObject`; larger ones in parts of
    /// this size (grown when the size hint says 10,000 parts would not do).
    /// Memory held per upload is about one part. 5 MiB to 5 GiB; default 8 MiB.
    pub part_size: u64,
    /// Objects up to this size are copied with one `CopyObject`; larger ones
    /// with `UploadPartCopy`. At most 5 GiB (S3's limit, the default).
    pub copy_threshold: u64,
    /// The part size of a multipart copy. 5 MiB to 5 GiB; default 512 MiB.
    pub copy_part_size: u64,
    /// Parts copied at once in a multipart copy (the data stays in S3). Default 4.
    pub copy_concurrency: usize,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options { part_size: 8 * MIB, copy_threshold: MAX_PART_SIZE, copy_part_size: 512 * MIB, copy_concurrency: 4 }
    }
}

impl S3Options {
    /// Check the limits S3 puts on these values.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let part_rule = "S3 parts: 5 MiB to 5 GiB";
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(Error::invalid("part_size", format!("is {} bytes", self.part_size), part_rule));
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.copy_part_size) {
            return Err(Error::invalid("copy_part_size", format!("is {} bytes", self.copy_part_size), part_rule));
        }
        if self.copy_threshold > MAX_PART_SIZE {
            return Err(Error::invalid(
                "copy_threshold",
                format!("is {} bytes", self.copy_threshold),
                "a single CopyObject copies at most 5 GiB",
            ));
        }
        if self.copy_concurrency == 0 {
            return Err(Error::invalid("copy_concurrency", "is 0", "at least one part at a time"));
        }
        Ok(())
    }
}

/// The [`ObjectStore`](deploy_core::ObjectStore) on Amazon S3 (and
/// S3-compatible peers). See the [module docs](self).
///
/// ```no_run
/// # async fn example(sdk_config: &aws_types::SdkConfig) -> deploy_core::Result<()> {
/// use deploy_aws::s3::{S3Options, S3Store};
/// use deploy_core::{BucketName, BucketSpec, ObjectStore};
///
/// let store = S3Store::new(sdk_config).with_options(S3Options { part_size: 16 << 20, ..S3Options::default() })?;
/// store.ensure_bucket(&BucketSpec::new(BucketName::new("prod-assets")?)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
    options: S3Options,
    partition: &'static str,
    region: Option<String>,
}

/// An S3 client for `sdk_config`: path-style addressing when the config names
/// a custom endpoint (a local peer), timeouts bounded
/// ([`crate::bounded_timeouts`]), with `interceptors` installed.
pub fn client(sdk_config: &SdkConfig, interceptors: &[SharedInterceptor]) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk_config).force_path_style(sdk_config.endpoint_url().is_some());
    builder.set_timeout_config(Some(crate::bounded_timeouts(sdk_config.timeout_config())));
    for i in interceptors {
        builder.push_interceptor(i.clone());
    }
    Client::from_conf(builder.build())
}

impl S3Store {
    /// A store over the caller's configuration (path-style with a custom endpoint).
    pub fn new(sdk_config: &SdkConfig) -> Self {
        S3Store::from_client(client(sdk_config, &[]))
    }

    /// A store over a client the caller built.
    pub fn from_client(client: Client) -> Self {
        let region = client.config().region().map(|r| r.as_ref().to_owned());
        S3Store { partition: crate::convert::partition(region.as_deref()), region, client, options: S3Options::default() }
    }

    /// With other sizes and limits.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `options` break S3's limits.
    pub fn with_options(mut self, options: S3Options) -> Result<Self> {
        options.validate()?;
        self.options = options;
        Ok(self)
    }

    /// The sizes and limits.
    pub fn options(&self) -> &S3Options {
        &self.options
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait::async_trait]
impl deploy_core::ObjectStore for S3Store {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    async fn reconcile_bucket(&self, spec: &deploy_core::BucketSpec, mode: deploy_core::Mode) -> Result<deploy_core::Plan> {
        match mode {
            deploy_core::Mode::Plan => {
                self.plan(spec).await
            }
            deploy_core::Mode::Apply => {
                self.ensure(spec).await
            }
        }
    }

    async fn describe_bucket(&self, bucket: &deploy_core::BucketName) -> Result<deploy_core::object_store::BucketInfo> {
        self.describe(bucket).await
    }

    async fn delete_bucket(&self, bucket: &deploy_core::BucketName, confirm: Option<deploy_core::Confirm>) -> Result<()> {
        self.delete(bucket, confirm).await
    }

    async fn put(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        body: deploy_core::ByteStream,
        options: &deploy_core::object_store::PutOptions,
    ) -> Result<deploy_core::ObjectMeta> {
        self.put_object(bucket, key, body, options).await
    }

    async fn get_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::GetOptions,
    ) -> Result<deploy_core::object_store::GetResult> {
        self.get_object(bucket, key, options).await
    }

    async fn head(&self, bucket: &deploy_core::BucketName, key: &deploy_core::ObjectKey) -> Result<deploy_core::ObjectMeta> {
        self.head_object(bucket, key).await
    }

    fn list(
        &self,
        bucket: &deploy_core::BucketName,
        options: deploy_core::object_store::ListOptions,
    ) -> futures::stream::BoxStream<'static, Result<deploy_core::ObjectMeta>> {
        self.list_objects(bucket, options)
    }

    /// The listed size (in `options.source_size`) picks `CopyObject` or
    /// `UploadPartCopy`: no `HeadObject` per object for a single copy. The
    /// source's entity tag goes as `x-amz-copy-source-if-match` on every
    /// request, its version into the copy source.
    async fn copy_opts(
        &self,
        from_bucket: &deploy_core::BucketName,
        from: &deploy_core::ObjectKey,
        to_bucket: &deploy_core::BucketName,
        to: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::CopyOptions,
    ) -> Result<deploy_core::ObjectMeta> {
        self.copy_object(from_bucket, from, to_bucket, to, options).await
    }

    async fn delete_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::DeleteOptions,
    ) -> Result<()> {
        self.delete_object(bucket, key, options).await
    }

    async fn delete_many(&self, bucket: &deploy_core::BucketName, keys: &[deploy_core::ObjectKey]) -> Result<()> {
        self.delete_objects(bucket, keys).await
    }

    /// `GetBucketVersioning` alone.
    async fn versioning_enabled(&self, bucket: &deploy_core::BucketName) -> Result<bool> {
        self.versioning(bucket).await
    }

    /// Objects, older versions and delete markers (`ListObjectVersions`, one key).
    async fn holds_data(&self, bucket: &deploy_core::BucketName) -> Result<bool> {
        self.holds_versions(bucket).await
    }
}
