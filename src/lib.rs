//! # deploy
//!
//! Typed, idempotent, tested infrastructure steps for running a vendor's
//! self-hosted application (a Helm chart on EKS or AKS, a managed PostgreSQL and
//! an object-storage bucket) on AWS and Azure.
//!
//! This facade re-exports everything of [`deploy_core`] at its root (always:
//! `deploy::ObjectStore`, `deploy::recipes`, `deploy::memory`, ...; it never
//! shadows the built-in `core`) and the provider crates behind the features `aws`, `azure-blob`, `azure-arm`,
//! `azure-keyvault` and `k8s`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use deploy::env::{Backends, Environments};
//! use deploy::memory::InMemoryCloud;
//! use deploy::recipes::{Location, SnapshotLayout, SnapshotOptions, snapshot_bucket};
//! use deploy::{BucketName, ObjectStore};
//!
//! async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//!     // Any backend behind the traits: in memory here, S3/RDS/EKS or Blob/ARM/AKS in production.
//!     let cloud = InMemoryCloud::new();
//!     let backends = Backends::in_memory(&cloud);
//!
//!     // An environment from TOML: plan, then ensure (idempotent).
//!     let envs = Environments::from_toml(&std::fs::read_to_string("environments.toml")?)?;
//!     let prod = envs.get("production")?;
//!     println!("{}", prod.plan(&backends).await?);
//!     prod.ensure(&backends).await?;
//!
//!     // A bucket snapshot into another bucket under a timestamped folder, manifest last.
//!     let store: Arc<dyn ObjectStore> = Arc::new(cloud.clone());
//!     let (assets, backup) = (BucketName::new("acme-prod-assets")?, BucketName::new("acme-prod-backup")?);
//!     let report = snapshot_bucket(
//!         Location::new(store.as_ref(), &assets),
//!         Location::new(store.as_ref(), &backup),
//!         &SnapshotOptions::new(SnapshotLayout::new("daily")?),
//!     )
//!     .await?;
//!     println!("{report}");
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use deploy_core::*;

#[cfg(feature = "aws")]
pub use deploy_aws as aws;
#[cfg(feature = "azure")]
pub use deploy_azure as azure;
#[cfg(feature = "k8s")]
pub use deploy_k8s as k8s;
