//! The `environment` example as a real process: `production` and `staging`
//! of examples/environments.toml (names given this run's prefix) planned,
//! applied twice, shown, changed, and destroyed on moto through the recording
//! proxy (with the AWS Backup and EKS gaps it serves); on Azure, the typed
//! refusals before any request.
//!
//! How the examples are run and counted: [`crate::support::examples`].

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::SecretStore as _;
use deploy::{BackupVault as _, BucketName, Cluster as _, Database as _, ObjectKey, ObjectStore as _, ObjectStoreExt as _, ResourceName};
use deploy_aws::AwsContext;
use secrecy::ExposeSecret as _;

use crate::support::examples::{Recorder, Run, prefix, run};
use crate::support::{self, MotoConfig};

const SPEC: &str = include_str!("../../examples/environments.toml");

/// The spec with every `acme-` name made this run's own, written to a temporary file.
pub(crate) fn spec_file(p: &str, tag: &str, text: &str) -> Result<(std::path::PathBuf, String)> {
    let path = std::env::temp_dir().join(format!("{p}-{tag}-environments.toml"));
    let text = text.replace("acme-", &format!("{p}-"));
    std::fs::write(&path, &text)?;
    Ok((path, text))
}

/// Run `environment COMMAND --file F --env ENV --cloud aws MORE` through the
/// recorder; the mutating requests the proxy saw.
fn counted(recorder: &Recorder, file: &str, command: &str, env: &str, more: &[&str]) -> Result<(Run, Vec<String>)> {
    recorder.proxy.clear();
    let through = MotoConfig { endpoint: recorder.endpoint.clone() };
    let args: Vec<&str> = [&[command, "--file", file, "--env", env, "--cloud", "aws"], more].concat();
    let r = run(&through, "environment", &args)?;
    ensure!(!recorder.proxy.captured().is_empty(), "{args:?}: nothing reached the proxy\n{}", r.show());
    let seen = recorder.mutating();
    if let Some(n) = r.mutating {
        ensure!(n == seen.len(), "{args:?}: the example counted {n} mutating requests, the proxy {seen:?}\n{}", r.show());
    }
    Ok((r, seen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn environment_example_applies_shows_and_destroys_production_and_staging_on_moto() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    // moto has no backup selections nor recovery-point listings: the proxy serves them (support::backup_gaps).
    let (_gaps, moto) = moto.with_gaps().await?;
    let p = prefix();
    let (path, text) = spec_file(&p, "spec", SPEC)?;
    let file = path.to_str().context("a UTF-8 temp path")?.to_owned();
    let recorder = Recorder::start(&moto.endpoint)?;
    let ctx = AwsContext::new(&moto.sdk_config().await);
    let (s3, rds, backup) =
        (deploy_aws::s3::S3Store::new(&ctx), deploy_aws::rds::RdsDatabase::new(&ctx), deploy_aws::backup::AwsBackupVault::new(&ctx));
    let secrets = deploy_aws::secrets::SecretsManagerStore::new(&ctx);
    let eks =
        deploy_aws::eks::EksCluster::new(&ctx, deploy_aws::eks::EksRoles { cluster_role_arn: String::new(), node_role_arn: String::new() });
    let envs = deploy::env::Environments::from_toml(&text)?;

    for name in ["production", "staging"] {
        let env = envs.get(name)?;
        // plan: changes pending (exit 2), no mutating request.
        let (plan, seen) = counted(&recorder, &file, "plan", name, &[])?;
        ensure!(plan.code == Some(2) && seen.is_empty(), "{name}: plan exit {:?}, mutating {seen:?}\n{}", plan.code, plan.show());
        ensure!(plan.stdout.contains(&format!("+ create database {p}-")), "{name}: the plan creates no database\n{}", plan.show());

        // apply, then apply again: nothing the second time.
        let (first, seen) = counted(&recorder, &file, "apply", name, &[])?;
        ensure!(first.ok && !seen.is_empty(), "{name}: apply failed or sent nothing: {seen:?}\n{}", first.show());
        ensure!(first.stdout.contains("== changes made"), "{}", first.show());
        let (second, seen) = counted(&recorder, &file, "apply", name, &[])?;
        ensure!(second.ok && seen.is_empty() && second.mutating() == 0, "{name}: the second apply changed {seen:?}\n{}", second.show());
        ensure!(second.stdout.contains("nothing to change"), "{}", second.show());
        let (replan, seen) = counted(&recorder, &file, "plan", name, &[])?;
        ensure!(replan.code == Some(0) && seen.is_empty(), "{name}: plan after apply: {:?}\n{}", replan.code, replan.show());

        // outputs --json, checked against moto's state; no secret value anywhere.
        let (out, seen) = counted(&recorder, &file, "outputs", name, &["--json"])?;
        ensure!(out.ok && seen.is_empty(), "{name}: outputs failed or mutated: {seen:?}\n{}", out.show());
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).with_context(|| format!("outputs --json:\n{}", out.show()))?;
        let outputs = &doc["outputs"];
        ensure!(outputs["environment"] == name && outputs["account"].as_str().is_some_and(|a| a.len() == 12), "{outputs}");
        for (i, db) in env.databases.iter().enumerate() {
            let info = rds.describe_database(&db.name).await?;
            let endpoint = info.endpoint.context("moto's instance has no endpoint")?;
            let shown = &outputs["databases"][i];
            ensure!(shown["name"] == db.name.as_str() && shown["endpoint"]["host"] == endpoint.host.as_str(), "{shown} vs {endpoint:?}");
            ensure!(shown["endpoint"]["port"] == endpoint.port, "{shown}");
        }
        for (i, b) in env.buckets.iter().enumerate() {
            s3.describe_bucket(&b.name).await?;
            ensure!(outputs["buckets"][i]["name"] == b.name.as_str() && outputs["buckets"][i]["exists"] == true, "{outputs}");
        }
        if let Some(cluster) = &env.cluster {
            let info = eks.describe_cluster(&cluster.name).await?;
            ensure!(outputs["cluster"]["endpoint"].as_str() == info.endpoint.as_deref(), "{outputs} vs {info:?}");
            ensure!(outputs["cluster"]["node_pools"].as_array().map(Vec::len) == Some(cluster.node_pools.len()), "{outputs}");
        }
        if let Some(spec) = &env.backup {
            backup.describe_vault(&spec.vault.name).await?;
            ensure!(outputs["backup"]["vault"] == spec.vault.name.as_str() && outputs["backup"]["plan_exists"] == true, "{outputs}");
        }
        parts_present(&ctx, name, env, outputs).await?;
        for (i, s) in env.secrets.iter().enumerate() {
            let value = secrets.get_secret(&s.name).await?;
            let value = value.value.expose_secret();
            ensure!(outputs["secrets"][i]["name"] == s.name.as_str(), "{outputs}");
            for r in [&plan, &first, &second, &out] {
                ensure!(!r.stdout.contains(value) && !r.stderr.contains(value), "{name}: the admin password was printed");
            }
        }
    }

    // Changed fields (a node pool's max, a bucket tag) are planned as exactly those updates, then applied.
    let changed_spec =
        SPEC.replace("tags = { env = \"production\" } }]", "tags = { env = \"prod\" } }]").replacen("max = 12", "max = 15", 1);
    let (path2, _) = spec_file(&p, "changed", &changed_spec)?;
    let file2 = path2.to_str().context("a UTF-8 temp path")?.to_owned();
    let (changed, seen) = counted(&recorder, &file2, "plan", "production", &[])?;
    ensure!(changed.code == Some(2) && seen.is_empty(), "{}", changed.show());
    let changes: Vec<&str> = changed.stdout.lines().filter(|l| l.trim_start().starts_with(['+', '~', '-', '!'])).collect();
    ensure!(
        changes.len() == 2
            && changes.iter().any(|c| c.contains(&format!("bucket {p}-prod-assets")))
            && changes.iter().any(|c| c.contains("node pool") && c.contains("services")),
        "the plan is not exactly the tag and max updates: {changes:?}\n{}",
        changed.show()
    );
    ensure!(changed.stdout.contains("max: 12 -> 15"), "the node pool's max is not planned 12 -> 15\n{}", changed.show());
    let (applied, seen) = counted(&recorder, &file2, "apply", "production", &[])?;
    ensure!(applied.ok && !seen.is_empty(), "{}", applied.show());
    let assets = BucketName::new(format!("{p}-prod-assets"))?;
    ensure!(s3.describe_bucket(&assets).await?.tags.get("env").map(String::as_str) == Some("prod"), "the tag was not changed");
    let cluster = ResourceName::new(format!("{p}-prod"))?;
    let services = eks.describe_cluster(&cluster).await?.node_pools.into_iter().find(|n| n.spec.name.as_str() == "services");
    ensure!(services.is_some_and(|s| s.spec.max == 15), "the node pool's max was not changed");
    let (after, seen) = counted(&recorder, &file2, "plan", "production", &[])?;
    ensure!(after.code == Some(0) && seen.is_empty(), "{}", after.show());

    // A node pool no longer in the spec: reported by plan and apply, left alone.
    let cut = changed_spec.find("[[production.cluster.node_pools]]\nname = \"executors\"").context("the executors pool")?;
    let rest = changed_spec.find("\n[[production.databases]]").context("the spec's databases")?;
    let without = format!("{}{}", &changed_spec[..cut], &changed_spec[rest..]);
    let (path3, _) = spec_file(&p, "without", &without)?;
    let file3 = path3.to_str().context("a UTF-8 temp path")?.to_owned();
    let (kept, seen) = counted(&recorder, &file3, "apply", "production", &[])?;
    ensure!(kept.ok && seen.is_empty(), "a pool no longer in the spec was touched: {seen:?}\n{}", kept.show());
    ensure!(kept.stdout.contains(&format!("node pool {p}-prod/executors (no longer in the spec")), "not reported\n{}", kept.show());
    ensure!(eks.describe_cluster(&cluster).await?.node_pools.len() == 2, "the pool no longer in the spec was deleted");
    std::fs::remove_file(path3).ok();

    // destroy without --confirm: shown, nothing deleted.
    let object = ObjectKey::new("models/m.json")?;
    let_moto_serve(&moto, assets.as_str()).await?;
    s3.put_bytes(&assets, &object, Bytes::from_static(b"{}")).await?;
    let db = ResourceName::new(format!("{p}-prod-db"))?;
    let (shown, seen) = counted(&recorder, &file2, "destroy", "production", &[])?;
    ensure!(shown.code == Some(2) && seen.is_empty(), "destroy without --confirm: {:?} {seen:?}\n{}", shown.code, shown.show());
    for step in [
        format!("delete backup plan {p}-prod-daily"),
        format!("delete backup vault {p}-prod-vault"),
        format!("turn off deletion protection of database {p}-prod-db"),
        format!("delete database (final snapshot first) {p}-prod-db"),
        format!("delete bucket and every object in {p}-prod-assets"),
        format!("delete node pool {p}-prod/services"),
        format!("delete cluster {p}-prod"),
        format!("delete secret {p}-prod-db-admin"),
        format!("delete file system and every file in {p}-prod-files"),
        format!("delete log group and its events /aws/eks/{p}-prod/cluster"),
    ] {
        ensure!(shown.stdout.contains(&step), "the destroy plan lacks `{step}`\n{}", shown.show());
    }
    ensure!(shown.stdout.contains("--confirm production"), "{}", shown.show());
    // A --confirm naming another environment: refused before any request at all.
    recorder.proxy.clear();
    let through = MotoConfig { endpoint: recorder.endpoint.clone() };
    let wrong =
        run(&through, "environment", &["destroy", "--file", &file2, "--env", "production", "--cloud", "aws", "--confirm", "staging"])?;
    ensure!(!wrong.ok && wrong.stderr.contains("invalid confirm"), "a wrong --confirm was accepted\n{}", wrong.show());
    ensure!(recorder.proxy.captured().is_empty(), "a wrong --confirm sent requests\n{}", wrong.show());
    ensure!(rds.describe_database(&db).await?.deletion_protection, "deletion protection was turned off");
    ensure!(s3.head(&assets, &object).await.is_ok(), "an object was deleted");

    // destroy --confirm: every resource of both environments gone from moto; again: nothing to do.
    for name in ["production", "staging"] {
        let (done, seen) = counted(&recorder, &file2, "destroy", name, &["--confirm", name])?;
        ensure!(done.ok && !seen.is_empty(), "{name}: destroy failed or sent nothing\n{}", done.show());
        let env = envs.get(name)?;
        for d in &env.databases {
            ensure!(rds.describe_database(&d.name).await.is_err_and(|e| e.is_not_found()), "{name}: {} is still there", d.name);
        }
        for b in &env.buckets {
            ensure!(s3.describe_bucket(&b.name).await.is_err_and(|e| e.is_not_found()), "{name}: {} is still there", b.name);
        }
        for s in &env.secrets {
            ensure!(!secrets.secret_exists(&s.name).await?, "{name}: secret {} is still there", s.name);
        }
        if let Some(c) = &env.cluster {
            ensure!(eks.describe_cluster(&c.name).await.is_err_and(|e| e.is_not_found()), "{name}: the cluster is still there");
        }
        if let Some(b) = &env.backup {
            ensure!(backup.describe_vault(&b.vault.name).await.is_err_and(|e| e.is_not_found()), "{name}: the vault is still there");
            let plan = &b.plan.as_ref().context("a plan")?.name;
            ensure!(!backup.backup_plan_exists(plan).await?, "{name}: the backup plan is still there");
        }
        parts_gone(&ctx, name, env).await?;
        let (again, seen) = counted(&recorder, &file2, "destroy", name, &["--confirm", name])?;
        ensure!(again.ok && seen.is_empty(), "{name}: the second destroy changed {seen:?}\n{}", again.show());
    }
    std::fs::remove_file(path).ok();
    std::fs::remove_file(path2).ok();
    Ok(())
}

/// The network name of an environment (`network.name` of the spec).
pub(crate) fn network_name(env: &deploy::env::Environment) -> Result<ResourceName> {
    env.network.as_ref().and_then(|n| n.name.clone()).context("the spec names its network")
}

/// What the AWS environment derives, as moto has it after an apply, and as the outputs show it: the VPC
/// with two private and two public subnets in two zones inside `network.cidr`, the S3 gateway endpoint,
/// the DB subnet group over the private subnets (each instance in it), the cluster in the private
/// subnets with its secrets key, the EKS roles, the vault's key.
pub(crate) async fn parts_present(ctx: &AwsContext, name: &str, env: &deploy::env::Environment, outputs: &serde_json::Value) -> Result<()> {
    use deploy_aws::network::SubnetTier;
    let net = deploy_aws::network::Network::new(ctx);
    let prefix = network_name(env)?;
    let vpc = net.find_vpc(&prefix).await?;
    let layout = env.network.as_ref().context("a network")?;
    ensure!(vpc.cidr == layout.cidr.as_str() && outputs["vpc_id"] == vpc.vpc_id.as_str(), "{name}: {vpc:?} vs {outputs}");
    let subnets = net.subnets(&vpc.vpc_id).await?;
    let of = |tier| -> Vec<&deploy_aws::network::SubnetInfo> { subnets.iter().filter(|s| s.tier == Some(tier)).collect() };
    let (private, public) = (of(SubnetTier::Private), of(SubnetTier::Public));
    ensure!(private.len() == 2 && public.len() == 2 && subnets.len() == 4, "{name}: subnets {subnets:?}");
    let zones: std::collections::BTreeSet<&str> = private.iter().map(|s| s.availability_zone.as_str()).collect();
    ensure!(zones.len() == 2 && zones.iter().all(|z| z.starts_with(support::MOTO_REGION)), "{name}: zones {zones:?}");
    for s in &subnets {
        let block = deploy::CidrBlock::new(s.cidr.clone())?;
        ensure!(layout.cidr.contains(&block), "{name}: {} is outside {}", s.cidr, layout.cidr);
    }
    let mut private_ids: Vec<&str> = private.iter().map(|s| s.subnet_id.as_str()).collect();
    private_ids.sort_unstable();
    let shown: Vec<&str> = outputs["private_subnet_ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
    ensure!(shown.len() == 2 && shown.iter().all(|id| private_ids.contains(id)), "{name}: outputs {outputs}");
    // The S3 gateway endpoint on the main route table: planning it again finds it, with nothing to change.
    let main: Vec<String> = net.route_tables(&vpc.vpc_id).await?.into_iter().filter(|t| t.main).map(|t| t.route_table_id).collect();
    let endpoint = deploy_aws::network::S3GatewayEndpointSpec::new(vpc.vpc_id.clone(), support::MOTO_REGION, main);
    let found = deploy::Reconcile::reconcile(&net, &endpoint, deploy::Mode::Plan).await?;
    let id = found.info.map(|e| e.endpoint_id).context("no S3 gateway endpoint")?;
    ensure!(found.plan.is_empty() && outputs["s3_endpoint_id"] == id.as_str(), "{name}: endpoint {id} {} vs {outputs}", found.plan);
    let rds = deploy_aws::rds::RdsDatabase::new(ctx);
    let group = rds.instances().describe_subnet_group(&format!("{prefix}-db")).await?;
    ensure!(group.subnet_ids.iter().map(String::as_str).collect::<Vec<_>>() == private_ids, "{name}: {group:?}");
    ensure!(outputs["db_subnet_group"] == format!("{prefix}-db"), "{outputs}");
    // With a cluster, the databases' own group admits PostgreSQL from the cluster's security group only.
    let db_group = match &env.cluster {
        Some(cluster) => {
            let eks = deploy_aws::eks::EksCluster::new(ctx, deploy_aws::eks::EksRoles::default());
            let nodes = eks.cluster_security_group(&cluster.name).await?.context("the cluster reports no security group")?;
            let group = net.find_security_group(&vpc.vpc_id, &ResourceName::new(format!("{prefix}-db"))?).await?;
            let wanted = deploy_aws::network::IngressRule::tcp_from_group(5432, &nodes);
            ensure!(group.ingress == [wanted], "{name}: {group:?} does not admit only {nodes}");
            Some(group.group_id)
        }
        None => None,
    };
    for db in &env.databases {
        let info = deploy::Database::describe_database(&rds, &db.name).await?;
        ensure!(
            info.network.subnet_group.as_deref() == Some(group.name.as_str()),
            "{name}: {} is not in {}: {info:?}",
            db.name,
            group.name
        );
        if let Some(g) = &db_group {
            ensure!(info.network.security_groups == [g.clone()], "{name}: {} is not (only) in {g}: {info:?}", db.name);
        }
    }
    // The shared file system: encrypted, a mount target in each private subnet, behind its own group,
    // whose one rule admits NFS from the cluster's group.
    if let (Some(files), Some(cluster)) = (&env.files, &env.cluster) {
        let efs = deploy_aws::efs::Efs::new(ctx);
        let fs = efs.describe_file_system(files.name.as_str()).await?;
        ensure!(
            fs.encrypted && fs.state == "available" && outputs["file_system_id"] == fs.file_system_id.as_str(),
            "{name}: {fs:?} vs {outputs}"
        );
        let mut in_subnets: Vec<&str> = fs.mount_targets.keys().map(String::as_str).collect();
        in_subnets.sort_unstable();
        ensure!(in_subnets == private_ids, "{name}: mount targets in {in_subnets:?}, private subnets {private_ids:?}");
        let eks = deploy_aws::eks::EksCluster::new(ctx, deploy_aws::eks::EksRoles::default());
        let nodes = eks.cluster_security_group(&cluster.name).await?.context("the cluster reports no security group")?;
        let group = net.find_security_group(&vpc.vpc_id, &ResourceName::new(format!("{prefix}-files"))?).await?;
        ensure!(group.ingress == [deploy_aws::network::IngressRule::tcp_from_group(2049, &nodes)], "{name}: {group:?}");
    }
    // Control-plane logs: every type on, the group keeping them the spec's days.
    if let (Some(logs), Some(cluster)) = (&env.logs, &env.cluster) {
        let eks = deploy_aws::eks::EksCluster::new(ctx, deploy_aws::eks::EksRoles::default());
        let logging = eks.reconcile_control_plane_logging(&cluster.name, true, deploy::Mode::Plan).await?;
        ensure!(logging.is_empty(), "{name}: control-plane logging is not on: {logging}");
        let group = format!("/aws/eks/{}/cluster", cluster.name);
        let info = deploy_aws::logs::Logs::new(ctx).describe_log_group(&group).await?;
        ensure!(
            info.retention_days == Some(logs.retention_days) && outputs["log_group"] == group.as_str(),
            "{name}: {info:?} vs {outputs}"
        );
    }
    let kms = deploy_aws::kms::Kms::new(ctx);
    if let Some(cluster) = &env.cluster {
        let iam = deploy_aws::iam::Iam::new(ctx);
        for role in ["eks-cluster", "eks-node"] {
            let role = iam.describe_role(&deploy_aws::iam::IamName::new(format!("{}-{role}", cluster.name))?).await?;
            ensure!([&outputs["cluster_role_arn"], &outputs["node_role_arn"]].iter().any(|a| **a == role.arn.as_str()), "{outputs}");
        }
        let key = kms.describe_key(&deploy_aws::kms::KeyAlias::new(format!("alias/{}-eks-secrets", cluster.name))?).await?;
        let eks = deploy_aws::eks::EksCluster::new(ctx, deploy_aws::eks::EksRoles::default());
        let info = deploy::Cluster::describe_cluster(&eks, &cluster.name).await?;
        ensure!(info.secrets_encryption_key.as_deref() == Some(key.arn.as_str()), "{name}: cluster key {info:?} vs {}", key.arn);
        ensure!(outputs["cluster_key_arn"] == key.arn.as_str(), "{outputs}");
    }
    if let Some(backup) = &env.backup {
        let key = kms.describe_key(&deploy_aws::kms::KeyAlias::new(format!("alias/{}-backup", backup.vault.name))?).await?;
        let vault = deploy_aws::backup::AwsBackupVault::new(ctx);
        let info = deploy::BackupVault::describe_vault(&vault, &backup.vault.name).await?;
        ensure!(info.encryption_key.as_deref() == Some(key.arn.as_str()), "{name}: vault key {info:?} vs {}", key.arn);
    }
    Ok(())
}

/// After a confirmed destroy: no VPC, no DB subnet group, no roles, the keys' aliases gone
/// (the keys themselves wait KMS's 7 days, scheduled for deletion).
pub(crate) async fn parts_gone(ctx: &AwsContext, name: &str, env: &deploy::env::Environment) -> Result<()> {
    let prefix = network_name(env)?;
    let net = deploy_aws::network::Network::new(ctx);
    ensure!(net.find_vpc(&prefix).await.is_err_and(|e| e.is_not_found()), "{name}: the VPC is still there");
    let rds = deploy_aws::rds::RdsDatabase::new(ctx);
    ensure!(
        rds.instances().describe_subnet_group(&format!("{prefix}-db")).await.is_err_and(|e| e.is_not_found()),
        "{name}: subnet group left"
    );
    if let Some(files) = &env.files {
        let efs = deploy_aws::efs::Efs::new(ctx);
        ensure!(efs.describe_file_system(files.name.as_str()).await.is_err_and(|e| e.is_not_found()), "{name}: the file system is left");
    }
    if let Some(cluster) = env.cluster.as_ref().filter(|_| env.logs.is_some()) {
        let group = format!("/aws/eks/{}/cluster", cluster.name);
        let logs = deploy_aws::logs::Logs::new(ctx);
        ensure!(logs.describe_log_group(&group).await.is_err_and(|e| e.is_not_found()), "{name}: the log group is left");
    }
    let kms = deploy_aws::kms::Kms::new(ctx);
    if let Some(cluster) = &env.cluster {
        let iam = deploy_aws::iam::Iam::new(ctx);
        for role in ["eks-cluster", "eks-node"] {
            let role = deploy_aws::iam::IamName::new(format!("{}-{role}", cluster.name))?;
            ensure!(iam.describe_role(&role).await.is_err_and(|e| e.is_not_found()), "{name}: role {role} left");
        }
        let alias = deploy_aws::kms::KeyAlias::new(format!("alias/{}-eks-secrets", cluster.name))?;
        ensure!(kms.describe_key(&alias).await.is_err_and(|e| e.is_not_found()), "{name}: key {alias} left");
    }
    if let Some(backup) = &env.backup {
        let alias = deploy_aws::kms::KeyAlias::new(format!("alias/{}-backup", backup.vault.name))?;
        ensure!(kms.describe_key(&alias).await.is_err_and(|e| e.is_not_found()), "{name}: key {alias} left");
    }
    Ok(())
}

/// moto ignores `Bool` conditions in bucket policies, so the TLS-only
/// statement denies every object request there: rewrite its action to `S3:*`
/// (the same policy for AWS and for `S3Store`, one moto's matcher skips), as
/// the aws_examples tests do.
async fn let_moto_serve(moto: &MotoConfig, bucket: &str) -> Result<()> {
    let s3 = moto.s3_client().await;
    let out = s3.get_bucket_policy().bucket(bucket).send().await?;
    let mut policy: serde_json::Value = serde_json::from_str(out.policy().context("no policy")?)?;
    for statement in policy["Statement"].as_array_mut().into_iter().flatten() {
        if statement["Sid"] == "DenyInsecureTransport" {
            statement["Action"] = serde_json::json!(["S3:*"]);
        }
    }
    s3.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await?;
    Ok(())
}

/// On Azure: a `backup` section, an unknown `--env`, a missing resource group,
/// a location other than the spec's, a destroy with final snapshots (flexible
/// servers have none) are typed errors naming the field, before any request
/// (the fake ARM endpoint behind a recording proxy sees nothing).
#[tokio::test]
async fn environment_example_refuses_bad_input_before_any_request_on_azure() -> Result<()> {
    let binary = crate::support::examples::example_binary("environment")?;
    let fake = crate::azure_examples::fake_arm::FakeArm::start().await;
    let recorder = Recorder::start(&fake.server.uri())?;
    let p = prefix();
    let (path, _) = spec_file(&p, "spec", SPEC)?;
    let file = path.to_str().context("a UTF-8 temp path")?.to_owned();
    let cases: [(&str, &[&str], &str); 6] = [
        ("plan", &["--env", "production", "--resource-group", "rg", "--storage-account", "acct", "--key-vault", "kv"], "production.backup"),
        ("plan", &["--env", "nowhere", "--resource-group", "rg", "--storage-account", "acct", "--key-vault", "kv"], "env"),
        ("plan", &["--env", "staging", "--storage-account", "acct", "--key-vault", "kv"], "resource-group"),
        ("plan", &["--env", "staging", "--resource-group", "rg", "--storage-account", "acct"], "key-vault"),
        (
            "apply",
            &["--env", "staging", "--resource-group", "rg", "--storage-account", "acct", "--key-vault", "kv", "--location", "northeurope"],
            "location",
        ),
        (
            "destroy",
            &["--env", "staging", "--resource-group", "rg", "--storage-account", "acct", "--key-vault", "kv", "--confirm", "staging"],
            "final_snapshots",
        ),
    ];
    for (command, more, field) in cases {
        let out = std::process::Command::new(&binary)
            .args([command, "--file", &file, "--cloud", "azure", "--json", "--arm-endpoint", &recorder.endpoint])
            .args(more)
            .env("AZURE_ARM_ACCESS_TOKEN", "fake-arm-token")
            .env("AZURE_SUBSCRIPTION_ID", crate::azure_examples::fake_arm::SUBSCRIPTION)
            .env_remove("AZURE_CLIENT_SECRET")
            .output()?;
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        ensure!(out.status.code() == Some(1), "{more:?}: exit {:?}\n{stdout}\n{stderr}", out.status.code());
        let doc: serde_json::Value = serde_json::from_str(&stdout).with_context(|| format!("{more:?}: {stdout}\n{stderr}"))?;
        ensure!(doc["error"]["field"] == field, "{more:?}: expected field {field}: {doc}");
        if field == "production.backup" {
            let message = doc["error"]["message"].as_str().unwrap_or_default();
            ensure!(message.contains("flexible server") && message.contains("snapshot"), "the rule names no alternative: {message}");
        }
        ensure!(recorder.proxy.captured().is_empty(), "{more:?}: requests before the refusal: {:?}", recorder.mutating());
    }
    std::fs::remove_file(path).ok();
    Ok(())
}
