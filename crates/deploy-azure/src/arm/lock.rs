//! Management locks (`Microsoft.Authorization/locks`): `CanNotDelete` is how
//! deletion protection is done on Azure (the flexible server has no flag).

use deploy_core::Result;
use serde_json::json;

use super::{ArmClient, Target, api, check_resource_id, str_at};

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

fn lock_path(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/locks/{name}")
}

impl ArmClient {
    /// The level of lock `name` on the resource `scope` (a full resource id), if any.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `scope`; ARM errors.
    pub async fn lock_level(&self, scope: &str, name: &str) -> Result<Option<LockLevel>> {
        check_resource_id("scope", scope)?;
        let lock = self
            .get(
                &lock_path(scope, name),
                api::LOCKS,
                Target { kind: "lock", name },
            )
            .await?;
        Ok(lock.and_then(|l| match str_at(&l, "/properties/level") {
            Some("CanNotDelete") => Some(LockLevel::CanNotDelete),
            Some("ReadOnly") => Some(LockLevel::ReadOnly),
            _ => None,
        }))
    }

    /// Put lock `name` of `level` on `scope`; answers whether a request was needed.
    ///
    /// # Errors
    /// As [`ArmClient::lock_level`].
    pub async fn ensure_lock(
        &self,
        scope: &str,
        name: &str,
        level: LockLevel,
        notes: &str,
    ) -> Result<bool> {
        if self.lock_level(scope, name).await? == Some(level) {
            return Ok(false);
        }
        let body = json!({ "properties": { "level": level.as_str(), "notes": notes } });
        self.put(
            &lock_path(scope, name),
            api::LOCKS,
            &body,
            Target { kind: "lock", name },
        )
        .await?;
        Ok(true)
    }

    /// Remove lock `name` from `scope` (missing is fine); answers whether it existed.
    ///
    /// # Errors
    /// As [`ArmClient::lock_level`].
    pub async fn remove_lock(&self, scope: &str, name: &str) -> Result<bool> {
        if self.lock_level(scope, name).await?.is_none() {
            return Ok(false);
        }
        self.delete(
            &lock_path(scope, name),
            api::LOCKS,
            Target { kind: "lock", name },
        )
        .await?;
        Ok(true)
    }
}
