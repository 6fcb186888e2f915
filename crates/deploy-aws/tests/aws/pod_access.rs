//! Keyless pod access against moto: the cluster's IAM OIDC provider and an
//! IRSA role bound to one service account, each ensured twice (the second
//! time with no mutating request), read back through the SDK; bad service
//! account names refused before any request. (moto models IAM OIDC providers
//! and `identity.oidc.issuer`, not Pod Identity associations: those are in
//! `mocked.rs`.)

use std::collections::BTreeMap;
use std::time::Duration;

use deploy_aws::eks::EksRolesSpec;
use deploy_aws::iam::IamName;
use deploy_aws::pod_access::{
    OidcProvider, OidcProviderSpec, PodAccess, PodIdentityAssociationSpec, ServiceAccountRoleSpec, pod_identity_role,
};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::cluster::{ClusterSpec, EndpointAccess};
use deploy_core::waiter::Waiter;
use deploy_core::{Cluster, KubernetesVersion, Reconcile as _, ResourceName, ServiceAccountRef};
use serde_json::json;

use crate::support::{MOTO_ACCOUNT, moto, names, unreachable_config};

fn fast() -> Waiter {
    Waiter::new(Duration::from_secs(60)).with_delays(Duration::from_millis(10), Duration::from_millis(200))
}

/// An EKS cluster `PREFIX-eks` (no node groups) on moto.
async fn cluster(aws: &AwsBackends, prefix: &str) -> ResourceName {
    let roles = aws.iam().ensure(&EksRolesSpec::new(prefix, "aws", MOTO_ACCOUNT)).await.unwrap().info;
    let spec = ClusterSpec {
        name: ResourceName::new(format!("{prefix}-eks")).unwrap(),
        version: KubernetesVersion::new("1.31").unwrap(),
        endpoint_access: EndpointAccess::default(),
        node_pools: vec![],
        secrets_encryption_key: None,
        subnets: vec![],
        tags: BTreeMap::new(),
    };
    aws.eks(roles).ensure_cluster(&spec).await.unwrap();
    spec.name
}

