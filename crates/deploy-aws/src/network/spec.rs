//! The specs and results of the network: the VPC, its subnets and their
//! tiers, security group rules, and the checks made before any request.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
use deploy_core::{CidrBlock, Error, ResourceName, Result};
use serde::{Deserialize, Serialize};

/// The tag that records a subnet's [`SubnetTier`].
pub const TIER_TAG: &str = "deploy:tier";

/// What a subnet is for; recorded in its [`TIER_TAG`] tag, and in the tags
/// the AWS load balancer controller reads (`kubernetes.io/role/elb` on public,
/// `kubernetes.io/role/internal-elb` on private subnets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubnetTier {
    /// Internet-facing load balancers.
    Public,
    /// The cluster's nodes.
    Private,
    /// The database (an RDS DB subnet group).
    Database,
}

impl SubnetTier {
    /// `public`, `private` or `database`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetTier::Public => "public",
            SubnetTier::Private => "private",
            SubnetTier::Database => "database",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        [SubnetTier::Public, SubnetTier::Private, SubnetTier::Database].into_iter().find(|t| t.as_str() == s)
    }

    /// The tags a subnet of this tier carries besides its name and the spec's tags.
    pub(super) fn tags(self) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::from([(TIER_TAG.to_owned(), self.as_str().to_owned())]);
        match self {
            SubnetTier::Public => tags.insert("kubernetes.io/role/elb".to_owned(), "1".to_owned()),
            SubnetTier::Private => tags.insert("kubernetes.io/role/internal-elb".to_owned(), "1".to_owned()),
            SubnetTier::Database => None,
        };
        tags
    }
}

impl fmt::Display for SubnetTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a subnet should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetSpec {
    /// Its `Name` tag, unique in the VPC.
    pub name: ResourceName,
    /// Its IPv4 block: inside the VPC's, overlapping no other subnet's, `/16` to `/28`.
    pub cidr: CidrBlock,
    /// The availability zone (`eu-central-1a`).
    pub availability_zone: String,
    /// What it is for.
    pub tier: SubnetTier,
}

impl SubnetSpec {
    /// A subnet named `name` with block `cidr` in `availability_zone`.
    pub fn new(name: ResourceName, cidr: CidrBlock, availability_zone: impl Into<String>, tier: SubnetTier) -> Self {
        SubnetSpec { name, cidr, availability_zone: availability_zone.into(), tier }
    }
}

/// What a VPC should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcSpec {
    /// Its `Name` tag, which finds it.
    pub name: ResourceName,
    /// Its primary IPv4 block, `/16` to `/28`.
    pub cidr: CidrBlock,
    /// Its subnets.
    pub subnets: Vec<SubnetSpec>,
    /// Tags of the VPC and of every subnet (besides `Name`). Tags found on the
    /// resources but not here are kept: EKS and Kubernetes add their own.
    pub tags: BTreeMap<String, String>,
}

const VPC_CIDR_RULE: &str = "VPC and subnet blocks: IPv4, prefix length /16 to /28";
const SUBNET_RULE: &str = "subnet blocks lie inside the VPC's block and overlap no other subnet's";
const TAG_RULE: &str =
    "EC2 tags: at most 49 besides `Name`; keys 1-128 characters, not `Name`, not starting with `aws:`; values at most 256 characters";
const AZ_RULE: &str = "availability zones: lowercase letters, digits and hyphens, in the client's region (`eu-central-1a`)";

fn check_block(field: String, cidr: &CidrBlock) -> Result<()> {
    if !cidr.is_ipv4() {
        return Err(Error::invalid(field, format!("`{cidr}` is not an IPv4 block"), VPC_CIDR_RULE));
    }
    if !(16..=28).contains(&cidr.prefix_len()) {
        return Err(Error::invalid(field, format!("`{cidr}` has prefix length /{}", cidr.prefix_len()), VPC_CIDR_RULE));
    }
    Ok(())
}

