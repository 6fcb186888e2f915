//! Storage accounts, their blob versioning and containers (`Microsoft.Storage`).
//!
//! This is where the account-level settings of a bucket live (see
//! `blob`'s module docs): versioning (blob service `isVersioningEnabled`),
//! `allowBlobPublicAccess = false`, `supportsHttpsTrafficOnly = true` and
//! TLS 1.2 at least. [`StorageAccountSpec::account_settings`] is what to
//! declare on a `BlobStore` of the account.

use std::collections::BTreeMap;

use deploy_core::plan::{Change, Diff, Plan};
use deploy_core::{ContainerName, Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, Target, api, check_location, check_name, str_at, tags_of};

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
    pub fn new(
        resource_group: impl Into<String>,
        name: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
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
        check_name("resource_group", &self.resource_group, 90, "-_.()")?;
        let name_ok = (3..=24).contains(&self.name.len())
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !name_ok {
            return Err(Error::invalid(
                "name",
                format!("{:?} is not a storage account name", self.name),
                "3 to 24 lowercase letters and digits",
            ));
        }
        check_location(&self.location)?;
        check_name("sku", &self.sku, 32, "_")
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

impl ArmClient {
    /// The resource id of storage account `name` in `group`.
    pub fn storage_account_id(&self, group: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Storage/storageAccounts/{name}",
            self.group_path(group)
        )
    }

    /// The resource id of a container (a role assignment scope).
    pub fn container_id(&self, group: &str, account: &str, container: &ContainerName) -> String {
        format!(
            "{}/blobServices/default/containers/{container}",
            self.storage_account_id(group, account)
        )
    }

    /// Create the account, or bring its security settings, tags and blob
    /// versioning to the spec. A different SKU or location is drift. `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_storage_account(
        &self,
        spec: &StorageAccountSpec,
        apply: bool,
    ) -> Result<Plan> {
        spec.validate()?;
        let path = self.storage_account_id(&spec.resource_group, &spec.name);
        let target = Target {
            kind: "storage account",
            name: &spec.name,
        };
        let blob_path = format!("{path}/blobServices/default");
        let mut plan = Plan::new();
        let mut account_body = None;
        match self.get(&path, api::STORAGE, target).await? {
            None => {
                plan.push(Change::create("storage account", &spec.name));
                account_body = Some(json!({
                    "location": spec.location,
                    "kind": "StorageV2",
                    "sku": { "name": spec.sku },
                    "tags": spec.tags,
                    "properties": {
                        "allowBlobPublicAccess": spec.allow_blob_public_access,
                        "supportsHttpsTrafficOnly": spec.https_only,
                        "minimumTlsVersion": "TLS1_2",
                    }
                }));
            }
            Some(v) => {
                let flag = |p: &str| v.pointer(p).and_then(Value::as_bool).unwrap_or(false);
                let mut update = Diff::new();
                update
                    .field(
                        "allow_blob_public_access",
                        &flag("/properties/allowBlobPublicAccess"),
                        &spec.allow_blob_public_access,
                    )
                    .field(
                        "https_only",
                        &flag("/properties/supportsHttpsTrafficOnly"),
                        &spec.https_only,
                    )
                    .field("tags", &tags_of(&v), &spec.tags);
                let mut drift = Diff::new();
                drift.field(
                    "sku",
                    &str_at(&v, "/sku/name").unwrap_or("").to_owned(),
                    &spec.sku,
                );
                if !update.is_empty() {
                    plan.push(Change::update(
                        "storage account",
                        &spec.name,
                        update.into_fields(),
                    ));
                    account_body = Some(json!({
                        "tags": spec.tags,
                        "properties": { "allowBlobPublicAccess": spec.allow_blob_public_access, "supportsHttpsTrafficOnly": spec.https_only }
                    }));
                }
                if !drift.is_empty() {
                    plan.push(Change::drift(
                        "storage account",
                        &spec.name,
                        drift.into_fields(),
                    ));
                }
            }
        }
        let versioning = if plan
            .changes
            .first()
            .is_some_and(|c| c.action == deploy_core::Action::Create)
        {
            false
        } else {
            let blob = self
                .get(
                    &blob_path,
                    api::STORAGE,
                    Target {
                        kind: "blob service",
                        name: &spec.name,
                    },
                )
                .await?;
            blob.as_ref()
                .and_then(|b| b.pointer("/properties/isVersioningEnabled"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let versioning_change = versioning != spec.versioning;
        if versioning_change {
            plan.push(Change::update(
                "blob service",
                &spec.name,
                vec![deploy_core::FieldChange::new(
                    "versioning",
                    versioning,
                    spec.versioning,
                )],
            ));
        }
        if apply {
            if let Some(body) = account_body {
                if plan.changes[0].action == deploy_core::Action::Create {
                    self.put(&path, api::STORAGE, &body, target).await?;
                } else {
                    self.patch(&path, api::STORAGE, &body, target).await?;
                }
            }
            if versioning_change {
                // Read, modify, write: a blob-service PUT without its CORS rules (or any other
                // property) deletes them, so every property read is sent back.
                let target = Target {
                    kind: "blob service",
                    name: &spec.name,
                };
                let current = self.get(&blob_path, api::STORAGE, target).await?;
                let mut properties = current
                    .as_ref()
                    .and_then(|b| b.get("properties"))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                properties["isVersioningEnabled"] = json!(spec.versioning);
                self.put(&blob_path, api::STORAGE, &json!({ "properties": properties }), target)
                    .await?;
            }
        }
        Ok(plan)
    }

    /// Create a private container in the account (PUT); a container found
    /// public is made private with a PATCH (the update operation).
    /// `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_container(
        &self,
        group: &str,
        account: &str,
        container: &ContainerName,
        apply: bool,
    ) -> Result<Plan> {
        check_name("resource_group", group, 90, "-_.()")?;
        let path = self.container_id(group, account, container);
        let target = Target {
            kind: "container",
            name: container.as_str(),
        };
        let plan = match self.get(&path, api::STORAGE, target).await? {
            None => Plan::from_iter([Change::create("container", container.as_str())]),
            Some(v) => {
                let access = str_at(&v, "/properties/publicAccess")
                    .unwrap_or("None")
                    .to_owned();
                if access == "None" {
                    Plan::new()
                } else {
                    Plan::from_iter([Change::update(
                        "container",
                        container.as_str(),
                        vec![deploy_core::FieldChange::new(
                            "public_access",
                            access,
                            "None",
                        )],
                    )])
                }
            }
        };
        if apply && !plan.is_empty() {
            let body = json!({ "properties": { "publicAccess": "None" } });
            if plan.changes[0].action == deploy_core::Action::Create {
                self.put(&path, api::STORAGE, &body, target).await?;
            } else {
                // BlobContainers_Update: a PUT is BlobContainers_Create and may leave an existing container public.
                self.patch(&path, api::STORAGE, &body, target).await?;
            }
        }
        Ok(plan)
    }
}
