//! Storage accounts, their blob versioning and containers (`Microsoft.Storage`).
//!
//! This is where the account-level settings of a bucket live (see
//! `blob`'s module docs): versioning (blob service `isVersioningEnabled`),
//! `allowBlobPublicAccess = false`, `supportsHttpsTrafficOnly = true` and
//! TLS 1.2 at least. [`StorageAccountSpec::account_settings`] is what to
//! declare on a `BlobStore` of the account.
//!
//! `arm.ensure(&StorageAccountSpec)` creates the account, or brings its
//! security settings and tags to the spec (PATCH; a different SKU is drift),
//! then its blob service's versioning (read, modify, write: a blob-service PUT
//! without its CORS rules, or any other property, deletes them).
//! `arm.ensure(&ContainerSpec)` creates a private container (PUT); one found
//! public is made private with a PATCH (`BlobContainers_Update`: a PUT is
//! `BlobContainers_Create` and may leave an existing container public).

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use deploy_core::plan::Diff;
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};
use deploy_core::{ContainerName, Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, ArmResource, ArmSpec, Difference, Write, api, bool_at, check_location, check_resource_group, str_at, tags_of};

/// The storage account SKUs of api-version 2023-05-01 (`SkuName` in the spec's common.json).
pub const STORAGE_SKUS: &[&str] =
    &["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS"];

/// What a storage account should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageAccountSpec {
    /// Resource group.
    pub resource_group: String,
    /// Name: 3-24 lowercase letters and digits, globally unique.
    pub name: String,
    /// Location.
    pub location: String,
    /// SKU (`Standard_LRS`, `Standard_ZRS`, `Standard_GRS`...).
    pub sku: String,
    /// Blob versioning (default on).
    pub versioning: bool,
    /// Allow containers to be made public (default off).
    pub allow_blob_public_access: bool,
    /// Refuse plain HTTP (default on).
    pub https_only: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl StorageAccountSpec {
    /// A StorageV2 `Standard_LRS` account with the secure defaults.
    pub fn new(resource_group: impl Into<String>, name: impl Into<String>, location: impl Into<String>) -> Self {
        StorageAccountSpec {
            resource_group: resource_group.into(),
            name: name.into(),
            location: location.into(),
            sku: "Standard_LRS".into(),
            versioning: true,
            allow_blob_public_access: false,
            https_only: true,
            tags: BTreeMap::new(),
        }
    }

    /// Check the fields.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_group`, `name`, `location` or `sku`.
    pub fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_account_name("name", &self.name)?;
        check_location(&self.location)?;
        if STORAGE_SKUS.contains(&self.sku.as_str()) {
            Ok(())
        } else {
            Err(Error::invalid(
                "sku",
                format!("{:?} is not a storage account SKU", self.sku),
                format!("one of {}", STORAGE_SKUS.join(", ")),
            ))
        }
    }

    /// The settings to declare on a `BlobStore` of this account.
    #[cfg(feature = "blob")]
    pub fn account_settings(&self) -> crate::blob::AccountSettings {
        crate::blob::AccountSettings {
            versioning: self.versioning,
            allow_blob_public_access: self.allow_blob_public_access,
            https_only: self.https_only,
        }
    }
}

/// A storage account's name in field `field`: 3-24 lowercase letters and digits.
pub(crate) fn check_account_name(field: &str, value: &str) -> Result<()> {
    if (3..=24).contains(&value.len()) && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{value:?} is not a storage account name"), "3 to 24 lowercase letters and digits"))
    }
}

/// A private container of a storage account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Resource group of the account.
    pub resource_group: String,
    /// The storage account.
    pub account: String,
    /// The container.
    pub name: ContainerName,
}

impl ContainerSpec {
    /// Container `name` of `account` in `resource_group`.
    pub fn new(resource_group: impl Into<String>, account: impl Into<String>, name: ContainerName) -> Self {
        ContainerSpec { resource_group: resource_group.into(), account: account.into(), name }
    }
}

impl ArmClient {
    /// The resource id of storage account `name` in `group`.
    pub fn storage_account_id(&self, group: &str, name: &str) -> String {
        self.resource_id(group, "Microsoft.Storage/storageAccounts", name)
    }