impl VpcSpec {
    /// A VPC named `name` with block `cidr` and no subnets.
    pub fn new(name: ResourceName, cidr: CidrBlock) -> Self {
        VpcSpec { name, cidr, subnets: Vec::new(), tags: BTreeMap::new() }
    }

    deploy_core::setters! {
        /// With one more subnet.
        pub fn with_subnet(subnets.push(subnet): SubnetSpec);
    }

    /// With a tag.
    #[must_use]
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Check what no type carries: the blocks are IPv4 `/16` to `/28`, every
    /// subnet lies inside the VPC and overlaps no other, names are unique,
    /// zones and tags are well-formed.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the field (`cidr`, `subnets[1].cidr`,
    /// `subnets[0].name`, `subnets[0].availability_zone`, `tags.KEY`).
    pub fn validate(&self) -> Result<()> {
        check_block("cidr".to_owned(), &self.cidr)?;
        for (i, subnet) in self.subnets.iter().enumerate() {
            let field = |f: &str| format!("subnets[{i}].{f}");
            check_block(field("cidr"), &subnet.cidr)?;
            if !self.cidr.contains(&subnet.cidr) {
                return Err(Error::invalid(
                    field("cidr"),
                    format!("`{}` is not inside the VPC's `{}`", subnet.cidr, self.cidr),
                    SUBNET_RULE,
                ));
            }
            let az = &subnet.availability_zone;
            if az.is_empty() || !az.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                return Err(Error::invalid(field("availability_zone"), format!("is `{az}`"), AZ_RULE));
            }
            for (j, earlier) in self.subnets[..i].iter().enumerate() {
                if earlier.cidr.contains(&subnet.cidr) || subnet.cidr.contains(&earlier.cidr) {
                    let problem = format!("`{}` overlaps `{}` of subnets[{j}] ({})", subnet.cidr, earlier.cidr, earlier.name);
                    return Err(Error::invalid(field("cidr"), problem, SUBNET_RULE));
                }
                if earlier.name == subnet.name {
                    return Err(Error::invalid(
                        field("name"),
                        format!("`{}` is also the name of subnets[{j}]", subnet.name),
                        "subnet names are unique",
                    ));
                }
            }
        }
        if self.tags.len() > 49 {
            return Err(Error::invalid("tags", format!("has {} tags", self.tags.len()), TAG_RULE));
        }
        for (k, v) in &self.tags {
            if k.is_empty() || k.chars().count() > 128 || k == "Name" || k.starts_with("aws:") || v.chars().count() > 256 {
                return Err(Error::invalid(format!("tags.{k}"), "breaks a tag rule", TAG_RULE));
            }
        }
        Ok(())
    }
}

/// `value` checked as an EC2 id of `prefix` (`vpc-`, `sg-`, `rtb-`): the
/// prefix and 8 or 17 hexadecimal digits (field `field`).
pub(super) fn check_id(field: &str, value: &str, prefix: &str) -> Result<()> {
    let ok = value.strip_prefix(prefix).is_some_and(|hex| (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("`{value}` is not an EC2 id"), format!("EC2 ids: `{prefix}` and 8 or 17 hexadecimal digits")))
    }
}

/// The database's security group: named [`DatabaseSecurityGroupSpec::name`]
/// in the VPC, its only ingress rule TCP [`DatabaseSecurityGroupSpec::port`]
/// from members of the EKS node group's security group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSecurityGroupSpec {
    /// The VPC (`vpc-...`).
    pub vpc_id: String,
    /// The group name, which finds it in the VPC.
    pub name: ResourceName,
    /// The node group's security group (`sg-...`), the only source admitted.
    pub node_security_group_id: String,
    /// The database port (1-65535).
    pub port: u16,
}

