//! [`SecretStore`] on Azure Key Vault: [`KeyVaultSecrets`], over the official
//! `azure_security_keyvault_secrets` crate.
//!
//! - **Names** map directly: a [`SecretName`] is the Key Vault secret's name
//!   (its rule, 1 to 127 letters, digits and hyphens, is Key Vault's).
//! - **Versions**: every *Set Secret* makes a new version; [`SecretStore::put_secret`]
//!   reads the current value first and writes only when it differs, so
//!   putting the same value twice makes one version. A version id is the last
//!   segment of the secret's id.
//! - **Options**: `description` becomes the secret's content type (Key Vault
//!   has no description field), `tags` its tags; a customer-managed
//!   `encryption_key` is a property of the vault, not of a secret
//!   ([`Error::NotSupported`]).
//! - **Delete** is Key Vault's soft delete: the secret is gone for reads but
//!   kept, recoverable, for the vault's retention period, and its name stays
//!   taken until it is purged or recovered (a put then answers `Conflict`).
//! - **Time limits**: [`Timeouts::default`] unless the builder is given others
//!   ([`KeyVaultSecretsBuilder::timeouts`]): a connect limit, a limit on every
//!   attempt (answer and body), and one on every operation with its retries;
//!   running past one is [`Error::Timeout`].
//! - **Authentication**: an Entra ID [`TokenCredential`] (for example
//!   [`crate::credential::ServicePrincipal`] with the "Key Vault Secrets
//!   Officer" role), through Key Vault's challenge; HTTPS only. Values are
//!   [`SecretString`]s and never appear in `Debug`, errors or logs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_security_keyvault_secrets::models::{Secret, SecretClientGetSecretOptions, SetSecretParameters};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use deploy_core::secret_store::{PutSecretOptions, SecretVersion};
use deploy_core::timeouts::Timeouts;
use deploy_core::{Confirm, Error, Result, SecretName, SecretStore, SecretValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Call, from_azure};

/// The backend name in reports and errors.
pub const BACKEND: &str = "azure-keyvault";

/// Builds a [`KeyVaultSecrets`].
pub struct KeyVaultSecretsBuilder {
    vault_url: String,
    credential: Arc<dyn TokenCredential>,
    client_options: ClientOptions,
    timeouts: Timeouts,
}

impl fmt::Debug for KeyVaultSecretsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVaultSecretsBuilder").field("vault_url", &self.vault_url).finish_non_exhaustive()
    }
}

impl KeyVaultSecretsBuilder {
    deploy_core::setters! {
        /// The pipeline options of the SDK client: retries, and the transport
        /// (tests route requests to a local fake with it).
        pub fn client_options(client_options: ClientOptions);

        /// The time limits of each call ([`Timeouts::default`] unless set). They
        /// also apply over a transport given in [`KeyVaultSecretsBuilder::client_options`]
        /// (whose connections keep their own connect limit).
        pub fn timeouts(timeouts: Timeouts);
    }

    /// Check the vault URL and build the store. No request is made.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `vault_url` unless it is an `https://` URL
    /// (such as `https://NAME.vault.azure.net`).
    pub fn build(self) -> Result<KeyVaultSecrets> {
        let rule = "the vault's https URL, e.g. https://NAME.vault.azure.net";
        if !self.vault_url.starts_with("https://") {
            return Err(Error::invalid("vault_url", format!("{:?} is not an https URL", self.vault_url), rule));
        }
        let mut client_options = self.client_options;
        client_options.transport = Some(crate::timeouts::transport(&self.timeouts, client_options.transport.take()));
        let options = SecretClientOptions { client_options, ..SecretClientOptions::default() };
        let client = SecretClient::new(&self.vault_url, self.credential, Some(options))
            .map_err(|e| Error::invalid("vault_url", e.to_string(), rule))?;
        Ok(KeyVaultSecrets { client, vault_url: self.vault_url, timeouts: self.timeouts })
    }
}

/// The [`SecretStore`] on one Azure Key Vault. See the [module docs](self).
///
/// ```
/// # use std::sync::Arc;
/// # fn example(credential: Arc<dyn azure_core::credentials::TokenCredential>) -> deploy_core::Result<()> {
/// use deploy_azure::keyvault::KeyVaultSecrets;
/// let secrets = KeyVaultSecrets::builder("https://myapp-kv.vault.azure.net", credential).build()?;
/// # Ok(()) }
/// ```
pub struct KeyVaultSecrets {
    client: SecretClient,
    vault_url: String,
    timeouts: Timeouts,
}

impl fmt::Debug for KeyVaultSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVaultSecrets").field("vault_url", &self.vault_url).finish_non_exhaustive()
    }
}

fn call<'a>(operation: &'a str, name: &'a str) -> Call<'a> {
    Call { provider: BACKEND, operation, kind: "secret", name }
}

