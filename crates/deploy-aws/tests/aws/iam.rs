//! IAM against moto (started with MOTO_IAM_LOAD_MANAGED_POLICIES=true, so the
//! AWS-managed policies exist).

use deploy_aws::iam::{IamName, ManagedPolicySpec, RoleSpec, UserPolicySpec, UserSpec};
use deploy_aws::policy::{PolicyDocument, Statement, bucket_access_policy, equivalent, parse_policy, trust_service};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::plan::Action;
use deploy_core::{Error, Reconcile as _, SecretName, SecretStore};
use secrecy::ExposeSecret;

use crate::support::{moto, names};

fn name(suffix: &str) -> IamName {
    IamName::new(format!("{}-{suffix}", names().prefix())).unwrap()
}

#[tokio::test]
async fn bucket_user_policy_and_access_key_as_in_the_runbook_then_nothing() {
    let conf = moto!("iam::bucket_user_policy_and_access_key_as_in_the_runbook_then_nothing");
    let log = RequestLog::new();
    let aws = AwsBackends::from_conf(&conf).with_request_log(&log);
    let (iam, secrets) = (aws.iam(), aws.secrets());
    let n = names();
    let bucket = n.bucket("assets");
    let (user_name, policy_name, secret) = (name("app"), name("bucket"), SecretName::new(format!("{}-access-key", n.prefix())).unwrap());
    let document = bucket_access_policy("aws", &bucket);
    let spec = ManagedPolicySpec::new(policy_name.clone(), document.clone());

    let run = || async {
        let user = iam.ensure(&UserSpec::new(user_name.clone())).await.unwrap();
        let policy = iam.ensure(&spec).await.unwrap();
        let attached =
            iam.ensure(&UserPolicySpec { user: user.info.name.clone(), policy_arn: policy.info.arn.clone() }).await.unwrap().plan;
        let key = iam.ensure_access_key(&user.info.name, &secrets, &secret).await.unwrap();
        (user, policy, attached, key)
    };
    let (user, policy, attached, key) = run().await;
    assert!(matches!(user.plan.changes.as_slice(), [c] if c.action == Action::Create));
    assert!(matches!(policy.plan.changes.as_slice(), [c] if c.action == Action::Create));
    assert_eq!(attached.len(), 1);
    assert!(matches!(key.plan.changes.as_slice(), [c] if c.action == Action::Create));

    // What IAM holds: the bucket-scoped document (no Resource "*"), attached, and the stored key is the user's.
    let raw = iam.client();
    let version = raw.get_policy_version().policy_arn(&policy.info.arn).version_id("v1").send().await.unwrap();
    let held = parse_policy(version.policy_version().unwrap().document().unwrap()).unwrap();
    assert!(equivalent(&held, &serde_json::to_value(&document).unwrap()), "{held}");
    assert!(!held.to_string().contains(r#""Resource":"*""#) && !held.to_string().contains(r#""*"]"#), "{held}");
    // Least privilege, read back from IAM: the object actions listed, nothing of NEVER_GRANTED, no wildcard action.
    assert!(deploy_aws::policy::overly_broad_actions(&held).is_empty(), "{held}");
    for never in deploy_aws::policy::NEVER_GRANTED {
        assert!(!held.to_string().contains(&format!("\"{never}\"")), "{never} granted: {held}");
    }
    assert!(held.to_string().contains("s3:PutObject") && held.to_string().contains("s3:AbortMultipartUpload"), "{held}");
    let attached = raw.list_attached_user_policies().user_name(user_name.as_str()).send().await.unwrap();
    assert!(attached.attached_policies().iter().any(|p| p.policy_arn() == Some(policy.info.arn.as_str())));
    let stored = secrets.get_secret(&secret).await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(stored.value.expose_secret()).unwrap();
    assert_eq!(stored["AccessKeyId"], key.info.as_str());
    assert!(stored["SecretAccessKey"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(iam.list_access_keys(&user_name).await.unwrap(), std::slice::from_ref(&key.info));

    log.clear();
    let (user2, policy2, attached2, key2) = run().await;
    assert!(user2.plan.is_empty() && policy2.plan.is_empty() && attached2.is_empty() && key2.plan.is_empty());
    assert_eq!(key2.info, key.info);
    assert!(log.mutating().is_empty(), "second run made mutating requests: {:?}", log.mutating());

    // A key deleted behind our back is replaced, and the secret gets the new one.
    raw.delete_access_key().user_name(user_name.as_str()).access_key_id(&key.info).send().await.unwrap();
    let key3 = iam.ensure_access_key(&user_name, &secrets, &secret).await.unwrap();
    assert_ne!(key3.info, key.info);
    assert!(matches!(&key3.plan.changes[0].action, Action::Update { .. }));
    let stored: serde_json::Value = serde_json::from_str(secrets.get_secret(&secret).await.unwrap().value.expose_secret()).unwrap();
    assert_eq!(stored["AccessKeyId"], key3.info.as_str());

    iam.delete_user(&user_name).await.unwrap();
    iam.delete_policy(&policy_name).await.unwrap();
    assert!(iam.describe_user(&user_name).await.unwrap_err().is_not_found());
    secrets.delete_secret(&secret, &deploy_core::Confirm::new(secret.as_str())).await.unwrap();
}

#[tokio::test]
async fn a_changed_document_makes_a_new_default_version_keeping_at_most_five() {
    let conf = moto!("iam::a_changed_document_makes_a_new_default_version_keeping_at_most_five");
    let iam = AwsBackends::from_conf(&conf).iam();
    let policy_name = name("versions");
    let doc = |i: usize| PolicyDocument::new([Statement::allow(["s3:GetObject"], [format!("arn:aws:s3:::bucket-{i}/*")])]);
    let first = iam.ensure(&ManagedPolicySpec::new(policy_name.clone(), doc(0))).await.unwrap();
    for i in 1..=6 {
        let spec = ManagedPolicySpec::new(policy_name.clone(), doc(i));
        let updated = iam.ensure(&spec).await.unwrap();
        match &updated.plan.changes[..] {
            [c] => assert!(matches!(&c.action, Action::Update { fields } if fields[0].field == "document"), "{c:?}"),
            other => panic!("{other:?}"),
        }
        assert!(iam.ensure(&spec).await.unwrap().plan.is_empty());
        let versions = iam.client().list_policy_versions().policy_arn(&first.info.arn).send().await.unwrap();
        assert!(versions.versions().len() <= 5, "{} versions", versions.versions().len());
        let default = versions.versions().iter().find(|v| v.is_default_version()).unwrap();
        assert_eq!(default.version_id(), Some(updated.info.default_version.as_str()));
    }
    let now = iam.describe_policy(&policy_name).await.unwrap();
    assert!(equivalent(&now.document, &serde_json::to_value(doc(6)).unwrap()));
    iam.delete_policy(&policy_name).await.unwrap();
}

#[tokio::test]
async fn roles_trust_their_service_and_get_the_managed_policies() {
    let conf = moto!("iam::roles_trust_their_service_and_get_the_managed_policies");
    let log = RequestLog::new();
    let iam = AwsBackends::from_conf(&conf).with_request_log(&log).iam();
    let role_name = name("eks-cluster");
    let mut spec = RoleSpec::new(role_name.clone(), trust_service("eks.amazonaws.com"))
        .with_managed_policy("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy");
    spec.description = "EKS control plane".into();
    let made = iam.ensure(&spec).await.unwrap();
    assert_eq!(made.plan.len(), 2, "{}", made.plan);
    assert!(made.info.managed_policies.contains("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"));
    assert_eq!(made.info.trust["Statement"][0]["Principal"]["Service"], serde_json::json!(["eks.amazonaws.com"]));
    log.clear();
    assert!(iam.ensure(&spec).await.unwrap().plan.is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());

    // The node role of the same runbook: three managed policies; then a trust change.
    let node = RoleSpec::new(name("eks-node"), trust_service("ec2.amazonaws.com"))
        .with_managed_policy("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
        .with_managed_policy("arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
        .with_managed_policy("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly");
    assert_eq!(iam.ensure(&node).await.unwrap().info.managed_policies.len(), 3);
    spec.trust = trust_service("eks-fargate-pods.amazonaws.com");
    log.clear();
    let changed = iam.ensure(&spec).await.unwrap();
    assert!(matches!(&changed.plan.changes[..], [c] if matches!(&c.action, Action::Update { fields } if fields[0].field == "trust")));
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["UpdateAssumeRolePolicy"]);

    let missing = spec.clone().with_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere");
    let e = iam.ensure(&missing).await.unwrap_err();
    assert!(matches!(&e, Error::NotFound { kind: "iam policy", .. }), "{e:?}");
    iam.delete_role(&role_name).await.unwrap();
    iam.delete_role(&node.name).await.unwrap();
    assert!(iam.describe_role(&role_name).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn access_keys_come_back_as_secrets() {
    let conf = moto!("iam::access_keys_come_back_as_secrets");
    let iam = AwsBackends::from_conf(&conf).iam();
    let user = name("keys");
    iam.ensure(&UserSpec::new(user.clone())).await.unwrap();
    let key = iam.create_access_key(&user).await.unwrap();
    assert!(!key.secret.expose_secret().is_empty());
    assert!(!format!("{key:?}").contains(key.secret.expose_secret()));
    iam.create_access_key(&user).await.unwrap();
    // Two keys, neither in the store: ensure refuses to make a third.
    let store = deploy_core::memory::InMemoryCloud::new();
    let e = iam.ensure_access_key(&user, &store, &SecretName::new("keys").unwrap()).await.unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    assert!(!store.secret_exists(&SecretName::new("keys").unwrap()).await.unwrap());
    iam.delete_user(&user).await.unwrap();
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let conf = crate::support::unreachable_config().await;
    let log = RequestLog::new();
    let iam = AwsBackends::from_conf(&conf).with_request_log(&log).iam();
    let empty = ManagedPolicySpec::new(IamName::new("p").unwrap(), PolicyDocument::new([]));
    assert_eq!(iam.ensure(&empty).await.unwrap_err().invalid_field(), Some("document.statement"));
    let role = RoleSpec::new(IamName::new("r").unwrap(), trust_service("eks.amazonaws.com")).with_managed_policy("AmazonEKSClusterPolicy");
    assert_eq!(iam.ensure(&role).await.unwrap_err().invalid_field(), Some("managed_policies[0]"));
    let tags = [("aws:team".to_owned(), "x".to_owned())].into();
    assert_eq!(iam.ensure(&UserSpec { name: IamName::new("u").unwrap(), tags }).await.unwrap_err().invalid_field(), Some("tags.aws:team"));
    assert_eq!(IamName::new("has space").unwrap_err().invalid_field(), Some("name"));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}
