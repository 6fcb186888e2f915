//! Access keys of an IAM user, kept in a [`SecretStore`], that never strand a
//! key and rotate without a moment with no working key stored.
//!
//! IAM hands a key's secret out once, in the answer to `CreateAccessKey`, and
//! a user has at most two keys. So:
//! - a key whose secret could not be stored is deleted again (rolled back),
//!   unless the store may hold it after all (its answer was lost and it cannot
//!   be read back): then it is kept and the error says so;
//! - a key created by a request whose answer was lost (the SDK does not retry
//!   `CreateAccessKey`; a key that appeared during the call and is not the one
//!   answered) is deleted: nobody has its secret;
//! - [`Iam::rotate_access_key`] stores the new key, and only once the store
//!   holds it deactivates and then deletes the old one; a failure at any step
//!   leaves a working key stored, and running it again finishes the rotation.

use std::fmt;
use std::time::Duration;

use aws_sdk_iam::types::StatusType;
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::secret_store::{PutSecretOptions, SecretStore};
use deploy_core::{Error, Result, SecretName};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::names::IamName;
use super::service::{Iam, op};
use crate::error::{SdkResultExt, missing};
use deploy_core::reconcile::Ensured;

/// An access key: its secret is a [`SecretString`], redacted in `Debug`.
#[derive(Clone)]
pub struct AccessKey {
    /// The user it belongs to.
    pub user: IamName,
    /// The access key id (`AKIA...`), not secret.
    pub id: String,
    /// The secret access key.
    pub secret: SecretString,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey").field("user", &self.user).field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// One of a user's access keys, as IAM lists it (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyInfo {
    /// The access key id.
    pub id: String,
    /// Whether it is active (an inactive key authenticates nothing).
    pub active: bool,
    /// When it was created (seconds since the epoch).
    pub created: Option<i64>,
}

/// How [`Iam::ensure_access_key`] stores a key in a [`SecretStore`]: JSON with
/// the field names of the AWS CLI and SDK credential files.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StoredAccessKey {
    access_key_id: String,
    secret_access_key: String,
}

/// What [`Iam::rotate_access_key`] does with the old key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotateOptions {
    /// How long to wait between storing the new key and deactivating the old
    /// one, for the programs using the key to read the new one (default 0).
    pub grace: Duration,
    /// Delete the old key once deactivated (default true). When false, it
    /// stays inactive (reactivate it to go back); the next rotation deletes it.
    pub delete_old: bool,
}

impl Default for RotateOptions {
    fn default() -> Self {
        RotateOptions { grace: Duration::ZERO, delete_old: true }
    }
}

/// What [`Iam::rotate_access_key`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The key now stored and active.
    pub current: String,
    /// The keys retired (deactivated, and deleted unless asked otherwise).
    pub retired: Vec<String>,
}

fn json(key: &AccessKey) -> SecretString {
    let stored = StoredAccessKey { access_key_id: key.id.clone(), secret_access_key: key.secret.expose_secret().to_owned() };
    SecretString::from(serde_json::to_string(&stored).expect("two strings serialize"))
}

/// Where the store stands about a key after a write whose outcome is unknown.
enum Stored {
    /// It holds this key.
    This,
    /// It holds another key, or none.
    Other,
    /// It cannot be read.
    Unknown(Error),
}

impl Iam {
    /// Create an access key for the user. The secret is handed out once, here:
    /// keep it (or use [`Iam::ensure_access_key`], which stores it). The SDK
    /// does not retry the request: a lost answer would leave a key nobody
    /// has the secret of (see [`Iam::ensure_access_key`], which cleans up).
    ///
    /// # Errors
    /// [`Error::NotFound`]; a provider error when the user has two keys already.
    pub async fn create_access_key(&self, user: &IamName) -> Result<AccessKey> {
        let create = op("CreateAccessKey");
        let no_retry = aws_sdk_iam::config::Builder::default().retry_config(aws_smithy_types::retry::RetryConfig::disabled());
        let out = self.client.create_access_key().user_name(user.as_str()).customize().config_override(no_retry).send().await.on(
            create,
            "iam user",
            user.as_str(),
        )?;
        let key = out.access_key().ok_or_else(|| missing(create, "access key"))?;
        Ok(AccessKey {
            user: user.clone(),
            id: key.access_key_id().to_owned(),
            secret: SecretString::from(key.secret_access_key().to_owned()),
        })
    }

