//! Virtual networks, subnets delegated to PostgreSQL flexible servers, and
//! peerings in both directions (`Microsoft.Network`).
//!
//! A virtual network is PUT with its existing subnets (a PUT without them
//! would delete them); subnets and peerings are child resources of their own.
//! An update reads the resource, changes the spec's fields and PUTs it back
//! whole, so that every writable property it has stays.
//!
//! [`VirtualNetworkSpec`], [`SubnetSpec`] and [`PeeringSpec`] are [`ArmSpec`]s:
//! `arm.ensure(&spec)`; [`ArmClient::peerings_both_ways`] names the two
//! peerings that join two networks.

use std::borrow::Cow;
use std::collections::BTreeMap;

use deploy_core::plan::Diff;
use deploy_core::{CidrBlock, Error, Result};
use serde_json::{Value, json};

use super::{
    ArmClient, ArmSpec, Difference, Write, api, bool_at, check_location, check_name, check_resource_group, check_resource_id, str_at,
    tags_of,
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
}

impl ArmClient {
    /// The resource id of network `name` in `group`.
    pub fn virtual_network_id(&self, group: &str, name: &str) -> String {
        self.resource_id(group, "Microsoft.Network/virtualNetworks", name)
    }

    /// The resource id of subnet `subnet` of network `network` in `group`.
    pub fn subnet_id(&self, group: &str, network: &str, subnet: &str) -> String {
        format!("{}/subnets/{subnet}", self.virtual_network_id(group, network))
    }

    /// The two peerings that join networks `a` and `b` (each `(resource group,
    /// network)`) both ways, named `{a}-to-{b}` and `{b}-to-{a}`.
    pub fn peerings_both_ways(&self, a: (&str, &str), b: (&str, &str)) -> [PeeringSpec; 2] {
        let peering = |(group, network): (&str, &str), (remote_group, remote): (&str, &str)| {
            PeeringSpec::new(group, network, format!("{network}-to-{remote}"), self.virtual_network_id(remote_group, remote))
        };
        [peering(a, b), peering(b, a)]
    }
}

/// Created, or brought to the spec's address space and tags keeping its
/// subnets (read, modify, write).
impl ArmSpec for VirtualNetworkSpec {
    const KIND: &'static str = "virtual network";
    const API_VERSION: &'static str = api::NETWORK;

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_name("name", &self.name, 64, "-_.")?;
        check_location(&self.location)?;
        if self.address_space.is_empty() {
            return Err(Error::invalid("address_space", "is empty", "at least one CIDR block"));
        }
        Ok(())
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.virtual_network_id(&self.resource_group, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({ "location": self.location, "tags": self.tags, "properties": { "addressSpace": { "addressPrefixes": self.address_prefixes() } } })
    }

    fn compare(&self, current: &Value) -> Difference {
        let wanted = self.address_prefixes();
        let have: Vec<String> = current
            .pointer("/properties/addressSpace/addressPrefixes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut update = Diff::new();
        update.field("address_space", &sorted(&have), &sorted(&wanted)).field("tags", &tags_of(current), &self.tags);
        Difference::update(update, || {
            // Read, modify, write: subnets and every other writable property stay (a PUT without the
            // subnets would delete them), read-only ones are not sent.
            let mut body = writable_network(current);
            body["properties"]["addressSpace"]["addressPrefixes"] = json!(wanted);
            body["tags"] = json!(self.tags);
            Write::Put(body)
        })
    }
}

impl VirtualNetworkSpec {
    fn address_prefixes(&self) -> Vec<String> {
        self.address_space.iter().map(ToString::to_string).collect()
    }
}

/// Created, or brought to the spec's prefix and delegation keeping every other
/// writable property it has (network security group, route table, NAT
/// gateway, service endpoints, network policies). A subnet defined with
/// `addressPrefixes` (one prefix) matches the spec's prefix. The network must
/// exist ([`deploy_core::Error::NotFound`]).
impl ArmSpec for SubnetSpec {
    const KIND: &'static str = "subnet";
    const API_VERSION: &'static str = api::NETWORK;

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
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

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        arm.subnet_id(&self.resource_group, &self.virtual_network, &self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        json!({ "properties": { "addressPrefix": self.address_prefix.to_string(), "delegations": self.delegations() } })
    }

    fn compare(&self, current: &Value) -> Difference {
        let wanted = self.address_prefix.to_string();
        let delegation = str_at(current, "/properties/delegations/0/properties/serviceName").map(str::to_owned);
        let mut update = Diff::new();
        update.field("address_prefix", &subnet_prefixes(current), &vec![wanted.clone()]).field("delegation", &delegation, &self.delegation);
        Difference::update(update, || {
            // Read, modify, write: the NSG, route table, NAT gateway, service endpoints and
            // private-endpoint policies of the subnet stay (a PUT without them removes them).
            let mut body = writable_subnet(current);
            let properties = &mut body["properties"];
            if properties.get("addressPrefixes").is_some() {
                properties["addressPrefixes"] = json!([wanted]);
            } else {
                properties["addressPrefix"] = json!(wanted);
            }
            properties["delegations"] = json!(self.delegations());
            Write::Put(body)
        })
    }
}

impl SubnetSpec {
    fn delegations(&self) -> Vec<Value> {
        self.delegation.iter().map(|s| json!({ "name": s.replace('/', "."), "properties": { "serviceName": s } })).collect()
    }
}

/// Created, or brought to the spec's flags and remote network.
impl ArmSpec for PeeringSpec {
    const KIND: &'static str = "virtual network peering";
    const API_VERSION: &'static str = api::NETWORK;

    fn validate(&self) -> Result<()> {
        check_resource_group("resource_group", &self.resource_group)?;
        check_name("virtual_network", &self.virtual_network, 64, "-_.")?;
        check_name("name", &self.name, 80, "-_.")?;
        check_resource_id("remote_virtual_network_id", &self.remote_virtual_network_id)
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    fn id(&self, arm: &ArmClient) -> String {
        format!("{}/virtualNetworkPeerings/{}", arm.virtual_network_id(&self.resource_group, &self.virtual_network), self.name)
    }

    fn create(&self, _: &ArmClient) -> Value {
        self.body()
    }

    fn compare(&self, current: &Value) -> Difference {
        let remote = str_at(current, "/properties/remoteVirtualNetwork/id").unwrap_or("").to_ascii_lowercase();
        let mut update = Diff::new();
        update
            .field("remote_virtual_network_id", &remote, &self.remote_virtual_network_id.to_ascii_lowercase())
            .field(
                "allow_virtual_network_access",
                &bool_at(current, "/properties/allowVirtualNetworkAccess"),
                &self.allow_virtual_network_access,
            )
            .field("allow_forwarded_traffic", &bool_at(current, "/properties/allowForwardedTraffic"), &self.allow_forwarded_traffic);
        Difference::update(update, || Write::Put(self.body()))
    }
}

impl PeeringSpec {
    fn body(&self) -> Value {
        json!({ "properties": {
            "remoteVirtualNetwork": { "id": self.remote_virtual_network_id },
            "allowVirtualNetworkAccess": self.allow_virtual_network_access,
            "allowForwardedTraffic": self.allow_forwarded_traffic,
            "useRemoteGateways": false,
        } })
    }
}
