//! Entra ID credentials: a service principal (tenant, client id, client secret)
//! turned into `azure_identity`'s [`TokenCredential`].
//!
//! A runbook's "App registration" is such a service principal; the
//! same one signs in to Blob Storage (with the "Storage Blob Data Contributor"
//! role) and, with a management role, to Azure Resource Manager.

use std::fmt;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use deploy_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};

/// A service principal's client-secret login. Its `Debug` never shows the secret.
///
/// ```
/// use deploy_azure::credential::ServicePrincipal;
/// use secrecy::SecretString;
///
/// let sp = ServicePrincipal::new(
///     "72f988bf-86f1-41af-91ab-2d7cd011db47",
///     "00000000-0000-0000-0000-000000000001",
///     SecretString::from("not-a-real-secret"),
/// )
/// .unwrap();
/// assert!(!format!("{sp:?}").contains("not-a-real-secret"));
/// let err = ServicePrincipal::new("", "x", SecretString::from("s")).unwrap_err();
/// assert_eq!(err.invalid_field(), Some("tenant_id"));
/// ```
#[derive(Clone)]
pub struct ServicePrincipal {
    tenant_id: String,
    client_id: String,
    client_secret: SecretString,
}

impl fmt::Debug for ServicePrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServicePrincipal")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl ServicePrincipal {
    /// A service principal of `tenant_id` (a GUID or a domain such as
    /// `contoso.onmicrosoft.com`) with application (client) id `client_id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `tenant_id`, `client_id` or `client_secret`
    /// when empty or malformed (the secret is never quoted).
    pub fn new(tenant_id: impl Into<String>, client_id: impl Into<String>, client_secret: SecretString) -> Result<Self> {
        let tenant_id = tenant_id.into();
        let client_id = client_id.into();
        let tenant_ok = !tenant_id.is_empty() && tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !tenant_ok {
            return Err(Error::invalid(
                "tenant_id",
                format!("{tenant_id:?} is not a tenant id"),
                "a directory (tenant) GUID or domain: letters, digits, `-` and `.`",
            ));
        }
        if client_id.is_empty() || client_id.chars().any(char::is_whitespace) {
            return Err(Error::invalid(
                "client_id",
                format!("{client_id:?} is not a client id"),
                "an application (client) id, usually a GUID",
            ));
        }
        if client_secret.expose_secret().is_empty() {
            return Err(Error::invalid("client_secret", "is empty", "the client secret of the app registration"));
        }
        Ok(ServicePrincipal { tenant_id, client_id, client_secret })
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the variable that is unset, or as [`ServicePrincipal::new`].
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| {
            std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| {
                Error::invalid(
                    name,
                    "is not set",
                    "the service principal comes from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
                )
            })
        };
        Self::new(var("AZURE_TENANT_ID")?, var("AZURE_CLIENT_ID")?, SecretString::from(var("AZURE_CLIENT_SECRET")?))
    }

    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token credential that logs in as this service principal
    /// (`azure_identity::ClientSecretCredential`). No request is made until a
    /// token is needed.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `azure_identity` refuses the values.
    pub fn token_credential(&self) -> Result<Arc<dyn TokenCredential>> {
        let credential = azure_identity::ClientSecretCredential::new(
            &self.tenant_id,
            self.client_id.clone(),
            Secret::new(self.client_secret.expose_secret().to_owned()),
            None,
        )
        .map_err(|e| {
            Error::invalid("service_principal", crate::error::redact(&e.to_string()), "a valid tenant id, client id and secret")
        })?;
        Ok(credential)
    }
}

/// A bearer token obtained elsewhere (for example
/// `az account get-access-token --query accessToken -o tsv`), handed out for
/// whatever scope is asked: use it with the one service it was issued for
/// (Azure Resource Manager, typically). It is assumed valid for an hour; its
/// `Debug` never shows it.
///
/// ```
/// use deploy_azure::credential::StaticToken;
/// use secrecy::SecretString;
/// let token = StaticToken::new(SecretString::from("eyJ-not-a-real-token"));
/// assert!(!format!("{token:?}").contains("eyJ"));
/// ```
#[derive(Clone)]
pub struct StaticToken {
    token: SecretString,
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl StaticToken {
    /// The credential of `token`.
    pub fn new(token: SecretString) -> Self {
        StaticToken { token }
    }

    /// The token in environment variable `var`, or `None` when it is unset or empty.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var).ok().filter(|t| !t.is_empty()).map(|t| StaticToken::new(SecretString::from(t)))
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        Ok(azure_core::credentials::AccessToken::new(
            Secret::new(self.token.expose_secret().to_owned()),
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

/// The credential the environment configures: the [`StaticToken`] in
/// `token_var` when that variable is set, otherwise the
/// [`ServicePrincipal::from_env`].
///
/// # Errors
/// As [`ServicePrincipal::from_env`] and [`ServicePrincipal::token_credential`].
pub fn from_env(token_var: &str) -> Result<Arc<dyn TokenCredential>> {
    match StaticToken::from_env(token_var) {
        Some(token) => Ok(Arc::new(token)),
        None => ServicePrincipal::from_env()?.token_credential(),
    }
}
