//! Keyless pod access (issue #6; the Okera and Deeploy seeds: the application
//! "needs no AWS keys", its pods reach S3 and KMS through an IAM role): one
//! Kubernetes service account of cluster `P-eks` gets role `P-pod-app`.
//!
//! Needs the EKS cluster `P-eks` made by `aws_eks_cluster --prefix P`; without
//! it the example fails with a not-found error before any change. Creates
//! (each only when missing or different; a second run changes nothing):
//! - `--mode irsa` (default): the cluster's IAM OIDC provider (client id
//!   `sts.amazonaws.com`, no thumbprint) and role `P-pod-app` trusting it for
//!   exactly `system:serviceaccount:NS:SA` with audience `sts.amazonaws.com`;
//! - `--mode pod-identity`: role `P-pod-app` trusting `pods.eks.amazonaws.com`
//!   and an EKS Pod Identity association of NS/SA with it;
//! - managed policy `P-pod-assets`: the Deeploy bucket-scoped policy on bucket
//!   `P-assets` (the bucket itself need not exist), attached to the role;
//! - KMS key `alias/P-pod` whose Deeploy key policy names the role as the
//!   application principal.
//!
//! It prints the ServiceAccount YAML to apply in the cluster (with the
//! `eks.amazonaws.com/role-arn` annotation in IRSA mode); deploy-k8s applies
//! the same object with `deploy_k8s::apply_irsa_service_account`.
//!
//! ```text
//! cargo run --features aws --example aws_pod_role -- --prefix acme-prod [--plan] \
//!     [--namespace acme-prod] [--service-account acme-prod-app] [--mode irsa|pod-identity]
//! ```
//!
//! Configured by the standard AWS environment. The namespace and service
//! account are checked as Kubernetes checks them before any request. `--plan`
//! prints what would change and makes no mutating request. The last line is
//! `mutating requests: N`.

#[path = "aws_support/mod.rs"]
mod aws_support;
#[path = "cli/mod.rs"]
mod cli;

use std::process::ExitCode;

use deploy::aws::iam::{IamName, ManagedPolicySpec, RoleSpec};
use deploy::aws::kms::{KeyAlias, KeyPolicy, KeySpec};
use deploy::aws::pod_access::{OidcProviderSpec, PodAccess, PodIdentityAssociationSpec, ServiceAccountRoleSpec, pod_identity_role};
use deploy::aws::policy::{bucket_access_policy, equivalent, trust_pod_identity};
use deploy::aws::{AwsBackends, RequestLog};
use deploy::{BucketName, Change, Error, FieldChange, Plan, Reconcile as _, ResourceName};
use deploy::{IrsaRoleAnnotation, ServiceAccountRef};

use aws_support::{exists, plan_only, print_plan, section};

/// IAM role for a Kubernetes service account (IRSA or EKS Pod Identity), with bucket and key access (idempotent).
///
/// Configured by the standard AWS environment (AWS_REGION, credentials, AWS_ENDPOINT_URL).
/// Exit codes: 0 done (under --plan: nothing to change), 2 under --plan with changes pending,
/// 1 on error; the last text line is `mutating requests: N`.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    aws: aws_support::Args,
    /// Namespace of the service account (default: the prefix)
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Name of the service account (default P-app)
    #[arg(long, value_name = "NAME")]
    service_account: Option<String>,
    /// irsa (default) or pod-identity
    #[arg(long, value_name = "MODE")]
    mode: Option<String>,
}

