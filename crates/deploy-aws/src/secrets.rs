//! [`SecretsManagerStore`]: the [`SecretStore`] on AWS Secrets Manager.
//!
//! - `put_secret` creates the secret (with the options' description, KMS key
//!   and tags), or — when it exists — reads the current value and writes a new
//!   version (`PutSecretValue`) only when the value differs. The options apply
//!   on creation; an existing secret keeps its description, key and tags.
//! - `rotate_secret` always writes a new version.
//! - `delete_secret` deletes at once, without the recovery window
//!   (`ForceDeleteWithoutRecovery`): the confirmation is the safeguard. Use
//!   [`SecretsManagerStore::schedule_deletion`] for a recoverable deletion.
//! - [`SecretsManagerStore::ensure_password`] generates a password to a rule
//!   set (a preset may exclude `/ ' " @`) only when the secret is missing.
//!
//! Values are [`SecretString`]s; they never appear in `Debug`, errors or logs
//! (the SDK redacts them in its own `Debug` output too).

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::types::Tag;
use deploy_core::secret_store::{PutSecretOptions, SecretStore, SecretValue, SecretVersion};
use deploy_core::{Confirm, Error, PasswordRules, Result, SecretName};
use secrecy::{ExposeSecret, SecretString};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, error_code, map_sdk_error, missing};

const SERVICE: &str = "aws-secretsmanager";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// Map an error about the secret `name`. Secrets Manager answers
/// `InvalidRequestException` for a secret scheduled for deletion: a conflict.
fn secret_error<E>(err: SdkError<E, aws_smithy_runtime_api::http::Response>, op: Op, name: &SecretName) -> Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if error_code(&err) == Some("InvalidRequestException") {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let reason = err.message().unwrap_or("the secret is in a state that does not allow this").to_owned();
        return Error::conflict("secret", name.as_str(), format!("{} refused: {reason}", op.operation));
    }
    map_sdk_error(err, op, "secret", name.as_str())
}

/// The [`SecretStore`] on AWS Secrets Manager. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct SecretsManagerStore {
    client: Client,
}

