//! VPCs, subnets, the database security group and the S3 gateway endpoint against moto.

use deploy_aws::network::{DatabaseSecurityGroupSpec, Network, RuleSource, S3GatewayEndpointSpec, SubnetSpec, SubnetTier, VpcSpec};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::plan::Action;
use deploy_core::{CidrBlock, Error, Reconcile as _, ResourceName};

use crate::support::{REGION, moto, names, unreachable_config};

fn name(prefix: &str, suffix: &str) -> ResourceName {
    ResourceName::new(format!("{prefix}-{suffix}")).unwrap()
}

fn cidr(s: &str) -> CidrBlock {
    CidrBlock::new(s).unwrap()
}

/// The SIMPHERA layout: a /18 with private, public and database subnets in two zones.
fn simphera(prefix: &str) -> VpcSpec {
    let subnet = |suffix: &str, block: &str, zone: &str, tier| SubnetSpec::new(name(prefix, suffix), cidr(block), zone, tier);
    VpcSpec::new(name(prefix, "vpc"), cidr("10.1.0.0/18"))
        .with_subnet(subnet("private-a", "10.1.0.0/22", "eu-central-1a", SubnetTier::Private))
        .with_subnet(subnet("private-b", "10.1.4.0/22", "eu-central-1b", SubnetTier::Private))
        .with_subnet(subnet("public-a", "10.1.8.0/24", "eu-central-1a", SubnetTier::Public))
        .with_subnet(subnet("database-a", "10.1.12.0/24", "eu-central-1a", SubnetTier::Database))
        .with_subnet(subnet("database-b", "10.1.13.0/24", "eu-central-1b", SubnetTier::Database))
        .with_tag("app", "deploy-tests")
}

fn actions(plan: &deploy_core::Plan) -> Vec<(String, &Action)> {
    plan.changes.iter().map(|c| (c.kind.clone(), &c.action)).collect()
}

#[tokio::test]
async fn ensure_vpc_creates_the_vpc_and_its_subnets_once() {
    let conf = moto!("network::ensure_vpc_creates_the_vpc_and_its_subnets_once");
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf).with_request_log(&log).network();
    let spec = simphera(names().prefix());

    let planned = network.plan(&spec).await.unwrap();
    assert_eq!(planned.len(), 6, "{planned}");
    assert!(planned.changes.iter().all(|c| c.action == Action::Create), "{planned}");
    assert!(log.mutating().is_empty(), "plan mutated: {:?}", log.mutating());

    let vpc = network.ensure(&spec).await.unwrap();
    assert_eq!(vpc.plan.len(), 6, "{}", vpc.plan);
    assert_eq!((log.count("CreateVpc"), log.count("CreateSubnet")), (1, 5));
    assert_eq!(vpc.info.cidr, "10.1.0.0/18");
    assert!(vpc.info.dns_support && vpc.info.dns_hostnames, "{:?}", vpc.info);
    assert_eq!(vpc.info.subnets.len(), 5);

    // Read back with the raw client: every subnet in the VPC, inside its block, tagged.
    let raw = network.client();
    let out = raw
        .describe_subnets()
        .filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&vpc.info.vpc_id).build())
        .send()
        .await
        .unwrap();
    assert_eq!(out.subnets().len(), 5, "{:?}", out.subnets());
    for (wanted, info) in spec.subnets.iter().zip(&vpc.info.subnets) {
        let subnet = out.subnets().iter().find(|s| s.subnet_id() == Some(info.subnet_id.as_str())).expect("subnet read back");
        assert_eq!(subnet.vpc_id(), Some(vpc.info.vpc_id.as_str()));
        let block = cidr(subnet.cidr_block().unwrap());
        assert_eq!(block, wanted.cidr);
        assert!(spec.cidr.contains(&block), "{block} outside {}", spec.cidr);
        assert_eq!(subnet.availability_zone(), Some(wanted.availability_zone.as_str()));
        let tags: Vec<(&str, &str)> = subnet.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
        assert!(tags.contains(&("Name", wanted.name.as_str())), "{tags:?}");
        assert!(tags.contains(&("deploy:tier", wanted.tier.as_str())), "{tags:?}");
        assert!(tags.contains(&("app", "deploy-tests")), "{tags:?}");
        assert_eq!(info.tier, Some(wanted.tier));
    }
    let vpcs = raw.describe_vpcs().vpc_ids(&vpc.info.vpc_id).send().await.unwrap();
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.1.0.0/18"));

    log.clear();
    let again = network.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.vpc_id, vpc.info.vpc_id);
    let ids = |v: &deploy_aws::network::VpcInfo| v.subnets.iter().map(|s| s.subnet_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&again.info), ids(&vpc.info));
    assert!(network.plan(&spec).await.unwrap().is_empty());

    // One subnet more: only it is created.
    log.clear();
    let grown = spec.clone().with_subnet(SubnetSpec::new(
        name(names().prefix(), "public-b"),
        cidr("10.1.9.0/24"),
        "eu-central-1b",
        SubnetTier::Public,
    ));
    let grown = network.ensure(&grown).await.unwrap();
    assert_eq!(actions(&grown.plan), [("subnet".to_owned(), &Action::Create)]);
    assert_eq!(log.mutating().len(), 1, "{:?}", log.mutating());
}

