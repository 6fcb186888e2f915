//! Azure Files shares of a storage account
//! (`Microsoft.Storage/storageAccounts/fileServices/shares`).
//!
//! [`FileShareSpec`] is an [`ArmSpec`]: `arm.ensure(&spec)` creates the share
//! (`FileShares_Create`, a PUT), or brings its quota to the spec with a PATCH
//! (`FileShares_Update`: only the properties sent change). The share lives in
//! the account's one file service, `default`, which exists with the account.
//! `arm.resource_of(&spec).delete()` deletes it (`FileShares_Delete`, with its
//! snapshots).
//!
//! ```
//! use deploy_azure::arm::files::FileShareSpec;
//! use deploy_azure::arm::ArmSpec as _;
//!
//! let share = FileShareSpec::new("app-rg", "appfiles", "uploads").with_quota_gib(512);
//! assert_eq!(share.quota_gib, 512);
//! assert!(share.validate().is_ok());
//! let err = FileShareSpec::new("app-rg", "appfiles", "-uploads").validate().unwrap_err();
//! assert_eq!(err.invalid_field(), Some("name"));
//! ```

use std::borrow::Cow;

use deploy_core::plan::Diff;
use deploy_core::{Error, Result};
use serde_json::{Value, json};

use super::storage::check_account_name;
use super::{ArmClient, ArmSpec, Difference, Write, api, check_resource_group};

/// The largest share quota, in GiB (a large file share; 5120 without large file shares).
pub const MAX_SHARE_QUOTA_GIB: u32 = 102_400;

/// What an Azure Files share should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileShareSpec {
    /// Resource group of the storage account.
    pub resource_group: String,
    /// The storage account (3-24 lowercase letters and digits).
    pub account: String,
    /// The share: 3-63 lowercase letters, digits and single hyphens, starting
    /// and ending with a letter or digit.
    pub name: String,
    /// Its quota (`shareQuota`), in GiB: 1 to [`MAX_SHARE_QUOTA_GIB`].
    pub quota_gib: u32,
}

impl FileShareSpec {
    /// The quota of [`FileShareSpec::new`], in GiB.
    pub const DEFAULT_QUOTA_GIB: u32 = 100;

    /// Share `name` of `account` in `resource_group`, with a quota of
    /// [`FileShareSpec::DEFAULT_QUOTA_GIB`].
    pub fn new(resource_group: impl Into<String>, account: impl Into<String>, name: impl Into<String>) -> Self {
        FileShareSpec {
            resource_group: resource_group.into(),
            account: account.into(),
            name: name.into(),
            quota_gib: Self::DEFAULT_QUOTA_GIB,
        }
    }

    /// The same share with a quota of `quota_gib` GiB.
    #[must_use]
    pub fn with_quota_gib(mut self, quota_gib: u32) -> Self {
        self.quota_gib = quota_gib;
        self
    }

    fn body(&self) -> Value {
        json!({ "properties": { "shareQuota": self.quota_gib } })
    }
}

/// A share's name: 3-63 lowercase letters and digits, single hyphens between them.
fn check_share_name(value: &str) -> Result<()> {
    let ok = (3..=63).contains(&value.len())
        && value.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!("{value:?} is not a file share name"),
            "3 to 63 lowercase letters and digits, single hyphens between them (starting and ending with a letter or digit)",
        ))
    }
}

impl ArmClient {
    /// The resource id of file share `share` of storage account `account` in `group`.
    pub fn file_share_id(&self, group: &str, account: &str, share: &str) -> String {
        format!("{}/fileServices/default/shares/{share}", self.storage_account_id(group, account))
    }
}

impl ArmSpec for FileShareSpec {
    const KIND: &'static str = "file share";
    const API_VERSION: &'static str = api::STORAGE;

    /// Check the group, account, share name and quota.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_group`, `account`, `name` or `quota_gib`.
    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_account_name("account", &self.account)?;
        check_share_name(&self.name)?;
        if (1..=MAX_SHARE_QUOTA_GIB).contains(&self.quota_gib) {
            Ok(())
        } else {
            Err(Error::invalid(
                "quota_gib",
                format!("{} GiB is not a share quota", self.quota_gib),
                format!("1 to {MAX_SHARE_QUOTA_GIB} GiB (above 5120 on accounts with large file shares only)"),
            ))
        }
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.file_share_id(&self.resource_group, &self.account, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        self.body()
    }

    fn compare(&self, current: &Value) -> Difference {
        let quota = current.pointer("/properties/shareQuota").and_then(Value::as_u64).unwrap_or(0);
        let mut update = Diff::new();
        update.field("quota_gib", &quota, &u64::from(self.quota_gib));
        Difference::update(update, || Write::Patch(self.body()))
    }
}