impl SecretsManagerStore {
    /// A store built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        SecretsManagerStore { client: ctx.client() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn current(&self, name: &SecretName) -> Result<SecretValue> {
        let get = op("GetSecretValue");
        let out = self.client.get_secret_value().secret_id(name.as_str()).send().await.map_err(|e| secret_error(e, get, name))?;
        let version = out.version_id().ok_or_else(|| missing(get, "version id"))?.to_owned();
        let value = match (out.secret_string(), out.secret_binary()) {
            (Some(s), _) => SecretString::from(s.to_owned()),
            (None, Some(b)) => match std::str::from_utf8(b.as_ref()) {
                Ok(s) => SecretString::from(s.to_owned()),
                Err(_) => {
                    return Err(Error::not_supported(
                        SERVICE,
                        "secret_binary",
                        format!("secret `{name}` holds binary data that is not UTF-8"),
                    ));
                }
            },
            (None, None) => return Err(missing(get, "secret value")),
        };
        Ok(SecretValue { name: name.clone(), version, value })
    }

    async fn put_value(&self, name: &SecretName, value: &SecretString) -> Result<SecretVersion> {
        let put = op("PutSecretValue");
        let out = self
            .client
            .put_secret_value()
            .secret_id(name.as_str())
            .secret_string(value.expose_secret())
            .send()
            .await
            .map_err(|e| secret_error(e, put, name))?;
        let version = out.version_id().ok_or_else(|| missing(put, "version id"))?.to_owned();
        Ok(SecretVersion { name: name.clone(), version, changed: true })
    }

    async fn create(&self, name: &SecretName, value: &SecretString, options: &PutSecretOptions) -> Result<SecretVersion> {
        let create = op("CreateSecret");
        let tags: Vec<Tag> = options.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let out = self
            .client
            .create_secret()
            .name(name.as_str())
            .secret_string(value.expose_secret())
            .set_description(options.description.clone())
            .set_kms_key_id(options.encryption_key.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| secret_error(e, create, name))?;
        let version = out.version_id().ok_or_else(|| missing(create, "version id"))?.to_owned();
        Ok(SecretVersion { name: name.clone(), version, changed: true })
    }

    /// Create the secret with a generated password following `rules` (`length`
    /// characters) when it does not exist; leave an existing secret as it is.
    /// Answers the current version and whether it was created.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `length` or `rules` cannot make a password
    /// (before any request); provider errors.
    pub async fn ensure_password(
        &self,
        name: &SecretName,
        rules: &PasswordRules,
        length: usize,
        options: &PutSecretOptions,
    ) -> Result<SecretVersion> {
        let password = rules.generate(length)?;
        let describe = op("DescribeSecret");
        match self.client.describe_secret().secret_id(name.as_str()).send().await {
            Ok(out) => {
                let current = out
                    .version_ids_to_stages()
                    .and_then(|m| m.iter().find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT")))
                    .map(|(id, _)| id.clone())
                    .ok_or_else(|| missing(describe, "AWSCURRENT version"))?;
                Ok(SecretVersion { name: name.clone(), version: current, changed: false })
            }
            Err(e) => match secret_error(e, describe, name) {
                e if e.is_not_found() => self.create(name, password.secret(), options).await,
                e => Err(e),
            },
        }
    }

    /// Schedule the secret's deletion after a recovery window of 7 to 30 days,
    /// during which `RestoreSecret` brings it back; `confirm` must name it.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`]; [`Error::InvalidInput`] on
    /// `recovery_window_days` (before any request); [`Error::NotFound`].
    pub async fn schedule_deletion(&self, name: &SecretName, recovery_window_days: u32, confirm: &Confirm) -> Result<()> {
        confirm.check("schedule the deletion of secret", name.as_str())?;
        if !(7..=30).contains(&recovery_window_days) {
            return Err(Error::invalid(
                "recovery_window_days",
                format!("is {recovery_window_days}"),
                "Secrets Manager recovery windows: 7 to 30 days",
            ));
        }
        self.client
            .delete_secret()
            .secret_id(name.as_str())
            .recovery_window_in_days(i64::from(recovery_window_days))
            .send()
            .await
            .map_err(|e| secret_error(e, op("DeleteSecret"), name))?;
        Ok(())
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    fn backend(&self) -> &'static str {
        SERVICE
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "secret", name = %name))]
    async fn put_secret(&self, name: &SecretName, value: SecretString, options: &PutSecretOptions) -> Result<SecretVersion> {
        match self.current(name).await {
            Ok(current) if current.value.expose_secret() == value.expose_secret() => {
                Ok(SecretVersion { name: name.clone(), version: current.version, changed: false })
            }
            Ok(_) => self.put_value(name, &value).await,
            Err(e) if e.is_not_found() => self.create(name, &value, options).await,
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "secret", name = %name))]
    async fn get_secret(&self, name: &SecretName) -> Result<SecretValue> {
        self.current(name).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = SERVICE, kind = "secret", name = %name))]
    async fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        match self.client.describe_secret().secret_id(name.as_str()).send().await {
            Ok(_) => Ok(true),
            Err(e) => match secret_error(e, op("DescribeSecret"), name) {
                e if e.is_not_found() => Ok(false),
                e => Err(e),
            },
        }
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "secret", name = %name))]
    async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion> {
        self.put_value(name, &value).await
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "secret", name = %name))]
    async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete secret", name.as_str())?;
        // Deleting a missing secret without recovery succeeds on AWS: ask first, to answer NotFound.
        self.client.describe_secret().secret_id(name.as_str()).send().await.on(op("DescribeSecret"), "secret", name.as_str())?;
        self.client
            .delete_secret()
            .secret_id(name.as_str())
            .force_delete_without_recovery(true)
            .send()
            .await
            .map_err(|e| secret_error(e, op("DeleteSecret"), name))?;
        Ok(())
    }
}
