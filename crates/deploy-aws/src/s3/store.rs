//! [`S3Store`] and its options: the store built from the context, and the
//! [`ObjectStore`](deploy_core::ObjectStore) impl over the calls of
//! `bucket.rs` and `objects.rs`.

use aws_sdk_s3::Client;
use deploy_core::{Error, Result};

use crate::context::AwsContext;
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
/// S3-compatible peers). See the [module docs](super).
///
/// ```no_run
/// # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
/// use deploy_aws::s3::{S3Options, S3Store};
/// use deploy_core::{BucketName, BucketSpec, ObjectStore};
///
/// let store = S3Store::new(ctx).with_options(S3Options { part_size: 16 << 20, ..S3Options::default() })?;
/// store.ensure_bucket(&BucketSpec::new(BucketName::new("prod-assets")?)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct S3Store {
    pub(super) client: Client,
    pub(super) ctx: AwsContext,
    pub(super) options: S3Options,
}

impl S3Store {
    /// A store built from `ctx` (path-style with a custom endpoint).
    pub fn new(ctx: &AwsContext) -> Self {
        S3Store { client: ctx.client(), ctx: ctx.clone(), options: S3Options::default() }
    }

    /// The same store in `region` (same credentials, interceptors and options):
    /// where a bucket of another region is created and configured.
    pub fn in_region(&self, region: &str) -> S3Store {
        S3Store { options: self.options.clone(), ..S3Store::new(&self.ctx.in_region(region)) }
    }

    /// The region the client talks to.
    pub fn region(&self) -> Option<&str> {
        self.ctx.region()
    }

    /// The AWS partition of the region.
    pub(super) fn partition(&self) -> &'static str {
        self.ctx.partition()
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

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "bucket", name = %spec.name))]
    async fn reconcile_bucket(&self, spec: &deploy_core::BucketSpec, mode: deploy_core::Mode) -> Result<deploy_core::Plan> {
        self.reconcile(spec, mode).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn describe_bucket(&self, bucket: &deploy_core::BucketName) -> Result<deploy_core::object_store::BucketInfo> {
        self.describe(bucket).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn delete_bucket(&self, bucket: &deploy_core::BucketName, confirm: Option<deploy_core::Confirm>) -> Result<()> {
        self.delete(bucket, confirm).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn put(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        body: deploy_core::ByteStream,
        options: &deploy_core::object_store::PutOptions,
    ) -> Result<deploy_core::ObjectMeta> {
        self.put_object(bucket, key, body, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn get_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::GetOptions,
    ) -> Result<deploy_core::object_store::GetResult> {
        self.get_object(bucket, key, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
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
    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %from_bucket))]
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

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn delete_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::DeleteOptions,
    ) -> Result<()> {
        self.delete_object(bucket, key, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn delete_many(&self, bucket: &deploy_core::BucketName, keys: &[deploy_core::ObjectKey]) -> Result<()> {
        self.delete_objects(bucket, keys).await
    }

    /// `GetBucketVersioning` alone.
    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn versioning_enabled(&self, bucket: &deploy_core::BucketName) -> Result<bool> {
        self.versioning(bucket).await
    }

    /// Objects, older versions and delete markers (`ListObjectVersions`, one key).
    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "bucket", name = %bucket))]
    async fn holds_data(&self, bucket: &deploy_core::BucketName) -> Result<bool> {
        self.holds_versions(bucket).await
    }
}
