//! The provisioning examples through the fault proxy's forward-then-fail mode
//! (issue 13.7): 10 % of requests reach moto, which applies them, and then
//! their answer is lost (a 500, or the connection dropped before any byte), so
//! the SDK or the library tries again what was done.
//!
//! The first request of every creation the examples make is among them for
//! sure. Each example runs through it until it succeeds (a failed run is run again,
//! as a person would: every step is idempotent), then once more straight to
//! moto, which must change nothing. What they made is then listed from moto:
//! one KMS key per alias, one VPC with one subnet per zone, one access key in
//! its secret, one database snapshot and one manifest for the backup's id.
//! APIs with client tokens (Secrets Manager, EKS, S3 gateway endpoints) rely
//! on them; CreateVpc, CreateSubnet and CreateKey carry a creation token tag
//! and are looked up by it after a lost answer; CreateAccessKey is not retried
//! blindly (a key whose answer was lost is deleted); named resources (IAM, RDS)
//! are adopted when a retry answers "already exists".

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, ensure};
use deploy::Database as _;
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::kms::{KeyAlias, Kms};
use deploy_aws::rds::RdsDatabase;
use deploy_core::ResourceName;

use crate::support::examples::{Run, prefix, run};
use crate::support::fault_proxy::{FaultConfig, FaultProxy};
use crate::support::{self, MOTO_REGION, MotoConfig};

/// The creations whose first answer is lost for sure, besides the 10 % at random.
const CREATES: &[&str] = &[
    "CreateKey",
    "CreateAlias",
    "CreateVpc",
    "CreateSubnet",
    "CreateUser",
    "CreatePolicy",
    "CreateRole",
    "CreateAccessKey",
    "CreateSecret",
    "CreateDBParameterGroup",
    "CreateDBInstance",
    "CreateDBSnapshot",
    "POST /clusters",
];

/// Run `name` until it succeeds, at most 6 times; the runs it took.
fn converge(through: &MotoConfig, name: &str, args: &[&str]) -> Result<(usize, Run)> {
    converge_within(6, through, name, args)
}

/// Run `name` until it succeeds, at most `runs` times; the runs it took.
fn converge_within(runs: usize, through: &MotoConfig, name: &str, args: &[&str]) -> Result<(usize, Run)> {
    let mut failures = Vec::new();
    for attempt in 1..=runs {
        let r = run(through, name, args)?;
        if r.ok {
            return Ok((attempt, r));
        }
        failures.push(r.stderr.lines().last().unwrap_or_default().to_owned());
    }
    anyhow::bail!("{name} never succeeded through the fault proxy: {failures:#?}")
}

/// The ids of the keys (not pending deletion) whose description is `description`.
async fn keys_described(kms: &Kms, description: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut pages = kms.client().list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        for key in page?.keys() {
            let Some(id) = key.key_id() else { continue };
            let meta = kms.client().describe_key().key_id(id).send().await?;
            let meta = meta.key_metadata().context("no metadata")?;
            if meta.description() == Some(description) && meta.key_state().is_none_or(|s| s.as_str() != "PendingDeletion") {
                ids.push(id.to_owned());
            }
        }
    }
    Ok(ids)
}

