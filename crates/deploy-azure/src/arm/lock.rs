//! Management locks (`Microsoft.Authorization/locks`): `CanNotDelete` is how
//! deletion protection is done on Azure (the flexible server has no flag).
//!
//! [`LockSpec`] is an [`ArmSpec`]: `arm.ensure(&spec)` puts the lock, or
//! changes its level.

use std::borrow::Cow;

use deploy_core::plan::Diff;
use deploy_core::{Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, ArmSpec, Difference, Write, api, check_resource_id, str_at};

/// The lock level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockLevel {
    /// Reads and updates allowed, deletes refused.
    CanNotDelete,
    /// Only reads allowed.
    ReadOnly,
}

impl LockLevel {
    fn as_str(self) -> &'static str {
        match self {
            LockLevel::CanNotDelete => "CanNotDelete",
            LockLevel::ReadOnly => "ReadOnly",
        }
    }
}

/// A lock on a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockSpec {
    /// The locked resource's id.
    pub scope: String,
    /// The lock's name.
    pub name: String,
    /// Its level.
    pub level: LockLevel,
    /// Why it is there.
    pub notes: String,
}

fn lock_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/locks/{name}")
}

fn body(level: LockLevel, notes: &str) -> Value {
    json!({ "properties": { "level": level.as_str(), "notes": notes } })
}

impl ArmSpec for LockSpec {
    const KIND: &'static str = "lock";
    const API_VERSION: &'static str = api::LOCKS;

    fn validate(&self) -> Result<()> {
        check_resource_id("scope", &self.scope)?;
        let bad = |c: char| c.is_control() || "<>%&:\\?/".contains(c);
        if self.name.is_empty() || self.name.len() > 260 || self.name.contains(bad) {
            return Err(Error::invalid(
                "name",
                format!("{:?} is not a lock name", self.name),
                "1 to 260 characters, none of `<>%&:\\?/` or control characters",
            ));
        }
        if self.notes.chars().count() > 512 {
            return Err(Error::invalid(
                "notes",
                format!("{} characters", self.notes.chars().count()),
                "lock notes: at most 512 characters",
            ));
        }
        Ok(())
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, _: &ArmClient) -> String {
        lock_path(&self.scope, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        body(self.level, &self.notes)
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        update.field("level", &str_at(current, "/properties/level").unwrap_or(""), &self.level.as_str());
        Difference::update(update, || Write::Put(body(self.level, &self.notes)))
    }
}

impl ArmClient {
    /// The level of lock `name` on the resource `scope` (a full resource id), if any.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `scope`; ARM errors.
    pub async fn lock_level(&self, scope: &str, name: &str) -> Result<Option<LockLevel>> {
        check_resource_id("scope", scope)?;
        let lock = self.resource(lock_path(scope, name), api::LOCKS, LockSpec::KIND, name).get().await?;
        Ok(lock.and_then(|l| match str_at(&l, "/properties/level") {
            Some("CanNotDelete") => Some(LockLevel::CanNotDelete),
            Some("ReadOnly") => Some(LockLevel::ReadOnly),
            _ => None,
        }))
    }

    /// Remove lock `name` from `scope` (missing is fine); answers whether it existed.
    ///
    /// # Errors
    /// As [`ArmClient::lock_level`].
    pub async fn remove_lock(&self, scope: &str, name: &str) -> Result<bool> {
        if self.lock_level(scope, name).await?.is_none() {
            return Ok(false);
        }
        self.resource(lock_path(scope, name), api::LOCKS, LockSpec::KIND, name).delete().await?;
        Ok(true)
    }
}
