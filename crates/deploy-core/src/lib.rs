//! # deploy-core
//!
//! The cloud-neutral heart of `deploy`: the five traits ([`Cluster`],
//! [`Database`], [`ObjectStore`], [`SecretStore`], [`BackupVault`]), validated
//! names and values, one error type, one waiter, plans, recipes (bucket
//! snapshot and restore, disaster recovery, teardown), in-memory backends
//! and — behind features — mocks and conformance suites.
//!
//! # Example
//!
//! A bucket snapshot on the in-memory backend: the same call runs on S3
//! (`deploy-aws`) or Blob Storage (`deploy-azure`), any [`ObjectStore`].
//!
//! ```
//! use deploy_core::memory::InMemoryCloud;
//! use deploy_core::recipes::{Location, SnapshotLayout, SnapshotOptions, snapshot_bucket};
//! use deploy_core::{BucketName, BucketSpec, ObjectKey, ObjectStore as _, ObjectStoreExt as _};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let cloud = InMemoryCloud::new();
//! let (assets, backup) = (BucketName::new("acme-assets")?, BucketName::new("acme-backup")?);
//! for bucket in [&assets, &backup] {
//!     cloud.ensure_bucket(&BucketSpec::new(bucket.clone())).await?;
//! }
//! cloud.put_bytes(&assets, &ObjectKey::new("models/m1.json")?, "{}".into()).await?;
//! let options = SnapshotOptions::new(SnapshotLayout::new("nightly")?);
//! let report = snapshot_bucket(Location::new(&cloud, &assets), Location::new(&cloud, &backup), &options).await?;
//! assert_eq!(report.objects, 1);
//! # Ok::<(), deploy_core::Error>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod builder;
pub mod env;
pub mod error;
pub mod plan;
pub mod recipes;
pub mod reconcile;
pub mod validate;

/// What the exported macros reach through `$crate`; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}

pub use error::{BoxError, Confirm, Error, Result, ResultExt};
pub use plan::{Action, Change, Diff, FieldChange, Plan};
pub use reconcile::{Ensured, Mode, Reconcile, Reconciled};
pub use validate::{
    BucketName, CidrBlock, ContainerName, CronSchedule, KubernetesVersion, ObjectKey, Password, PasswordRules, PgIdentifier, ResourceName,
    RetentionDays, SecretName,
};

pub mod backup;
pub mod bootstrap;
pub mod cluster;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod database;
mod forward;
pub mod memory;
#[cfg(feature = "mock")]
pub mod mock;
pub mod object_store;
pub mod observe;
pub mod secret_store;
pub mod service_account;
pub mod throttle;
pub mod timeouts;
pub mod waiter;

pub use backup::{BackupPlanSpec, BackupRule, BackupSpec, BackupVault, RecoveryPoint, RestoreOptions, VaultSpec};
pub use bootstrap::{BootstrapSpec, DatabaseSetup, Grant, Privilege, PsqlScript, RolePassword, RoleSpec};
pub use cluster::{Cluster, ClusterCredentials, ClusterSpec, EndpointAccess, NodePoolSpec};
pub use database::{Database, DatabaseSpec, FinalSnapshot, RestorePoint, RestoreTarget};
pub use object_store::{BucketSpec, ByteStream, ObjectMeta, ObjectStore, ObjectStoreExt};
pub use observe::{Event, Observer};
pub use secret_store::{SecretStore, SecretValue};
pub use service_account::{IrsaRoleAnnotation, ServiceAccountRef};
pub use timeouts::Timeouts;
pub use waiter::{Poll, Waiter};
