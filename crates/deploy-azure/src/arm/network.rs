//! Virtual networks, subnets delegated to PostgreSQL flexible servers, and
//! peerings in both directions (`Microsoft.Network`).
//!
//! A virtual network is PUT with its existing subnets (a PUT without them
//! would delete them); subnets and peerings are child resources of their own.

use std::collections::BTreeMap;

use deploy_core::plan::{Change, Diff, Plan};
use deploy_core::{CidrBlock, Error, Result};
use serde_json::{Value, json};

use super::{
    ArmClient, Target, api, check_location, check_name, check_resource_id, str_at, tags_of,
};

/// The service a PostgreSQL flexible server's subnet is delegated to.
pub const POSTGRES_DELEGATION: &str = "Microsoft.DBforPostgreSQL/flexibleServers";

/// What a virtual network should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualNetworkSpec {
    /// Resource group.
    pub resource_group: String,
    /// Name (2-64 letters, digits, `-_.`).
    pub name: String,
    /// Location.
    pub location: String,
    /// Address space.
    pub address_space: Vec<CidrBlock>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// What a subnet should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetSpec {
    /// Resource group of the network.
    pub resource_group: String,
    /// The network.
    pub virtual_network: String,
    /// Name.
    pub name: String,
    /// Address prefix, inside the network's address space.
    pub address_prefix: CidrBlock,
    /// The service the subnet is delegated to ([`POSTGRES_DELEGATION`]), if any.
    pub delegation: Option<String>,
}

/// One direction of a peering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeeringSpec {
    /// Resource group of the local network.
    pub resource_group: String,
    /// The local network.
    pub virtual_network: String,
    /// The peering's name.
    pub name: String,
    /// The remote network's resource id.
    pub remote_virtual_network_id: String,
    /// Let the networks reach each other (default on).
    pub allow_virtual_network_access: bool,
    /// Accept traffic forwarded from the remote network (default off).
    pub allow_forwarded_traffic: bool,
}

/// A subnet's prefixes, from `addressPrefix` or `addressPrefixes` (either may be used).
fn subnet_prefixes(subnet: &Value) -> Vec<String> {
    match str_at(subnet, "/properties/addressPrefix") {
        Some(p) => vec![p.to_owned()],
        None => {
            let mut v: Vec<String> = subnet
                .pointer("/properties/addressPrefixes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            v.sort();
            v
        }
    }
}

/// A virtual network as read, without what `VirtualNetwork` (2024-05-01) marks read-only; its subnets
/// likewise.
fn writable_network(current: &Value) -> Value {
    let mut body = current.clone();
    if let Some(o) = body.as_object_mut() {
        for key in ["name", "type", "etag"] {
            o.remove(key);
        }
    }
    if let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut) {
        for key in ["provisioningState", "resourceGuid", "flowLogs"] {
            p.remove(key);
        }
        if let Some(subnets) = p.get_mut("subnets").and_then(Value::as_array_mut) {
            for subnet in subnets {
                let mut writable = writable_subnet(subnet);
                for key in ["id", "name"] {
                    if let Some(v) = subnet.get(key) {
                        writable[key] = v.clone();
                    }
                }
                *subnet = writable;
            }
        }
    }
    body
}

