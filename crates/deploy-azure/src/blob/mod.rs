//! [`ObjectStore`] on Azure Blob Storage: [`BlobStore`], over the official
//! `azure_storage_blob` crate.
//!
//! A bucket is a blob container, an object a block blob.
//!
//! - **Names.** The trait takes a [`BucketName`]; it must also be a valid
//!   [`ContainerName`] (no dots, no `--`): otherwise the call fails with
//!   [`Error::InvalidInput`] on field `bucket` before any request.
//! - **Uploads** stream: below [`BlobStoreBuilder::single_put_limit`] one
//!   *Put Blob*, above it *Put Block* of [`BlobStoreBuilder::block_size`] each
//!   (at most [`BlobStoreBuilder::concurrency`] in flight, so memory stays
//!   bounded whatever the size) and one *Put Block List*. The MD5 of the
//!   content is computed while streaming and set as the blob's Content-MD5
//!   (`x-ms-blob-content-md5`) in both cases, so every blob written here
//!   carries one.
//! - **ETags.** [`ObjectMeta::etag`] is the blob's Content-MD5 in lowercase
//!   hex, not Azure's `ETag` header (an opaque version tag that changes on
//!   every write, even of the same bytes). It equals S3's ETag of a
//!   single-part upload, so the core snapshot recipe recognises the same
//!   content across clouds. A blob written by another tool without a
//!   Content-MD5 has no etag (`None`).
//! - **Entity tags.** [`ObjectMeta::entity_tag`] is Azure's `ETag`: what
//!   conditional requests name (`If-Match`, `If-None-Match`,
//!   `x-ms-source-if-match`); a refused condition is
//!   [`Error::PreconditionFailed`].
//! - **Downloads** stream (ranged requests under the hood, pinned to the
//!   blob's `ETag`, or the caller's, so that a concurrent overwrite fails the
//!   read rather than mixing two versions); a version id reads that version.
//! - **Listing** pages with the service's marker, in UTF-16 code-unit order
//!   ([`deploy_core::object_store::KeyOrder::Utf16`], as Azure and Azurite
//!   sort); `start_after` is sent as `startFrom` and the key itself skipped.
//! - **Copy** is server-side: *Copy Blob* from the source blob's URL (with the
//!   store's SAS when it has one; of a version when one is given), on the
//!   condition of the source's `ETag` (`x-ms-source-if-match`: the caller's,
//!   or the one just read) and of the destination's mode, then polling the
//!   copy status through the core [`Waiter`](deploy_core::Waiter) until it succeeds. A copy keeps
//!   the Content-MD5.
//! - **delete_many** sends concurrent *Delete Blob* requests (the blob batch
//!   API is not in the official crate). `delete_bucket` asks a confirmation
//!   when the container holds any blob, older version or snapshot.
//! - **Versioning** is an account setting ([`AccountSettings`]), but whether
//!   overwrites keep versions is also seen on the blobs (each has a version id
//!   when they do): `versioning_enabled`, which restores rely on, answers true
//!   only when both say so.
//! - **Uncommitted blocks** of an upload that never commits (failed, dropped,
//!   killed) are never part of a blob; Azure discards them after 7 days, so
//!   nothing needs cleaning up.
//! - **Timeouts** ([`BlobStoreBuilder::timeouts`], [`Timeouts::default`](deploy_core::Timeouts::default)
//!   unless set): connecting, each attempt until the answer's headers, each
//!   pause of a streamed body, and each whole operation (every retry
//!   included, then [`Error::Timeout`] naming it).
//!
//! ## Bucket settings: container versus account
//!
//! Of a [`BucketSpec`], only the container's own settings go through the data
//! plane: its privacy (containers are created private, and one found public
//! is made private again) and its tags (container metadata: names must be C#
//! identifiers, values ASCII). Versioning, "allow blob public access" and
//! "secure transfer required" (HTTPS only) belong to the *storage account*,
//! which only Azure Resource Manager can set (`arm::storage` with the `arm`
//! feature). A [`BlobStore`] therefore reports them from the
//! [`AccountSettings`] it was built with — what the account is known to
//! enforce, by default the secure settings that `arm::storage` applies — and
//! answers [`Error::NotSupported`] naming the field when a spec asks for
//! something else. Encryption at rest is always on with platform-managed keys;
//! a customer-managed key is an account setting too (`NotSupported` on
//! `encryption`).
//!
//! ## Authentication
//!
//! An Entra ID [`TokenCredential`](azure_core::credentials::TokenCredential) (for example
//! [`crate::credential::ServicePrincipal`] holding the "Storage Blob Data
//! Contributor" role; HTTPS endpoints only), or a SAS (for example an
//! [`AccountSas`] signed locally from the account key, which is how the tests
//! reach Azurite). The SAS signature and tokens never appear in `Debug` output
//! or errors.

