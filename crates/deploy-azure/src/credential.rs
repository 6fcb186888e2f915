//! Entra ID credentials turned into `azure_identity`'s [`TokenCredential`]:
//!
//! | credential | where it fits | from |
//! |---|---|---|
//! | [`ServicePrincipal`] | CI, a workstation: an app registration's client secret | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` |
//! | [`WorkloadIdentity`] | a pod on AKS with workload identity (a federated service-account token) | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (set by the AKS webhook) |
//! | [`ManagedIdentity`] | a VM, VM scale set (an AKS node), App Service, Container Apps: no secret at all | the host (IMDS, or `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`); a user-assigned identity by client id |
//! | [`StaticToken`] | a token obtained elsewhere (`az account get-access-token`) | a variable the caller names |
//!
//! [`from_env`] and [`from_env_with`] pick one from the environment, the way
//! the examples sign in. Every token request made here has the SDK's time
//! limits ([`deploy_core::timeouts::Timeouts`]): a login endpoint that never
//! answers fails the call instead of hanging it. The login host is
//! `azure_identity`'s: `https://login.microsoftonline.com` unless
//! `AZURE_AUTHORITY_HOST` names a sovereign cloud's.
//!
//! A runbook's "App registration" is a service principal; the same identity
//! signs in to Blob Storage (with the "Storage Blob Data Contributor" role)
//! and, with a management role, to Azure Resource Manager.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use deploy_core::timeouts::Timeouts;
use deploy_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};

/// The pipeline options of every credential made here: the SDK's default
/// time limits on the token requests.
fn client_options() -> ClientOptions {
    ClientOptions { transport: Some(crate::timeouts::transport(&Timeouts::default(), None)), ..ClientOptions::default() }
}

/// A tenant id as `azure_identity` takes it: a GUID or a domain.
fn check_tenant(field: &'static str, tenant_id: &str) -> Result<()> {
    let ok = !tenant_id.is_empty() && tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if ok {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!("{tenant_id:?} is not a tenant id"),
        "a directory (tenant) GUID or domain: letters, digits, `-` and `.`",
    ))
}

/// A client id: not empty, no whitespace.
fn check_client(field: &'static str, client_id: &str) -> Result<()> {
    if client_id.is_empty() || client_id.chars().any(char::is_whitespace) {
        return Err(Error::invalid(field, format!("{client_id:?} is not a client id"), "an application (client) id, usually a GUID"));
    }
    Ok(())
}

/// The value of environment variable `name`, or a typed error naming it.
fn env_var(name: &'static str, rule: &'static str) -> Result<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| Error::invalid(name, "is not set", rule))
}

/// Whether environment variable `name` is set and not empty.
fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

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
        check_tenant("tenant_id", &tenant_id)?;
        check_client("client_id", &client_id)?;
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
        const RULE: &str = "the service principal comes from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET";
        Self::new(
            env_var("AZURE_TENANT_ID", RULE)?,
            env_var("AZURE_CLIENT_ID", RULE)?,
            SecretString::from(env_var("AZURE_CLIENT_SECRET", RULE)?),
        )
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
            Some(azure_identity::ClientSecretCredentialOptions { client_options: client_options() }),
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

/// An AKS workload identity: the pod's projected service-account token,
/// exchanged for an Entra token of the user-assigned identity (or app) it is
/// federated with (`azure_identity::WorkloadIdentityCredential`). No secret
/// is configured: the token file is read when the credential is made and
/// again every 10 minutes, as the kubelet rotates it.
///
/// ```
/// use deploy_azure::credential::WorkloadIdentity;
/// let err = WorkloadIdentity::new("contoso.onmicrosoft.com", "", "/var/run/secrets/azure/tokens/azure-identity-token")
///     .unwrap_err();
/// assert_eq!(err.invalid_field(), Some("client_id"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadIdentity {
    tenant_id: String,
    client_id: String,
    token_file: PathBuf,
}

impl WorkloadIdentity {
    /// The identity `client_id` of `tenant_id`, proven by the service-account
    /// token in `token_file`. The file is not read here.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `tenant_id`, `client_id` or `token_file` (empty, or not an absolute path).
    pub fn new(tenant_id: impl Into<String>, client_id: impl Into<String>, token_file: impl Into<PathBuf>) -> Result<Self> {
        let (tenant_id, client_id, token_file) = (tenant_id.into(), client_id.into(), token_file.into());
        check_tenant("tenant_id", &tenant_id)?;
        check_client("client_id", &client_id)?;
        if !token_file.is_absolute() {
            return Err(Error::invalid(
                "token_file",
                format!("{:?} is not an absolute path", token_file.display().to_string()),
                "the absolute path of the projected service-account token (AZURE_FEDERATED_TOKEN_FILE)",
            ));
        }
        Ok(WorkloadIdentity { tenant_id, client_id, token_file })
    }