    /// The resource id of a container (a role assignment scope).
    pub fn container_id(&self, group: &str, account: &str, container: &ContainerName) -> String {
        format!("{}/blobServices/default/containers/{container}", self.storage_account_id(group, account))
    }
}

/// The account itself (its blob service is [`BlobService`]).
struct Account<'a>(&'a StorageAccountSpec);

impl ArmSpec for Account<'_> {
    const KIND: &'static str = "storage account";
    const API_VERSION: &'static str = api::STORAGE;

    fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.storage_account_id(&self.0.resource_group, &self.0.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        let spec = self.0;
        json!({
            "location": spec.location,
            "kind": "StorageV2",
            "sku": { "name": spec.sku },
            "tags": spec.tags,
            "properties": {
                "allowBlobPublicAccess": spec.allow_blob_public_access,
                "supportsHttpsTrafficOnly": spec.https_only,
                "minimumTlsVersion": "TLS1_2",
            }
        })
    }

    fn compare(&self, current: &Value) -> Difference {
        let spec = self.0;
        let mut update = Diff::new();
        update
            .field("allow_blob_public_access", &bool_at(current, "/properties/allowBlobPublicAccess"), &spec.allow_blob_public_access)
            .field("https_only", &bool_at(current, "/properties/supportsHttpsTrafficOnly"), &spec.https_only)
            .field("tags", &tags_of(current), &spec.tags);
        let mut drift = Diff::new();
        drift.field("sku", &str_at(current, "/sku/name").unwrap_or("").to_owned(), &spec.sku);
        Difference::update(update, || {
            Write::Patch(json!({
                "tags": spec.tags,
                "properties": { "allowBlobPublicAccess": spec.allow_blob_public_access, "supportsHttpsTrafficOnly": spec.https_only }
            }))
        })
        .with_drift(drift)
    }
}

/// The account's blob service: only its versioning is managed.
struct BlobService<'a>(&'a StorageAccountSpec);

impl ArmSpec for BlobService<'_> {
    const KIND: &'static str = "blob service";
    const API_VERSION: &'static str = api::STORAGE;
    const IMPLICIT: bool = true;

    fn validate(&self) -> Result<()> {
        self.0.validate()
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        format!("{}/blobServices/default", arm.storage_account_id(&self.0.resource_group, &self.0.name))
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({ "properties": { "isVersioningEnabled": self.0.versioning } })
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        update.field("versioning", &bool_at(current, "/properties/isVersioningEnabled"), &self.0.versioning);
        Difference::update(update, || {
            // Read, modify, write: every property read (CORS rules, retention policies) is sent back.
            let mut properties = current.get("properties").cloned().unwrap_or_else(|| json!({}));
            properties["isVersioningEnabled"] = json!(self.0.versioning);
            Write::Put(json!({ "properties": properties }))
        })
    }
}

/// The account, then its blob service's versioning. Answers the account.
#[async_trait]
impl Reconcile<StorageAccountSpec> for ArmClient {
    type Info = ArmResource;

    #[tracing::instrument(level = "info", skip_all, fields(backend = super::client::PROVIDER, kind = "storage account", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &StorageAccountSpec, mode: Mode) -> Result<Reconciled<ArmResource>> {
        spec.validate()?;
        let (account_spec, service_spec) = (Account(spec), BlobService(spec));
        let account = self.resource_of(&account_spec);
        let current = account.get().await?;
        let created = current.is_none();
        let mut reconciled = account.converge(&account_spec, current, mode).await?;
        let service = self.resource_of(&service_spec);
        // A new account's blob service is read once the account exists; until then it is compared as empty.
        let current = if created && !mode.is_apply() { None } else { service.get().await? };
        reconciled.plan.extend(service.converge(&service_spec, current, mode).await?.plan);
        Ok(reconciled)
    }
}

impl ArmSpec for ContainerSpec {
    const KIND: &'static str = "container";
    const API_VERSION: &'static str = api::STORAGE;

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.name.as_str())
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.container_id(&self.resource_group, &self.account, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        private_container()
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        let access = str_at(current, "/properties/publicAccess").unwrap_or("None");
        update.field("public_access", &access, &"None");
        Difference::update(update, || Write::Patch(private_container()))
    }
}

/// The body of a private container.
fn private_container() -> Value {
    json!({ "properties": { "publicAccess": "None" } })
}
