//! Network: the VPC and subnets the database and the cluster live in, the
//! database's security group and the VPC's S3 gateway endpoint — RDS and EKS
//! in one VPC, the node group's security group the only one admitted to the
//! database, in a VPC with public, private and database subnets (e.g. a `/18`).
//!
//! Every call is idempotent and finds resources by what names them: a VPC and
//! its subnets by their `Name` tag, the security group by its group name in
//! the VPC, the endpoint by its VPC and service. [`Network`] reconciles a
//! [`VpcSpec`], a [`DatabaseSecurityGroupSpec`] and an [`S3GatewayEndpointSpec`]
//! ([`Reconcile`]: `plan` / `ensure`). A second `ensure` makes no
//! mutating request. What cannot change in place (the CIDR block of a VPC or
//! a subnet, a subnet's availability zone) is reported as
//! [`Action::Drift`](deploy_core::plan::Action::Drift), never applied.
//!
//! ```no_run
//! # async fn example(ctx: &deploy_aws::AwsContext) -> deploy_core::Result<()> {
//! use deploy_aws::network::{Network, S3GatewayEndpointSpec, SubnetSpec, SubnetTier, VpcSpec};
//! use deploy_core::{CidrBlock, Reconcile, ResourceName};
//!
//! let spec = VpcSpec::new(ResourceName::new("prod")?, CidrBlock::new("10.1.0.0/18")?)
//!     .with_subnet(SubnetSpec::new(ResourceName::new("prod-private-a")?, CidrBlock::new("10.1.0.0/22")?, "eu-central-1a", SubnetTier::Private))
//!     .with_subnet(SubnetSpec::new(ResourceName::new("prod-db-a")?, CidrBlock::new("10.1.8.0/24")?, "eu-central-1a", SubnetTier::Database));
//! let network = Network::new(ctx);
//! let vpc = network.ensure(&spec).await?;
//! let tables: Vec<String> = network.route_tables(&vpc.info.vpc_id).await?.into_iter().map(|t| t.route_table_id).collect();
//! network.ensure(&S3GatewayEndpointSpec::new(&vpc.info.vpc_id, "eu-central-1", tables)).await?;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType, SecurityGroup, Subnet, Tag, TagSpecification, Vpc};
use deploy_core::plan::{Change, FieldChange, Plan};
use deploy_core::waiter::{Poll, Waiter};
use deploy_core::{Error, ResourceName, Result, ResultExt as _};

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, missing};
use crate::once::{self, TOKEN_TAG};
use deploy_core::reconcile::{Mode, Reconcile, Reconciled};

mod delete;
mod endpoint;
mod spec;

use spec::check_id;
pub use spec::{
    DatabaseSecurityGroupSpec, EndpointInfo, IngressRule, RouteTableInfo, RuleSource, S3GatewayEndpointSpec, SecurityGroupInfo, SubnetInfo,
    SubnetSpec, SubnetTier, TIER_TAG, VpcInfo, VpcSpec,
};

const SERVICE: &str = "aws-ec2";

const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// The override of a creation that makes one attempt ([`once::create_once`] looks up what a failed one made).
fn one_attempt() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(once::no_retry())
}

/// VPCs, subnets, security groups and VPC endpoints. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Network {
    client: Client,
    waiter: Waiter,
}

/// The tags of a resource, without the creation token ([`TOKEN_TAG`]).
fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|t| t.key() != Some(TOKEN_TAG))
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
        .collect()
}

fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// The tags a created resource of `resource_type` carries from its creation
/// on: `tags`, its `Name` and a new creation token ([`TOKEN_TAG`], see
/// [`once`]); answers the token and the tag specification.
fn creation_tags(resource_type: ResourceType, mut tags: BTreeMap<String, String>, name: &str) -> (String, TagSpecification) {
    let token = once::new_token();
    tags.insert("Name".to_owned(), name.to_owned());
    tags.insert(TOKEN_TAG.to_owned(), token.clone());
    (token, TagSpecification::builder().resource_type(resource_type).set_tags(Some(ec2_tags(&tags))).build())
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The tags of `wanted` that `current` lacks or holds with another value.
fn missing_tags(current: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    wanted.iter().filter(|(k, v)| current.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn show_tags(tags: &BTreeMap<String, String>) -> String {
    tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// What the VPC of a spec is now: found or not, with its subnets.
struct Found {
    vpc: Option<VpcInfo>,
    /// The spec's subnets that exist, by index in the spec.
    subnets: BTreeMap<usize, SubnetInfo>,
}

/// The changes of one resource of a VPC spec.
#[derive(Default)]
struct Diff {
    drift: Vec<FieldChange>,
    update: Vec<FieldChange>,
    tags: BTreeMap<String, String>,
    dns_support: bool,
    dns_hostnames: bool,
}

impl Diff {
    fn push_to(self, plan: &mut Plan, kind: &str, name: &str) {
        if !self.drift.is_empty() {
            plan.push(Change::drift(kind, name, self.drift));
        }
        if !self.update.is_empty() {
            plan.push(Change::update(kind, name, self.update));
        }
    }
}

fn vpc_diff(vpc: &VpcInfo, spec: &VpcSpec) -> Diff {
    let mut diff = Diff::default();
    if vpc.cidr != spec.cidr.as_str() {
        diff.drift.push(FieldChange::new("cidr", &vpc.cidr, &spec.cidr));
    }
    if !vpc.dns_support {
        diff.dns_support = true;
        diff.update.push(FieldChange::new("enable_dns_support", false, true));
    }
    if !vpc.dns_hostnames {
        diff.dns_hostnames = true;
        diff.update.push(FieldChange::new("enable_dns_hostnames", false, true));
    }
    diff.tags = missing_tags(&vpc.tags, &spec.tags);
    if !diff.tags.is_empty() {
        diff.update.push(FieldChange::new("tags", show_tags(&vpc.tags), show_tags(&diff.tags)));
    }
    diff
}

fn subnet_tags(spec: &VpcSpec, subnet: &SubnetSpec) -> BTreeMap<String, String> {
    let mut tags = spec.tags.clone();
    tags.extend(subnet.tier.tags());
    tags
}

fn subnet_diff(found: &SubnetInfo, spec: &VpcSpec, subnet: &SubnetSpec) -> Diff {
    let mut diff = Diff::default();
    if found.cidr != subnet.cidr.as_str() {
        diff.drift.push(FieldChange::new("cidr", &found.cidr, &subnet.cidr));
    }
    if found.availability_zone != subnet.availability_zone {
        diff.drift.push(FieldChange::new("availability_zone", &found.availability_zone, &subnet.availability_zone));
    }
    diff.tags = missing_tags(&found.tags, &subnet_tags(spec, subnet));
    if !diff.tags.is_empty() {
        diff.update.push(FieldChange::new("tags", show_tags(&found.tags), show_tags(&diff.tags)));
    }
    diff
}

impl Network {
    /// EC2 built from `ctx`, waiting with its waiter, else up to 10 minutes for a
    /// VPC or subnet to become available ([`Waiter::network`]).
    pub fn new(ctx: &AwsContext) -> Self {
        Network { client: ctx.client(), waiter: ctx.waiter_or(Waiter::network) }
    }

    deploy_core::setters! {
        /// Wait for VPCs and subnets with `waiter`.
        pub fn with_waiter(waiter: Waiter);
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    // ---- VPC and subnets --------------------------------------------------

    /// The VPCs tagged `Name` = `name`.
    async fn vpcs_named(&self, name: &str) -> Result<Vec<Vpc>> {
        self.vpcs_tagged("Name", name, name).await
    }

    /// The VPCs tagged `key` = `value` (`name` for errors).
    async fn vpcs_tagged(&self, key: &str, value: &str, name: &str) -> Result<Vec<Vpc>> {
        let mut vpcs = Vec::new();
        let mut pages = self.client.describe_vpcs().filters(filter(&format!("tag:{key}"), value)).into_paginator().send();
        while let Some(page) = pages.next().await {
            vpcs.extend(page.on(op("DescribeVpcs"), "vpc", name)?.vpcs().iter().cloned());
        }
        Ok(vpcs)
    }

    async fn vpc_by_id(&self, vpc_id: &str, name: &str) -> Result<Vpc> {
        let describe = op("DescribeVpcs");
        let out = self.client.describe_vpcs().vpc_ids(vpc_id).send().await.on(describe, "vpc", name)?;
        out.vpcs().first().cloned().ok_or_else(|| Error::not_found("vpc", name))
    }

    async fn vpc_attribute(&self, vpc_id: &str, name: &str, attribute: aws_sdk_ec2::types::VpcAttributeName) -> Result<bool> {
        let hostnames = attribute == aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames;
        let out = self.client.describe_vpc_attribute().vpc_id(vpc_id).attribute(attribute).send().await.on(
            op("DescribeVpcAttribute"),
            "vpc",
            name,
        )?;
        let value = if hostnames { out.enable_dns_hostnames() } else { out.enable_dns_support() };
        Ok(value.and_then(AttributeBooleanValue::value).unwrap_or(false))
    }

    async fn vpc_info(&self, vpc: &Vpc, name: &str) -> Result<VpcInfo> {
        let describe = op("DescribeVpcs");
        let vpc_id = vpc.vpc_id().ok_or_else(|| missing(describe, "VPC id"))?.to_owned();
        let (dns_support, dns_hostnames) = futures::try_join!(
            self.vpc_attribute(&vpc_id, name, aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport),
            self.vpc_attribute(&vpc_id, name, aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames),
        )?;
        Ok(VpcInfo {
            vpc_id,
            name: name.to_owned(),
            cidr: vpc.cidr_block().unwrap_or_default().to_owned(),
            state: vpc.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            dns_support,
            dns_hostnames,
            tags: tags_of(vpc.tags()),
            subnets: Vec::new(),
        })
    }

    /// The VPC tagged `Name` = `name`, without subnets.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none; [`Error::Conflict`] when more
    /// than one VPC has the name; provider errors.
    pub async fn find_vpc(&self, name: &ResourceName) -> Result<VpcInfo> {
        let vpcs = self.vpcs_named(name.as_str()).await?;
        match vpcs.as_slice() {
            [] => Err(Error::not_found("vpc", name.as_str())),
            [vpc] => self.vpc_info(vpc, name.as_str()).await,
            more => {
                let ids: Vec<&str> = more.iter().filter_map(Vpc::vpc_id).collect();
                Err(Error::conflict("vpc", name.as_str(), format!("{} VPCs are tagged with this name: {}", ids.len(), ids.join(", "))))
            }
        }
    }

    fn subnet_info(subnet: &Subnet) -> SubnetInfo {
        let tags = tags_of(subnet.tags());
        SubnetInfo {
            subnet_id: subnet.subnet_id().unwrap_or_default().to_owned(),
            name: tags.get("Name").cloned().unwrap_or_default(),
            cidr: subnet.cidr_block().unwrap_or_default().to_owned(),
            availability_zone: subnet.availability_zone().unwrap_or_default().to_owned(),
            tier: tags.get(TIER_TAG).and_then(|t| SubnetTier::parse(t)),
            state: subnet.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            tags,
        }
    }

    /// Every subnet of the VPC `vpc_id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `vpc_id` (before any request); provider errors.
    pub async fn subnets(&self, vpc_id: &str) -> Result<Vec<SubnetInfo>> {
        check_id("vpc_id", vpc_id, "vpc-")?;
        let mut subnets = Vec::new();
        let mut pages = self.client.describe_subnets().filters(filter("vpc-id", vpc_id)).into_paginator().send();
        while let Some(page) = pages.next().await {
            subnets.extend(page.on(op("DescribeSubnets"), "subnet", vpc_id)?.subnets().iter().map(Self::subnet_info));
        }
        Ok(subnets)
    }

    /// The VPC of `spec` and those of its subnets that exist, found by name.
    async fn find(&self, spec: &VpcSpec) -> Result<Found> {
        let vpc = match self.find_vpc(&spec.name).await {
            Ok(vpc) => vpc,
            Err(e) if e.is_not_found() => return Ok(Found { vpc: None, subnets: BTreeMap::new() }),
            Err(e) => return Err(e),
        };
        let all = self.subnets(&vpc.vpc_id).await?;
        let mut subnets = BTreeMap::new();
        for (i, subnet) in spec.subnets.iter().enumerate() {
            let named: Vec<&SubnetInfo> = all.iter().filter(|s| s.name == subnet.name.as_str()).collect();
            match named.as_slice() {
                [] => {}
                [one] => {
                    subnets.insert(i, (*one).clone());
                }
                more => {
                    let ids: Vec<&str> = more.iter().map(|s| s.subnet_id.as_str()).collect();
                    let reason = format!("{} subnets of {} are tagged with this name: {}", ids.len(), vpc.vpc_id, ids.join(", "));
                    return Err(Error::conflict("subnet", subnet.name.as_str(), reason));
                }
            }
        }
        Ok(Found { vpc: Some(vpc), subnets })
    }

    async fn apply_vpc(&self, vpc_id: &str, name: &str, diff: &Diff) -> Result<()> {
        // One attribute per ModifyVpcAttribute call; DNS host names need DNS support first.
        if diff.dns_support {
            self.enable_dns(vpc_id, name, false).await?;
        }
        if diff.dns_hostnames {
            self.enable_dns(vpc_id, name, true).await?;
        }
        if !diff.tags.is_empty() {
            self.create_tags(vpc_id, "vpc", name, &diff.tags).await?;
        }
        Ok(())
    }

    async fn enable_dns(&self, vpc_id: &str, name: &str, hostnames: bool) -> Result<()> {
        let on = AttributeBooleanValue::builder().value(true).build();
        let request = self.client.modify_vpc_attribute().vpc_id(vpc_id);
        let request = if hostnames { request.enable_dns_hostnames(on) } else { request.enable_dns_support(on) };
        request.send().await.on(op("ModifyVpcAttribute"), "vpc", name)?;
        Ok(())
    }

    async fn create_tags(&self, id: &str, kind: &'static str, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        self.client.create_tags().resources(id).set_tags(Some(ec2_tags(tags))).send().await.on(op("CreateTags"), kind, name)?;
        Ok(())
    }

    /// `CreateVpc` tagged with its name at once (so a retry after a later
    /// failure finds it) and with a creation token (CreateVpc has no client
    /// token: a lost answer is found by it, never created twice; see
    /// [`once`]), wait until available, DNS support and host names on.
    async fn create_vpc(&self, spec: &VpcSpec) -> Result<VpcInfo> {
        let (create, name) = (op("CreateVpc"), spec.name.as_str());
        let (token, tagging) = creation_tags(ResourceType::Vpc, spec.tags.clone(), name);
        let vpc = once::create_once(
            &format!("vpc {name}"),
            || async {
                let out = self
                    .client
                    .create_vpc()
                    .cidr_block(spec.cidr.as_str())
                    .tag_specifications(tagging.clone())
                    .customize()
                    .config_override(one_attempt())
                    .send()
                    .await
                    .on(create, "vpc", name)?;
                out.vpc().cloned().ok_or_else(|| missing(create, "VPC"))
            },
            || async { Ok(self.vpcs_tagged(TOKEN_TAG, &token, name).await?.into_iter().next()) },
        )
        .await?;
        let vpc_id = vpc.vpc_id().ok_or_else(|| missing(create, "VPC id"))?.to_owned();
        if vpc.state().map(|s| s.as_str()) != Some("available") {
            let what = format!("vpc {name} ({vpc_id}) to become available");
            self.waiter
                .wait(&what, || async {
                    let vpc = self.vpc_by_id(&vpc_id, name).await?;
                    Ok(match vpc.state().map(|s| s.as_str()) {
                        Some("available") => Poll::Ready(()),
                        state => Poll::Pending(state.unwrap_or("unknown").to_owned()),
                    })
                })
                .await?;
        }
        self.enable_dns(&vpc_id, name, false).await?;
        self.enable_dns(&vpc_id, name, true).await?;
        self.find_vpc(&spec.name).await
    }

    /// `CreateSubnet` tagged with its name and a creation token, as [`Network::create_vpc`].
    async fn create_subnet(&self, vpc_id: &str, spec: &VpcSpec, subnet: &SubnetSpec) -> Result<SubnetInfo> {
        let (create, name) = (op("CreateSubnet"), subnet.name.as_str());
        let (token, tagging) = creation_tags(ResourceType::Subnet, subnet_tags(spec, subnet), name);
        let created = once::create_once(
            &format!("subnet {name}"),
            || async {
                let out = self
                    .client
                    .create_subnet()
                    .vpc_id(vpc_id)
                    .cidr_block(subnet.cidr.as_str())
                    .availability_zone(&subnet.availability_zone)
                    .tag_specifications(tagging.clone())
                    .customize()
                    .config_override(one_attempt())
                    .send()
                    .await
                    .on(create, "subnet", name)?;
                out.subnet().cloned().ok_or_else(|| missing(create, "subnet"))
            },
            || async {
                let out = self.client.describe_subnets().filters(filter(&format!("tag:{TOKEN_TAG}"), &token)).send().await.on(
                    op("DescribeSubnets"),
                    "subnet",
                    name,
                )?;
                Ok(out.subnets().first().cloned())
            },
        )
        .await?;
        let info = Self::subnet_info(&created);
        if info.state == "available" {
            return Ok(info);
        }
        let what = format!("subnet {name} ({}) to become available", info.subnet_id);
        self.waiter
            .wait(&what, || async {
                let out =
                    self.client.describe_subnets().subnet_ids(&info.subnet_id).send().await.on(op("DescribeSubnets"), "subnet", name)?;
                let subnet = out.subnets().first().map(Self::subnet_info).ok_or_else(|| Error::not_found("subnet", name))?;
                Ok(if subnet.state == "available" { Poll::Ready(subnet) } else { Poll::Pending(subnet.state) })
            })
            .await
    }

    // ---- the database security group ---------------------------------------

    fn group_info(group: &SecurityGroup) -> SecurityGroupInfo {
        let mut ingress = Vec::new();
        for permission in group.ip_permissions() {
            let rule = |source| IngressRule {
                protocol: permission.ip_protocol().unwrap_or("-1").to_owned(),
                from_port: permission.from_port(),
                to_port: permission.to_port(),
                source,
            };
            ingress.extend(permission.ip_ranges().iter().filter_map(|r| r.cidr_ip()).map(|c| rule(RuleSource::Cidr(c.to_owned()))));
            ingress.extend(permission.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()).map(|c| rule(RuleSource::Ipv6Cidr(c.to_owned()))));
            ingress.extend(
                permission.prefix_list_ids().iter().filter_map(|p| p.prefix_list_id()).map(|p| rule(RuleSource::PrefixList(p.to_owned()))),
            );
            ingress.extend(
                permission.user_id_group_pairs().iter().filter_map(|p| p.group_id()).map(|g| rule(RuleSource::SecurityGroup(g.to_owned()))),
            );
        }
        ingress.sort();
        SecurityGroupInfo {
            group_id: group.group_id().unwrap_or_default().to_owned(),
            name: group.group_name().unwrap_or_default().to_owned(),
            vpc_id: group.vpc_id().unwrap_or_default().to_owned(),
            ingress,
        }
    }

    /// The security group named `name` in the VPC `vpc_id`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] on `vpc_id` (before any request);
    /// [`Error::NotFound`] when there is none; provider errors.
    pub async fn find_security_group(&self, vpc_id: &str, name: &ResourceName) -> Result<SecurityGroupInfo> {
        check_id("vpc_id", vpc_id, "vpc-")?;
        let out = self
            .client
            .describe_security_groups()
            .filters(filter("vpc-id", vpc_id))
            .filters(filter("group-name", name.as_str()))
            .send()
            .await
            .on(op("DescribeSecurityGroups"), "security group", name.as_str())?;
        // Filter again: a peer that ignores a filter must not hand out another group.
        out.security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name.as_str()) && g.vpc_id() == Some(vpc_id))
            .map(Self::group_info)
            .ok_or_else(|| Error::not_found("security group", name.as_str()))
    }
}

/// The VPC of `spec`, found by its `Name` tag, and each of its subnets, found
/// by `Name` in the VPC; in [`Mode::Apply`] the VPC created when missing (DNS
/// support and host names on, waiting until it is available), the subnets
/// created when missing, missing tags added. A VPC or subnet whose block or
/// zone differs is reported as drift and left alone; when the VPC drifts, no
/// subnet is planned or created (it would be planned against the wrong
/// block). A second call makes no mutating request. Callers use the provided
/// [`Reconcile::plan`] / [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] before any request ([`VpcSpec::validate`]);
/// [`Error::Conflict`] when a name tags more than one VPC or subnet;
/// [`Error::Timeout`] when the VPC or a subnet does not become available in
/// time; provider errors.
#[async_trait::async_trait]
impl Reconcile<VpcSpec> for Network {
    type Info = VpcInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "vpc", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &VpcSpec, mode: Mode) -> Result<Reconciled<VpcInfo>> {
        spec.validate()?;
        let name = spec.name.as_str();
        let apply = mode.is_apply();
        let found = self.find(spec).await?;
        let mut plan = Plan::new();
        let mut vpc = match found.vpc {
            Some(vpc) => {
                let diff = vpc_diff(&vpc, spec);
                if !diff.drift.is_empty() {
                    diff.push_to(&mut plan, "vpc", name);
                    let mut vpc = vpc;
                    vpc.subnets = found.subnets.into_values().collect();
                    return Ok(Reconciled { info: Some(vpc), plan });
                }
                let changed = !diff.update.is_empty();
                if apply {
                    self.apply_vpc(&vpc.vpc_id, name, &diff).await?;
                }
                diff.push_to(&mut plan, "vpc", name);
                if changed && apply { self.find_vpc(&spec.name).await? } else { vpc }
            }
            None if !apply => {
                plan.push(Change::create("vpc", name));
                plan.extend(spec.subnets.iter().map(|s| Change::create("subnet", s.name.as_str())).collect());
                return Ok(Reconciled { info: None, plan });
            }
            None => {
                let vpc = self.create_vpc(spec).await?;
                plan.push(Change::create("vpc", name));
                vpc
            }
        };
        for (i, subnet) in spec.subnets.iter().enumerate() {
            let info = match found.subnets.get(&i) {
                Some(existing) => {
                    let diff = subnet_diff(existing, spec, subnet);
                    let tagged = apply && !diff.tags.is_empty();
                    if tagged {
                        self.create_tags(&existing.subnet_id, "subnet", subnet.name.as_str(), &diff.tags).await?;
                    }
                    diff.push_to(&mut plan, "subnet", subnet.name.as_str());
                    let mut info = existing.clone();
                    if tagged {
                        info.tags.extend(subnet_tags(spec, subnet));
                    }
                    info
                }
                None => {
                    plan.push(Change::create("subnet", subnet.name.as_str()));
                    if !apply {
                        continue;
                    }
                    self.create_subnet(&vpc.vpc_id, spec, subnet).await?
                }
            };
            vpc.subnets.push(info);
        }
        Ok(Reconciled { info: Some(vpc), plan })
    }
}

/// The security group of `spec` in its VPC, whose only ingress rule is TCP
/// `port` from members of the node group's security group: in [`Mode::Apply`]
/// created if missing, any other ingress rule found on it revoked (and
/// reported in the plan). Egress is left as it is. A second call makes no
/// mutating request. Callers use the provided [`Reconcile::plan`] /
/// [`Reconcile::ensure`].
///
/// # Errors
/// [`Error::InvalidInput`] on `vpc_id`, `node_security_group_id` or `port`
/// before any request; provider errors ([`Error::NotFound`] when the VPC or
/// the node group's security group does not exist).
#[async_trait::async_trait]
impl Reconcile<DatabaseSecurityGroupSpec> for Network {
    type Info = SecurityGroupInfo;

    #[tracing::instrument(level = "info", skip_all, fields(backend = SERVICE, kind = "security group", name = %spec.name, mode = ?mode))]

    async fn reconcile(&self, spec: &DatabaseSecurityGroupSpec, mode: Mode) -> Result<Reconciled<SecurityGroupInfo>> {
        spec.validate()?;
        let DatabaseSecurityGroupSpec { vpc_id, name, node_security_group_id, port } = spec;
        let apply = mode.is_apply();
        let kind = "security group";
        let mut plan = Plan::new();
        let group = match self.find_security_group(vpc_id, name).await {
            Ok(group) => group,
            Err(e) if e.is_not_found() && !apply => {
                return Ok(Reconciled { info: None, plan: Plan::from_iter([Change::create(kind, name.as_str())]) });
            }
            Err(e) if e.is_not_found() => {
                let tagging = TagSpecification::builder()
                    .resource_type(ResourceType::SecurityGroup)
                    .tags(Tag::builder().key("Name").value(name.as_str()).build())
                    .build();
                // After a lost answer the group is there under its name: looked up, not made twice.
                once::create_once(
                    &format!("{kind} {name}"),
                    || async {
                        let out = self
                            .client
                            .create_security_group()
                            .vpc_id(vpc_id)
                            .group_name(name.as_str())
                            .description(format!("deploy: the database; TCP {port} from {node_security_group_id} only"))
                            .tag_specifications(tagging.clone())
                            .customize()
                            .config_override(one_attempt())
                            .send()
                            .await
                            .on(op("CreateSecurityGroup"), kind, name.as_str())?;
                        Ok(out.group_id().unwrap_or_default().to_owned())
                    },
                    || async { Ok(self.find_security_group(vpc_id, name).await.found()?.map(|g| g.group_id)) },
                )
                .await?;
                plan.push(Change::create(kind, name.as_str()));
                self.find_security_group(vpc_id, name).await?
            }
            Err(e) => return Err(e),
        };
        let wanted = IngressRule::tcp_from_group(*port, node_security_group_id);
        let stale: Vec<&IngressRule> = group.ingress.iter().filter(|r| !r.same(&wanted)).collect();
        let present = group.ingress.iter().any(|r| r.same(&wanted));
        let mut fields = Vec::new();
        if !stale.is_empty() {
            if apply {
                self.client
                    .revoke_security_group_ingress()
                    .group_id(&group.group_id)
                    .set_ip_permissions(Some(stale.iter().map(|r| r.to_permission()).collect()))
                    .send()
                    .await
                    .on(op("RevokeSecurityGroupIngress"), kind, name.as_str())?;
            }
            fields.extend(stale.iter().map(|r| FieldChange::new("ingress", r, "-")));
        }
        if !present {
            if apply {
                // After a lost answer the rule is there: read back, not added twice (EC2 refuses a duplicate).
                once::create_once(
                    &format!("ingress rule of {kind} {name}"),
                    || async {
                        self.client
                            .authorize_security_group_ingress()
                            .group_id(&group.group_id)
                            .ip_permissions(wanted.to_permission())
                            .customize()
                            .config_override(one_attempt())
                            .send()
                            .await
                            .on(op("AuthorizeSecurityGroupIngress"), kind, name.as_str())
                            .map(drop)
                    },
                    || async {
                        let now = self.find_security_group(vpc_id, name).await?;
                        Ok(now.ingress.iter().any(|r| r.same(&wanted)).then_some(()))
                    },
                )
                .await?;
            }
            fields.push(FieldChange::new("ingress", "-", &wanted));
        }
        if fields.is_empty() {
            return Ok(Reconciled { info: Some(group), plan });
        }
        if plan.is_empty() {
            plan.push(Change::update(kind, name.as_str(), fields));
        }
        let info = if apply { self.find_security_group(vpc_id, name).await? } else { group };
        Ok(Reconciled { info: Some(info), plan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deploy_core::CidrBlock;

    fn name(s: &str) -> ResourceName {
        ResourceName::new(s).unwrap()
    }

    fn cidr(s: &str) -> CidrBlock {
        CidrBlock::new(s).unwrap()
    }

    fn reference_layout() -> VpcSpec {
        VpcSpec::new(name("simphera"), cidr("10.1.0.0/18"))
            .with_subnet(SubnetSpec::new(name("private-a"), cidr("10.1.0.0/22"), "eu-central-1a", SubnetTier::Private))
            .with_subnet(SubnetSpec::new(name("public-a"), cidr("10.1.4.0/24"), "eu-central-1a", SubnetTier::Public))
            .with_subnet(SubnetSpec::new(name("db-a"), cidr("10.1.8.0/24"), "eu-central-1a", SubnetTier::Database))
    }

    #[test]
    fn the_reference_layout_is_valid() {
        reference_layout().validate().unwrap();
    }

    #[test]
    fn bad_blocks_name_their_field() {
        let field = |spec: VpcSpec| spec.validate().unwrap_err().invalid_field().map(str::to_owned);
        assert_eq!(field(VpcSpec::new(name("v"), cidr("10.0.0.0/8"))).as_deref(), Some("cidr"));
        assert_eq!(field(VpcSpec::new(name("v"), cidr("10.0.0.0/30"))).as_deref(), Some("cidr"));
        assert_eq!(field(VpcSpec::new(name("v"), cidr("fd00::/56"))).as_deref(), Some("cidr"));
        let outside = reference_layout().with_subnet(SubnetSpec::new(name("x"), cidr("10.2.0.0/24"), "eu-central-1b", SubnetTier::Private));
        assert_eq!(field(outside).as_deref(), Some("subnets[3].cidr"));
        let overlap = reference_layout().with_subnet(SubnetSpec::new(name("x"), cidr("10.1.2.0/24"), "eu-central-1b", SubnetTier::Private));
        assert_eq!(field(overlap).as_deref(), Some("subnets[3].cidr"));
        let duplicate =
            reference_layout().with_subnet(SubnetSpec::new(name("db-a"), cidr("10.1.9.0/24"), "eu-central-1b", SubnetTier::Private));
        assert_eq!(field(duplicate).as_deref(), Some("subnets[3].name"));
        let zone = reference_layout().with_subnet(SubnetSpec::new(name("x"), cidr("10.1.9.0/24"), "EU 1", SubnetTier::Private));
        assert_eq!(field(zone).as_deref(), Some("subnets[3].availability_zone"));
        assert_eq!(field(reference_layout().with_tag("Name", "x")).as_deref(), Some("tags.Name"));
        assert_eq!(field(reference_layout().with_tag("aws:x", "y")).as_deref(), Some("tags.aws:x"));
    }

    #[test]
    fn rules_compare_protocol_numbers_and_render() {
        let rule = IngressRule::tcp_from_group(5432, "sg-0123456789abcdef0");
        let numeric = IngressRule { protocol: "6".into(), ..rule.clone() };
        assert!(rule.same(&numeric));
        assert_eq!(rule.to_string(), "tcp 5432 from security group sg-0123456789abcdef0");
        let all = IngressRule { protocol: "-1".into(), from_port: None, to_port: None, source: RuleSource::Cidr("0.0.0.0/0".into()) };
        assert!(!rule.same(&all));
        assert_eq!(all.to_string(), "all from 0.0.0.0/0");
    }

    #[test]
    fn ids_are_checked() {
        assert!(check_id("vpc_id", "vpc-0123abcd", "vpc-").is_ok());
        assert!(check_id("vpc_id", "vpc-0123456789abcdef0", "vpc-").is_ok());
        for bad in ["vpc-", "vpc-xyz12345", "subnet-0123abcd", "vpc-0123"] {
            assert_eq!(check_id("vpc_id", bad, "vpc-").unwrap_err().invalid_field(), Some("vpc_id"), "{bad}");
        }
    }

    #[test]
    fn what_ec2_reports_serializes_to_json_and_back() {
        let subnet = SubnetInfo {
            subnet_id: "subnet-1".into(),
            name: "private-a".into(),
            cidr: "10.1.0.0/22".into(),
            availability_zone: "eu-central-1a".into(),
            tier: Some(SubnetTier::Private),
            state: "available".into(),
            tags: BTreeMap::new(),
        };
        let json = serde_json::to_value(&subnet).unwrap();
        assert_eq!(json["tier"], "private", "a tier is written as its tag value");
        assert_eq!(serde_json::from_value::<SubnetInfo>(json).unwrap(), subnet);
        let group = SecurityGroupInfo {
            group_id: "sg-1".into(),
            name: "db".into(),
            vpc_id: "vpc-1".into(),
            ingress: vec![IngressRule::tcp_from_group(5432, "sg-2")],
        };
        let json = serde_json::to_value(&group).unwrap();
        assert_eq!(json["ingress"][0]["source"], serde_json::json!({ "security_group": "sg-2" }));
        assert_eq!(serde_json::from_value::<SecurityGroupInfo>(json).unwrap(), group);
    }
}
