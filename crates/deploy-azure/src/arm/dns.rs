//! Private DNS zones and their virtual-network links (`Microsoft.Network/privateDnsZones`).
//!
//! The flexible server's private DNS zone (`{name}.private.postgres.database.azure.com`)
//! must be linked to every network whose clients resolve the server: its own
//! and, in the Vectice runbook, the AKS network (with auto-registration).

use std::collections::BTreeMap;

use deploy_core::plan::{Change, Diff, Plan};
use deploy_core::{Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, Target, api, check_name, check_resource_id, str_at, tags_of};

/// What a virtual-network link of a private DNS zone should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsLinkSpec {
    /// Resource group of the zone.
    pub resource_group: String,
    /// The zone (`vectice.private.postgres.database.azure.com`).
    pub zone: String,
    /// The link's name.
    pub name: String,
    /// The linked network's resource id.
    pub virtual_network_id: String,
    /// Register the network's VMs' records in the zone automatically.
    pub registration_enabled: bool,
}

fn check_zone(zone: &str) -> Result<()> {
    let ok = zone.len() <= 253
        && zone.split('.').count() >= 2
        && zone.split('.').all(|l| {
            (1..=63).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "zone",
            format!("{zone:?} is not a DNS zone name"),
            "a DNS name of at least two labels: letters, digits, `-`",
        ))
    }
}

impl ArmClient {
    /// The resource id of private DNS zone `zone` in `group`.
    pub fn private_dns_zone_id(&self, group: &str, zone: &str) -> String {
        format!(
            "{}/providers/Microsoft.Network/privateDnsZones/{zone}",
            self.group_path(group)
        )
    }

    /// Create the zone (location `global`) if missing, with `tags`. `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_private_dns_zone(
        &self,
        group: &str,
        zone: &str,
        tags: &BTreeMap<String, String>,
        apply: bool,
    ) -> Result<Plan> {
        check_name("resource_group", group, 90, "-_.()")?;
        check_zone(zone)?;
        let path = self.private_dns_zone_id(group, zone);
        let target = Target {
            kind: "private DNS zone",
            name: zone,
        };
        let plan = match self.get(&path, api::PRIVATE_DNS, target).await? {
            None => Plan::from_iter([Change::create("private DNS zone", zone)]),
            Some(v) => {
                let mut d = Diff::new();
                d.field("tags", &tags_of(&v), tags);
                if d.is_empty() {
                    Plan::new()
                } else {
                    Plan::from_iter([Change::update("private DNS zone", zone, d.into_fields())])
                }
            }
        };
        if apply && !plan.is_empty() {
            self.put(
                &path,
                api::PRIVATE_DNS,
                &json!({ "location": "global", "tags": tags }),
                target,
            )
            .await?;
        }
        Ok(plan)
    }

    /// Link the zone to a network, or bring the link's registration flag to the
    /// spec. A link to another network under the same name is drift (links
    /// cannot be re-pointed). `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_dns_link(&self, spec: &DnsLinkSpec, apply: bool) -> Result<Plan> {
        check_name("resource_group", &spec.resource_group, 90, "-_.()")?;
        check_zone(&spec.zone)?;
        check_name("name", &spec.name, 80, "-_.")?;
        check_resource_id("virtual_network_id", &spec.virtual_network_id)?;
        let path = format!(
            "{}/virtualNetworkLinks/{}",
            self.private_dns_zone_id(&spec.resource_group, &spec.zone),
            spec.name
        );
        let target = Target {
            kind: "private DNS zone link",
            name: &spec.name,
        };
        let plan = match self.get(&path, api::PRIVATE_DNS, target).await? {
            None => Plan::from_iter([Change::create("private DNS zone link", &spec.name)]),
            Some(v) => {
                let network = str_at(&v, "/properties/virtualNetwork/id")
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let registration = v
                    .pointer("/properties/registrationEnabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let mut drift = Diff::new();
                drift.field(
                    "virtual_network_id",
                    &network,
                    &spec.virtual_network_id.to_ascii_lowercase(),
                );
                let mut update = Diff::new();
                update.field(
                    "registration_enabled",
                    &registration,
                    &spec.registration_enabled,
                );
                let mut plan = Plan::new();
                if !update.is_empty() {
                    plan.push(Change::update(
                        "private DNS zone link",
                        &spec.name,
                        update.into_fields(),
                    ));
                }
                if !drift.is_empty() {
                    plan.push(Change::drift(
                        "private DNS zone link",
                        &spec.name,
                        drift.into_fields(),
                    ));
                }
                plan
            }
        };
        let creates_or_updates = plan
            .changes
            .iter()
            .any(|c| !matches!(c.action, deploy_core::Action::Drift { .. }));
        let drifted = plan
            .changes
            .iter()
            .any(|c| matches!(c.action, deploy_core::Action::Drift { .. }));
        if apply && creates_or_updates && !drifted {
            let body = json!({ "location": "global", "properties": { "virtualNetwork": { "id": spec.virtual_network_id }, "registrationEnabled": spec.registration_enabled } });
            self.put(&path, api::PRIVATE_DNS, &body, target).await?;
        }
        Ok(plan)
    }
}
