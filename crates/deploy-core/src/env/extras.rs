//! The optional parts SIMPHERA has beside the five traits: a shared file
//! system for temporary artifacts and the cluster's control-plane logs. The
//! provider environments make them (`deploy_aws::environment`); the
//! in-memory backends have neither.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate::ResourceName;

/// A file system the cluster's nodes share for temporary artifacts
/// (`files = { name = "acme-prod-files" }`): on AWS an encrypted EFS file
/// system with a mount target in each private subnet, reachable over NFS from
/// the cluster's nodes only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedFiles {
    /// Its name (on AWS its creation token and `Name` tag).
    pub name: ResourceName,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Control-plane logging of the cluster (`logs = { retention_days = 90 }`):
/// on AWS every EKS control-plane log type sent to CloudWatch Logs, whose log
/// group keeps them this many days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPlaneLogs {
    /// Days the logs are kept: one of [`ControlPlaneLogs::RETENTION_DAYS`].
    pub retention_days: u32,
}

impl ControlPlaneLogs {
    /// The retentions CloudWatch Logs offers.
    pub const RETENTION_DAYS: &'static [u32] =
        &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

    /// Check the retention.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `logs.retention_days`.
    pub fn validate(&self) -> Result<()> {
        if !Self::RETENTION_DAYS.contains(&self.retention_days) {
            let days: Vec<String> = Self::RETENTION_DAYS.iter().map(ToString::to_string).collect();
            return Err(Error::invalid(
                "logs.retention_days",
                format!("is {}", self.retention_days),
                format!("one of {}", days.join(", ")),
            ));
        }
        Ok(())
    }
}
