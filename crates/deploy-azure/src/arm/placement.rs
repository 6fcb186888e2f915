//! Where a backend of the core traits makes its resources: a resource group
//! (which must exist) and a location.

use deploy_core::Result;

use super::client::ArmClient;
use super::names::{check_location, check_resource_group};

/// An [`ArmClient`], a resource group and a location, checked once.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    pub arm: ArmClient,
    pub resource_group: String,
    pub location: String,
}

impl Placement {
    /// `resource_group` at `location`, through `arm`.
    ///
    /// # Errors
    /// [`deploy_core::Error::InvalidInput`] on `resource_group` or `location`.
    pub fn new(arm: ArmClient, resource_group: impl Into<String>, location: impl Into<String>) -> Result<Self> {
        let (resource_group, location) = (resource_group.into(), location.into());
        check_resource_group("resource_group", &resource_group)?;
        check_location(&location)?;
        Ok(Placement { arm, resource_group, location })
    }

    /// The id of resource `name` of type `provider_type` in the group.
    pub fn id(&self, provider_type: &str, name: &str) -> String {
        self.arm.resource_id(&self.resource_group, provider_type, name)
    }
}
