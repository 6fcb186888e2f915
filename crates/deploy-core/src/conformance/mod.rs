//! Conformance suites, one per trait: the behaviour every backend must show,
//! run by the in-memory backends here and by every provider backend against
//! its local peer. Downstream users run them on their own backends too.
//!
//! Each suite is an `async fn` taking the backend as `&dyn Trait` and a
//! [`Names`] that keeps its resources apart from other runs; it panics with a
//! message saying what the backend got wrong. Each sub-check is public too.
//! The suites that create sized resources take their specs from the backend
//! under test ([`DatabaseSuite`], [`ClusterSuite`]: instance classes,
//! versions, password rules, and what the backend legitimately does not do),
//! so that every backend of every trait runs them.

mod backup;
mod bad_input;
mod check;
mod cluster;
mod database;
mod names;
mod objects;
pub mod peers;
mod secrets;

pub use backup::{backup_recovery_points, backup_vault_and_plan};
pub use bad_input::{bad_restore_times, bad_specs};
pub use cluster::ClusterSuite;
pub use database::DatabaseSuite;
pub use names::Names;
pub use objects::{
    awkward_keys, copy_objects, delete_bucket_needs_confirmation, delete_objects, ensure_bucket_idempotent, listing, not_found,
    object_store, streaming,
};
pub use secrets::secret_store;
