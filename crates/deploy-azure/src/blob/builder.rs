//! [`BlobStoreBuilder`]: the settings of a [`BlobStore`](super::BlobStore) and their checks,
//! made before any request; and [`AccountSettings`], what the store reports of
//! its storage account.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use azure_core::http::{RetryOptions, Transport, Url};
use deploy_core::{Error, Result, Timeouts, Waiter};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use crate::sas::AccountSas;

/// The storage account's settings that a bucket spec asks about but that only
/// Azure Resource Manager can set (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountSettings {
    /// Blob versioning is on (blob service property `isVersioningEnabled`).
    pub versioning: bool,
    /// The account allows containers to be made public (`allowBlobPublicAccess`).
    pub allow_blob_public_access: bool,
    /// The account refuses plain HTTP (`supportsHttpsTrafficOnly`).
    pub https_only: bool,
}

impl AccountSettings {
    /// Versioning on, public access disallowed, HTTPS only: what
    /// `arm::storage::StorageAccountSpec` applies by default.
    pub const SECURE: AccountSettings = AccountSettings { versioning: true, allow_blob_public_access: false, https_only: true };
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings::SECURE
    }
}

#[derive(Clone)]
pub(super) enum Auth {
    Token(Arc<dyn TokenCredential>),
    /// A SAS query string (without `?`).
    Sas(SecretString),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::Token(_) => "Token(<credential>)",
            Auth::Sas(_) => "Sas(<redacted>)",
        })
    }
}

/// Builds a [`BlobStore`](super::BlobStore).
///
/// ```
/// use deploy_azure::blob::BlobStore;
/// use deploy_azure::sas::{AccountSas, SasProtocol, AZURITE_ACCOUNT, AZURITE_KEY};
/// use secrecy::SecretString;
///
/// let sas = AccountSas::builder(AZURITE_ACCOUNT, SecretString::from(AZURITE_KEY))
///     .services("b")
///     .resource_types("sco")
///     .permissions("racwdl")
///     .expiry(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1))
///     .protocol(SasProtocol::HttpsAndHttp)
///     .build()
///     .unwrap();
/// let store = BlobStore::builder()
///     .endpoint("http://127.0.0.1:10000/devstoreaccount1")
///     .sas(&sas)
///     .build()
///     .unwrap();
/// assert!(!format!("{store:?}").contains(&sas.signature()));
/// ```
#[derive(Debug, Clone)]
pub struct BlobStoreBuilder {
    endpoint: Option<String>,
    auth: Option<Auth>,
    account: AccountSettings,
    retry: Option<RetryOptions>,
    single_put_limit: usize,
    block_size: usize,
    concurrency: usize,
    copy_waiter: Waiter,
    timeouts: Timeouts,
}

impl Default for BlobStoreBuilder {
    fn default() -> Self {
        BlobStoreBuilder {
            endpoint: None,
            auth: None,
            account: AccountSettings::SECURE,
            retry: None,
            single_put_limit: 8 * 1024 * 1024,
            block_size: 8 * 1024 * 1024,
            concurrency: 4,
            copy_waiter: Waiter::copy(),
            timeouts: Timeouts::default(),
        }
    }
}

impl BlobStoreBuilder {
    deploy_core::setters! {
        /// The blob service endpoint: `https://ACCOUNT.blob.core.windows.net`, or
        /// path-style `http://127.0.0.1:PORT/devstoreaccount1` for Azurite.
        pub fn endpoint(Some(endpoint): impl Into<String>);
    }

    /// Authenticate with an Entra ID token credential (HTTPS endpoints only).
    #[must_use]
    pub fn token_credential(mut self, credential: Arc<dyn TokenCredential>) -> Self {
        self.auth = Some(Auth::Token(credential));
        self
    }

    /// Authenticate with an account SAS (its query string is added to every URL).
    #[must_use]
    pub fn sas(mut self, sas: &AccountSas) -> Self {
        self.auth = Some(Auth::Sas(SecretString::from(sas.query_string())));
        self
    }