impl DatabaseSecurityGroupSpec {
    /// The group `name` in `vpc_id` admitting TCP `port` from `node_security_group_id`.
    pub fn new(vpc_id: impl Into<String>, name: ResourceName, node_security_group_id: impl Into<String>, port: u16) -> Self {
        DatabaseSecurityGroupSpec { vpc_id: vpc_id.into(), name, node_security_group_id: node_security_group_id.into(), port }
    }

    /// Check the ids and the port.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `vpc_id`, `node_security_group_id` or `port`.
    pub fn validate(&self) -> Result<()> {
        check_id("vpc_id", &self.vpc_id, "vpc-")?;
        check_id("node_security_group_id", &self.node_security_group_id, "sg-")?;
        if self.port == 0 {
            return Err(Error::invalid("port", "is 0", "ports: 1-65535"));
        }
        Ok(())
    }
}

/// A gateway VPC endpoint for S3 (`com.amazonaws.REGION.s3`) in a VPC,
/// attached to the given route tables (see `Network::route_tables`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3GatewayEndpointSpec {
    /// The VPC (`vpc-...`).
    pub vpc_id: String,
    /// The VPC's region (`eu-central-1`).
    pub region: String,
    /// The route tables (`rtb-...`) it must be attached to: at least one.
    /// Route tables it is attached to beyond these are left attached.
    pub route_table_ids: Vec<String>,
}

impl S3GatewayEndpointSpec {
    /// The S3 gateway endpoint of `vpc_id` in `region`, attached to `route_table_ids`.
    pub fn new(vpc_id: impl Into<String>, region: impl Into<String>, route_table_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        S3GatewayEndpointSpec {
            vpc_id: vpc_id.into(),
            region: region.into(),
            route_table_ids: route_table_ids.into_iter().map(Into::into).collect(),
        }
    }

    /// `com.amazonaws.REGION.s3`.
    pub fn service_name(&self) -> String {
        format!("com.amazonaws.{}.s3", self.region)
    }

    /// Check the ids and the region.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `vpc_id`, `region` or
    /// `route_table_ids[i]` (none given, or not a route table id).
    pub fn validate(&self) -> Result<()> {
        let region = &self.region;
        check_id("vpc_id", &self.vpc_id, "vpc-")?;
        let region_ok =
            !region.is_empty() && region.contains('-') && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(Error::invalid(
                "region",
                format!("is `{region}`"),
                "AWS regions: lowercase letters, digits and hyphens (`eu-central-1`)",
            ));
        }
        if self.route_table_ids.is_empty() {
            return Err(Error::invalid("route_table_ids", "is empty", "a gateway endpoint is attached to at least one route table"));
        }
        for (i, id) in self.route_table_ids.iter().enumerate() {
            check_id(&format!("route_table_ids[{i}]"), id, "rtb-")?;
        }
        Ok(())
    }
}

/// A subnet as EC2 reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetInfo {
    /// The subnet id (`subnet-...`).
    pub subnet_id: String,
    /// Its `Name` tag.
    pub name: String,
    /// Its IPv4 block.
    pub cidr: String,
    /// Its availability zone.
    pub availability_zone: String,
    /// Its tier, from its [`TIER_TAG`] tag.
    pub tier: Option<SubnetTier>,
    /// `pending` or `available`.
    pub state: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A VPC as EC2 reports it, with the subnets of its spec that exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcInfo {
    /// The VPC id (`vpc-...`).
    pub vpc_id: String,
    /// Its `Name` tag.
    pub name: String,
    /// Its primary IPv4 block.
    pub cidr: String,
    /// `pending` or `available`.
    pub state: String,
    /// Whether the Amazon DNS server answers in the VPC.
    pub dns_support: bool,
    /// Whether instances get public DNS host names.
    pub dns_hostnames: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The subnets of the spec that exist, in the spec's order.
    pub subnets: Vec<SubnetInfo>,
}

