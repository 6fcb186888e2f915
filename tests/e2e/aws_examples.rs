//! The `aws_*` examples as real processes against moto: each runs twice (the
//! second run makes no mutating request), `--plan` makes none, bad input fails
//! before any request naming the field, and the state they leave is read back
//! through deploy-aws and the SDK.
//!
//! How the examples are run and counted: [`crate::support::examples`].

use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use deploy::{
    BackupVault as _, BucketName, BucketSpec, Cluster as _, Database as _, ObjectKey, ObjectStore as _, ObjectStoreExt as _, ResourceName,
    SecretName, SecretStore,
};
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::kms::{KeyAlias, Kms};
use deploy_aws::policy::{PolicyDocument, denies_insecure_transport};
use deploy_aws::rds::RdsDatabase;
use deploy_aws::s3::S3Store;
use deploy_aws::secrets::SecretsManagerStore;
use secrecy::ExposeSecret as _;

use crate::support::examples::{prefix, refuses_bad_prefix, run, twice};
use crate::support::{self, MOTO_REGION, MotoConfig};

#[tokio::test]
async fn aws_bucket_access_makes_a_tls_only_bucket_and_a_scoped_user() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, second) = twice(&moto, "aws_bucket_access", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_bucket_access", &[])?;

    let sdk = moto.sdk_config().await;
    // The bucket refuses plain HTTP.
    let s3 = moto.s3_client().await;
    let policy = s3.get_bucket_policy().bucket(format!("{p}-assets")).send().await?;
    let policy: serde_json::Value = serde_json::from_str(policy.policy().context("no bucket policy")?)?;
    let statements = policy["Statement"].as_array().context("no statements")?;
    ensure!(statements.iter().any(denies_insecure_transport), "the bucket policy does not deny non-TLS requests: {policy}");

    // The user's policy names the bucket, never "*", and is attached.
    let iam = Iam::new(&deploy_aws::AwsContext::new(&sdk));
    let user = IamName::new(format!("{p}-app"))?;
    let info = iam.describe_policy(&IamName::new(format!("{p}-assets-access"))?).await?;
    let document = PolicyDocument::from_json(&info.document.to_string())?;
    ensure!(!document.has_wildcard_resource(), "the access policy has Resource \"*\": {}", info.document);
    ensure!(info.document.to_string().contains(&format!("arn:aws:s3:::{p}-assets/*")), "the policy does not name the bucket's objects");
    let attached = iam.client().list_attached_user_policies().user_name(user.as_str()).send().await?;
    ensure!(attached.attached_policies().iter().any(|a| a.policy_arn() == Some(info.arn.as_str())), "the policy is not attached");

    // The key is in Secrets Manager, is the user's only key, and was never printed.
    let keys = iam.list_access_keys(&user).await?;
    ensure!(keys.len() == 1, "expected one access key, found {keys:?}");
    let secret =
        SecretsManagerStore::new(&deploy_aws::AwsContext::new(&sdk)).get_secret(&SecretName::new(format!("{p}-app-access-key"))?).await?;
    let stored: serde_json::Value = serde_json::from_str(secret.value.expose_secret())?;
    ensure!(stored["AccessKeyId"] == keys[0].as_str(), "the stored key is not the user's");
    let secret_key = stored["SecretAccessKey"].as_str().context("no SecretAccessKey")?;
    for r in [&first, &second] {
        ensure!(!r.stdout.contains(secret_key) && !r.stderr.contains(secret_key), "the secret access key was printed");
    }
    Ok(())
}

