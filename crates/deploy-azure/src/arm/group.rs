//! Resource groups (`Microsoft.Resources/resourceGroups`).
//!
//! [`ResourceGroupSpec`] is an [`ArmSpec`]: `arm.ensure(&spec)` creates the
//! group, or updates its tags (PATCH); a group in another location is
//! reported as drift.

use std::borrow::Cow;
use std::collections::BTreeMap;

use deploy_core::plan::Diff;
use deploy_core::{Confirm, Result};
use serde_json::{Value, json};

use super::{ArmClient, ArmSpec, Difference, Write, api, check_location, check_resource_group, str_at, tags_of};

/// What a resource group should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceGroupSpec {
    /// Its name (1-90 letters, digits, `-_.()`).
    pub name: String,
    /// Its location (`westeurope`).
    pub location: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl ResourceGroupSpec {
    /// A group named `name` in `location`, without tags.
    pub fn new(name: impl Into<String>, location: impl Into<String>) -> Self {
        ResourceGroupSpec { name: name.into(), location: location.into(), tags: BTreeMap::new() }
    }
}

impl ArmSpec for ResourceGroupSpec {
    const KIND: &'static str = "resource group";
    const API_VERSION: &'static str = api::RESOURCE_GROUPS;

    /// Check the name and location.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `name` or `location`.
    fn validate(&self) -> Result<()> {
        check_resource_group("name", &self.name)?;
        check_location(&self.location)
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.group_path(&self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({ "location": self.location, "tags": self.tags })
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        update.field("tags", &tags_of(current), &self.tags);
        let mut drift = Diff::new();
        drift.field("location", &str_at(current, "/location").unwrap_or("").to_owned(), &self.location);
        Difference::update(update, || Write::Patch(json!({ "tags": self.tags }))).with_drift(drift)
    }
}

impl ArmClient {
    /// Delete the group and everything in it: `confirm` must name it. Waits until gone.
    ///
    /// # Errors
    /// [`deploy_core::Error::ConfirmationRequired`]; ARM errors.
    pub async fn delete_resource_group(&self, name: &str, confirm: &Confirm) -> Result<()> {
        check_resource_group("name", name)?;
        confirm.check("delete resource group and every resource in", name)?;
        self.resource(self.group_path(name), api::RESOURCE_GROUPS, ResourceGroupSpec::KIND, name).delete().await
    }
}