#[tokio::test]
async fn a_different_block_is_drift_and_is_not_applied() {
    let conf = moto!("network::a_different_block_is_drift_and_is_not_applied");
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf).with_request_log(&log).network();
    let prefix = names().prefix().to_owned();
    let spec = VpcSpec::new(name(&prefix, "vpc"), cidr("10.20.0.0/16")).with_subnet(SubnetSpec::new(
        name(&prefix, "a"),
        cidr("10.20.1.0/24"),
        "eu-central-1a",
        SubnetTier::Private,
    ));
    let created = network.ensure(&spec).await.unwrap().info;

    let mut moved = VpcSpec::new(name(&prefix, "vpc"), cidr("10.30.0.0/16"));
    moved.subnets.push(SubnetSpec::new(name(&prefix, "b"), cidr("10.30.1.0/24"), "eu-central-1a", SubnetTier::Private));
    log.clear();
    let plan = network.plan(&moved).await.unwrap();
    let ensured = network.ensure(&moved).await.unwrap();
    for plan in [&plan, &ensured.plan] {
        match plan.changes.as_slice() {
            [c] => match &c.action {
                Action::Drift { fields } => {
                    assert_eq!(
                        (fields[0].field.as_str(), fields[0].from.as_str(), fields[0].to.as_str()),
                        ("cidr", "10.20.0.0/16", "10.30.0.0/16")
                    )
                }
                other => panic!("not drift: {other:?}"),
            },
            other => panic!("{other:?}"),
        }
        assert!(!plan.has_mutations());
    }
    assert!(log.mutating().is_empty(), "drift was applied: {:?}", log.mutating());
    assert_eq!(ensured.info.vpc_id, created.vpc_id);
    assert_eq!(network.find_vpc(&spec.name).await.unwrap().cidr, "10.20.0.0/16");

    // A subnet moved to another zone is drift too.
    let mut zoned = spec.clone();
    zoned.subnets[0].availability_zone = "eu-central-1b".into();
    let plan = network.ensure(&zoned).await.unwrap().plan;
    assert!(matches!(plan.changes.as_slice(), [c] if c.kind == "subnet" && matches!(c.action, Action::Drift { .. })), "{plan}");
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
}

async fn vpc_for(network: &Network, prefix: &str, block: &str) -> String {
    network.ensure(&VpcSpec::new(name(prefix, "vpc"), cidr(block))).await.unwrap().info.vpc_id
}