/// A subnet as read, without the properties `SubnetPropertiesFormat` (2024-05-01) marks read-only.
fn writable_subnet(current: &Value) -> Value {
    let mut body = json!({ "properties": current.get("properties").cloned().unwrap_or_else(|| json!({})) });
    if let Some(p) = body["properties"].as_object_mut() {
        for key in [
            "provisioningState",
            "purpose",
            "privateEndpoints",
            "ipConfigurations",
            "ipConfigurationProfiles",
            "resourceNavigationLinks",
            "serviceAssociationLinks",
        ] {
            p.remove(key);
        }
    }
    for list in ["delegations", "serviceEndpoints"] {
        if let Some(items) = body["properties"].get_mut(list).and_then(Value::as_array_mut) {
            for item in items {
                if let Some(o) = item.as_object_mut() {
                    o.remove("etag");
                }
                if let Some(o) = item.get_mut("properties").and_then(Value::as_object_mut) {
                    o.remove("provisioningState");
                    o.remove("actions");
                }
                if let Some(o) = item.as_object_mut() {
                    o.remove("provisioningState");
                }
            }
        }
    }
    body
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

impl VirtualNetworkSpec {
    fn validate(&self) -> Result<()> {
        check_name("resource_group", &self.resource_group, 90, "-_.()")?;
        check_name("name", &self.name, 64, "-_.")?;
        check_location(&self.location)?;
        if self.address_space.is_empty() {
            return Err(Error::invalid(
                "address_space",
                "is empty",
                "at least one CIDR block",
            ));
        }
        Ok(())
    }
}

impl SubnetSpec {
    fn validate(&self) -> Result<()> {
        check_name("resource_group", &self.resource_group, 90, "-_.()")?;
        check_name("virtual_network", &self.virtual_network, 64, "-_.")?;
        check_name("name", &self.name, 80, "-_.")?;
        if let Some(d) = &self.delegation
            && (d.split('/').count() != 2 || d.contains(char::is_whitespace))
        {
            return Err(Error::invalid(
                "delegation",
                format!("{d:?} is not a service name"),
                "a service such as Microsoft.DBforPostgreSQL/flexibleServers",
            ));
        }
        Ok(())
    }
}

impl PeeringSpec {
    /// Peering `name` from `virtual_network` to the network `remote_virtual_network_id`, with access allowed.
    pub fn new(
        resource_group: impl Into<String>,
        virtual_network: impl Into<String>,
        name: impl Into<String>,
        remote_virtual_network_id: impl Into<String>,
    ) -> Self {
        PeeringSpec {
            resource_group: resource_group.into(),
            virtual_network: virtual_network.into(),
            name: name.into(),
            remote_virtual_network_id: remote_virtual_network_id.into(),
            allow_virtual_network_access: true,
            allow_forwarded_traffic: false,
        }
    }

    fn validate(&self) -> Result<()> {
        check_name("resource_group", &self.resource_group, 90, "-_.()")?;
        check_name("virtual_network", &self.virtual_network, 64, "-_.")?;
        check_name("name", &self.name, 80, "-_.")?;
        check_resource_id("remote_virtual_network_id", &self.remote_virtual_network_id)
    }
}

impl ArmClient {
    /// The resource id of network `name` in `group`.
    pub fn virtual_network_id(&self, group: &str, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Network/virtualNetworks/{name}",
            self.group_path(group)
        )
    }

    /// The resource id of subnet `subnet` of network `network` in `group`.
    pub fn subnet_id(&self, group: &str, network: &str, subnet: &str) -> String {
        format!(
            "{}/subnets/{subnet}",
            self.virtual_network_id(group, network)
        )
    }

    /// Create the network, or bring its address space and tags to the spec
    /// (keeping its subnets); answers the changes made. `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_virtual_network(
        &self,
        spec: &VirtualNetworkSpec,
        apply: bool,
    ) -> Result<Plan> {
        spec.validate()?;
        let path = self.virtual_network_id(&spec.resource_group, &spec.name);
        let target = Target {
            kind: "virtual network",
            name: &spec.name,
        };
        let wanted: Vec<String> = spec.address_space.iter().map(ToString::to_string).collect();
        let current = self.get(&path, api::NETWORK, target).await?;
        let (plan, body) = match current {
            None => (
                Plan::from_iter([Change::create("virtual network", &spec.name)]),
                json!({ "location": spec.location, "tags": spec.tags, "properties": { "addressSpace": { "addressPrefixes": wanted } } }),
            ),
            Some(v) => {
                let have: Vec<String> = v
                    .pointer("/properties/addressSpace/addressPrefixes")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut d = Diff::new();
                d.field("address_space", &sorted(&have), &sorted(&wanted))
                    .field("tags", &tags_of(&v), &spec.tags);
                if d.is_empty() {
                    return Ok(Plan::new());
                }
                // Read, modify, write: subnets and every other writable property stay (a PUT without the
                // subnets would delete them), read-only ones are not sent.
                let mut v = writable_network(&v);
                v["properties"]["addressSpace"]["addressPrefixes"] = json!(wanted);
                v["tags"] = json!(spec.tags);
                (
                    Plan::from_iter([Change::update(
                        "virtual network",
                        &spec.name,
                        d.into_fields(),
                    )]),
                    v,
                )
            }
        };
        if apply {
            self.put(&path, api::NETWORK, &body, target).await?;
        }
        Ok(plan)
    }

    /// Create the subnet or bring its prefix and delegation to the spec, keeping
    /// every other writable property it has (network security group, route
    /// table, NAT gateway, service endpoints, network policies): an update reads
    /// the subnet, changes the two fields and PUTs it back whole. A subnet
    /// defined with `addressPrefixes` (one prefix) matches the spec's prefix.
    /// `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; [`Error::NotFound`] for the network; ARM errors.
    pub async fn ensure_subnet(&self, spec: &SubnetSpec, apply: bool) -> Result<Plan> {
        spec.validate()?;
        let path = self.subnet_id(&spec.resource_group, &spec.virtual_network, &spec.name);
        let target = Target {
            kind: "subnet",
            name: &spec.name,
        };
        let current = self.get(&path, api::NETWORK, target).await?;
        let wanted_prefix = spec.address_prefix.to_string();
        let plan = match &current {
            None => Plan::from_iter([Change::create("subnet", &spec.name)]),
            Some(v) => {
                let delegation = v
                    .pointer("/properties/delegations/0/properties/serviceName")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut d = Diff::new();
                d.field("address_prefix", &subnet_prefixes(v), &vec![wanted_prefix.clone()])
                    .field("delegation", &delegation, &spec.delegation);
                if d.is_empty() {
                    Plan::new()
                } else {
                    Plan::from_iter([Change::update("subnet", &spec.name, d.into_fields())])
                }
            }
        };
        if apply && !plan.is_empty() {
            let delegations: Vec<Value> = spec
                .delegation
                .iter()
                .map(|s| json!({ "name": s.replace('/', "."), "properties": { "serviceName": s } }))
                .collect();
            let body = match &current {
                None => json!({ "properties": { "addressPrefix": wanted_prefix, "delegations": delegations } }),
                Some(v) => {
                    // Read, modify, write: the NSG, route table, NAT gateway, service endpoints and
                    // private-endpoint policies of the subnet stay (a PUT without them removes them).
                    let mut body = writable_subnet(v);
                    let properties = &mut body["properties"];
                    if properties.get("addressPrefixes").is_some() {
                        properties["addressPrefixes"] = json!([wanted_prefix]);
                    } else {
                        properties["addressPrefix"] = json!(wanted_prefix);
                    }
                    properties["delegations"] = json!(delegations);
                    body
                }
            };
            self.put(&path, api::NETWORK, &body, target).await?;
        }
        Ok(plan)
    }

    /// Create the peering or bring its flags and remote to the spec. `apply = false` only plans.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] before any request; ARM errors.
    pub async fn ensure_peering(&self, spec: &PeeringSpec, apply: bool) -> Result<Plan> {
        spec.validate()?;
        let path = format!(
            "{}/virtualNetworkPeerings/{}",
            self.virtual_network_id(&spec.resource_group, &spec.virtual_network),
            spec.name
        );
        let target = Target {
            kind: "virtual network peering",
            name: &spec.name,
        };
        let current = self.get(&path, api::NETWORK, target).await?;
        let plan = match &current {
            None => Plan::from_iter([Change::create("virtual network peering", &spec.name)]),
            Some(v) => {
                let remote = str_at(v, "/properties/remoteVirtualNetwork/id")
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let access = v
                    .pointer("/properties/allowVirtualNetworkAccess")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let forwarded = v
                    .pointer("/properties/allowForwardedTraffic")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let mut d = Diff::new();
                d.field(
                    "remote_virtual_network_id",
                    &remote,
                    &spec.remote_virtual_network_id.to_ascii_lowercase(),
                )
                .field(
                    "allow_virtual_network_access",
                    &access,
                    &spec.allow_virtual_network_access,
                )
                .field(
                    "allow_forwarded_traffic",
                    &forwarded,
                    &spec.allow_forwarded_traffic,
                );
                if d.is_empty() {
                    Plan::new()
                } else {
                    Plan::from_iter([Change::update(
                        "virtual network peering",
                        &spec.name,
                        d.into_fields(),
                    )])
                }
            }
        };
        if apply && !plan.is_empty() {
            let body = json!({ "properties": {
                "remoteVirtualNetwork": { "id": spec.remote_virtual_network_id },
                "allowVirtualNetworkAccess": spec.allow_virtual_network_access,
                "allowForwardedTraffic": spec.allow_forwarded_traffic,
                "useRemoteGateways": false,
            } });
            self.put(&path, api::NETWORK, &body, target).await?;
        }
        Ok(plan)
    }

    /// Peer networks `a` and `b` (each `(resource group, network)`) in both
    /// directions, peerings named `{a}-to-{b}` and `{b}-to-{a}`. `apply = false` only plans.
    ///
    /// # Errors
    /// As [`ArmClient::ensure_peering`].
    pub async fn ensure_peering_both_ways(
        &self,
        a: (&str, &str),
        b: (&str, &str),
        apply: bool,
    ) -> Result<Plan> {
        let there = PeeringSpec::new(
            a.0,
            a.1,
            format!("{}-to-{}", a.1, b.1),
            self.virtual_network_id(b.0, b.1),
        );
        let back = PeeringSpec::new(
            b.0,
            b.1,
            format!("{}-to-{}", b.1, a.1),
            self.virtual_network_id(a.0, a.1),
        );
        let mut plan = self.ensure_peering(&there, apply).await?;
        plan.extend(self.ensure_peering(&back, apply).await?);
        Ok(plan)
    }
}
