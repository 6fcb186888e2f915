//! Log Analytics workspaces (`Microsoft.OperationalInsights/workspaces`) and
//! the diagnostic settings that send a resource's logs to one
//! (`Microsoft.Insights/diagnosticSettings`, an extension resource of the
//! monitored resource).
//!
//! [`LogWorkspaceSpec`] and [`DiagnosticSettingSpec`] are [`ArmSpec`]s:
//! `arm.ensure(&spec)`.
//!
//! - A workspace is created with a PUT (`PerGB2018`, its retention and tags);
//!   a different retention or different tags are updated with a PATCH
//!   (`Workspaces_Update`: only what is sent changes, so settings made
//!   elsewhere — daily cap, network access, features — stay); another
//!   location is reported as drift.
//! - A diagnostic setting is written whole (PUT, `DiagnosticSettings_CreateOrUpdate`,
//!   the only write the API has): another workspace or another set of enabled
//!   log categories is updated with a PUT of the full setting.
//!
//! **Deleting.** A diagnostic setting outlives the resource it monitors:
//! Azure does not delete it with the resource (nor with its resource group),
//! and a resource created again under the same id finds it in place. Delete
//! the settings of a resource before the resource:
//! `arm.resource_of(&setting).delete().await?`.
//!
//! ```
//! use deploy_azure::arm::monitor::{AKS_CONTROL_PLANE_CATEGORIES, DiagnosticSettingSpec, LogWorkspaceSpec};
//! use deploy_azure::arm::ArmSpec as _;
//!
//! let workspace = LogWorkspaceSpec::new("app-rg", "app-logs", "westeurope").with_retention_days(90);
//! assert!(workspace.validate().is_ok());
//! let cluster = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app-rg/providers/Microsoft.ContainerService/managedClusters/app-aks";
//! let workspace_id = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app-rg/providers/Microsoft.OperationalInsights/workspaces/app-logs";
//! let setting = DiagnosticSettingSpec::aks_control_plane(cluster, "to-app-logs", workspace_id);
//! assert_eq!(setting.categories, AKS_CONTROL_PLANE_CATEGORIES);
//! assert!(setting.validate().is_ok());
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use deploy_core::plan::Diff;
use deploy_core::{Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, ArmSpec, Difference, Write, api, check_location, check_resource_group, check_resource_id, str_at, tags_of};

/// The pricing tier every workspace is created with (pay as you go, per GB ingested).
pub const WORKSPACE_SKU: &str = "PerGB2018";

/// The retention range of a `PerGB2018` workspace, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=730;

/// The AKS control-plane log categories: API server, audit, controller
/// manager, scheduler and cluster autoscaler.
pub const AKS_CONTROL_PLANE_CATEGORIES: [&str; 5] =
    ["kube-apiserver", "kube-audit", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler"];

/// What a Log Analytics workspace should be (SKU [`WORKSPACE_SKU`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogWorkspaceSpec {
    /// Resource group.
    pub resource_group: String,
    /// Name: 4-63 letters, digits and hyphens, starting and ending with a letter or digit.
    pub name: String,
    /// Location.
    pub location: String,
    /// How long logs are kept, in days ([`RETENTION_DAYS`]).
    pub retention_days: u32,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl LogWorkspaceSpec {
    /// The retention of [`LogWorkspaceSpec::new`], in days.
    pub const DEFAULT_RETENTION_DAYS: u32 = 30;

    /// Workspace `name` in `resource_group` and `location`, keeping logs
    /// [`LogWorkspaceSpec::DEFAULT_RETENTION_DAYS`] days, without tags.
    pub fn new(resource_group: impl Into<String>, name: impl Into<String>, location: impl Into<String>) -> Self {
        LogWorkspaceSpec {
            resource_group: resource_group.into(),
            name: name.into(),
            location: location.into(),
            retention_days: Self::DEFAULT_RETENTION_DAYS,
            tags: BTreeMap::new(),
        }
    }

    /// The same workspace keeping logs `days` days.
    #[must_use]
    pub fn with_retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }
}

/// What a diagnostic setting should be: the listed log categories of a
/// resource, sent to a Log Analytics workspace.
///
/// Delete it before the resource it monitors: it outlives it (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagnosticSettingSpec {
    /// The monitored resource's id (an AKS cluster's, for example).
    pub resource_id: String,
    /// The setting's name (1-260 characters, no `/`).
    pub name: String,
    /// The resource id of the Log Analytics workspace the logs go to.
    pub workspace_id: String,
    /// The log categories enabled (at least one); only these are enabled.
    pub categories: Vec<String>,
}