/// Where an ingress rule admits traffic from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSource {
    /// An IPv4 block.
    Cidr(String),
    /// An IPv6 block.
    Ipv6Cidr(String),
    /// A managed prefix list.
    PrefixList(String),
    /// Members of a security group.
    SecurityGroup(String),
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSource::Cidr(c) | RuleSource::Ipv6Cidr(c) => f.write_str(c),
            RuleSource::PrefixList(p) => write!(f, "prefix list {p}"),
            RuleSource::SecurityGroup(g) => write!(f, "security group {g}"),
        }
    }
}

/// One ingress rule: a protocol, a port range and one source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IngressRule {
    /// `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number, as EC2 reports it.
    pub protocol: String,
    /// The first port (or ICMP type); `None` for all.
    pub from_port: Option<i32>,
    /// The last port (or ICMP code); `None` for all.
    pub to_port: Option<i32>,
    /// Where the traffic comes from.
    pub source: RuleSource,
}

impl IngressRule {
    /// TCP on `port` from members of `security_group_id`.
    pub fn tcp_from_group(port: u16, security_group_id: &str) -> Self {
        IngressRule {
            protocol: "tcp".to_owned(),
            from_port: Some(i32::from(port)),
            to_port: Some(i32::from(port)),
            source: RuleSource::SecurityGroup(security_group_id.to_owned()),
        }
    }

    /// Whether this is the same rule as `other` (`6` is `tcp`).
    pub(super) fn same(&self, other: &IngressRule) -> bool {
        let norm = |p: &str| match p {
            "6" => "tcp".to_owned(),
            "17" => "udp".to_owned(),
            "1" => "icmp".to_owned(),
            p => p.to_ascii_lowercase(),
        };
        norm(&self.protocol) == norm(&other.protocol)
            && self.from_port == other.from_port
            && self.to_port == other.to_port
            && self.source == other.source
    }

    pub(super) fn to_permission(&self) -> IpPermission {
        let builder = IpPermission::builder().ip_protocol(&self.protocol).set_from_port(self.from_port).set_to_port(self.to_port);
        match &self.source {
            RuleSource::Cidr(c) => builder.ip_ranges(IpRange::builder().cidr_ip(c).build()),
            RuleSource::Ipv6Cidr(c) => builder.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(c).build()),
            RuleSource::PrefixList(p) => builder.prefix_list_ids(PrefixListId::builder().prefix_list_id(p).build()),
            RuleSource::SecurityGroup(g) => builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(g).build()),
        }
        .build()
    }
}

impl fmt::Display for IngressRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ports = match (self.from_port, self.to_port) {
            (Some(a), Some(b)) if a == b => format!(" {a}"),
            (Some(a), Some(b)) if a >= 0 => format!(" {a}-{b}"),
            _ => String::new(),
        };
        let protocol = if self.protocol == "-1" { "all" } else { &self.protocol };
        write!(f, "{protocol}{ports} from {}", self.source)
    }
}

/// A security group as EC2 reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupInfo {
    /// The group id (`sg-...`).
    pub group_id: String,
    /// The group name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its ingress rules, one per source.
    pub ingress: Vec<IngressRule>,
}

/// A VPC endpoint as EC2 reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// The endpoint id (`vpce-...`).
    pub endpoint_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// The service (`com.amazonaws.eu-central-1.s3`).
    pub service_name: String,
    /// `Gateway` or `Interface`.
    pub endpoint_type: String,
    /// Its state (`available`, `pending`, ...).
    pub state: String,
    /// The route tables it is attached to, sorted.
    pub route_table_ids: Vec<String>,
}

/// A route table of a VPC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableInfo {
    /// The route table id (`rtb-...`).
    pub route_table_id: String,
    /// Its `Name` tag, if any.
    pub name: Option<String>,
    /// Whether it is the VPC's main route table.
    pub main: bool,
    /// The subnets explicitly associated with it.
    pub subnet_ids: Vec<String>,
}