/// Each alias names the one key (not pending deletion) with its description: a lost CreateKey made no second key.
async fn one_key_per_alias(kms: &Kms, aliases: [(String, String); 2]) -> Result<()> {
    for (alias, description) in aliases {
        let key = kms.describe_key(&KeyAlias::new(alias.clone())?).await?;
        let keys = keys_described(kms, &description).await?;
        ensure!(keys == [key.key_id.clone()], "{alias}: keys {keys:?}, the alias names {}", key.key_id);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the examples
async fn provisioning_examples_make_nothing_twice_when_answers_are_lost_after_the_server_acted() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let config = FaultConfig { seed: 20_261_202, forward_fail_rate: 0.10, forward_fail_first: CREATES, ..FaultConfig::transparent() };
    let proxy = FaultProxy::start(&moto.endpoint, config).await?;
    let through = MotoConfig { endpoint: proxy.endpoint() };
    let examples: [(&str, Vec<&str>); 4] = [
        ("aws_kms_key", vec!["--prefix", &p]),
        ("aws_bucket_access", vec!["--prefix", &p]),
        ("aws_database_ssl", vec!["--prefix", &p]),
        ("aws_eks_cluster", vec!["--prefix", &p]),
    ];
    let mut runs = BTreeMap::new();
    for (name, args) in &examples {
        runs.insert(*name, converge(&through, name, args)?.0);
    }

    // Converged: each example straight to moto changes nothing.
    for (name, args) in &examples {
        let again = run(&moto, name, args)?;
        again.assert_ok(name);
        ensure!(again.mutating() == 0, "{name} still had something to do after the faulty runs\n{}", again.show());
    }

    // A backup with the database through the same faults: resumed with its id until it completes.
    let s3 = moto.s3_client().await;
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(MOTO_REGION))
        .build();
    s3.create_bucket().bucket(format!("{p}-backup")).create_bucket_configuration(location).send().await?;
    // moto applies the TLS-only policy's Deny to its own plain HTTP: the assets bucket without it.
    s3.delete_bucket_policy().bucket(format!("{p}-assets")).send().await?;
    for i in 0..20 {
        s3.put_object()
            .bucket(format!("{p}-assets"))
            .key(format!("data/{i:03}"))
            .body(format!("object {i}").into_bytes().into())
            .send()
            .await?;
    }
    let backup = ["backup", "--prefix", &p, "--skip-bucket-setup"];
    let mut id = None::<String>;
    let mut backup_runs = 0;
    loop {
        backup_runs += 1;
        ensure!(backup_runs <= 6, "the backup never completed through the fault proxy");
        let args: Vec<&str> = match &id {
            Some(id) => backup.iter().copied().chain(["--resume", id.as_str()]).collect(),
            None => backup.to_vec(),
        };
        let r = run(&through, "aws_disaster_recovery", &args)?;
        if id.is_none() {
            id = r
                .stdout
                .lines()
                .find_map(|l| l.split("plan: backup ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned);
        }
        if r.ok {
            break;
        }
    }
    let id = id.context("the backup named no id")?;
    runs.insert("aws_disaster_recovery backup", backup_runs);
    eprintln!("runs until success through the proxy: {runs:?}");

    // Answers were lost after the server acted, on mutating requests.
    let lost: Vec<String> =
        proxy.captured().iter().filter(|c| c.fate.starts_with("forwarded, then") && c.is_mutating()).map(|c| c.operation()).collect();
    eprintln!("mutating requests whose answer was lost: {lost:?}");
    for create in CREATES.iter().filter(|c| !c.starts_with("POST")) {
        ensure!(lost.iter().any(|op| op.rsplit('.').next() == Some(*create)), "the answer of no {create} was lost: {lost:?}");
    }

    // Nothing twice.
    let sdk = moto.sdk_config().await;
    let kms = Kms::new(&deploy_aws::AwsContext::new(&sdk));
    one_key_per_alias(
        &kms,
        [
            (format!("alias/{p}-app"), format!("application key of {p}")),
            (format!("alias/{p}-eks"), format!("Kubernetes secrets of {p}-eks")),
        ],
    )
    .await?;
    let network = deploy::aws::network::Network::new(&deploy::aws::AwsContext::new(&sdk));
    let vpc = network.find_vpc(&ResourceName::new(format!("{p}-vpc"))?).await.context("one VPC named P-vpc")?;
    let subnets = network.subnets(&vpc.vpc_id).await?;
    let mut per_zone: BTreeMap<String, usize> = BTreeMap::new();
    for s in &subnets {
        *per_zone.entry(s.availability_zone.clone()).or_default() += 1;
    }
    ensure!(subnets.len() >= 2 && per_zone.values().all(|n| *n == 1), "subnets per zone: {per_zone:?}");
    let user = IamName::new(format!("{p}-app"))?;
    let keys = Iam::new(&deploy_aws::AwsContext::new(&sdk)).list_access_keys(&user).await?;
    ensure!(keys.len() == 1, "access keys of {user}: {keys:?}");
    let rds = RdsDatabase::new(&deploy_aws::AwsContext::new(&sdk));
    let snapshots = rds.list_snapshots(&ResourceName::new(format!("{p}-db"))?).await?;
    ensure!(snapshots.len() == 1, "database snapshots: {snapshots:?}");
    let manifests = s3.list_objects_v2().bucket(format!("{p}-backup")).prefix("manifests/").send().await?;
    // One manifest index per id (`manifests/<id>.json`; parts and shard records are under `manifests/<id>/`).
    let manifests: Vec<&str> = manifests.contents().iter().filter_map(|o| o.key()).collect();
    let indexes: Vec<&&str> = manifests.iter().filter(|k| !k["manifests/".len()..].contains('/')).collect();
    ensure!(indexes.len() == 1 && indexes[0].contains(&id), "manifests: {manifests:?}");
    Ok(())
}

/// The creations of a whole AWS environment whose first answer is lost for sure.
const ENVIRONMENT_CREATES: &[&str] = &[
    "CreateRole",
    "CreateKey",
    "CreateAlias",
    "CreateVpc",
    "CreateSubnet",
    "CreateVpcEndpoint",
    "CreateDBSubnetGroup",
    "CreateSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "CreateSecret",
    "CreateDBParameterGroup",
    "CreateDBInstance",
    "CreateLogGroup",
    "PutRetentionPolicy",
    "POST /2015-02-01/file-systems",
    "POST /2015-02-01/mount-targets",
    "POST /clusters",
];

/// `environment apply` of production (cluster, database, bucket, files, logs,
/// backup) through the fault proxy: every creation's first answer lost after
/// moto made it, and 2 % of the others. It converges; a run straight to moto
/// then changes nothing; moto holds one of each part (VPC, subnet per block,
/// endpoint, subnet group, security groups, file system and mount targets,
/// log group, roles, keys); destroy then leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn the_environment_example_converges_when_answers_are_lost_after_the_server_acted() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let (_gaps, moto) = moto.with_gaps().await?;
    let p = prefix();
    let (path, text) = crate::environment_example::spec_file(&p, "faults", include_str!("../../examples/environments.toml"))?;
    let file = path.to_str().context("a UTF-8 temp path")?.to_owned();
    let config =
        FaultConfig { seed: 20_261_203, forward_fail_rate: 0.02, forward_fail_first: ENVIRONMENT_CREATES, ..FaultConfig::transparent() };
    let proxy = FaultProxy::start(&moto.endpoint, config).await?;
    let through = MotoConfig { endpoint: proxy.endpoint() };
    let apply = ["apply", "--file", file.as_str(), "--env", "production", "--cloud", "aws"];
    // A lost answer may end a run (the next run finds what was made): at most one run per creation.
    let (runs, _) = converge_within(ENVIRONMENT_CREATES.len() + 4, &through, "environment", &apply)?;
    eprintln!("environment apply runs until success through the proxy: {runs}");
    let lost: Vec<String> =
        proxy.captured().iter().filter(|c| c.fate.starts_with("forwarded, then") && c.is_mutating()).map(|c| c.operation()).collect();
    eprintln!("mutating requests whose answer was lost: {lost:?}");
    for create in ENVIRONMENT_CREATES.iter().filter(|c| !c.starts_with("POST")) {
        ensure!(lost.iter().any(|op| op.rsplit('.').next() == Some(*create)), "the answer of no {create} was lost: {lost:?}");
    }

    // Converged: straight to moto, nothing to change.
    let again = run(&moto, "environment", &apply)?;
    again.assert_ok("environment apply");
    ensure!(again.mutating() == 0, "the environment still had something to do after the faulty runs\n{}", again.show());

    // One of each part, as the outputs name them.
    let outputs = run(&moto, "environment", &["outputs", "--file", &file, "--env", "production", "--cloud", "aws", "--json"])?;
    outputs.assert_ok("environment outputs");
    let doc: serde_json::Value = serde_json::from_str(&outputs.stdout).with_context(|| outputs.show())?;
    let envs = deploy::env::Environments::from_toml(&text)?;
    let env = envs.get("production")?;
    let ctx = deploy_aws::AwsContext::new(&moto.sdk_config().await);
    crate::environment_example::parts_present(&ctx, "production", env, &doc["outputs"]).await?;
    let vpc_id = doc["outputs"]["vpc_id"].as_str().context("a VPC id")?;
    let network = deploy_aws::network::Network::new(&ctx);
    let vpcs = network.client().describe_vpcs().filters(tag_filter("Name", &format!("{p}-prod"))).send().await?;
    ensure!(vpcs.vpcs().len() == 1, "VPCs named {p}-prod: {}", vpcs.vpcs().len());
    let endpoints = network.client().describe_vpc_endpoints().filters(tag_filter_of("vpc-id", vpc_id)).send().await?;
    ensure!(endpoints.vpc_endpoints().len() == 1, "endpoints: {:?}", endpoints.vpc_endpoints());
    for group in [format!("{p}-prod-db"), format!("{p}-prod-files")] {
        let found = network.client().describe_security_groups().filters(tag_filter_of("group-name", &group)).send().await?;
        ensure!(found.security_groups().len() == 1, "security groups named {group}: {:?}", found.security_groups());
        ensure!(found.security_groups()[0].ip_permissions().len() == 1, "{group}: {:?}", found.security_groups()[0].ip_permissions());
    }
    let efs = deploy_aws::efs::Efs::new(&ctx);
    let systems = efs.client().describe_file_systems().send().await?;
    let ours: Vec<_> = systems.file_systems().iter().filter(|f| f.creation_token() == format!("{p}-prod-files")).collect();
    ensure!(ours.len() == 1, "file systems of {p}-prod-files: {ours:?}");
    let targets = efs.client().describe_mount_targets().file_system_id(ours[0].file_system_id()).send().await?;
    ensure!(targets.mount_targets().len() == 2, "mount targets: {:?}", targets.mount_targets());
    let logs = deploy_aws::logs::Logs::new(&ctx);
    let groups = logs.client().describe_log_groups().log_group_name_prefix(format!("/aws/eks/{p}-prod/")).send().await?;
    ensure!(groups.log_groups().len() == 1, "log groups: {:?}", groups.log_groups());
    let kms = Kms::new(&ctx);
    one_key_per_alias(
        &kms,
        [
            (format!("alias/{p}-prod-eks-secrets"), format!("Kubernetes secrets of EKS cluster {p}-prod")),
            (format!("alias/{p}-prod-vault-backup"), format!("recovery points of backup vault {p}-prod-vault")),
        ],
    )
    .await?;

    // Destroy (straight to moto) leaves nothing.
    let s3 = moto.s3_client().await;
    s3.delete_bucket_policy().bucket(format!("{p}-prod-assets")).send().await?;
    let destroy = ["destroy", "--file", file.as_str(), "--env", "production", "--cloud", "aws", "--confirm", "production"];
    run(&moto, "environment", &destroy)?.assert_ok("environment destroy");
    crate::environment_example::parts_gone(&ctx, "production", env).await?;
    std::fs::remove_file(path).ok();
    Ok(())
}

fn tag_filter(tag: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    tag_filter_of(&format!("tag:{tag}"), value)
}

fn tag_filter_of(name: &str, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder().name(name).values(value).build()
}
