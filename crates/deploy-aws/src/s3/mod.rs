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
//! - Timeouts: `AwsContext::client` bounds connect, each attempt and each operation
//!   ([`crate::bounded_timeouts`]); an operation that gets no answer in time
//!   is a [`deploy_core::Error::Timeout`] naming it.
//! - `delete_many` deletes 1,000 keys a request; `delete_bucket` empties every
//!   version and delete marker first (with confirmation when there are any).
//!
//! - Cross-region replication ([`ReplicationSpec`]): `Replication` (with
//!   the `iam` feature; `s3.replication(&iam).ensure(&spec)`) sets up the destination bucket in its region, the
//!   source's versioning, a least-privilege role and the replication rule;
//!   `check_replication` reports whether it is all as the spec says.
//!
//! ETags are answered without their quotes.

mod bucket;
mod objects;
mod replication;
mod store;

pub use bucket::{ABORT_INCOMPLETE_UPLOADS_DAYS, ABORT_INCOMPLETE_UPLOADS_RULE};
#[cfg(feature = "iam")]
pub use replication::with_iam::Replication;
pub use replication::{
    REPLICATION_SERVICE, ReplicationCheck, ReplicationKms, ReplicationReport, ReplicationRuleSpec, ReplicationSpec, RoleName,
};
pub use store::{MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, S3Options, S3Store};
