//! What an AWS environment derives from the neutral spec (no request): the
//! region check, the network carved from `network.cidr`, the roles and keys.
//! The whole environment against moto: e2e `environment_example`.

use deploy_aws::environment::AwsParts;
use deploy_aws::kms::KeyPolicy;
use deploy_aws::network::SubnetTier;
use deploy_core::env::Environments;

const ENVIRONMENTS: &str = include_str!("../../../../examples/environments.toml");
const ACCOUNT: &str = "123456789012";

#[test]
fn production_derives_its_network_roles_and_keys() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let parts = AwsParts::derive("production", envs.get("production").unwrap(), "eu-central-1", "aws", ACCOUNT).unwrap();
    assert_eq!(parts.prefix, "acme-prod");
    let vpc = parts.vpc.as_ref().unwrap();
    assert_eq!((vpc.name.as_str(), vpc.cidr.as_str()), ("acme-prod", "10.20.0.0/16"));
    let subnets: Vec<(&str, &str, &str, SubnetTier)> =
        vpc.subnets.iter().map(|s| (s.name.as_str(), s.cidr.as_str(), s.availability_zone.as_str(), s.tier)).collect();
    assert_eq!(
        subnets,
        [
            ("acme-prod-private-a", "10.20.0.0/20", "eu-central-1a", SubnetTier::Private),
            ("acme-prod-private-b", "10.20.16.0/20", "eu-central-1b", SubnetTier::Private),
            ("acme-prod-public-a", "10.20.32.0/20", "eu-central-1a", SubnetTier::Public),
            ("acme-prod-public-b", "10.20.48.0/20", "eu-central-1b", SubnetTier::Public),
        ]
    );
    assert_eq!(parts.subnet_group.as_ref().map(|g| g.as_str()), Some("acme-prod-db"));
    let roles = parts.roles.as_ref().unwrap();
    assert_eq!((roles.prefix.as_str(), roles.account_id.as_str()), ("acme-prod", ACCOUNT));
    let key = parts.cluster_key.as_ref().unwrap();
    assert_eq!(key.alias.as_str(), "alias/acme-prod-eks-secrets");
    // The cluster role may use the key that encrypts the cluster's secrets.
    assert_eq!(key.policy, KeyPolicy::Application { application_principal: format!("arn:aws:iam::{ACCOUNT}:role/acme-prod-eks-cluster") });
    assert_eq!(parts.vault_key.as_ref().unwrap().alias.as_str(), "alias/acme-prod-vault-backup");
    assert_eq!(parts.db_security_group.as_ref().map(|g| g.as_str()), Some("acme-prod-db"));
    let (files, files_group) = parts.files.as_ref().unwrap();
    assert_eq!((files.as_str(), files_group.as_str()), ("acme-prod-files", "acme-prod-files"));
    let logs = parts.log_group.as_ref().unwrap();
    assert_eq!((logs.name.as_str(), logs.retention_days), ("/aws/eks/acme-prod/cluster", 90));
}

#[test]
fn staging_without_cluster_or_backup_derives_only_its_network() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let parts = AwsParts::derive("staging", envs.get("staging").unwrap(), "eu-central-1", "aws", ACCOUNT).unwrap();
    assert_eq!(parts.vpc.as_ref().unwrap().cidr.as_str(), "10.30.0.0/16");
    assert!(parts.roles.is_none() && parts.cluster_key.is_none() && parts.vault_key.is_none(), "{parts:?}");
    // No cluster: no nodes to admit, the instance stays in the VPC's default group; no files, no logs.
    assert!(parts.db_security_group.is_none() && parts.files.is_none() && parts.log_group.is_none(), "{parts:?}");
    // Buckets and secrets alone need no network.
    let bare = Environments::from_toml("[bare]\nbuckets = [{ name = \"acme-bare\" }]\n").unwrap();
    let parts = AwsParts::derive("bare", bare.get("bare").unwrap(), "eu-central-1", "aws", ACCOUNT).unwrap();
    assert!(parts.vpc.is_none() && parts.subnet_group.is_none(), "{parts:?}");
}

#[test]
fn another_region_than_the_spec_names_is_refused_naming_the_field() {
    let envs = Environments::from_toml(ENVIRONMENTS).unwrap();
    let err = AwsParts::derive("production", envs.get("production").unwrap(), "us-east-1", "aws", ACCOUNT).unwrap_err();
    assert_eq!(err.invalid_field(), Some("production.location.aws"), "{err}");
    assert!(err.to_string().contains("us-east-1") && err.to_string().contains("eu-central-1"), "{err}");
    // A spec that names its own keys and subnets derives no key and keeps them.
    let own = ENVIRONMENTS.replace("tags = { env = \"production\" }\n\n[[production.cluster.node_pools]]", "tags = { env = \"production\" }\nsecrets_encryption_key = \"arn:aws:kms:eu-central-1:123456789012:key/own\"\n\n[[production.cluster.node_pools]]");
    let envs = Environments::from_toml(&own).unwrap();
    let parts = AwsParts::derive("production", envs.get("production").unwrap(), "eu-central-1", "aws", ACCOUNT).unwrap();
    assert!(parts.cluster_key.is_none(), "{parts:?}");
}
