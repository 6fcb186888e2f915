//! # deploy-aws
//!
//! AWS backends of `deploy`'s traits, and typed modules for the AWS pieces
//! that have no cloud-neutral meaning. Each service sits behind its own cargo
//! feature, so a program that needs only S3 compiles only S3:
//!
//! | feature   | what                                                          |
//! | --------- | ------------------------------------------------------------- |
//! | `s3`      | `s3::S3Store`: the `ObjectStore` on Amazon S3; cross-region replication (`s3::ReplicationSpec`, the role part with `iam`) |
//! | `secrets` | `secrets::SecretsManagerStore`: the `SecretStore` on Secrets Manager |
//! | `kms`     | `kms`: symmetric keys by alias, rotation, key policies        |
//! | `iam`     | `iam`: users, managed policies, access keys, roles            |
//! | `rds`     | `rds::RdsDatabase`: the `Database` front over `RdsInstances` (PostgreSQL, MySQL) and `AuroraClusters` |
//! | `eks`     | `eks::EksCluster`: the `Cluster` on EKS, `k8s-aws-v1.` tokens |
//! | `backup`  | `backup::AwsBackupVault`: the `BackupVault` on AWS Backup     |
//! | `sts`     | `sts`: the caller's account and ARN                           |
//! | `ec2`     | `network::Network`: VPC and subnets, the database security group, the S3 gateway endpoint |
//! | `route53` | `dns::Dns`: hosted zones (public, or private to a VPC) and their records |
//! | `cloudwatch` | `alarms::Alarms`: the database and backup health alarms, notifying an SNS topic |
//! | `eks` + `iam` | `pod_access::PodAccess`: keyless pod access — the cluster's IAM OIDC provider and service-account roles (IRSA), EKS Pod Identity associations |
//!
//! The pure pieces — typed IAM policy documents ([`policy`]), the one error
//! mapping ([`error`]) and the request recorder ([`record`]) — need no feature.
//!
//! Every backend takes the caller's own [`SdkConfig`] (region, credentials,
//! retry settings, endpoint) rather than loading one itself:
//!
//! ```no_run
//! # #[cfg(feature = "s3")]
//! # async fn example() -> deploy_core::Result<()> {
//! use deploy_aws::AwsBackends;
//! use deploy_core::{BucketName, BucketSpec, ObjectStore};
//!
//! let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let aws = AwsBackends::from_conf(&sdk_config);
//! let plan = aws.s3().ensure_bucket(&BucketSpec::new(BucketName::new("prod-assets")?)).await?;
//! println!("{plan}");
//! # Ok(())
//! # }
//! ```
//!
//! With a custom endpoint (`AWS_ENDPOINT_URL`, a local peer such as moto), S3
//! is addressed path-style.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The cloud-neutral crate this one implements, under its own name (never as `core`, which would shadow the built-in crate in a glob import).
pub use deploy_core;

pub use aws_types::SdkConfig;

pub mod context;
pub mod error;
pub mod policy;
pub mod record;

#[cfg(feature = "cloudwatch")]
pub mod alarms;
#[cfg(feature = "backup")]
pub mod backup;
#[cfg(feature = "route53")]
pub mod dns;
#[cfg(feature = "efs")]
pub mod efs;
#[cfg(feature = "eks")]
pub mod eks;
#[cfg(feature = "environment")]
pub mod environment;
#[cfg(feature = "iam")]
pub mod iam;
#[cfg(feature = "kms")]
pub mod kms;
#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "ec2")]
pub mod network;
#[cfg(all(feature = "eks", feature = "iam"))]
pub mod pod_access;
#[cfg(feature = "rds")]
pub mod rds;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "sts")]
pub mod sts;

mod backends;
#[cfg(feature = "route53")]
mod cdata;
mod convert;
#[cfg(any(feature = "ec2", feature = "kms"))]
mod once;
mod retry_events;

pub use backends::AwsBackends;
pub use context::{AwsContext, bounded_timeouts, timeout_config};

pub use error::{ErrorClass, classify};

pub use record::RequestLog;
