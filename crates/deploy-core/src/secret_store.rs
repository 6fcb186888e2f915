//! [`SecretStore`]: named secrets with versions.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::{Confirm, Result};
use crate::forward::provider_trait;
use crate::validate::SecretName;

/// Options of [`SecretStore::put_secret`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutSecretOptions {
    /// A description.
    pub description: Option<String>,
    /// A customer-managed key to encrypt the secret (KMS key id).
    pub encryption_key: Option<String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// What a put or rotate did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretVersion {
    /// The secret's name.
    pub name: SecretName,
    /// The current version's id.
    pub version: String,
    /// Whether a new version was written (false: the value was already current).
    pub changed: bool,
}

/// A secret's current value.
#[derive(Clone)]
pub struct SecretValue {
    /// The secret's name.
    pub name: SecretName,
    /// The version read.
    pub version: String,
    /// The value (redacted in `Debug`).
    pub value: SecretString,
}

impl Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretValue").field("name", &self.name).field("version", &self.version).field("value", &"<redacted>").finish()
    }
}

provider_trait! {
    /// Named secrets: AWS Secrets Manager, Azure Key Vault, or in memory. Values are
    /// [`SecretString`]s and never appear in `Debug`, `Display`, logs or errors.
    #[cfg_attr(feature = "mock", mockall::automock)]
    #[async_trait]
    pub trait SecretStore: Send + Sync + Debug {
        /// The backend's name.
        fn backend(&self) -> &'static str;

        /// Create the secret, or write a new version when its value differs;
        /// writing the current value again changes nothing.
        ///
        /// # Errors
        /// Provider errors (never carrying the value).
        async fn put_secret(&self, name: &SecretName, value: SecretString, options: &PutSecretOptions) -> Result<SecretVersion>;

        /// The current value.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`].
        async fn get_secret(&self, name: &SecretName) -> Result<SecretValue>;

        /// Whether the secret exists (without reading its value).
        ///
        /// # Errors
        /// Provider errors.
        async fn secret_exists(&self, name: &SecretName) -> Result<bool>;

        /// Write a new version of an existing secret, even when the value is unchanged.
        ///
        /// # Errors
        /// [`crate::Error::NotFound`].
        async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion>;

        /// Delete the secret and its versions: `confirm` must name it.
        ///
        /// # Errors
        /// [`crate::Error::ConfirmationRequired`]; [`crate::Error::NotFound`].
        async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()>;
    }
}