    /// The user's access keys, with their status.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn access_keys(&self, user: &IamName) -> Result<Vec<AccessKeyInfo>> {
        let list = op("ListAccessKeys");
        let mut keys = Vec::new();
        let mut pages = self.client.list_access_keys().user_name(user.as_str()).into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page.on(list, "iam user", user.as_str())?.access_key_metadata().iter().filter_map(|k| {
                Some(AccessKeyInfo {
                    id: k.access_key_id()?.to_owned(),
                    active: k.status() == Some(&StatusType::Active),
                    created: k.create_date().map(|d| d.secs()),
                })
            }));
        }
        Ok(keys)
    }

    /// The user's access key ids.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn list_access_keys(&self, user: &IamName) -> Result<Vec<String>> {
        Ok(self.access_keys(user).await?.into_iter().map(|k| k.id).collect())
    }

    /// The id of the key `store` holds under `secret`, if any (and readable as a stored key).
    async fn stored_key_id(&self, store: &dyn SecretStore, secret: &SecretName) -> Result<Option<String>> {
        if !store.secret_exists(secret).await? {
            return Ok(None);
        }
        let value = store.get_secret(secret).await?;
        Ok(serde_json::from_str::<StoredAccessKey>(value.value.expose_secret()).ok().map(|k| k.access_key_id))
    }

    async fn stored_now(&self, store: &dyn SecretStore, secret: &SecretName, id: &str) -> Stored {
        match self.stored_key_id(store, secret).await {
            Ok(Some(stored)) if stored == id => Stored::This,
            Ok(_) => Stored::Other,
            Err(e) => Stored::Unknown(e),
        }
    }

    /// Create a key, at most three attempts: after an attempt that failed in
    /// a way that may hide a success, the key it made (nobody has its secret)
    /// is deleted before trying again.
    async fn create_key_once(&self, user: &IamName, before: &[AccessKeyInfo]) -> Result<AccessKey> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.create_key_cleanly(user, before).await {
                Err(e) if e.is_retryable() && attempt < 3 => {
                    tracing::warn!(target: "deploy", user = user.as_str(), error = %e, "creating an access key failed; trying again");
                }
                other => return other,
            }
        }
    }

    /// Create a key and make sure no other key appeared meanwhile: a key that
    /// was not there before and is not the one answered was made by this call
    /// (a lost answer) and nobody has its secret, so it is deleted.
    async fn create_key_cleanly(&self, user: &IamName, before: &[AccessKeyInfo]) -> Result<AccessKey> {
        let created = self.create_access_key(user).await;
        let keep = created.as_ref().ok().map(|k| k.id.clone());
        let strays: Vec<String> = match self.access_keys(user).await {
            Ok(now) => {
                now.into_iter().map(|k| k.id).filter(|id| !before.iter().any(|b| &b.id == id) && Some(id) != keep.as_ref()).collect()
            }
            Err(e) if created.is_ok() => {
                tracing::warn!(target: "deploy", user = user.as_str(), error = %e, "could not list the access keys after creating one");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        for stray in strays {
            tracing::warn!(target: "deploy", user = user.as_str(), key = stray.as_str(), "deleting an access key whose creation answer was lost");
            self.delete_access_key(user, &stray).await?;
        }
        created
    }

    /// Delete one access key (gone already is fine).
    ///
    /// # Errors
    /// Provider errors.
    pub async fn delete_access_key(&self, user: &IamName, id: &str) -> Result<()> {
        match self.client.delete_access_key().user_name(user.as_str()).access_key_id(id).send().await.on(
            op("DeleteAccessKey"),
            "access key",
            id,
        ) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Deactivate one access key.
    ///
    /// # Errors
    /// [`Error::NotFound`]; provider errors.
    pub async fn deactivate_access_key(&self, user: &IamName, id: &str) -> Result<()> {
        self.client.update_access_key().user_name(user.as_str()).access_key_id(id).status(StatusType::Inactive).send().await.on(
            op("UpdateAccessKey"),
            "access key",
            id,
        )?;
        Ok(())
    }

    /// Create a key and store it; roll the key back when the store refused it.
    async fn create_and_store(
        &self,
        user: &IamName,
        before: &[AccessKeyInfo],
        store: &dyn SecretStore,
        secret: &SecretName,
    ) -> Result<AccessKey> {
        let key = self.create_key_once(user, before).await?;
        let options = PutSecretOptions { description: Some(format!("access key of IAM user {user}")), ..PutSecretOptions::default() };
        let Err(put) = store.put_secret(secret, json(&key), &options).await else { return Ok(key) };
        match self.stored_now(store, secret, &key.id).await {
            // The write went through; only its answer was lost.
            Stored::This => Ok(key),
            Stored::Other => {
                self.delete_access_key(user, &key.id).await.map_err(|e| {
                    Error::conflict("access key", key.id.clone(), format!("could not be stored ({put}) nor deleted again ({e}): delete it"))
                })?;
                Err(put)
            }
            Stored::Unknown(read) => Err(Error::conflict(
                "access key",
                key.id.clone(),
                format!(
                    "storing it in secret `{secret}` failed ({put}) and the secret cannot be read back ({read}): it is kept, as the secret may hold it"
                ),
            )),
        }
    }

    /// Make sure `store` holds a working access key of the user under `secret`
    /// (JSON `{"AccessKeyId": .., "SecretAccessKey": ..}`): when the stored key
    /// exists and is active nothing is done; otherwise a new key is created
    /// and stored, and rolled back when it cannot be stored. Answers the key id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the user; [`Error::Conflict`] when a new key is
    /// needed but the user has two keys already (IAM's limit), or when a key
    /// could be neither stored nor deleted; store errors (the new key is then
    /// deleted again).
    pub async fn ensure_access_key(&self, user: &IamName, store: &dyn SecretStore, secret: &SecretName) -> Result<Ensured<String>> {
        let keys = self.access_keys(user).await?;
        let stored = self.stored_key_id(store, secret).await?;
        if let Some(id) = stored.as_ref().filter(|id| keys.iter().any(|k| &k.id == *id && k.active)) {
            return Ok(Ensured { info: id.clone(), plan: Plan::new() });
        }
        if keys.len() >= 2 {
            let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
            return Err(Error::conflict(
                "iam user",
                user.as_str(),
                format!("has two access keys already ({}), none of them active in secret `{secret}`: delete one first", ids.join(", ")),
            ));
        }
        let key = self.create_and_store(user, &keys, store, secret).await?;
        let change = match stored {
            Some(old) => Change::update("access key", user.as_str(), vec![FieldChange::new("id", old, &key.id)]),
            None => Change::create("access key", user.as_str()),
        };
        Ok(Ensured { info: key.id, plan: Plan::from_iter([change]) })
    }

    /// Rotate the user's access key (credential rotation): create
    /// a new key, store it under `secret` (the switch: programs read the key
    /// there), wait `options.grace`, then deactivate and delete (unless
    /// `options.delete_old` is false) the old one.
    ///
    /// The user never has more than two keys: other keys that are not the
    /// stored one are inactive leftovers of earlier rotations (deleted first)
    /// or a key whose storing failed (deleted: nobody has its secret). A
    /// failure at any step leaves a working key stored — the old one until
    /// the store holds the new one — and running it again after a failure
    /// past the switch finishes that rotation (the stored key is the newest
    /// and the old one still active) instead of creating another key.
    ///
    /// # Errors
    /// [`Error::NotFound`] for the user; [`Error::Conflict`] when the user has
    /// keys but `secret` holds none of them active (a key in use elsewhere is
    /// never retired); store errors (the new key is deleted again); provider
    /// errors of deactivating or deleting the old key (the new one is stored
    /// and active then).
    pub async fn rotate_access_key(
        &self,
        user: &IamName,
        store: &dyn SecretStore,
        secret: &SecretName,
        options: &RotateOptions,
    ) -> Result<Ensured<Rotation>> {
        let keys = self.access_keys(user).await?;
        let stored = self.stored_key_id(store, secret).await?;
        let Some(current) = stored.as_ref().and_then(|id| keys.iter().find(|k| &k.id == id && k.active)).cloned() else {
            if keys.is_empty() {
                let made = self.ensure_access_key(user, store, secret).await?;
                return Ok(Ensured { info: Rotation { current: made.info, retired: Vec::new() }, plan: made.plan });
            }
            return Err(Error::conflict(
                "iam user",
                user.as_str(),
                format!(
                    "secret `{secret}` holds none of its active keys: rotation retires only keys it replaced (store one with ensure_access_key)"
                ),
            ));
        };
        let others: Vec<&AccessKeyInfo> = keys.iter().filter(|k| k.id != current.id).collect();
        let mut plan = Plan::new();
        let mut retired = Vec::new();
        // Switched already, the old key still active: a rotation interrupted after its switch.
        let finishing = others.iter().any(|o| o.active) && others.iter().all(|o| o.created <= current.created);
        let new_id = if finishing {
            tracing::info!(target: "deploy", user = user.as_str(), key = current.id.as_str(), "finishing an interrupted rotation");
            current.id.clone()
        } else {
            for other in &others {
                self.retire(user, other, true, &mut plan).await?;
                retired.push(other.id.clone());
            }
            let remaining = self.access_keys(user).await?;
            let key = self.create_and_store(user, &remaining, store, secret).await?;
            plan.push(Change::update("access key", user.as_str(), vec![FieldChange::new("id", &current.id, &key.id)]));
            key.id
        };
        if !options.grace.is_zero() {
            tokio::time::sleep(options.grace).await;
        }
        for old in self.access_keys(user).await?.into_iter().filter(|k| k.id != new_id) {
            self.retire(user, &old, options.delete_old, &mut plan).await?;
            if !retired.contains(&old.id) {
                retired.push(old.id);
            }
        }
        Ok(Ensured { info: Rotation { current: new_id, retired }, plan })
    }

    /// Deactivate `key` (when active), then delete it when `delete`.
    async fn retire(&self, user: &IamName, key: &AccessKeyInfo, delete: bool, plan: &mut Plan) -> Result<()> {
        if key.active {
            self.deactivate_access_key(user, &key.id).await?;
            plan.push(Change::update("old access key", key.id.as_str(), vec![FieldChange::new("status", "Active", "Inactive")]));
        }
        if delete {
            self.delete_access_key(user, &key.id).await?;
            plan.push(Change::delete("old access key", key.id.as_str()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_keys_redact_their_secret() {
        let key = AccessKey { user: IamName::new("u").unwrap(), id: "AKIAEXAMPLE".into(), secret: SecretString::from("wJalrXUtnFEMI") };
        let shown = format!("{key:?}");
        assert!(shown.contains("AKIAEXAMPLE") && !shown.contains("wJalrXUtnFEMI"), "{shown}");
    }
}