impl DiagnosticSettingSpec {
    /// The AKS control-plane logs ([`AKS_CONTROL_PLANE_CATEGORIES`]) of the
    /// cluster `cluster_id`, sent to the workspace `workspace_id`.
    pub fn aks_control_plane(cluster_id: impl Into<String>, name: impl Into<String>, workspace_id: impl Into<String>) -> Self {
        DiagnosticSettingSpec {
            resource_id: cluster_id.into(),
            name: name.into(),
            workspace_id: workspace_id.into(),
            categories: AKS_CONTROL_PLANE_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    fn body(&self) -> Value {
        let logs: Vec<Value> = self.categories.iter().map(|c| json!({ "category": c, "enabled": true })).collect();
        json!({ "properties": { "workspaceId": self.workspace_id, "logs": logs } })
    }

    fn wanted_categories(&self) -> BTreeSet<String> {
        self.categories.iter().cloned().collect()
    }
}

/// The log categories a diagnostic setting as read has enabled.
fn enabled_categories(current: &Value) -> BTreeSet<String> {
    current
        .pointer("/properties/logs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|log| log.get("enabled").and_then(Value::as_bool).unwrap_or(false))
        .filter_map(|log| log.get("category").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// A workspace name: 4-63 letters, digits and hyphens, a letter or digit first and last.
fn check_workspace_name(value: &str) -> Result<()> {
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let ok = (4..=63).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && alphanumeric(value.chars().next())
        && alphanumeric(value.chars().last());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!("{value:?} is not a Log Analytics workspace name"),
            "4 to 63 letters, digits and hyphens, starting and ending with a letter or digit",
        ))
    }
}

/// A location as compared: lowercase, without spaces (`West Europe` is `westeurope`).
fn normalized_location(location: &str) -> String {
    location.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

impl ArmClient {
    /// The resource id of Log Analytics workspace `name` in `group`.
    pub fn log_workspace_id(&self, group: &str, name: &str) -> String {
        self.resource_id(group, "Microsoft.OperationalInsights/workspaces", name)
    }
}

impl ArmSpec for LogWorkspaceSpec {
    const KIND: &'static str = "log analytics workspace";
    const API_VERSION: &'static str = api::LOG_ANALYTICS;

    /// Check the group, name, location and retention.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_group`, `name`, `location` or `retention_days`.
    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_workspace_name(&self.name)?;
        check_location(&self.location)?;
        if RETENTION_DAYS.contains(&self.retention_days) {
            Ok(())
        } else {
            Err(Error::invalid(
                "retention_days",
                format!("{} days is not a workspace retention", self.retention_days),
                format!("{} to {} days", RETENTION_DAYS.start(), RETENTION_DAYS.end()),
            ))
        }
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.log_workspace_id(&self.resource_group, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({
            "location": self.location,
            "tags": self.tags,
            "properties": { "sku": { "name": WORKSPACE_SKU }, "retentionInDays": self.retention_days }
        })
    }

    fn compare(&self, current: &Value) -> Difference {
        let retention = current.pointer("/properties/retentionInDays").and_then(Value::as_u64).unwrap_or(0);
        let mut update = Diff::new();
        update.field("retention_days", &retention, &u64::from(self.retention_days)).field("tags", &tags_of(current), &self.tags);
        let mut drift = Diff::new();
        let location = str_at(current, "/location").unwrap_or("");
        if normalized_location(location) != normalized_location(&self.location) {
            drift.field("location", &location.to_owned(), &self.location);
        }
        Difference::update(update, || Write::Patch(json!({ "tags": self.tags, "properties": { "retentionInDays": self.retention_days } })))
            .with_drift(drift)
    }
}

impl ArmSpec for DiagnosticSettingSpec {
    const KIND: &'static str = "diagnostic setting";
    const API_VERSION: &'static str = api::DIAGNOSTIC_SETTINGS;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, _: &ArmClient) -> String {
        format!("{}/providers/Microsoft.Insights/diagnosticSettings/{}", self.resource_id.trim_end_matches('/'), self.name)
    }

    /// Check the ids, the name and the categories.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `resource_id`, `name`, `workspace_id` (not
    /// the id of a Log Analytics workspace) or `categories` (none, an empty
    /// one, or one listed twice).
    fn validate(&self) -> Result<()> {
        check_resource_id("resource_id", &self.resource_id)?;
        if self.name.is_empty() || self.name.chars().count() > 260 || self.name.contains('/') {
            return Err(Error::invalid(
                "name",
                format!("{:?} is not a diagnostic setting name", self.name),
                "1 to 260 characters, without `/`",
            ));
        }
        check_resource_id("workspace_id", &self.workspace_id)?;
        if !self.workspace_id.to_ascii_lowercase().contains("/providers/microsoft.operationalinsights/workspaces/") {
            return Err(Error::invalid(
                "workspace_id",
                format!("{:?} is not a Log Analytics workspace id", self.workspace_id),
                "the id of a Microsoft.OperationalInsights/workspaces resource",
            ));
        }
        if self.categories.is_empty() {
            return Err(Error::invalid("categories", "no log category", "at least one log category, such as kube-audit"));
        }
        let mut seen = BTreeSet::new();
        for category in &self.categories {
            if category.trim().is_empty() || !seen.insert(category.as_str()) {
                return Err(Error::invalid(
                    "categories",
                    format!("{category:?} is empty or listed twice"),
                    "distinct, non-empty log category names",
                ));
            }
        }
        Ok(())
    }

    fn create(&self, _: &ArmClient) -> Value {
        self.body()
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        let workspace = str_at(current, "/properties/workspaceId").unwrap_or("");
        if !workspace.eq_ignore_ascii_case(&self.workspace_id) {
            update.field("workspace_id", &workspace.to_owned(), &self.workspace_id);
        }
        update.field("categories", &enabled_categories(current), &self.wanted_categories());
        Difference::update(update, || Write::Put(self.body()))
    }
}