    /// From `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_FEDERATED_TOKEN_FILE`,
    /// the variables the AKS workload identity webhook sets in a pod whose
    /// service account carries `azure.workload.identity/client-id` and that is
    /// labelled `azure.workload.identity/use: "true"`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the variable that is unset, or as [`WorkloadIdentity::new`].
    pub fn from_env() -> Result<Self> {
        const RULE: &str =
            "workload identity comes from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (set by the AKS webhook)";
        Self::new(env_var("AZURE_TENANT_ID", RULE)?, env_var("AZURE_CLIENT_ID", RULE)?, env_var("AZURE_FEDERATED_TOKEN_FILE", RULE)?)
    }

    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The identity's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token credential of this identity. The token file is read now; no
    /// request is made until a token is needed.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `token_file` when it cannot be read, or when
    /// `azure_identity` refuses the values.
    pub fn token_credential(&self) -> Result<Arc<dyn TokenCredential>> {
        if let Err(e) = std::fs::metadata(&self.token_file) {
            return Err(Error::invalid(
                "token_file",
                format!("{}: {e}", self.token_file.display()),
                "a readable projected service-account token (is the pod labelled azure.workload.identity/use?)",
            ));
        }
        let options = azure_identity::WorkloadIdentityCredentialOptions {
            credential_options: azure_identity::ClientAssertionCredentialOptions { client_options: client_options() },
            client_id: Some(self.client_id.clone()),
            tenant_id: Some(self.tenant_id.clone()),
            token_file_path: Some(self.token_file.clone()),
        };
        let credential = azure_identity::WorkloadIdentityCredential::new(Some(options)).map_err(|e| {
            Error::invalid("workload_identity", crate::error::redact(&e.to_string()), "a valid tenant id, client id and token file")
        })?;
        Ok(credential)
    }
}

/// Which managed identity of the host to sign in as.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserAssigned {
    /// A user-assigned identity by its client id.
    ClientId(String),
    /// A user-assigned identity by its object (principal) id.
    ObjectId(String),
    /// A user-assigned identity by its ARM resource id
    /// (`/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME`).
    ResourceId(String),
}

/// A managed identity of the Azure host this process runs on: a VM or VM
/// scale set (an AKS node pool's kubelet identity) through IMDS, App Service,
/// Functions or Container Apps through `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER` (`azure_identity::ManagedIdentityCredential`). No secret
/// is configured anywhere; the host answers for the identity.
///
/// ```
/// use deploy_azure::credential::{ManagedIdentity, UserAssigned};
/// let system = ManagedIdentity::system_assigned();
/// assert_eq!(system.user_assigned(), None);
/// let err = ManagedIdentity::user_assigned_id(UserAssigned::ResourceId("my-identity".into())).unwrap_err();
/// assert_eq!(err.invalid_field(), Some("user_assigned"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagedIdentity {
    user_assigned: Option<UserAssigned>,
}

impl ManagedIdentity {
    /// The host's system-assigned identity.
    pub fn system_assigned() -> Self {
        ManagedIdentity { user_assigned: None }
    }

    /// One of the host's user-assigned identities.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `user_assigned`: an empty id or one with
    /// whitespace, or a resource id that is not an ARM path of a user-assigned identity.
    pub fn user_assigned_id(id: UserAssigned) -> Result<Self> {
        let (value, rule) = match &id {
            UserAssigned::ClientId(v) | UserAssigned::ObjectId(v) => (v, "a client or object id (a GUID)"),
            UserAssigned::ResourceId(v) => {
                (v, "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME")
            }
        };
        let shape_ok = match &id {
            UserAssigned::ResourceId(v) => {
                v.starts_with("/subscriptions/")
                    && v.to_ascii_lowercase().contains("/providers/microsoft.managedidentity/userassignedidentities/")
            }
            _ => true,
        };
        if value.is_empty() || value.chars().any(char::is_whitespace) || !shape_ok {
            return Err(Error::invalid("user_assigned", format!("{value:?} is not a user-assigned identity"), rule));
        }
        Ok(ManagedIdentity { user_assigned: Some(id) })
    }

