//! # deploy
//!
//! Typed, idempotent, tested infrastructure steps for running a vendor's
//! self-hosted application (a Helm chart on EKS or AKS, a managed PostgreSQL and
//! an object-storage bucket) on AWS and Azure.
//!
//! This facade re-exports [`deploy_core`] as [`core`] (always) and the provider
//! crates behind the features `aws`, `azure` and `k8s`.
#![forbid(unsafe_code)]

pub use deploy_core as core;
pub use deploy_core::*;

#[cfg(feature = "aws")]
pub use deploy_aws as aws;
#[cfg(feature = "azure")]
pub use deploy_azure as azure;
#[cfg(feature = "k8s")]
pub use deploy_k8s as k8s;