mod builder;
mod objects;
mod upload;

pub use builder::{AccountSettings, BlobStoreBuilder};

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, FixedRetryOptions, RetryOptions, Url};
use azure_storage_blob::models::{
    BlobContainerClientCreateOptions, BlobContainerClientGetPropertiesResultHeaders, BlobContainerClientSetAccessPolicyOptions,
    SignedIdentifiers,
};
use azure_storage_blob::{BlobClient, BlobContainerClient, BlobContainerClientOptions};
use deploy_core::object_store::{BucketInfo, BucketSpec, Encryption, GetResult, ListOptions, ObjectMeta, PutOptions};
use deploy_core::object_store::{CopyOptions, DeleteOptions, GetOptions, KeyOrder};
use deploy_core::plan::{Change, Plan};
use deploy_core::{BucketName, ByteStream, Confirm, ContainerName, Error, ObjectKey, ObjectStore, Result};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use jiff::Timestamp;
use secrecy::ExposeSecret;

use crate::error::{Call, error_code, from_azure};
use crate::sas::AccountSas;
use builder::{Auth, Inner};

/// The backend name in reports and errors.
pub const BACKEND: &str = "azure-blob";

/// Azure Blob Storage as an [`ObjectStore`]; see the [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("auth", &self.inner.auth)
            .field("account", &self.inner.account)
            .field("single_put_limit", &self.inner.single_put_limit)
            .field("block_size", &self.inner.block_size)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BACKEND} {}", self.inner.endpoint)
    }
}

/// The container name of `bucket`, or `InvalidInput` on field `bucket`.
fn container(bucket: &BucketName) -> Result<ContainerName> {
    ContainerName::new(bucket.as_str()).map_err(|e| match e {
        Error::InvalidInput { problem, rule, .. } => {
            Error::InvalidInput { field: "bucket".into(), problem, rule: format!("Azure container names: {rule}") }
        }
        other => other,
    })
}

/// Container metadata names are C# identifiers; values travel as HTTP header values.
fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in tags {
        let mut chars = k.chars();
        let ident =
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            return Err(Error::invalid(
                format!("tags.{k}"),
                "is not a valid container metadata name",
                "Azure container metadata names are C# identifiers: a letter or `_`, then letters, digits or `_`",
            ));
        }
        if !v.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) || v.trim() != v {
            return Err(Error::invalid(
                format!("tags.{k}"),
                "has a value that is not printable ASCII or has surrounding spaces",
                "Azure container metadata values are printable ASCII without leading or trailing spaces",
            ));
        }
    }
    Ok(())
}

/// Map an error of a conditional call: a refused condition (412, or 409
/// `BlobAlreadyExists` for `If-None-Match: *`) is
/// [`Error::PreconditionFailed`] naming `object` and `condition`.
fn conditional_error(call: Call<'_>, e: azure_core::Error, condition: &str) -> Error {
    let status = e.http_status().map(u16::from);
    if status == Some(412) || (status == Some(409) && error_code(&e) == Some("BlobAlreadyExists")) {
        return Error::precondition("object", call.name, condition.to_owned());
    }
    from_azure(call, e)
}

fn timestamp(t: azure_core::time::OffsetDateTime) -> Option<Timestamp> {
    Timestamp::from_nanosecond(t.unix_timestamp_nanos()).ok()
}

fn etag_of(md5: Option<&[u8]>) -> Option<String> {
    md5.filter(|m| m.len() == 16).map(hex::encode)
}

impl BlobStoreBuilder {
    /// Check the settings and build the store. No request is made.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `endpoint` (missing, not an http(s) URL, has
    /// a query, or plain HTTP with a token credential), `credential` (none
    /// given), `single_put_limit`, `block_size` or `concurrency` (out of range).
    pub fn build(self) -> Result<BlobStore> {
        Ok(BlobStore { inner: Arc::new(self.checked()?) })
    }
}

impl BlobStore {
    /// A builder.
    pub fn builder() -> BlobStoreBuilder {
        BlobStoreBuilder::default()
    }

    /// A store for the Azurite emulator at `endpoint`
    /// (`http://127.0.0.1:PORT/devstoreaccount1`) authenticated by `sas` (see
    /// [`crate::sas`]), with few quick retries so that a dead emulator fails fast.
    ///
    /// # Errors
    /// As [`BlobStoreBuilder::build`].
    pub fn azurite(endpoint: &str, sas: &AccountSas) -> Result<BlobStore> {
        BlobStore::builder()
            .endpoint(endpoint)
            .sas(sas)
            .retry(RetryOptions::fixed(FixedRetryOptions {
                delay: azure_core::time::Duration::milliseconds(100),
                max_retries: 2,
                max_total_elapsed: azure_core::time::Duration::seconds(10),
            }))
            .build()
    }