    /// The user-assigned identity of `AZURE_CLIENT_ID` when that variable is
    /// set (as `DefaultAzureCredential` does), otherwise the system-assigned one.
    ///
    /// # Errors
    /// As [`ManagedIdentity::user_assigned_id`].
    pub fn from_env() -> Result<Self> {
        match std::env::var("AZURE_CLIENT_ID").ok().filter(|v| !v.is_empty()) {
            Some(client_id) => Self::user_assigned_id(UserAssigned::ClientId(client_id)),
            None => Ok(Self::system_assigned()),
        }
    }

    /// The user-assigned identity, `None` for the system-assigned one.
    pub fn user_assigned(&self) -> Option<&UserAssigned> {
        self.user_assigned.as_ref()
    }

    /// The token credential of this identity. No request is made until a
    /// token is needed; the host's endpoint is chosen now, from the
    /// environment (`IDENTITY_ENDPOINT` and `IDENTITY_HEADER` on App Service
    /// and Container Apps, IMDS otherwise).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the host's managed identity is of a kind
    /// `azure_identity` does not serve (Service Fabric, Azure Arc, Cloud Shell,
    /// Azure ML), or refuses the identity.
    pub fn token_credential(&self) -> Result<Arc<dyn TokenCredential>> {
        let user_assigned_id = self.user_assigned.clone().map(|id| match id {
            UserAssigned::ClientId(v) => azure_identity::UserAssignedId::ClientId(v),
            UserAssigned::ObjectId(v) => azure_identity::UserAssignedId::ObjectId(v),
            UserAssigned::ResourceId(v) => azure_identity::UserAssignedId::ResourceId(v),
        });
        let options = azure_identity::ManagedIdentityCredentialOptions { user_assigned_id, client_options: client_options() };
        let credential = azure_identity::ManagedIdentityCredential::new(Some(options)).map_err(|e| {
            Error::invalid(
                "managed_identity",
                crate::error::redact(&e.to_string()),
                "a host with a managed identity: a VM, App Service or Container Apps",
            )
        })?;
        Ok(credential)
    }
}

/// Which credential [`from_env_with`] builds. Parsed from `auto`, `token`,
/// `service-principal`, `workload-identity` or `managed-identity`.
///
/// ```
/// use deploy_azure::credential::CredentialSource;
/// assert_eq!("managed-identity".parse::<CredentialSource>().unwrap(), CredentialSource::ManagedIdentity);
/// assert_eq!("sp".parse::<CredentialSource>().unwrap_err().invalid_field(), Some("credential"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CredentialSource {
    /// The first of: the static token (when its variable is set), the
    /// service principal (`AZURE_CLIENT_SECRET` set), workload identity
    /// (`AZURE_FEDERATED_TOKEN_FILE` set), the managed identity of an App
    /// Service or Container Apps host (`IDENTITY_ENDPOINT` set). A VM's
    /// managed identity (IMDS) leaves no trace in the environment: name it
    /// with [`CredentialSource::ManagedIdentity`].
    #[default]
    Auto,
    /// [`StaticToken`] from the token variable.
    Token,
    /// [`ServicePrincipal::from_env`].
    ServicePrincipal,
    /// [`WorkloadIdentity::from_env`].
    WorkloadIdentity,
    /// [`ManagedIdentity::from_env`].
    ManagedIdentity,
}

impl CredentialSource {
    /// The names [`CredentialSource`] parses from.
    pub const NAMES: [&'static str; 5] = ["auto", "token", "service-principal", "workload-identity", "managed-identity"];
}

impl FromStr for CredentialSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "auto" => CredentialSource::Auto,
            "token" => CredentialSource::Token,
            "service-principal" => CredentialSource::ServicePrincipal,
            "workload-identity" => CredentialSource::WorkloadIdentity,
            "managed-identity" => CredentialSource::ManagedIdentity,
            other => {
                return Err(Error::invalid(
                    "credential",
                    format!("{other:?}"),
                    "one of auto, token, service-principal, workload-identity, managed-identity",
                ));
            }
        })
    }
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = match self {
            CredentialSource::Auto => 0,
            CredentialSource::Token => 1,
            CredentialSource::ServicePrincipal => 2,
            CredentialSource::WorkloadIdentity => 3,
            CredentialSource::ManagedIdentity => 4,
        };
        f.write_str(Self::NAMES[i])
    }
}

