//! Azure backends of `deploy`: Blob Storage, the Resource Manager plane, Key Vault.
//!
//! Each service is behind its own cargo feature:
//!
//! | feature | module | what |
//! | --- | --- | --- |
//! | (always) | [`sas`] | account SAS signer (and Azurite's dev-account constants) |
//! | `blob` | `blob` | [`deploy_core::ObjectStore`] on Blob Storage (`BlobStore`) |
//! | `blob`, `arm` or `keyvault` | `credential` | signing in: service principal, AKS workload identity, managed identity, a static token (`from_env_with` picks one from the environment) |
//! | `arm` | `arm` | Azure Resource Manager client and resources: resource groups, storage accounts, Azure Files shares, networks and peerings, private DNS links, PostgreSQL flexible server (`Database`), AKS (`Cluster`), Log Analytics workspaces and diagnostic settings, role assignments, locks |
//! | (always) | [`runbook`] | the container part of the disaster-recovery runbook over any `ObjectStore` |
//! | `keyvault` | `keyvault` | [`deploy_core::SecretStore`] on Key Vault (`KeyVaultSecrets`) |
//! | (always) | [`backup`] | how backups map on Azure (no `BackupVault` implementation) |
//! | `arm` + `blob` + `keyvault` | `AzureBackends` | the backends of an environment (`deploy_core::env::Backends`) from one subscription, credential, resource group and location |
//! | `arm` + `blob` + `keyvault` | `environment` | a whole environment planned, applied, read and destroyed in dependency order (`AzureEnvironment`: resource group, VNet and subnets, private DNS, storage account, AKS, flexible servers, Azure Files, control-plane logs, role assignment) |
//!
//! # Example
//!
//! An ARM client signed in from the environment (a service principal,
//! workload or managed identity), and a resource planned before anything is
//! made (`arm.plan(&spec)` asks ARM what exists; `arm.ensure(&spec)` applies):
//!
//! ```
//! # #[cfg(feature = "arm")] {
//! use std::sync::Arc;
//! use deploy_azure::arm::ArmClient;
//! use deploy_azure::arm::group::ResourceGroupSpec;
//! use deploy_azure::credential::StaticToken;
//! use secrecy::SecretString;
//!
//! // In a program: deploy_azure::credential::from_env_with(CredentialSource::Auto, None)?
//! let credential = Arc::new(StaticToken::new(SecretString::from("eyJ-not-a-real-token")));
//! let arm = ArmClient::builder("00000000-0000-0000-0000-000000000001", credential)
//!     .endpoint("https://management.usgovcloudapi.net") // the token is asked for this cloud's scope
//!     .build()?;
//! assert_eq!(arm.group_path("app-rg"), "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app-rg");
//! let spec = ResourceGroupSpec::new("app-rg", "usgovvirginia");
//! assert_eq!(spec.name, "app-rg");
//! # }
//! # Ok::<(), deploy_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The cloud-neutral crate this one implements, under its own name (never as `core`, which would shadow the built-in crate in a glob import).
pub use deploy_core;

pub mod backup;
pub mod sas;

#[cfg(any(feature = "blob", feature = "arm", feature = "keyvault"))]
pub mod credential;
#[cfg(any(feature = "blob", feature = "arm", feature = "keyvault"))]
mod error;

#[cfg(feature = "blob")]
pub mod blob;

#[cfg(feature = "arm")]
pub mod arm;

#[cfg(feature = "keyvault")]
pub mod keyvault;

#[cfg(any(feature = "blob", feature = "arm", feature = "keyvault"))]
mod timeouts;

pub mod runbook;

#[cfg(all(feature = "arm", feature = "blob", feature = "keyvault"))]
mod backends;
#[cfg(all(feature = "arm", feature = "blob", feature = "keyvault"))]
pub use backends::AzureBackends;
#[cfg(all(feature = "arm", feature = "blob", feature = "keyvault"))]
pub use backends::AzureStores;

#[cfg(all(feature = "arm", feature = "blob", feature = "keyvault"))]
pub mod environment;