#[tokio::test]
async fn the_database_security_group_admits_only_the_node_group_on_5432() {
    let conf = moto!("network::the_database_security_group_admits_only_the_node_group_on_5432");
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf).with_request_log(&log).network();
    let prefix = names().prefix().to_owned();
    let vpc_id = vpc_for(&network, &prefix, "10.40.0.0/16").await;
    let raw = network.client();
    let nodes = raw
        .create_security_group()
        .vpc_id(&vpc_id)
        .group_name(format!("{prefix}-nodes"))
        .description("the EKS node group")
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();
    let db = name(&prefix, "database");

    let created = network.ensure(&DatabaseSecurityGroupSpec::new(&vpc_id, db.clone(), &nodes, 5432)).await.unwrap();
    assert!(matches!(created.plan.changes.as_slice(), [c] if c.action == Action::Create), "{}", created.plan);
    assert_eq!(created.info.ingress.len(), 1, "{:?}", created.info.ingress);
    assert_eq!(created.info.ingress[0].source, RuleSource::SecurityGroup(nodes.clone()));

    let read_back = |group_id: String| async move {
        let out = raw.describe_security_groups().group_ids(group_id).send().await.unwrap();
        out.security_groups()[0].ip_permissions().to_vec()
    };
    let permissions = read_back(created.info.group_id.clone()).await;
    match permissions.as_slice() {
        [p] => {
            assert_eq!((p.ip_protocol(), p.from_port(), p.to_port()), (Some("tcp"), Some(5432), Some(5432)));
            let groups: Vec<&str> = p.user_id_group_pairs().iter().filter_map(|g| g.group_id()).collect();
            assert_eq!(groups, [nodes.as_str()]);
            assert!(p.ip_ranges().is_empty() && p.ipv6_ranges().is_empty() && p.prefix_list_ids().is_empty(), "{p:?}");
        }
        other => panic!("ingress is not the one rule: {other:?}"),
    }

    log.clear();
    let again = network.ensure(&DatabaseSecurityGroupSpec::new(&vpc_id, db.clone(), &nodes, 5432)).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.group_id, created.info.group_id);

    // Someone opens the database to the world: the rule is revoked and reported.
    raw.authorize_security_group_ingress()
        .group_id(&created.info.group_id)
        .ip_protocol("tcp")
        .from_port(5432)
        .to_port(5432)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let repaired = network.ensure(&DatabaseSecurityGroupSpec::new(&vpc_id, db.clone(), &nodes, 5432)).await.unwrap();
    match repaired.plan.changes.as_slice() {
        [c] => match &c.action {
            Action::Update { fields } => {
                assert_eq!(fields.len(), 1, "{fields:?}");
                assert_eq!(fields[0].field, "ingress");
                assert!(fields[0].from.contains("0.0.0.0/0") && fields[0].to == "-", "{:?}", fields[0]);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let permissions = read_back(created.info.group_id.clone()).await;
    assert_eq!(permissions.len(), 1, "{permissions:?}");
    assert!(permissions[0].ip_ranges().is_empty(), "{permissions:?}");
    assert_eq!(permissions[0].user_id_group_pairs()[0].group_id(), Some(nodes.as_str()));
    assert_eq!(repaired.info.ingress, created.info.ingress);
}

#[tokio::test]
async fn the_s3_gateway_endpoint_is_attached_to_the_route_tables() {
    let conf = moto!("network::the_s3_gateway_endpoint_is_attached_to_the_route_tables");
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf).with_request_log(&log).network();
    let prefix = names().prefix().to_owned();
    let vpc_id = vpc_for(&network, &prefix, "10.50.0.0/16").await;
    let tables = network.route_tables(&vpc_id).await.unwrap();
    let main = tables.iter().find(|t| t.main).expect("a VPC has a main route table").route_table_id.clone();
    let raw = network.client();
    let extra = raw.create_route_table().vpc_id(&vpc_id).send().await.unwrap().route_table().unwrap().route_table_id().unwrap().to_owned();
    let tables = network.route_tables(&vpc_id).await.unwrap();
    assert_eq!(tables.len(), 2, "{tables:?}");
    assert!(tables[0].main);

    let service = format!("com.amazonaws.{REGION}.s3");
    let created = network.ensure(&S3GatewayEndpointSpec::new(&vpc_id, REGION, std::slice::from_ref(&main))).await.unwrap();
    assert!(matches!(created.plan.changes.as_slice(), [c] if c.action == Action::Create), "{}", created.plan);
    assert_eq!(created.info.service_name, service);
    assert_eq!(created.info.route_table_ids, std::slice::from_ref(&main));

    log.clear();
    let again = network.ensure(&S3GatewayEndpointSpec::new(&vpc_id, REGION, std::slice::from_ref(&main))).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.endpoint_id, created.info.endpoint_id);

    let both = [main.clone(), extra.clone()];
    let added = network.ensure(&S3GatewayEndpointSpec::new(&vpc_id, REGION, &both)).await.unwrap();
    assert!(matches!(added.plan.changes.as_slice(), [c] if matches!(c.action, Action::Update { .. })), "{}", added.plan);
    assert_eq!((log.count("ModifyVpcEndpoint"), log.count("CreateVpcEndpoint")), (1, 0));

    let out = raw.describe_vpc_endpoints().vpc_endpoint_ids(&created.info.endpoint_id).send().await.unwrap();
    let endpoint = &out.vpc_endpoints()[0];
    assert_eq!(endpoint.service_name(), Some(service.as_str()));
    assert_eq!(endpoint.vpc_endpoint_type().map(|t| t.as_str()), Some("Gateway"));
    assert_eq!(endpoint.vpc_id(), Some(vpc_id.as_str()));
    let mut attached = endpoint.route_table_ids().to_vec();
    attached.sort();
    let mut wanted = both.to_vec();
    wanted.sort();
    assert_eq!(attached, wanted);

    log.clear();
    assert!(network.ensure(&S3GatewayEndpointSpec::new(&vpc_id, REGION, &both)).await.unwrap().plan.is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let conf = unreachable_config().await;
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf).with_request_log(&log).network();
    let field = |e: Error| e.invalid_field().map(str::to_owned).unwrap_or_else(|| panic!("not InvalidInput: {e}"));
    let vpc = |block: &str| VpcSpec::new(ResourceName::new("bad-vpc").unwrap(), cidr(block));
    let subnet = |n: &str, block: &str| SubnetSpec::new(ResourceName::new(n).unwrap(), cidr(block), "eu-central-1a", SubnetTier::Private);

    let outside = vpc("10.1.0.0/18").with_subnet(subnet("a", "10.2.0.0/24"));
    assert_eq!(field(network.ensure(&outside).await.unwrap_err()), "subnets[0].cidr");
    assert_eq!(field(network.plan(&outside).await.unwrap_err()), "subnets[0].cidr");
    let overlapping = vpc("10.1.0.0/18").with_subnet(subnet("a", "10.1.0.0/22")).with_subnet(subnet("b", "10.1.2.0/24"));
    assert_eq!(field(network.ensure(&overlapping).await.unwrap_err()), "subnets[1].cidr");
    assert_eq!(field(network.ensure(&vpc("10.0.0.0/8")).await.unwrap_err()), "cidr");
    let db = ResourceName::new("bad-db").unwrap();
    let e = network.ensure(&DatabaseSecurityGroupSpec::new("vpc-0123abcd", db.clone(), "nodes", 5432)).await.unwrap_err();
    assert_eq!(field(e), "node_security_group_id");
    let e = network.ensure(&DatabaseSecurityGroupSpec::new("my-vpc", db.clone(), "sg-0123abcd", 5432)).await.unwrap_err();
    assert_eq!(field(e), "vpc_id");
    let e = network.ensure(&S3GatewayEndpointSpec::new("vpc-0123abcd", "Frankfurt", &["rtb-0123abcd".to_owned()])).await.unwrap_err();
    assert_eq!(field(e), "region");
    let e = network.ensure(&S3GatewayEndpointSpec::new("vpc-0123abcd", REGION, &["main".to_owned()])).await.unwrap_err();
    assert_eq!(field(e), "route_table_ids[0]");
    assert!(log.requests().is_empty(), "requests were sent: {:?}", log.requests());

    // The same network does reach out for valid input: the check above proves something.
    let e = network.ensure(&vpc("10.1.0.0/18")).await.unwrap_err();
    assert!(e.invalid_field().is_none() && e.is_retryable(), "{e:?}");
}

