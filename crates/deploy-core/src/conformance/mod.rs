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
mod cluster;
mod database;
mod objects;
pub mod peers;
mod secrets;

pub use backup::{backup_recovery_points, backup_vault_and_plan};
pub use bad_input::{bad_restore_times, bad_specs};
pub use cluster::ClusterSuite;
pub use database::DatabaseSuite;
pub use objects::{
    awkward_keys, copy_objects, delete_bucket_needs_confirmation, delete_objects, ensure_bucket_idempotent, listing, not_found,
    object_store, streaming,
};
pub use secrets::secret_store;

use rand::Rng;

use crate::error::Error;
use crate::validate::{BucketName, ObjectKey, ResourceName, SecretName};

/// Unique names for one run of a suite: every resource starts with the prefix.
#[derive(Clone, Debug)]
pub struct Names {
    prefix: String,
}

impl Names {
    /// Names starting with `prefix` (lowercase letters, digits, hyphens; begin with a letter).
    pub fn new(prefix: &str) -> Self {
        Names { prefix: prefix.to_owned() }
    }

    /// Names starting with `cf` and six random characters.
    pub fn unique() -> Self {
        let mut rng = rand::rng();
        let suffix: String = (0..6).map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)])).collect();
        Names { prefix: format!("cf{suffix}") }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A bucket name.
    pub fn bucket(&self, suffix: &str) -> BucketName {
        BucketName::new(format!("{}-{suffix}", self.prefix)).expect("conformance bucket name")
    }

    /// A resource name.
    pub fn resource(&self, suffix: &str) -> ResourceName {
        ResourceName::new(format!("{}-{suffix}", self.prefix)).expect("conformance resource name")
    }

    /// A secret name.
    pub fn secret(&self, suffix: &str) -> SecretName {
        SecretName::new(format!("{}-{suffix}", self.prefix)).expect("conformance secret name")
    }
}

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).expect("conformance key")
}

#[track_caller]
fn expect_err<T: std::fmt::Debug>(what: &str, r: crate::Result<T>, want: impl Fn(&Error) -> bool) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected an error, got Ok({v:?})"),
        Err(e) if want(&e) => e,
        Err(e) => panic!("{what}: wrong error: {e:?}"),
    }
}

#[track_caller]
fn ok<T>(what: &str, r: crate::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}
