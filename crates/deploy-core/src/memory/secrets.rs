use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::InMemoryCloud;
use super::state::MemSecret;
use crate::error::{Confirm, Error, Result};
use crate::secret_store::{PutSecretOptions, SecretStore, SecretValue, SecretVersion};
use crate::validate::SecretName;

#[async_trait]
impl SecretStore for InMemoryCloud {
    fn backend(&self) -> &'static str {
        "memory"
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "secret", name = %name))]
    async fn put_secret(&self, name: &SecretName, value: SecretString, _options: &PutSecretOptions) -> Result<SecretVersion> {
        let unchanged = {
            let state = self.state();
            state
                .secrets
                .get(name.as_str())
                .and_then(|s| s.versions.last())
                .and_then(|(id, v)| (v.expose_secret() == value.expose_secret()).then(|| id.clone()))
        };
        self.enter("put_secret", unchanged.is_none())?;
        if let Some(version) = unchanged {
            return Ok(SecretVersion { name: name.clone(), version, changed: false });
        }
        let mut state = self.state();
        let id = format!("v{}", state.next_id());
        state.secrets.entry(name.as_str().to_owned()).or_insert(MemSecret { versions: Vec::new() }).versions.push((id.clone(), value));
        Ok(SecretVersion { name: name.clone(), version: id, changed: true })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "secret", name = %name))]
    async fn get_secret(&self, name: &SecretName) -> Result<SecretValue> {
        self.enter("get_secret", false)?;
        let state = self.state();
        let (version, value) =
            state.secrets.get(name.as_str()).and_then(|s| s.versions.last()).ok_or_else(|| Error::not_found("secret", name.as_str()))?;
        Ok(SecretValue { name: name.clone(), version: version.clone(), value: value.clone() })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "memory", kind = "secret", name = %name))]
    async fn secret_exists(&self, name: &SecretName) -> Result<bool> {
        self.enter("secret_exists", false)?;
        Ok(self.state().secrets.contains_key(name.as_str()))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "secret", name = %name))]
    async fn rotate_secret(&self, name: &SecretName, value: SecretString) -> Result<SecretVersion> {
        self.enter("rotate_secret", true)?;
        let mut state = self.state();
        let id = format!("v{}", state.next_id());
        let secret = state.secrets.get_mut(name.as_str()).ok_or_else(|| Error::not_found("secret", name.as_str()))?;
        secret.versions.push((id.clone(), value));
        Ok(SecretVersion { name: name.clone(), version: id, changed: true })
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = "memory", kind = "secret", name = %name))]
    async fn delete_secret(&self, name: &SecretName, confirm: &Confirm) -> Result<()> {
        confirm.check("delete secret", name.as_str())?;
        self.enter("delete_secret", true)?;
        self.state().secrets.remove(name.as_str()).map(|_| ()).ok_or_else(|| Error::not_found("secret", name.as_str()))
    }
}