    /// Authenticate with an account SAS for the blob service signed here from
    /// `account`'s key, read from environment variable `key_var` (a key never
    /// belongs on a command line), valid from 5 minutes ago for `valid`, over
    /// HTTPS only, or plain HTTP too when the endpoint set so far is
    /// `http://` on a loopback host (a local emulator). Set the endpoint first.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on field `endpoint` when it is plain HTTP to a
    /// host other than loopback (before the key is read); on field `key_var`
    /// (its name, never its value) when the variable is unset or empty, or as
    /// [`AccountSas`]'s builder.
    pub fn account_key_from_env(self, account: &str, key_var: &str, valid: Duration) -> Result<Self> {
        let protocol = match self.endpoint.as_deref().map(Url::parse) {
            Some(Ok(url)) => crate::sas::SasProtocol::for_endpoint(url.scheme(), url.host_str().unwrap_or_default())
                .map_err(|e| Error::invalid("endpoint", e.to_string(), crate::sas::PLAIN_HTTP_RULE))?,
            _ => crate::sas::SasProtocol::HttpsOnly,
        };
        let key = std::env::var(key_var)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::invalid(key_var, "is not set", "the storage account key, to sign an account SAS locally"))?;
        let now = Timestamp::now();
        let sas = AccountSas::builder(account, SecretString::from(key))
            .services("b")
            .resource_types("sco")
            .permissions("racwdl")
            .start(now - jiff::SignedDuration::from_mins(5))
            .expiry(now + jiff::SignedDuration::try_from(valid).unwrap_or(jiff::SignedDuration::from_hours(1)))
            .protocol(protocol)
            .build()
            .map_err(|e| Error::invalid(key_var, e.to_string(), "a storage account name and its base64 key"))?;
        Ok(self.sas(&sas))
    }

    /// Authenticate with a SAS query string obtained elsewhere (`sv=...&sig=...`, with or without `?`).
    #[must_use]
    pub fn sas_token(mut self, query: SecretString) -> Self {
        let trimmed = query.expose_secret().trim_start_matches('?').to_owned();
        self.auth = Some(Auth::Sas(SecretString::from(trimmed)));
        self
    }

    deploy_core::setters! {
        /// What the storage account enforces ([`AccountSettings::SECURE`] unless set).
        pub fn account_settings(account: AccountSettings);

        /// The retry policy of every request (the SDK's exponential default unless set).
        pub fn retry(Some(retry): RetryOptions);

        /// Bodies up to this many bytes go in one Put Blob (default 8 MiB; at most 5,000 MiB).
        pub fn single_put_limit(single_put_limit: usize);

        /// The block size of staged uploads (default 8 MiB; 1 byte to 4,000 MiB).
        pub fn block_size(block_size: usize);

        /// Blocks (and ranged reads, deletes) in flight at once (default 4).
        pub fn concurrency(concurrency: usize);

        /// The time limits of every request ([`Timeouts::default`] unless set):
        /// connect, each attempt (until the answer's headers; also each pause of a
        /// streamed body), each operation with its retries.
        pub fn timeouts(timeouts: Timeouts);

        /// How to wait for a server-side copy to finish (30 minutes, polls from 200 ms to 10 s, unless set).
        pub fn copy_waiter(copy_waiter: Waiter);
    }

    /// Check the settings, before [`BlobStoreBuilder::build`] makes the store of them.
    pub(super) fn checked(self) -> Result<Inner> {
        let raw = self
            .endpoint
            .ok_or_else(|| Error::invalid("endpoint", "is not set", "the blob service URL, e.g. https://ACCOUNT.blob.core.windows.net"))?;
        let rule = "an http(s) URL of the blob service without query or fragment, e.g. https://ACCOUNT.blob.core.windows.net";
        let endpoint =
            Url::parse(raw.trim_end_matches('/')).map_err(|e| Error::invalid("endpoint", format!("{raw:?} is not a URL: {e}"), rule))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() || endpoint.host_str().is_none() {
            return Err(Error::invalid("endpoint", format!("{raw:?} is not an http(s) URL"), rule));
        }
        if endpoint.query().is_some() || endpoint.fragment().is_some() {
            return Err(Error::invalid("endpoint", "has a query or fragment (pass a SAS with .sas(), not in the URL)", rule));
        }
        let auth = self.auth.ok_or_else(|| Error::invalid("credential", "is not set", "a token credential or a SAS"))?;
        if matches!(auth, Auth::Token(_)) && endpoint.scheme() != "https" {
            return Err(Error::invalid(
                "endpoint",
                "is plain HTTP with a token credential",
                "bearer tokens are sent over HTTPS only; use a SAS for a local emulator",
            ));
        }
        if matches!(auth, Auth::Sas(_)) {
            crate::sas::SasProtocol::for_endpoint(endpoint.scheme(), endpoint.host_str().unwrap_or_default())
                .map_err(|e| Error::invalid("endpoint", e.to_string(), crate::sas::PLAIN_HTTP_RULE))?;
        }
        if !(1..=5000 * 1024 * 1024).contains(&self.single_put_limit) {
            return Err(Error::invalid(
                "single_put_limit",
                format!("is {}", self.single_put_limit),
                "1 byte to 5,000 MiB (the Put Blob limit)",
            ));
        }
        if !(1..=4000 * 1024 * 1024).contains(&self.block_size) {
            return Err(Error::invalid("block_size", format!("is {}", self.block_size), "1 byte to 4,000 MiB (the Put Block limit)"));
        }
        if !(1..=64).contains(&self.concurrency) {
            return Err(Error::invalid("concurrency", format!("is {}", self.concurrency), "1 to 64 requests in flight"));
        }
        Ok(Inner {
            endpoint,
            auth,
            account: self.account,
            retry: self.retry,
            single_put_limit: self.single_put_limit,
            block_size: self.block_size,
            concurrency: self.concurrency,
            copy_waiter: self.copy_waiter,
            // One connection pool for every client of this store (the SDK would build one per client).
            transport: crate::timeouts::streaming_transport(&self.timeouts),
            timeouts: self.timeouts,
        })
    }
}

/// The checked settings of a store, shared by its clones.
pub(super) struct Inner {
    pub(super) endpoint: Url,
    pub(super) auth: Auth,
    pub(super) account: AccountSettings,
    pub(super) retry: Option<RetryOptions>,
    pub(super) single_put_limit: usize,
    pub(super) block_size: usize,
    pub(super) concurrency: usize,
    pub(super) copy_waiter: Waiter,
    pub(super) transport: Transport,
    pub(super) timeouts: Timeouts,
}