/// The credential the environment configures: the [`StaticToken`] in
/// `token_var` when that variable is set, otherwise the
/// [`ServicePrincipal::from_env`] ([`from_env_with`] of
/// [`CredentialSource::Auto`], which also finds workload and managed identities).
///
/// # Errors
/// As [`from_env_with`].
pub fn from_env(token_var: &str) -> Result<Arc<dyn TokenCredential>> {
    from_env_with(CredentialSource::Auto, Some(token_var))
}

/// The credential of `source`, configured by the environment; `token_var`
/// names the variable of a [`StaticToken`] (`None`: no static token).
///
/// # Errors
/// [`Error::InvalidInput`] naming what is missing: the variable of the
/// chosen source, or (`Auto`, nothing found) field `credential` with every
/// way to sign in.
pub fn from_env_with(source: CredentialSource, token_var: Option<&str>) -> Result<Arc<dyn TokenCredential>> {
    let token = || token_var.and_then(StaticToken::from_env);
    match source {
        CredentialSource::Token => match (token(), token_var) {
            (Some(token), _) => Ok(Arc::new(token)),
            (None, Some(var)) => Err(Error::invalid("credential", format!("token: {var} is not set"), "a bearer token in that variable")),
            (None, None) => Err(Error::invalid("credential", "token", "this service takes no static token: choose another credential")),
        },
        CredentialSource::ServicePrincipal => ServicePrincipal::from_env()?.token_credential(),
        CredentialSource::WorkloadIdentity => WorkloadIdentity::from_env()?.token_credential(),
        CredentialSource::ManagedIdentity => ManagedIdentity::from_env()?.token_credential(),
        CredentialSource::Auto => {
            if let Some(token) = token() {
                Ok(Arc::new(token))
            } else if env_set("AZURE_CLIENT_SECRET") {
                ServicePrincipal::from_env()?.token_credential()
            } else if env_set("AZURE_FEDERATED_TOKEN_FILE") {
                WorkloadIdentity::from_env()?.token_credential()
            } else if env_set("IDENTITY_ENDPOINT") {
                ManagedIdentity::from_env()?.token_credential()
            } else {
                let token = token_var.map(|v| format!("a token in {v}, ")).unwrap_or_default();
                Err(Error::invalid(
                    "credential",
                    "none found in the environment",
                    format!(
                        "{token}a service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), workload identity \
                         (AZURE_FEDERATED_TOKEN_FILE, set by AKS) or, on an Azure VM, the managed identity named explicitly"
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_print_as_the_flag_takes_them() {
        for name in CredentialSource::NAMES {
            let source: CredentialSource = name.parse().unwrap();
            assert_eq!(source.to_string(), name);
        }
        let err = "managed".parse::<CredentialSource>().unwrap_err();
        assert_eq!(err.invalid_field(), Some("credential"));
        assert!(err.to_string().contains("managed-identity"), "{err}");
    }

    #[test]
    fn workload_identity_checks_its_parts_and_reads_its_token_file() {
        let err = WorkloadIdentity::new("bad tenant", "c", "/t").unwrap_err();
        assert_eq!(err.invalid_field(), Some("tenant_id"));
        let err = WorkloadIdentity::new("t.onmicrosoft.com", "c", "relative/token").unwrap_err();
        assert_eq!(err.invalid_field(), Some("token_file"));
        let missing = std::env::temp_dir().join(format!("deploy-no-token-{}", std::process::id()));
        let identity =
            WorkloadIdentity::new("72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-4333-8444-555555555555", &missing).unwrap();
        let err = identity.token_credential().map(|_| ()).unwrap_err();
        assert_eq!(err.invalid_field(), Some("token_file"), "{err}");
        let file = std::env::temp_dir().join(format!("deploy-token-{}", std::process::id()));
        std::fs::write(&file, "eyJ-SENTINEL-service-account-token").unwrap();
        let identity =
            WorkloadIdentity::new("72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-4333-8444-555555555555", &file).unwrap();
        let credential = identity.token_credential().unwrap();
        assert!(!format!("{credential:?}{identity:?}").contains("SENTINEL"));
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn managed_identity_checks_a_user_assigned_id() {
        assert_eq!(
            ManagedIdentity::user_assigned_id(UserAssigned::ClientId(String::new())).unwrap_err().invalid_field(),
            Some("user_assigned")
        );
        let id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deploy";
        let identity = ManagedIdentity::user_assigned_id(UserAssigned::ResourceId(id.into())).unwrap();
        assert_eq!(identity.user_assigned(), Some(&UserAssigned::ResourceId(id.into())));
    }
}
