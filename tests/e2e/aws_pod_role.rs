//! `aws_pod_role` as a real process against moto: after `aws_eks_cluster`
//! made `P-eks`, `--plan` makes no mutating request, the first run makes
//! some, the second none; the role's trust policy, read back through the SDK,
//! names exactly the service account and the `sts.amazonaws.com` audience;
//! a bad service account, a missing cluster and a bad prefix fail before any
//! mutating request. Then `--mode pod-identity` on the same service account:
//! the role trusts the Pod Identity service and one association names it.

use anyhow::{Context as _, Result, ensure};
use deploy_aws::iam::{Iam, IamName};
use deploy_aws::kms::{KeyAlias, Kms};
use deploy_aws::pod_access::PodAccess;
use deploy_core::{ResourceName, ServiceAccountRef};
use serde_json::{Value, json};

use crate::support;
use crate::support::examples::{prefix, refuses_bad_prefix, run, twice};

/// One value or a list of them, as a list (IAM may answer either).
fn one(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_else(|| vec![v.clone()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)] // the gaps proxy serves while the test blocks on the example
async fn aws_pod_role_binds_one_service_account_to_a_role() -> Result<()> {
    let Some(moto) = support::moto_peer() else { return Ok(()) };
    let p = prefix();

    // Without the cluster: not found, nothing changed, and the way out named.
    let missing = run(&moto, "aws_pod_role", &["--prefix", &p])?;
    ensure!(!missing.ok && missing.stderr.contains("aws_eks_cluster") && missing.mutating() == 0, "{}", missing.show());

    run(&moto, "aws_eks_cluster", &["--prefix", &p])?.assert_ok("aws_eks_cluster");
    let ns = "deeploy";
    let (first, second) = twice(&moto, "aws_pod_role", &["--prefix", &p, "--namespace", ns])?;
    // moto gives every cluster the same issuer (drawn once per process), so the
    // provider may exist already from another test: its creation is not asserted here.
    ensure!(first.stdout.contains("create iam role") && first.stdout.contains("create kms key"), "{}", first.show());
    ensure!(second.stdout.contains("(no changes)"), "{}", second.show());
    let role_arn_line = "\"eks.amazonaws.com/role-arn\": \"arn:aws:iam::";
    ensure!(
        second.stdout.contains(role_arn_line) && second.stdout.contains(&format!("name: \"{p}-app\"")),
        "no annotated ServiceAccount\n{}",
        second.show()
    );
    refuses_bad_prefix(&moto, "aws_pod_role", &[])?;

    // The trust policy, read back through the SDK.
    let sdk = moto.sdk_config().await;
    let access = PodAccess::new(&deploy_aws::AwsContext::new(&sdk));
    let issuer = access.cluster_issuer(&ResourceName::new(format!("{p}-eks"))?).await?;
    let provider = access.find_oidc_provider(&issuer).await?.context("no OIDC provider for the cluster's issuer")?;
    ensure!(provider.client_ids == ["sts.amazonaws.com"], "{provider:?}");
    let iam = Iam::new(&deploy_aws::AwsContext::new(&sdk));
    let role = iam.describe_role(&IamName::new(format!("{p}-pod-app"))?).await?;
    let statements = role.trust["Statement"].as_array().cloned().unwrap_or_else(|| vec![role.trust["Statement"].clone()]);
    ensure!(statements.len() == 1, "{}", role.trust);
    let s = &statements[0];
    let host = provider.issuer_host_path();
    ensure!(one(&s["Principal"]["Federated"]) == [json!(provider.arn)], "{s}");
    ensure!(one(&s["Action"]) == [json!("sts:AssumeRoleWithWebIdentity")], "{s}");
    let cond = &s["Condition"]["StringEquals"];
    ensure!(one(&cond[format!("{host}:sub")]) == [json!(format!("system:serviceaccount:{ns}:{p}-app"))], "{s}");
    ensure!(one(&cond[format!("{host}:aud")]) == [json!("sts.amazonaws.com")], "{s}");
    ensure!(cond.as_object().map(serde_json::Map::len) == Some(2), "only sub and aud: {s}");
    let policy = iam.describe_policy(&IamName::new(format!("{p}-pod-assets"))?).await?;
    ensure!(role.managed_policies.contains(&policy.arn), "the bucket policy is not attached: {:?}", role.managed_policies);
    ensure!(policy.document.to_string().contains(&format!("arn:aws:s3:::{p}-assets/*")), "{}", policy.document);
    // The key policy names the role as the application principal.
    let key = Kms::new(&deploy_aws::AwsContext::new(&sdk)).describe_key(&KeyAlias::new(format!("alias/{p}-pod"))?).await?;
    ensure!(key.policy.to_string().contains(&role.arn), "the key policy does not name the role: {}", key.policy);

    // A bad service account: refused before any request, the field named.
    let bad = run(&moto, "aws_pod_role", &["--prefix", &p, "--service-account", "Bad_Name"])?;
    ensure!(!bad.ok && bad.stderr.contains("service_account.name") && bad.mutating() == 0, "{}", bad.show());
    ensure!(!bad.stdout.contains("plan for prefix"), "it got as far as planning\n{}", bad.show());
    let long_ns = "n".repeat(64);
    let bad_ns = run(&moto, "aws_pod_role", &["--prefix", &p, "--namespace", &long_ns])?;
    ensure!(!bad_ns.ok && bad_ns.stderr.contains("service_account.namespace") && bad_ns.mutating() == 0, "{}", bad_ns.show());

    // The same service account switched to EKS Pod Identity, through the proxy
    // that serves the association calls moto lacks (support/eks_gaps.rs): the
    // role's trust becomes the Pod Identity service, an association is made;
    // a second run changes nothing.
    let (_proxy, gaps) = moto.with_gaps().await?;
    let args = ["--prefix", p.as_str(), "--namespace", ns, "--mode", "pod-identity"];
    let (first, _) = twice(&gaps, "aws_pod_role", &args)?;
    ensure!(first.stdout.contains("pod identity association"), "{}", first.show());
    let through = PodAccess::new(&deploy_aws::AwsContext::new(&gaps.sdk_config().await));
    let sa = ServiceAccountRef::new(ns, format!("{p}-app"))?;
    let association = through
        .find_pod_identity_association(&ResourceName::new(format!("{p}-eks"))?, &sa)
        .await?
        .context("no pod identity association")?;
    let role = iam.describe_role(&IamName::new(format!("{p}-pod-app"))?).await?;
    ensure!(association.role_arn == role.arn, "the association names {}, not {}", association.role_arn, role.arn);
    let statements = one(&role.trust["Statement"]);
    ensure!(
        statements.len() == 1 && one(&statements[0]["Principal"]["Service"]) == [json!("pods.eks.amazonaws.com")],
        "the role does not trust Pod Identity (only): {}",
        role.trust
    );
    Ok(())
}