/// The version of a secret: the last segment of its id.
fn version_of(secret: &Secret) -> String {
    secret.id.as_deref().and_then(|id| id.rsplit('/').next()).unwrap_or_default().to_owned()
}

impl KeyVaultSecrets {
    /// A builder for the vault at `vault_url`, signing in with `credential`.
    pub fn builder(vault_url: impl Into<String>, credential: Arc<dyn TokenCredential>) -> KeyVaultSecretsBuilder {
        KeyVaultSecretsBuilder {
            vault_url: vault_url.into().trim_end_matches('/').to_owned(),
            credential,
            client_options: ClientOptions::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// Run one operation within the per-operation limit.
    async fn within<T>(&self, operation: &str, name: &str, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let limit = self.timeouts.operation;
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                what: format!("an answer to {operation} of secret {name}"),
                elapsed: limit,
                last_state: format!("no answer within the per-operation limit of {limit:?}"),
            })
        })
    }

    /// The vault's URL.
    pub fn vault_url(&self) -> &str {
        &self.vault_url
    }

    /// The current secret, or `None`.
    async fn current(&self, name: &str) -> Result<Option<Secret>> {
        self.within("GetSecret", name, self.current_unbounded(name)).await
    }

    async fn current_unbounded(&self, name: &str) -> Result<Option<Secret>> {
        match self.client.get_secret(name, None::<SecretClientGetSecretOptions<'_>>).await {
            Ok(response) => Ok(Some(response.into_model().map_err(|e| from_azure(call("GetSecret", name), e))?)),
            Err(e) => match from_azure(call("GetSecret", name), e) {
                e if e.is_not_found() => Ok(None),
                e => Err(e),
            },
        }
    }

    async fn set(&self, name: &str, value: &SecretString, options: &PutSecretOptions) -> Result<String> {
        self.within("SetSecret", name, self.set_unbounded(name, value, options)).await
    }

    async fn set_unbounded(&self, name: &str, value: &SecretString, options: &PutSecretOptions) -> Result<String> {
        let parameters = SetSecretParameters {
            value: Some(value.expose_secret().to_owned()),
            content_type: options.description.clone(),
            tags: (!options.tags.is_empty()).then(|| options.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>()),
            ..SetSecretParameters::default()
        };
        let body = parameters.try_into().map_err(|e| from_azure(call("SetSecret", name), e))?;
        let secret = self
            .client
            .set_secret(name, body, None)
            .await
            .map_err(|e| from_azure(call("SetSecret", name), e))?
            .into_model()
            .map_err(|e| from_azure(call("SetSecret", name), e))?;
        Ok(version_of(&secret))
    }
}

#[async_trait]
impl SecretStore for KeyVaultSecrets {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "secret", name = %name))]
    async fn put_secret(&self, name: &SecretName, value: SecretString, options: &PutSecretOptions) -> Result<SecretVersion> {
        let n = name.as_str();
        if options.encryption_key.is_some() {
            return Err(Error::not_supported(
                BACKEND,
                "encryption_key",
                "Key Vault encrypts with the vault's keys; a key per secret does not exist",
            ));
        }
        if let Some(current) = self.current(n).await?
            && current.value.as_deref() == Some(value.expose_secret())
        {
            return Ok(SecretVersion { name: name.clone(), version: version_of(&current), changed: false });
        }
        let version = self.set(n, &value, options).await?;
        Ok(SecretVersion { name: name.clone(), version, changed: true })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "secret", name = %name))]
    async fn get_secret(&self, name: &SecretName) -> Result<SecretValue> {
        let n = name.as_str();
        let secret = self.current(n).await?.ok_or_else(|| Error::not_found("secret", n))?;
        Ok(SecretValue { name: name.clone(), version: version_of(&secret), value: SecretString::from(secret.value.unwrap_or_default()) })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "secret", name = %name))]
    async fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        use futures::TryStreamExt as _;
        let n = name.as_str();
        self.within("GetSecretVersions", n, async {
            let mut pager =
                self.client.list_secret_properties_versions(n, None).map_err(|e| from_azure(call("GetSecretVersions", n), e))?;
            match pager.try_next().await {
                Ok(_) => Ok(true),
                Err(e) => match from_azure(call("GetSecretVersions", n), e) {
                    e if e.is_not_found() => Ok(false),
                    e => Err(e),
                },
            }
        })
        .await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "secret", name = %name))]
    async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion> {
        let n = name.as_str();
        if !self.secret_exists(name).await? {
            return Err(Error::not_found("secret", n));
        }
        let version = self.set(n, &value, &PutSecretOptions::default()).await?;
        Ok(SecretVersion { name: name.clone(), version, changed: true })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "secret", name = %name))]
    async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()> {
        let n = name.as_str();
        confirm.check("delete secret", n)?;
        self.within("DeleteSecret", n, async {
            self.client.delete_secret(n, None).await.map_err(|e| from_azure(call("DeleteSecret", n), e))?;
            Ok(())
        })
        .await
    }
}
