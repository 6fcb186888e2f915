//! Private DNS zones and their virtual-network links (`Microsoft.Network/privateDnsZones`).
//!
//! The flexible server's private DNS zone (`{name}.private.postgres.database.azure.com`)
//! must be linked to every network whose clients resolve the server: its own
//! and the networks of its clients (an AKS network, with auto-registration).
//!
//! [`PrivateDnsZoneSpec`] and [`DnsLinkSpec`] are [`ArmSpec`]s: `arm.ensure(&spec)`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use deploy_core::plan::Diff;
use deploy_core::{Error, Result};
use serde_json::{Value, json};

use super::{ArmClient, ArmSpec, Difference, Write, api, bool_at, check_name, check_resource_group, check_resource_id, str_at, tags_of};

/// What a private DNS zone should be (location `global`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateDnsZoneSpec {
    /// Resource group.
    pub resource_group: String,
    /// The zone (`myapp.private.postgres.database.azure.com`).
    pub zone: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// What a virtual-network link of a private DNS zone should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsLinkSpec {
    /// Resource group of the zone.
    pub resource_group: String,
    /// The zone (`myapp.private.postgres.database.azure.com`).
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
        && zone.split('.').all(|l| (1..=63).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("zone", format!("{zone:?} is not a DNS zone name"), "a DNS name of at least two labels: letters, digits, `-`"))
    }
}

impl ArmClient {
    /// The resource id of private DNS zone `zone` in `group`.
    pub fn private_dns_zone_id(&self, group: &str, zone: &str) -> String {
        self.resource_id(group, "Microsoft.Network/privateDnsZones", zone)
    }
}

impl ArmSpec for PrivateDnsZoneSpec {
    const KIND: &'static str = "private DNS zone";
    const API_VERSION: &'static str = api::PRIVATE_DNS;

    fn id(&self, arm: &ArmClient) -> String {
        arm.private_dns_zone_id(&self.resource_group, &self.zone)
    }

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_zone(&self.zone)
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.zone)
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({ "location": "global", "tags": self.tags })
    }

    fn compare(&self, current: &Value) -> Difference {
        let mut update = Diff::new();
        update.field("tags", &tags_of(current), &self.tags);
        Difference::update(update, || Write::Put(json!({ "location": "global", "tags": self.tags })))
    }
}

/// A link to another network under the same name is drift (links cannot be
/// re-pointed): nothing is written then, not even the registration flag.
impl ArmSpec for DnsLinkSpec {
    const KIND: &'static str = "private DNS zone link";
    const API_VERSION: &'static str = api::PRIVATE_DNS;

    fn id(&self, arm: &ArmClient) -> String {
        format!("{}/virtualNetworkLinks/{}", arm.private_dns_zone_id(&self.resource_group, &self.zone), self.name)
    }

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_zone(&self.zone)?;
        check_name("name", &self.name, 80, "-_.")?;
        check_resource_id("virtual_network_id", &self.virtual_network_id)
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        self.body()
    }

    fn compare(&self, current: &Value) -> Difference {
        let network = str_at(current, "/properties/virtualNetwork/id").unwrap_or("").to_ascii_lowercase();
        let mut drift = Diff::new();
        drift.field("virtual_network_id", &network, &self.virtual_network_id.to_ascii_lowercase());
        let mut update = Diff::new();
        update.field("registration_enabled", &bool_at(current, "/properties/registrationEnabled"), &self.registration_enabled);
        let drifted = !drift.is_empty();
        let mut difference = Difference::update(update, || Write::Put(self.body())).with_drift(drift);
        if drifted {
            difference.write = None;
        }
        difference
    }
}

impl DnsLinkSpec {
    fn body(&self) -> Value {
        json!({ "location": "global", "properties": { "virtualNetwork": { "id": self.virtual_network_id }, "registrationEnabled": self.registration_enabled } })
    }
}