/// CreateVpc and CreateSubnet have no client token: when their answer is lost
/// after EC2 made them (an interceptor fails the answer), the creation token
/// finds what was made, and nothing is made twice.
#[tokio::test]
async fn a_lost_answer_to_create_vpc_or_create_subnet_makes_nothing_twice() {
    use crate::faults::{FailOperation, When};
    let conf = moto!("network::a_lost_answer_to_create_vpc_or_create_subnet_makes_nothing_twice");
    let (vpc_lost, subnet_lost) =
        (FailOperation::new("CreateVpc", When::AfterAs500, 1), FailOperation::new("CreateSubnet", When::After, 2));
    let log = RequestLog::new();
    let network = AwsBackends::from_conf(&conf)
        .with_request_log(&log)
        .with_interceptor(vpc_lost.interceptor())
        .with_interceptor(subnet_lost.interceptor())
        .network();
    let spec = simphera(names().prefix());
    let made = network.ensure(&spec).await.unwrap();
    assert_eq!((vpc_lost.hits(), subnet_lost.hits()), (1, 2));
    assert_eq!((log.count("CreateVpc"), log.count("CreateSubnet")), (1, 5), "a creation whose answer was lost was sent again");
    let raw = network.client();
    let named = raw
        .describe_vpcs()
        .filters(aws_sdk_ec2::types::Filter::builder().name("tag:Name").values(spec.name.as_str()).build())
        .send()
        .await
        .unwrap();
    assert_eq!(named.vpcs().len(), 1, "two VPCs named {}", spec.name);
    let subnets = network.subnets(&made.info.vpc_id).await.unwrap();
    assert_eq!(subnets.len(), 5, "{subnets:?}");
    // The creation token is not part of the spec: a second ensure changes nothing.
    log.clear();
    assert!(network.ensure(&spec).await.unwrap().plan.is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
}