    /// The account settings this store reports for its containers.
    pub fn account_settings(&self) -> AccountSettings {
        self.inner.account
    }

    fn client_options(&self) -> ClientOptions {
        ClientOptions {
            retry: self.inner.retry.clone().unwrap_or_else(|| RetryOptions::exponential(ExponentialRetryOptions::default())),
            transport: Some(self.inner.transport.clone()),
            ..ClientOptions::default()
        }
    }

    /// `{endpoint}/{container}` with the SAS query when there is one.
    fn container_url(&self, name: &ContainerName) -> Url {
        let mut url = self.inner.endpoint.clone();
        url.path_segments_mut().expect("checked to be a base URL").pop_if_empty().push(name.as_str());
        if let Auth::Sas(sas) = &self.inner.auth {
            url.set_query(Some(sas.expose_secret()));
        }
        url
    }

    fn container_client(&self, name: &ContainerName) -> Result<BlobContainerClient> {
        let credential = match &self.inner.auth {
            Auth::Token(c) => Some(c.clone()),
            Auth::Sas(_) => None,
        };
        let options = BlobContainerClientOptions { client_options: self.client_options(), ..Default::default() };
        BlobContainerClient::new(self.container_url(name), credential, Some(options))
            .map_err(|e| from_azure(Call { provider: BACKEND, operation: "client", kind: "bucket", name: name.as_str() }, e))
    }

    fn blob_client(&self, name: &ContainerName, key: &ObjectKey) -> Result<BlobClient> {
        Ok(self.container_client(name)?.blob_client(key.as_str()))
    }

    fn call<'a>(operation: &'a str, kind: &'static str, name: &'a str) -> Call<'a> {
        Call { provider: BACKEND, operation, kind, name }
    }

    /// What the data plane sees of a container, or `None` when it does not exist.
    async fn container_info(&self, bucket: &BucketName, name: &ContainerName) -> Result<Option<BucketInfo>> {
        let client = self.container_client(name)?;
        let props = match client.get_properties(None).await {
            Ok(p) => p,
            Err(e) if e.http_status().is_some_and(|s| u16::from(s) == 404) => return Ok(None),
            Err(e) => {
                return Err(from_azure(Self::call("GetContainerProperties", "bucket", name.as_str()), e));
            }
        };
        let header = |e: azure_core::Error| from_azure(Self::call("GetContainerProperties", "bucket", name.as_str()), e);
        let public = props.access().map_err(header)?.is_some();
        let tags: BTreeMap<String, String> = props.metadata().map_err(header)?.into_iter().collect();
        let account = self.inner.account;
        Ok(Some(BucketInfo {
            name: bucket.clone(),
            versioning: account.versioning,
            encryption: Encryption::ProviderManaged,
            block_public_access: !public && !account.allow_blob_public_access,
            require_tls: account.https_only,
            tags,
        }))
    }

    /// Refuse what the data plane cannot set, naming the field.
    fn check_spec(&self, spec: &BucketSpec) -> Result<ContainerName> {
        let name = container(&spec.name)?;
        check_tags(&spec.tags)?;
        let account = self.inner.account;
        let account_level = |field: &str, have: bool| {
            Error::not_supported(
                BACKEND,
                field,
                format!(
                    "an account-level setting (the account has it {}); set it on the storage account with Azure Resource Manager (deploy_azure::arm::storage) and declare it with BlobStoreBuilder::account_settings",
                    if have { "on" } else { "off" }
                ),
            )
        };
        if spec.versioning != account.versioning {
            return Err(account_level("versioning", account.versioning));
        }
        if spec.require_tls != account.https_only {
            return Err(account_level("require_tls", account.https_only));
        }
        if spec.block_public_access == account.allow_blob_public_access {
            if !spec.block_public_access {
                return Err(Error::not_supported(BACKEND, "block_public_access", "deploy never makes a container public"));
            }
            return Err(account_level("block_public_access", !account.allow_blob_public_access));
        }
        if let Encryption::Key(_) = spec.encryption {
            return Err(Error::not_supported(
                BACKEND,
                "encryption",
                "customer-managed keys are a storage-account setting (Microsoft.Storage encryption.keySource); containers are always encrypted with the account's key",
            ));
        }
        Ok(name)
    }
}

