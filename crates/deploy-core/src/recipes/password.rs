//! Rotation of a database administrator's password kept in a secret, in an
//! order that never loses the
//! password the instance uses:
//!
//! 1. the new password is written to the *pending* secret `NAME-pending`
//!    (the current secret still holds the password in use);
//! 2. the instance is given the new password, and the rotation waits until
//!    it uses it;
//! 3. the current secret gets the new password (the old one stays as its
//!    previous version);
//! 4. the pending secret is deleted.
//!
//! A failure before step 2 changes nothing that matters: the instance and the
//! current secret still agree. A failure at or after step 2 leaves the new
//! password in the pending secret: running the rotation again finishes it with
//! that password (it never generates another one while a pending one exists).
//! Between such a failure and the next run, the instance may already use the
//! password of the pending secret.

use std::fmt;

use crate::database::Database;
use crate::error::{Confirm, Result};
use crate::secret_store::{PutSecretOptions, SecretStore};
use crate::validate::{Password, PasswordRules, ResourceName, SecretName};

/// The name of the pending secret of `secret`: `NAME-pending`.
///
/// # Errors
/// [`Error::InvalidInput`](crate::Error::InvalidInput) when `secret` is too long to carry the suffix.
pub fn pending_secret(secret: &SecretName) -> Result<SecretName> {
    SecretName::new(format!("{secret}-pending")).map_err(|e| e.in_field("admin_password_secret"))
}

/// What [`rotate_admin_password`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPasswordRotation {
    /// The database.
    pub database: ResourceName,
    /// The secret holding the password now.
    pub secret: SecretName,
    /// Whether this run finished a rotation an earlier run had begun (its pending password).
    pub resumed: bool,
    /// The current secret's version holding the new password.
    pub version: String,
}

impl fmt::Display for AdminPasswordRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.resumed { "finished an interrupted rotation of" } else { "rotated" };
        write!(
            f,
            "{how} the administrator password of {}: secret {} version {} (the old password is its previous version)",
            self.database, self.secret, self.version
        )
    }
}

/// Rotate the administrator password of `database`, kept in `secret`: a new
/// password of `length` characters following `rules`, or the pending one an
/// interrupted rotation left. See the [module docs](self) for the order.
///
/// # Errors
/// [`Error::InvalidInput`](crate::Error::InvalidInput) for `rules`/`length` that cannot make a password
/// or a pending password that breaks `rules` (before any change);
/// [`Error::NotFound`](crate::Error::NotFound) when `secret` or the database does not exist;
/// [`Error::NotSupported`](crate::Error::NotSupported) from backends that cannot set the password; the
/// store's and the database's errors (the pending secret then holds the new
/// password: run it again).
#[tracing::instrument(level = "info", skip_all, fields(database = %name, secret = %secret))]
pub async fn rotate_admin_password(
    database: &dyn Database,
    name: &ResourceName,
    secrets: &dyn SecretStore,
    secret: &SecretName,
    rules: &PasswordRules,
    length: usize,
) -> Result<AdminPasswordRotation> {
    let pending = pending_secret(secret)?;
    let generated = rules.generate(length)?;
    let current = secrets.get_secret(secret).await?;
    let mut resumed = false;
    let password = if secrets.secret_exists(&pending).await? {
        let stored = secrets.get_secret(&pending).await?;
        if secrecy::ExposeSecret::expose_secret(&stored.value) == secrecy::ExposeSecret::expose_secret(&current.value) {
            // The last run stored its password and stopped before deleting the pending secret.
            secrets.delete_secret(&pending, &Confirm::new(pending.as_str())).await?;
            secrets.put_secret(&pending, generated.secret().clone(), &pending_options(name)).await?;
            generated
        } else {
            resumed = true;
            tracing::info!(target: "deploy", database = name.as_str(), secret = pending.as_str(), "finishing an interrupted password rotation");
            Password::new(secrecy::ExposeSecret::expose_secret(&stored.value), rules).map_err(|e| e.in_field(pending.as_str()))?
        }
    } else {
        secrets.put_secret(&pending, generated.secret().clone(), &pending_options(name)).await?;
        generated
    };
    database.set_admin_password(name, &password).await?;
    let written = secrets.put_secret(secret, password.secret().clone(), &PutSecretOptions::default()).await?;
    secrets.delete_secret(&pending, &Confirm::new(pending.as_str())).await?;
    Ok(AdminPasswordRotation { database: name.clone(), secret: secret.clone(), resumed, version: written.version })
}

fn pending_options(name: &ResourceName) -> PutSecretOptions {
    PutSecretOptions { description: Some(format!("administrator password of {name} being rotated")), ..PutSecretOptions::default() }
}

impl From<AdminPasswordRotation> for crate::plan::Change {
    fn from(r: AdminPasswordRotation) -> Self {
        crate::plan::Change::update(
            "admin password",
            r.database.as_str(),
            vec![crate::plan::FieldChange::new("secret version", "previous", r.version)],
        )
    }
}
