//! Azure backends of `deploy`: Blob Storage, the Resource Manager plane, Key Vault.
//!
//! Each service is behind its own cargo feature:
//!
//! | feature | module | what |
//! | --- | --- | --- |
//! | (always) | [`sas`] | account SAS signer (and Azurite's dev-account constants) |
//! | `blob` | `blob` | [`deploy_core::ObjectStore`] on Blob Storage (`BlobStore`) |
//! | `blob` or `arm` | `credential` | service-principal login (`ServicePrincipal`) |
//! | `arm` | `arm` | Azure Resource Manager client and resources: resource groups, storage accounts, networks and peerings, private DNS links, PostgreSQL flexible server (`Database`), AKS (`Cluster`), role assignments, locks |
//! | (always) | [`runbook`] | the container part of the disaster-recovery runbook over any `ObjectStore` |
//! | `keyvault` | `keyvault` | [`deploy_core::SecretStore`] on Key Vault (`KeyVaultSecrets`) |
//! | (always) | [`backup`] | how backups map on Azure (no `BackupVault` implementation) |
//! | `arm` + `blob` + `keyvault` | `AzureBackends` | the backends of an environment (`deploy_core::env::Backends`) from one subscription, credential, resource group and location |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use deploy_core as core;

pub mod backup;
pub mod sas;

#[cfg(any(feature = "blob", feature = "arm"))]
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
