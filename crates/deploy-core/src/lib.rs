//! # deploy-core
//!
//! The cloud-neutral heart of `deploy`: the five traits ([`Cluster`],
//! [`Database`], [`ObjectStore`], [`SecretStore`], [`BackupVault`]), validated
//! names and values, one error type, one waiter, plans, recipes (bucket
//! snapshot and restore, disaster recovery, teardown), in-memory backends
//! and — behind features — mocks and conformance suites.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod plan;
pub mod validate;

pub use error::{BoxError, Confirm, Error, Result, ResultExt};
pub use plan::{Action, Change, Diff, FieldChange, Plan};
pub use validate::{
    BucketName, CidrBlock, ContainerName, CronSchedule, KubernetesVersion, ObjectKey, Password, PasswordRules,
    PgIdentifier, ResourceName, RetentionDays, SecretName,
};
