//! Unique names for one run of a suite (a leaf: the suites import it).

use rand::Rng;

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

pub(super) fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).expect("conformance key")
}