#[async_trait]
impl ObjectStore for BlobStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    /// One path: check, read the container, compare; only in
    /// [`deploy_core::Mode::Apply`] create it or make it private and set its tags.
    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "bucket", name = %spec.name))]
    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: deploy_core::Mode) -> Result<Plan> {
        let name = self.check_spec(spec)?;
        let current = self.container_info(&spec.name, &name).await?;
        let plan = match &current {
            None => Plan::from_iter([Change::create("bucket", spec.name.as_str())]),
            Some(info) => info.diff(spec),
        };
        if !mode.is_apply() || plan.is_empty() {
            return Ok(plan);
        }
        let client = self.container_client(&name)?;
        let Some(info) = current else {
            let metadata: HashMap<String, String> = spec.tags.clone().into_iter().collect();
            let options = BlobContainerClientCreateOptions { metadata: (!metadata.is_empty()).then_some(metadata), ..Default::default() };
            client.create(Some(options)).await.map_err(|e| from_azure(Self::call("CreateContainer", "bucket", name.as_str()), e))?;
            return Ok(plan);
        };
        if !info.block_public_access {
            // Private again, keeping the stored access policies.
            let call = Self::call("SetContainerACL", "bucket", name.as_str());
            let acl: SignedIdentifiers =
                client.get_access_policy(None).await.map_err(|e| from_azure(call, e))?.into_model().map_err(|e| from_azure(call, e))?;
            let body = acl.try_into().map_err(|e| from_azure(call, e))?;
            client
                .set_access_policy(body, Some(BlobContainerClientSetAccessPolicyOptions::default()))
                .await
                .map_err(|e| from_azure(call, e))?;
        }
        if info.tags != spec.tags {
            let metadata: HashMap<String, String> = spec.tags.clone().into_iter().collect();
            client
                .set_metadata(&metadata, None)
                .await
                .map_err(|e| from_azure(Self::call("SetContainerMetadata", "bucket", name.as_str()), e))?;
        }
        Ok(plan)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo> {
        let name = container(bucket)?;
        self.container_info(bucket, &name).await?.ok_or_else(|| Error::not_found("bucket", bucket.as_str()))
    }

    #[tracing::instrument(level = "info", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()> {
        let name = container(bucket)?;
        if self.container_info(bucket, &name).await?.is_none() {
            return Err(Error::not_found("bucket", bucket.as_str()));
        }
        // Older versions and snapshots count: deleting the container destroys them too.
        if self.holds_anything(&name).await? {
            Confirm::require(confirm.as_ref(), "delete bucket and every object (and version) in", bucket.as_str())?;
        }
        let client = self.container_client(&name)?;
        client.delete(None).await.map_err(|e| from_azure(Self::call("DeleteContainer", "bucket", name.as_str()), e))?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta> {
        self.put_blob(bucket, key, body, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult> {
        self.get_blob(bucket, key, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        self.head_blob(bucket, key).await
    }

    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        self.list_blobs(bucket, options)
    }

    fn key_order(&self) -> KeyOrder {
        KeyOrder::Utf16
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %source_bucket))]
    async fn copy_opts(
        &self,
        source_bucket: &BucketName,
        source: &ObjectKey,
        target_bucket: &BucketName,
        target: &ObjectKey,
        options: &CopyOptions,
    ) -> Result<ObjectMeta> {
        self.copy_blob(source_bucket, source, target_bucket, target, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()> {
        self.delete_blob(bucket, key, options).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()> {
        container(bucket)?;
        let concurrency = self.inner.concurrency * 4;
        futures::stream::iter(keys.iter().cloned())
            .map(|key| {
                let (store, bucket) = (self.clone(), bucket.clone());
                async move { store.delete(&bucket, &key).await }
            })
            .buffer_unordered(concurrency)
            .try_collect::<()>()
            .await
    }

    /// Declared by the account settings, and checked on the container's
    /// blobs: a blob listed without a version id (as Azurite lists every blob)
    /// shows that overwrites do not keep versions, whatever is declared.
    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn versioning_enabled(&self, bucket: &BucketName) -> Result<bool> {
        let name = container(bucket)?;
        if self.container_info(bucket, &name).await?.is_none() {
            return Err(Error::not_found("bucket", bucket.as_str()));
        }
        Ok(self.inner.account.versioning && self.observed_versioning(&name).await? != Some(false))
    }

    /// Blobs, older versions and snapshots (List Blobs with `include=versions,snapshots`, one item).
    #[tracing::instrument(level = "debug", skip_all, fields(backend = BACKEND, kind = "bucket", name = %bucket))]
    async fn holds_data(&self, bucket: &BucketName) -> Result<bool> {
        let name = container(bucket)?;
        self.holds_anything(&name).await
    }
}
