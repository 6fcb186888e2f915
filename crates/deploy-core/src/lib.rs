//! # deploy-core
//!
//! The cloud-neutral heart of `deploy`: the five traits ([`Cluster`],
//! [`Database`], [`ObjectStore`], [`SecretStore`], [`BackupVault`]), validated
//! names and values, one error type, one waiter, plans, recipes (bucket
//! snapshot and restore, disaster recovery, teardown), in-memory backends
//! and — behind features — mocks and conformance suites.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

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