#[tokio::test]
async fn oidc_provider_and_service_account_role_are_ensured_once() {
    let conf = moto!("pod_access::oidc_provider_and_service_account_role_are_ensured_once");
    let log = RequestLog::new();
    let aws = AwsBackends::from_conf(&conf).with_request_log(&log).with_waiter(fast());
    let prefix = names().prefix().to_owned();
    let name = cluster(&aws, &prefix).await;
    let access = aws.pod_access();

    // moto quirk: every cluster gets the same issuer (drawn once per moto
    // process), so its provider may be left by an earlier run: remove it to
    // see the create.
    let issuer = access.cluster_issuer(&name).await.unwrap();
    if let Some(old) = access.find_oidc_provider(&issuer).await.unwrap() {
        access.iam().client().delete_open_id_connect_provider().open_id_connect_provider_arn(&old.arn).send().await.unwrap();
    }
    log.clear();
    let first = access.ensure(&OidcProviderSpec { cluster: name.clone() }).await.unwrap();
    assert_eq!(log.count("CreateOpenIDConnectProvider"), 1, "{}", first.plan);
    assert!(issuer.starts_with("https://oidc.eks."), "{issuer}");
    assert_eq!(first.info.issuer, issuer);
    assert!(first.info.arn.ends_with(&format!(":oidc-provider/{}", first.info.issuer_host_path())), "{:?}", first.info);
    assert!(first.info.thumbprints.is_empty(), "no thumbprint is sent: {:?}", first.info);
    log.clear();
    let second = access.ensure(&OidcProviderSpec { cluster: name.clone() }).await.unwrap();
    assert!(second.plan.is_empty() && log.mutating().is_empty(), "{} {:?}", second.plan, log.mutating());
    assert_eq!(second.info, first.info);
    assert!(access.plan(&OidcProviderSpec { cluster: name.clone() }).await.unwrap().is_empty());

    // Read back through the SDK.
    let got = access.iam().client().get_open_id_connect_provider().open_id_connect_provider_arn(&first.info.arn).send().await.unwrap();
    assert_eq!(got.url().map(|u| u.trim_start_matches("https://")), Some(first.info.issuer_host_path()));
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);

    let sa = ServiceAccountRef::new(prefix.as_str(), format!("{prefix}-app")).unwrap();
    let role_name = IamName::new(format!("{prefix}-pod-app")).unwrap();
    let spec = ServiceAccountRoleSpec::new(role_name.clone(), &first.info, sa.clone());
    log.clear();
    let role = access.ensure(&spec).await.unwrap();
    assert_eq!(log.count("CreateRole"), 1, "{}", role.plan);
    log.clear();
    let again = access.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty() && log.mutating().is_empty(), "{} {:?}", again.plan, log.mutating());

    let read = access.iam().describe_role(&role_name).await.unwrap();
    let statement = &read.trust["Statement"][0];
    let host = first.info.issuer_host_path();
    // IAM may answer a one-element list as a plain string.
    let one = |v: &serde_json::Value| if let Some(a) = v.as_array() { a.clone() } else { vec![v.clone()] };
    let condition = &statement["Condition"]["StringEquals"];
    assert_eq!(one(&condition[format!("{host}:sub")]), [json!(format!("system:serviceaccount:{prefix}:{prefix}-app"))], "{statement}");
    assert_eq!(one(&condition[format!("{host}:aud")]), [json!("sts.amazonaws.com")], "{statement}");
    assert_eq!(one(&statement["Action"]), [json!("sts:AssumeRoleWithWebIdentity")]);
    assert_eq!(one(&statement["Principal"]["Federated"]), [json!(first.info.arn)], "{statement}");

    // Bound to another service account, the trust policy is updated in place.
    let other = ServiceAccountRoleSpec::new(role_name.clone(), &first.info, ServiceAccountRef::new(prefix.as_str(), "other").unwrap());
    log.clear();
    let moved = access.ensure(&other).await.unwrap();
    assert_eq!((log.count("UpdateAssumeRolePolicy"), log.count("CreateRole")), (1, 0), "{}", moved.plan);

    // The Pod Identity role trusts pods.eks.amazonaws.com.
    let pods = aws.iam().ensure(&pod_identity_role(IamName::new(format!("{prefix}-pod-pi")).unwrap(), vec![])).await.unwrap();
    assert_eq!(one(&pods.info.trust["Statement"][0]["Principal"]["Service"]), [json!("pods.eks.amazonaws.com")]);
    assert!(aws.iam().ensure(&pod_identity_role(IamName::new(format!("{prefix}-pod-pi")).unwrap(), vec![])).await.unwrap().plan.is_empty());
}

#[tokio::test]
async fn a_missing_cluster_is_not_found() {
    let conf = moto!("pod_access::a_missing_cluster_is_not_found");
    let access = PodAccess::new(&deploy_aws::AwsContext::new(&conf));
    let missing = ResourceName::new(format!("{}-eks", names().prefix())).unwrap();
    let err = access.ensure(&OidcProviderSpec { cluster: missing.clone() }).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn bad_service_accounts_and_arns_are_refused_before_any_request() {
    for (ns, name, field) in [
        ("deeploy", "Deeploy-App", "service_account.name"),
        ("deeploy", "deeploy_app", "service_account.name"),
        (&"n".repeat(64) as &str, "app", "service_account.namespace"),
        ("Deeploy", "app", "service_account.namespace"),
    ] {
        let err = ServiceAccountRef::new(ns, name).unwrap_err();
        assert_eq!(err.invalid_field(), Some(field), "{ns}/{name}: {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    // With a valid account, a bad role or provider ARN is refused with no request
    // (the clients point at a port nothing listens on).
    let log = RequestLog::new();
    let aws = AwsBackends::from_conf(&unreachable_config().await).with_request_log(&log);
    let access = aws.pod_access();
    let sa = ServiceAccountRef::new("ns", "app").unwrap();
    let cluster = ResourceName::new("prod-eks").unwrap();
    let err = access
        .ensure(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: "not-an-arn".to_owned() })
        .await
        .unwrap_err();
    assert_eq!(err.invalid_field(), Some("role_arn"));
    let provider = OidcProvider {
        arn: "arn:aws:iam::123456789012:role/not-a-provider".into(),
        issuer: "https://oidc.eks.eu-central-1.amazonaws.com/id/X".into(),
        client_ids: vec![],
        thumbprints: vec![],
    };
    let spec = ServiceAccountRoleSpec::new(IamName::new("r").unwrap(), &provider, sa);
    assert_eq!(access.ensure(&spec).await.unwrap_err().invalid_field(), Some("provider_arn"));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}