#[tokio::test]
async fn aws_kms_key_grants_the_application_principal() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    twice(&moto, "aws_kms_key", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_kms_key", &[])?;

    let sdk = moto.sdk_config().await;
    let user = Iam::new(&deploy_aws::AwsContext::new(&sdk)).describe_user(&IamName::new(format!("{p}-app"))?).await?;
    let key = Kms::new(&deploy_aws::AwsContext::new(&sdk)).describe_key(&KeyAlias::new(format!("alias/{p}-app"))?).await?;
    ensure!(key.rotation, "rotation is off");
    let statements = key.policy["Statement"].as_array().context("no statements")?;
    let grants = statements.iter().find(|s| s.to_string().contains(&user.arn)).context("no statement for the application principal")?;
    for action in ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"] {
        ensure!(grants.to_string().contains(action), "the principal lacks {action}: {grants}");
    }
    ensure!(key.policy.to_string().contains(&format!("arn:aws:iam::{}:root", key.account_id)), "the account root lost the key");
    Ok(())
}

/// moto evaluates bucket policies on object requests but ignores `Bool`
/// conditions, so the statement denying `aws:SecureTransport = false` denies
/// every object request there. Rewrite its action `s3:*` to `S3:*`: the same
/// policy for AWS (action names are case-insensitive) and for `S3Store` (still
/// TLS-only, so the examples see no drift), one moto's matcher skips.
async fn let_moto_serve_tls_only_bucket(moto: &MotoConfig, bucket: &str) -> Result<()> {
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

fn key(i: usize) -> ObjectKey {
    ObjectKey::new(format!("models/item {i}.json")).expect("a valid key")
}

fn body(i: usize) -> Bytes {
    Bytes::from(format!("asset {i}: {}", "metadata ".repeat(i + 1)))
}

/// `aws_bucket_access` for bucket `P-assets`, made usable on moto, holding `n` objects.
async fn assets_with_objects(moto: &MotoConfig, p: &str, n: usize) -> Result<(S3Store, BucketName)> {
    run(moto, "aws_bucket_access", &["--prefix", p])?.assert_ok("aws_bucket_access");
    let assets = BucketName::new(format!("{p}-assets"))?;
    let_moto_serve_tls_only_bucket(moto, assets.as_str()).await?;
    let s3 = S3Store::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await));
    for i in 0..n {
        s3.put_bytes(&assets, &key(i), body(i)).await?;
    }
    Ok((s3, assets))
}

#[tokio::test]
async fn aws_database_ssl_makes_a_tls_only_protected_instance() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (first, second) = twice(&moto, "aws_database_ssl", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_database_ssl", &[])?;

    let sdk = moto.sdk_config().await;
    let db = RdsDatabase::new(&deploy_aws::AwsContext::new(&sdk)).describe_database(&ResourceName::new(format!("{p}-db"))?).await?;
    ensure!(db.require_tls, "TLS is not required");
    ensure!(db.allowed_extensions.iter().any(|e| e.as_str() == "unaccent"), "unaccent is not allowed: {:?}", db.allowed_extensions);
    ensure!(db.deletion_protection && db.encrypted, "not deletion-protected and encrypted: {db:?}");
    let rds = RdsDatabase::new(&deploy_aws::AwsContext::new(&sdk));
    let params = rds.client().describe_db_parameters().db_parameter_group_name(format!("{p}-db-postgres15")).send().await?;
    let value = |name: &str| {
        params.parameters().iter().find(|x| x.parameter_name() == Some(name)).and_then(|x| x.parameter_value().map(str::to_owned))
    };
    ensure!(value("rds.force_ssl").as_deref() == Some("1"), "rds.force_ssl is {:?}", value("rds.force_ssl"));
    ensure!(
        value("rds.allowed_extensions").as_deref() == Some("unaccent"),
        "rds.allowed_extensions is {:?}",
        value("rds.allowed_extensions")
    );

    let secret =
        SecretsManagerStore::new(&deploy_aws::AwsContext::new(&sdk)).get_secret(&SecretName::new(format!("{p}-db-admin"))?).await?;
    let password = secret.value.expose_secret();
    deploy::PasswordRules::rds_master().check(password)?;
    for r in [&first, &second] {
        ensure!(!r.stdout.contains(password) && !r.stderr.contains(password), "the admin password was printed");
    }
    Ok(())
}