impl std::ops::Deref for Cli {
    type Target = aws_support::Args;
    fn deref(&self) -> &aws_support::Args {
        &self.aws
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    let log = RequestLog::new();
    aws_support::finish(&log, &cli.aws, run(&log, &cli)).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Irsa,
    PodIdentity,
}

struct Names {
    cluster: ResourceName,
    sa: ServiceAccountRef,
    role: IamName,
    policy: IamName,
    bucket: BucketName,
    key: KeyAlias,
}

async fn run(log: &RequestLog, cli: &Cli) -> deploy::Result<()> {
    let args = cli;
    let p = args.prefix.clone();
    // Every rule checked before the first request.
    let mode = match args.mode.as_deref().unwrap_or("irsa") {
        "irsa" => Mode::Irsa,
        "pod-identity" => Mode::PodIdentity,
        other => return Err(Error::invalid("mode", format!("`{other}` is not a mode"), "--mode irsa or --mode pod-identity")),
    };
    let default_sa = format!("{p}-app");
    let n = Names {
        cluster: ResourceName::new(format!("{p}-eks"))?,
        sa: ServiceAccountRef::new(args.namespace.as_deref().unwrap_or(&p), args.service_account.as_deref().unwrap_or(&default_sa))?,
        role: IamName::new(format!("{p}-pod-app"))?,
        policy: IamName::new(format!("{p}-pod-assets"))?,
        bucket: BucketName::new(format!("{p}-assets"))?,
        key: KeyAlias::new(format!("alias/{p}-pod"))?,
    };
    let aws = aws_support::backends(log).await;
    let partition = aws_support::partition(&aws);
    let policy = ManagedPolicySpec {
        description: format!("Deeploy bucket-scoped access to {} for pods of {}", n.bucket, n.cluster),
        ..ManagedPolicySpec::new(n.policy.clone(), bucket_access_policy(partition, &n.bucket))
    };
    let access = aws.pod_access();

    section(&format!("plan for prefix {p}: {} in {}, mode {}", n.sa, n.cluster, if mode == Mode::Irsa { "irsa" } else { "pod-identity" }));
    let issuer = match access.cluster_issuer(&n.cluster).await {
        Ok(issuer) => issuer,
        Err(e) if e.is_not_found() => {
            eprintln!("cluster {} does not exist: make it first with `aws_eks_cluster --prefix {p}`", n.cluster);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    println!("  cluster {} issuer {issuer}", n.cluster);
    let plan = plan(&aws, &access, &n, mode, &issuer, &policy).await?;
    if plan_only(args, &plan) {
        return Ok(());
    }

    section("ensure");
    let mut done = Plan::new();
    let iam = aws.iam();
    println!("  iam policy {} (bucket {})", n.policy, n.bucket);
    let policy = iam.ensure(&policy).await?;
    done.extend(policy.plan);
    let role = match mode {
        Mode::Irsa => {
            println!("  iam oidc provider of {}", n.cluster);
            let provider = access.ensure(&OidcProviderSpec { cluster: n.cluster.clone() }).await?;
            done.extend(provider.plan);
            println!("  iam role {} for {} through {}", n.role, n.sa.subject(), provider.info.arn);
            let spec = irsa_role(&n, &provider.info.arn, &issuer, &policy.info.arn);
            access.ensure(&spec).await?
        }
        Mode::PodIdentity => {
            println!("  iam role {} trusting pods.eks.amazonaws.com", n.role);
            iam.ensure(&pod_identity_role(n.role.clone(), vec![policy.info.arn.clone()])).await?
        }
    };
    done.extend(role.plan);
    println!("  kms key {} for {}", n.key, role.info.arn);
    let key = aws.kms().ensure(&key_spec(&n, &role.info.arn)).await?;
    done.extend(key.plan);
    if mode == Mode::PodIdentity {
        println!("  pod identity association {}/{}", n.cluster, n.sa);
        done.extend(
            access
                .ensure(&PodIdentityAssociationSpec {
                    cluster: n.cluster.clone(),
                    service_account: n.sa.clone(),
                    role_arn: role.info.arn.clone(),
                })
                .await?
                .plan,
        );
    }

    section("changes made");
    print_plan(&done);

    section("summary");
    println!("  role {}", role.info.arn);
    cli::output("role_arn", &role.info.arn);
    cli::output("key_arn", &key.info.arn);
    let statement = &role.info.trust["Statement"][0];
    println!("  trusted: {} {}", statement["Principal"], statement["Condition"]);
    println!("  policies: {}", role.info.managed_policies.iter().cloned().collect::<Vec<_>>().join(", "));
    println!("  kms key {} ({}): the role may use it, the account root administers it", key.info.arn, n.key);
    let annotations = match mode {
        Mode::Irsa => IrsaRoleAnnotation::new(&role.info.arn)?.annotations(),
        Mode::PodIdentity => Default::default(),
    };
    println!("  service account to apply in the cluster:\n");
    print!("{}", n.sa.to_yaml(&annotations));
    Ok(())
}

fn irsa_role(n: &Names, provider_arn: &str, issuer: &str, policy_arn: &str) -> ServiceAccountRoleSpec {
    ServiceAccountRoleSpec {
        name: n.role.clone(),
        provider_arn: provider_arn.to_owned(),
        issuer: issuer.to_owned(),
        service_account: n.sa.clone(),
        managed_policies: vec![policy_arn.to_owned()],
        description: format!("pods of {} in {}", n.sa, n.cluster),
    }
}

fn key_spec(n: &Names, role_arn: &str) -> KeySpec {
    KeySpec { description: format!("application key of the pods of {}", n.sa), ..KeySpec::new(n.key.clone()) }
        .with_policy(KeyPolicy::Application { application_principal: role_arn.to_owned() })
}

/// What the ensure step would change; no mutating request.
async fn plan(
    aws: &AwsBackends,
    access: &PodAccess,
    n: &Names,
    mode: Mode,
    issuer: &str,
    policy: &ManagedPolicySpec,
) -> deploy::Result<Plan> {
    let iam = aws.iam();
    let mut plan = Plan::new();
    let current_policy = iam.describe_policy(&n.policy).await.map(Some).or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })?;
    let wanted = serde_json::to_value(&policy.document).expect("a policy serializes");
    match &current_policy {
        None => plan.push(Change::create("iam policy", n.policy.as_str())),
        Some(c) if !equivalent(&c.document, &wanted) => {
            plan.push(Change::update("iam policy", n.policy.as_str(), vec![FieldChange::new("document", &c.document, &wanted)]));
        }
        Some(_) => {}
    }
    let provider = match mode {
        Mode::Irsa => {
            plan.extend(access.plan(&OidcProviderSpec { cluster: n.cluster.clone() }).await?);
            access.find_oidc_provider(issuer).await?
        }
        Mode::PodIdentity => None,
    };
    // The role as ensure would make it (an unknown provider or policy ARN: the
    // trust or attachment counts as a change).
    let trust = match (mode, &provider) {
        (Mode::Irsa, Some(pr)) => Some(irsa_role(n, &pr.arn, issuer, "").role_spec().trust),
        (Mode::Irsa, None) => None,
        (Mode::PodIdentity, _) => Some(trust_pod_identity()),
    };
    let role = iam.describe_role(&n.role).await.map(Some).or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })?;
    match &role {
        None => plan.push(Change::create("iam role", n.role.as_str())),
        Some(r) => {
            let spec = trust.map(|t| RoleSpec::new(n.role.clone(), t));
            match spec {
                Some(s) if equivalent(&r.trust, &serde_json::to_value(&s.trust).expect("a policy serializes")) => {}
                _ => plan.push(Change::update(
                    "iam role",
                    n.role.as_str(),
                    vec![FieldChange::new("trust", r.trust.to_string(), "the policy for this service account")],
                )),
            }
        }
    }
    let attached = match (&role, &current_policy) {
        (Some(r), Some(c)) => r.managed_policies.contains(&c.arn),
        _ => false,
    };
    if !attached {
        plan.push(Change::create("policy attachment", format!("{} to role {}", n.policy, n.role)));
    }
    match &role {
        Some(r) => plan.extend(aws.kms().plan(&key_spec(n, &r.arn)).await?),
        // The key policy names the role, made first.
        None if exists(aws.kms().describe_key(&n.key).await)? => {
            plan.push(Change::update(
                "kms key",
                n.key.as_str(),
                vec![FieldChange::new("policy", "-", format!("application principal role {}", n.role))],
            ));
        }
        None => plan.push(Change::create("kms key", n.key.as_str())),
    }
    if mode == Mode::PodIdentity {
        match &role {
            Some(r) => plan.extend(
                access
                    .plan(&PodIdentityAssociationSpec {
                        cluster: n.cluster.clone(),
                        service_account: n.sa.clone(),
                        role_arn: r.arn.clone(),
                    })
                    .await?,
            ),
            None => plan.push(Change::create("pod identity association", format!("{}/{}", n.cluster, n.sa))),
        }
    }
    Ok(plan)
}
