//! Resource groups (`Microsoft.Resources/resourceGroups`).

use std::collections::BTreeMap;

use deploy_core::plan::{Change, Diff, Plan};
use deploy_core::{Confirm, Result};
use serde::Serialize;

use super::{ArmClient, Target, api, check_location, check_name, tags_of};

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
        ResourceGroupSpec {
            name: name.into(),
            location: location.into(),
            tags: BTreeMap::new(),
        }
    }

    /// Check the name and location.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `name` or `location`.
    pub fn validate(&self) -> Result<()> {
        check_name("name", &self.name, 90, "-_.()")?;
        check_location(&self.location)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    location: &'a str,
    tags: &'a BTreeMap<String, String>,
}

impl ArmClient {
    fn group_target(name: &str) -> Target<'_> {
        Target {
            kind: "resource group",
            name,
        }
    }

    /// The change [`ArmClient::ensure_resource_group`] would make.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] before any request; ARM errors.
    pub async fn plan_resource_group(&self, spec: &ResourceGroupSpec) -> Result<Plan> {
        spec.validate()?;
        let current = self
            .get(
                &self.group_path(&spec.name),
                api::RESOURCE_GROUPS,
                Self::group_target(&spec.name),
            )
            .await?;
        Ok(match current {
            None => Plan::from_iter([Change::create("resource group", &spec.name)]),
            Some(v) => {
                let mut drift = Diff::new();
                let location = super::str_at(&v, "/location").unwrap_or("").to_owned();
                drift.field("location", &location, &spec.location);
                let mut update = Diff::new();
                update.field("tags", &tags_of(&v), &spec.tags);
                let mut plan = Plan::new();
                if !update.is_empty() {
                    plan.push(Change::update(
                        "resource group",
                        &spec.name,
                        update.into_fields(),
                    ));
                }
                if !drift.is_empty() {
                    plan.push(Change::drift(
                        "resource group",
                        &spec.name,
                        drift.into_fields(),
                    ));
                }
                plan
            }
        })
    }

    /// Create the group, or update its tags; a group in another location is reported as drift.
    ///
    /// # Errors
    /// As [`ArmClient::plan_resource_group`].
    pub async fn ensure_resource_group(&self, spec: &ResourceGroupSpec) -> Result<Plan> {
        let plan = self.plan_resource_group(spec).await?;
        let path = self.group_path(&spec.name);
        let target = Self::group_target(&spec.name);
        match plan.changes.first().map(|c| &c.action) {
            Some(deploy_core::Action::Create) => {
                self.put(
                    &path,
                    api::RESOURCE_GROUPS,
                    &Body {
                        location: &spec.location,
                        tags: &spec.tags,
                    },
                    target,
                )
                .await?;
            }
            Some(deploy_core::Action::Update { .. }) => {
                self.patch(
                    &path,
                    api::RESOURCE_GROUPS,
                    &serde_json::json!({ "tags": spec.tags }),
                    target,
                )
                .await?;
            }
            _ => {}
        }
        Ok(plan)
    }

    /// Delete the group and everything in it: `confirm` must name it. Waits until gone.
    ///
    /// # Errors
    /// [`deploy_core::Error::ConfirmationRequired`]; ARM errors.
    pub async fn delete_resource_group(&self, name: &str, confirm: &Confirm) -> Result<()> {
        check_name("name", name, 90, "-_.()")?;
        confirm.check("delete resource group and every resource in", name)?;
        self.delete(
            &self.group_path(name),
            api::RESOURCE_GROUPS,
            Self::group_target(name),
        )
        .await
    }
}