#[tokio::test]
async fn aws_disaster_recovery_brings_deleted_objects_back() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let (s3, assets) = assets_with_objects(&moto, &p, 6).await?;
    run(&moto, "aws_database_ssl", &["--prefix", &p])?.assert_ok("aws_database_ssl");
    // The backup bucket with the defaults, made usable on moto before the example sees it.
    let backup = BucketName::new(format!("{p}-backup"))?;
    s3.ensure_bucket(&BucketSpec::new(backup.clone())).await?;
    let_moto_serve_tls_only_bucket(&moto, backup.as_str()).await?;

    let plan = run(&moto, "aws_disaster_recovery", &["backup", "--prefix", &p, "--plan"])?;
    ensure!(plan.assert_ok("backup --plan").mutating() == 0, "backup --plan made mutating requests\n{}", plan.show());
    let backed = run(&moto, "aws_disaster_recovery", &["backup", "--prefix", &p])?;
    ensure!(backed.assert_ok("backup").mutating() > 0, "backup made no request\n{}", backed.show());
    ensure!(backed.stdout.contains(&format!("snapshot database {p}-db")), "no database snapshot\n{}", backed.show());
    let id = backed.stdout.lines().find_map(|l| l.split("--from ").nth(1)).context("the backup names no snapshot id")?.trim().to_owned();

    // Disaster: two objects deleted, one overwritten.
    s3.delete(&assets, &key(0)).await?;
    s3.delete(&assets, &key(1)).await?;
    s3.put_bytes(&assets, &key(2), Bytes::from_static(b"corrupted")).await?;

    let plan = run(&moto, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", "latest", "--plan"])?;
    ensure!(plan.assert_ok("restore --plan").mutating() == 0, "restore --plan made mutating requests\n{}", plan.show());
    ensure!(s3.head(&assets, &key(0)).await.is_err(), "restore --plan restored something");
    let restored = run(&moto, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", &id])?;
    ensure!(restored.assert_ok("restore").mutating() > 0, "restore made no request\n{}", restored.show());
    for i in 0..6 {
        ensure!(s3.get_bytes(&assets, &key(i)).await? == body(i), "object {i} is not back as it was\n{}", restored.show());
    }
    RdsDatabase::new(&deploy_aws::AwsContext::new(&moto.sdk_config().await))
        .describe_database(&ResourceName::new(format!("{p}-db-restored"))?)
        .await?;
    let again = run(&moto, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", &id])?;
    ensure!(again.assert_ok("second restore").mutating() == 0, "the second restore changed something\n{}", again.show());

    // Objects only.
    s3.delete(&assets, &key(3)).await?;
    let objects = run(&moto, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", "latest", "--objects-only"])?;
    objects.assert_ok("restore --objects-only");
    ensure!(s3.get_bytes(&assets, &key(3)).await? == body(3), "--objects-only did not restore the object");

    // --skip-bucket-setup uses the backup bucket as it is: it must exist.
    let skip = run(&moto, "aws_disaster_recovery", &["backup", "--prefix", &p, "--skip-bucket-setup"])?;
    ensure!(skip.assert_ok("backup --skip-bucket-setup").stdout.contains("used as it is"), "{}", skip.show());
    s3.delete_bucket(&backup, Some(deploy::Confirm::new(backup.as_str()))).await?;
    let missing = run(&moto, "aws_disaster_recovery", &["backup", "--prefix", &p, "--skip-bucket-setup"])?;
    ensure!(!missing.ok && missing.stderr.contains(backup.as_str()), "--skip-bucket-setup made the missing bucket\n{}", missing.show());

    // Bad input, before any request.
    let bad = run(&moto, "aws_disaster_recovery", &["restore", "--prefix", &p, "--from", "yesterday"])?;
    ensure!(!bad.ok && bad.stderr.contains("from") && bad.mutating.unwrap_or(0) == 0, "a bad --from was accepted\n{}", bad.show());
    refuses_bad_prefix(&moto, "aws_disaster_recovery", &["backup"])?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn aws_teardown_deletes_nothing_without_confirmation() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    // moto has no backup selections nor recovery-point listings: the proxy serves them (support::backup_gaps).
    let (_proxy, moto) = moto.with_gaps().await?;
    let p = prefix();
    let (s3, assets) = assets_with_objects(&moto, &p, 3).await?;
    run(&moto, "aws_database_ssl", &["--prefix", &p])?.assert_ok("aws_database_ssl");
    run(&moto, "aws_backup_plan", &["--prefix", &p])?.assert_ok("aws_backup_plan");
    run(&moto, "aws_eks_cluster", &["--prefix", &p])?.assert_ok("aws_eks_cluster");
    let sdk = moto.sdk_config().await;
    let rds = RdsDatabase::new(&deploy_aws::AwsContext::new(&sdk));
    let db = ResourceName::new(format!("{p}-db"))?;
    let backup = deploy_aws::backup::AwsBackupVault::new(&deploy_aws::AwsContext::new(&sdk));
    let (vault, plan_name) = (ResourceName::new(format!("{p}-vault"))?, ResourceName::new(format!("{p}-plan"))?);
    let eks = deploy_aws::eks::EksCluster::new(
        &deploy_aws::AwsContext::new(&sdk),
        deploy_aws::eks::EksRoles { cluster_role_arn: String::new(), node_role_arn: String::new() },
    );
    let cluster = ResourceName::new(format!("{p}-eks"))?;

    let plan = run(&moto, "aws_teardown", &["--prefix", &p, "--plan"])?;
    ensure!(plan.assert_ok("--plan").mutating() == 0, "--plan made mutating requests\n{}", plan.show());
    for step in [
        "turn off deletion protection",
        &format!("delete bucket and every object in {p}-assets"),
        &format!("delete backup plan {p}-plan"),
        &format!("delete backup vault {p}-vault"),
        &format!("delete node pool {p}-eks/{p}-nodes"),
        &format!("delete cluster {p}-eks"),
    ] {
        ensure!(plan.stdout.contains(step), "the plan lacks `{step}`\n{}", plan.show());
    }

    let refused = run(&moto, "aws_teardown", &["--prefix", &p])?;
    ensure!(!refused.ok && refused.mutating.unwrap_or(0) == 0, "teardown without --confirm did something\n{}", refused.show());
    ensure!(refused.stderr.contains("confirm"), "the refusal does not say what to confirm\n{}", refused.show());
    ensure!(rds.describe_database(&db).await?.deletion_protection, "deletion protection was turned off");
    ensure!(s3.head(&assets, &key(0)).await.is_ok(), "an object was deleted");
    ensure!(backup.backup_plan_exists(&plan_name).await? && eks.describe_cluster(&cluster).await.is_ok(), "something was deleted");

    let wrong = run(&moto, "aws_teardown", &["--prefix", &p, "--confirm", "someone-else"])?;
    ensure!(
        !wrong.ok && wrong.stderr.contains("confirm") && wrong.mutating.unwrap_or(0) == 0,
        "a wrong --confirm was accepted\n{}",
        wrong.show()
    );

    let done = run(&moto, "aws_teardown", &["--prefix", &p, "--confirm", &p])?;
    ensure!(done.assert_ok("teardown --confirm").mutating() > 0, "{}", done.show());
    ensure!(rds.describe_database(&db).await.is_err_and(|e| e.is_not_found()), "the database is still there");
    ensure!(s3.describe_bucket(&assets).await.is_err_and(|e| e.is_not_found()), "the bucket is still there");
    ensure!(backup.describe_vault(&vault).await.is_err_and(|e| e.is_not_found()), "the vault is still there");
    ensure!(!backup.backup_plan_exists(&plan_name).await?, "the backup plan is still there");
    ensure!(eks.describe_cluster(&cluster).await.is_err_and(|e| e.is_not_found()), "the cluster is still there");
    let again = run(&moto, "aws_teardown", &["--prefix", &p, "--confirm", &p])?;
    ensure!(again.assert_ok("second teardown").mutating() == 0, "the second teardown changed something\n{}", again.show());
    refuses_bad_prefix(&moto, "aws_teardown", &[])?;
    Ok(())
}

#[tokio::test]
async fn aws_eks_cluster_makes_a_private_and_public_cluster_and_a_kubeconfig() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();
    let kubeconfig = std::env::temp_dir().join(format!("{p}-kubeconfig.yaml"));
    let path = kubeconfig.to_str().context("a UTF-8 temp path")?.to_owned();
    let (first, second) = twice(&moto, "aws_eks_cluster", &["--prefix", &p, "--kubeconfig", &path])?;
    refuses_bad_prefix(&moto, "aws_eks_cluster", &[])?;
    let bad = run(&moto, "aws_eks_cluster", &["--prefix", &p, "--min", "5", "--max", "2"])?;
    ensure!(!bad.ok && bad.stderr.contains("min") && bad.mutating.unwrap_or(0) == 0, "min > max was accepted\n{}", bad.show());

    let sdk = moto.sdk_config().await;
    let roles = deploy_aws::eks::EksRoles { cluster_role_arn: String::new(), node_role_arn: String::new() };
    let eks = deploy_aws::eks::EksCluster::new(&deploy_aws::AwsContext::new(&sdk), roles);
    let eks = eks.client();
    let cluster = eks.describe_cluster().name(format!("{p}-eks")).send().await?.cluster.context("no cluster")?;
    let vpc = cluster.resources_vpc_config().context("no VPC config")?;
    ensure!(vpc.endpoint_private_access() && vpc.endpoint_public_access(), "the endpoint is not private and public: {vpc:?}");
    ensure!(vpc.subnet_ids().len() == 2, "the cluster is not in the two private subnets: {:?}", vpc.subnet_ids());
    ensure!(cluster.role_arn().is_some_and(|r| r.ends_with(&format!("role/{p}-eks-cluster"))), "cluster role: {:?}", cluster.role_arn());
    let key = Kms::new(&deploy_aws::AwsContext::new(&sdk)).describe_key(&KeyAlias::new(format!("alias/{p}-eks"))?).await?;
    let encryption = cluster.encryption_config().first().context("secrets are not encrypted")?;
    ensure!(encryption.provider().and_then(|p| p.key_arn()) == Some(key.arn.as_str()), "secrets are not encrypted with alias/{p}-eks");

    let group = eks
        .describe_nodegroup()
        .cluster_name(format!("{p}-eks"))
        .nodegroup_name(format!("{p}-nodes"))
        .send()
        .await?
        .nodegroup
        .context("no node group")?;
    let scaling = group.scaling_config().context("no scaling config")?;
    ensure!((scaling.min_size(), scaling.desired_size(), scaling.max_size()) == (Some(1), Some(2), Some(4)), "scaling: {scaling:?}");
    ensure!(group.disk_size() == Some(100) && group.instance_types() == ["m5.xlarge"], "node group: {group:?}");
    ensure!(group.node_role().is_some_and(|r| r.ends_with(&format!("role/{p}-eks-node"))), "node role: {:?}", group.node_role());
    let iam = Iam::new(&deploy_aws::AwsContext::new(&sdk));
    let cluster_role = iam.describe_role(&IamName::new(format!("{p}-eks-cluster"))?).await?;
    ensure!(cluster_role.trust.to_string().contains("eks.amazonaws.com"), "the cluster role does not trust EKS: {}", cluster_role.trust);
    ensure!(cluster_role.managed_policies.iter().any(|a| a.ends_with("/AmazonEKSClusterPolicy")), "{:?}", cluster_role.managed_policies);

    // The kubeconfig: owner-only, the cluster's server, a k8s-aws-v1. token that was never printed.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&kubeconfig)?.permissions().mode() & 0o777;
        ensure!(mode == 0o600, "the kubeconfig is mode {mode:o}");
    }
    let text = std::fs::read_to_string(&kubeconfig)?;
    std::fs::remove_file(&kubeconfig)?;
    ensure!(text.contains(&format!("server: {}", cluster.endpoint().context("no endpoint")?)), "the kubeconfig names another server");
    let token = text.lines().find_map(|l| l.trim().strip_prefix("token: ")).context("no token in the kubeconfig")?;
    ensure!(token.starts_with("k8s-aws-v1.") && token.len() > 100, "not an EKS token");
    for r in [&first, &second] {
        ensure!(!r.stdout.contains(token) && !r.stderr.contains(token), "the bearer token was printed");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the proxy serves while the test blocks on the example
async fn aws_backup_plan_selects_the_database_and_bucket_for_continuous_backup() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    // moto has no backup selections: the proxy serves them (support::backup_gaps).
    let (_proxy, moto) = moto.with_gaps().await?;
    let p = prefix();
    twice(&moto, "aws_backup_plan", &["--prefix", &p])?;
    refuses_bad_prefix(&moto, "aws_backup_plan", &[])?;
    let bad = run(&moto, "aws_backup_plan", &["--prefix", &p, "--retention-days", "36"])?;
    ensure!(!bad.ok && bad.stderr.contains("retention-days") && bad.mutating.unwrap_or(0) == 0, "36 days were accepted\n{}", bad.show());

    let sdk = moto.sdk_config().await;
    let key = Kms::new(&deploy_aws::AwsContext::new(&sdk)).describe_key(&KeyAlias::new(format!("alias/{p}-backup"))?).await?;
    let vault = deploy_aws::backup::AwsBackupVault::new(&deploy_aws::AwsContext::new(&sdk))
        .describe_vault(&ResourceName::new(format!("{p}-vault"))?)
        .await?;
    ensure!(vault.encryption_key.as_deref() == Some(key.arn.as_str()), "the vault is not encrypted with alias/{p}-backup: {vault:?}");

    let backup = deploy_aws::backup::AwsBackupVault::new(&deploy_aws::AwsContext::new(&sdk));
    let backup = backup.client();
    let plans = backup.list_backup_plans().send().await?;
    let id = plans
        .backup_plans_list()
        .iter()
        .find(|pl| pl.backup_plan_name() == Some(&format!("{p}-plan")))
        .and_then(|pl| pl.backup_plan_id())
        .context("no plan")?
        .to_owned();
    let plan = backup.get_backup_plan().backup_plan_id(&id).send().await?.backup_plan.context("no plan body")?;
    let rule = plan.rules().first().context("no rule")?;
    ensure!(rule.enable_continuous_backup() == Some(true), "the rule is not continuous: {rule:?}");
    ensure!(rule.lifecycle().and_then(|l| l.delete_after_days()) == Some(35), "retention: {:?}", rule.lifecycle());
    ensure!(rule.target_backup_vault_name() == format!("{p}-vault") && rule.schedule_expression() == Some("cron(0 5 * * ? *)"), "{rule:?}");

    let selections = backup.list_backup_selections().backup_plan_id(&id).send().await?;
    ensure!(selections.backup_selections_list().len() == 1, "expected one selection: {selections:?}");
    let sid = selections.backup_selections_list()[0].selection_id().context("no selection id")?;
    let selection =
        backup.get_backup_selection().backup_plan_id(&id).selection_id(sid).send().await?.backup_selection.context("no selection")?;
    let account = key.account_id;
    let wanted = [format!("arn:aws:rds:{MOTO_REGION}:{account}:db:{p}-db"), format!("arn:aws:s3:::{p}-assets")];
    ensure!(selection.resources() == wanted, "the selection is {:?}", selection.resources());
    ensure!(selection.iam_role_arn().ends_with(&format!("role/{p}-backup")), "selection role {}", selection.iam_role_arn());
    let role = Iam::new(&deploy_aws::AwsContext::new(&sdk)).describe_role(&IamName::new(format!("{p}-backup"))?).await?;
    ensure!(role.trust.to_string().contains("backup.amazonaws.com"), "the role does not trust AWS Backup: {}", role.trust);
    ensure!(role.managed_policies.len() == deploy_aws::backup::ROLE_POLICIES.len(), "{:?}", role.managed_policies);
    Ok(())
}
