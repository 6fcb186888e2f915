//! The integration tests of `deploy-azure`, one binary, one module per area.
//!
//! Blob tests run against Azurite: `scripts/test` (or `scripts/peers` and
//! `source .cache/peers/env`) exports `DEPLOY_AZURITE_BLOB_ENDPOINT`. Without
//! it they print a skip reason and pass, unless `DEPLOY_REQUIRE_PEERS=1`.
//! The management-plane tests run against an in-test fake ARM endpoint.

mod contract;
mod fake_arm;
mod support;

mod aks;
mod arm;
mod blob;
mod blob_safety;
#[cfg(feature = "keyvault")]
mod environment;
#[cfg(feature = "keyvault")]
mod keyvault;
mod monitor_files;
mod postgres;
mod runbook;
