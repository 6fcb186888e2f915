//! Azure backends of `deploy`: Blob Storage, the Resource Manager plane, Key Vault.
#![forbid(unsafe_code)]

pub use deploy_core as core;

pub mod sas;
