//! KMS keys against moto.

use deploy_aws::kms::{KeyAlias, KeyPolicy, KeySpec, Kms};
use deploy_aws::policy::{PolicyDocument, Principal, Statement, application_key_policy, equivalent};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::plan::Action;
use deploy_core::{Confirm, Error, Reconcile};

use crate::support::{moto, names};

fn alias(suffix: &str) -> KeyAlias {
    KeyAlias::new(format!("alias/{}-{suffix}", names().prefix())).unwrap()
}

const APP: &str = "arn:aws:iam::123456789012:user/deeploy";

#[tokio::test]
async fn ensure_key_creates_alias_rotation_and_the_deeploy_policy_once() {
    let conf = moto!("kms::ensure_key_creates_alias_rotation_and_the_deeploy_policy_once");
    let log = RequestLog::new();
    let kms = AwsBackends::from_conf(&conf).with_request_log(&log).kms();
    let spec = KeySpec::new(alias("deeploy")).with_policy(KeyPolicy::Application { application_principal: APP.into() });
    let planned = kms.plan(&spec).await.unwrap();
    assert!(matches!(planned.changes.as_slice(), [c] if c.action == Action::Create), "{planned:?}");
    let key = kms.ensure(&spec).await.unwrap();
    assert!(matches!(key.plan.changes.as_slice(), [c] if c.action == Action::Create), "{:?}", key.plan);
    assert_eq!((log.count("CreateKey"), log.count("CreateAlias")), (1, 1));

    let raw = kms.client();
    let described = raw.describe_key().key_id(spec.alias.as_str()).send().await.unwrap();
    let meta = described.key_metadata().unwrap();
    assert_eq!(meta.key_id(), key.info.key_id);
    assert_eq!(meta.key_spec().map(|s| s.as_str()), Some("SYMMETRIC_DEFAULT"));
    assert_eq!(meta.key_usage().map(|u| u.as_str()), Some("ENCRYPT_DECRYPT"));
    assert!(raw.get_key_rotation_status().key_id(&key.info.key_id).send().await.unwrap().key_rotation_enabled());
    let policy = raw.get_key_policy().key_id(&key.info.key_id).policy_name("default").send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let wanted = serde_json::to_value(application_key_policy("aws", &key.info.account_id, APP)).unwrap();
    assert!(equivalent(&policy, &wanted), "{policy}");
    let app = policy["Statement"].as_array().unwrap().iter().find(|s| s["Principal"]["AWS"] == serde_json::json!([APP])).unwrap();
    let mut actions: Vec<&str> = app["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]);
    let root = format!("arn:aws:iam::{}:root", key.info.account_id);
    assert!(
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Principal"]["AWS"] == serde_json::json!([root]) && s["Action"] == serde_json::json!(["kms:*"]))
    );

    log.clear();
    let again = kms.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.key_id, key.info.key_id);
    kms.schedule_key_deletion(&spec.alias, 7, &Confirm::new(spec.alias.as_str())).await.unwrap();
}

#[tokio::test]
async fn drift_in_policy_rotation_and_tags_is_repaired_field_by_field() {
    let conf = moto!("kms::drift_in_policy_rotation_and_tags_is_repaired_field_by_field");
    let log = RequestLog::new();
    let kms = AwsBackends::from_conf(&conf).with_request_log(&log).kms();
    let mut spec = KeySpec::new(alias("drift")).with_policy(KeyPolicy::Application { application_principal: APP.into() });
    spec.tags.insert("app".into(), "deeploy".into());
    let key = kms.ensure(&spec).await.unwrap().info;
    assert_eq!(key.tags, spec.tags);
    let raw = kms.client();
    raw.disable_key_rotation().key_id(&key.key_id).send().await.unwrap();
    let open = PolicyDocument::new([Statement::allow(["kms:*"], ["*"]).with_principal(Principal::aws(["*"]))]);
    raw.put_key_policy().key_id(&key.key_id).policy_name("default").policy(open.to_json()).send().await.unwrap();
    spec.tags.insert("team".into(), "platform".into());
    spec.tags.remove("app");

    let plan = kms.plan(&spec).await.unwrap();
    let fields: Vec<&str> = match plan.changes.as_slice() {
        [c] => match &c.action {
            Action::Update { fields } => fields.iter().map(|f| f.field.as_str()).collect(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(fields, ["rotation", "policy", "tags"]);
    log.clear();
    kms.ensure(&spec).await.unwrap();
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["EnableKeyRotation", "PutKeyPolicy", "UntagResource", "TagResource"]);
    let now = kms.describe_key(&spec.alias).await.unwrap();
    assert!(now.rotation);
    assert_eq!(now.tags, spec.tags);
    assert!(kms.plan(&spec).await.unwrap().is_empty());
    kms.schedule_key_deletion(&spec.alias, 7, &Confirm::new(spec.alias.as_str())).await.unwrap();
}

#[tokio::test]
async fn a_deleted_alias_makes_a_new_key() {
    let conf = moto!("kms::a_deleted_alias_makes_a_new_key");
    let kms = Kms::new(&deploy_aws::AwsContext::new(&conf));
    let spec = KeySpec::new(alias("rotate-out"));
    let first = kms.ensure(&spec).await.unwrap().info;
    let e = kms.schedule_key_deletion(&spec.alias, 7, &Confirm::new("alias/other")).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }));
    kms.schedule_key_deletion(&spec.alias, 7, &Confirm::new(spec.alias.as_str())).await.unwrap();
    let state = kms.client().describe_key().key_id(&first.key_id).send().await.unwrap();
    assert_eq!(state.key_metadata().unwrap().key_state().map(|s| s.as_str()), Some("PendingDeletion"));
    assert!(kms.describe_key(&spec.alias).await.unwrap_err().is_not_found());
    let second = kms.ensure(&spec).await.unwrap().info;
    assert_ne!(second.key_id, first.key_id);
    kms.schedule_key_deletion(&spec.alias, 7, &Confirm::new(spec.alias.as_str())).await.unwrap();
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let conf = crate::support::unreachable_config().await;
    let log = RequestLog::new();
    let kms = AwsBackends::from_conf(&conf).with_request_log(&log).kms();
    let spec =
        KeySpec::new(KeyAlias::new("alias/never").unwrap()).with_policy(KeyPolicy::Application { application_principal: "deeploy".into() });
    for e in [kms.ensure(&spec).await.unwrap_err(), kms.plan(&spec).await.unwrap_err()] {
        assert_eq!(e.invalid_field(), Some("policy.application_principal"), "{e:?}");
    }
    let e = kms.schedule_key_deletion(&spec.alias, 3, &Confirm::new("alias/never")).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("pending_days"));
    assert_eq!(KeyAlias::new("alias/aws/ebs").unwrap_err().invalid_field(), Some("alias"));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}

#[tokio::test]
async fn the_deeploy_key_policy_names_the_callers_account() {
    let conf = moto!("kms::the_deeploy_key_policy_names_the_callers_account");
    let aws = AwsBackends::from_conf(&conf);
    let me = aws.caller_identity().await.unwrap();
    assert_eq!(me.account.len(), 12);
    let app = me.user_arn("deeploy");
    let spec = KeySpec::new(alias("account")).with_policy(KeyPolicy::Application { application_principal: app.clone() });
    let key = aws.kms().ensure(&spec).await.unwrap().info;
    assert_eq!(key.account_id, me.account);
    assert!(equivalent(&key.policy, &serde_json::to_value(application_key_policy(me.partition(), &me.account, &app)).unwrap()));
    aws.kms().schedule_key_deletion(&spec.alias, 7, &Confirm::new(spec.alias.as_str())).await.unwrap();
}

/// CreateKey has no client token: when its answer is lost after KMS made the
/// key, the key is found by its creation token; one key per alias.
#[tokio::test]
async fn a_lost_answer_to_create_key_makes_one_key_per_alias() {
    use crate::faults::{FailOperation, When};
    let conf = moto!("kms::a_lost_answer_to_create_key_makes_one_key_per_alias");
    let lost = FailOperation::new("CreateKey", When::AfterAs500, 1);
    let log = RequestLog::new();
    let kms = AwsBackends::from_conf(&conf).with_request_log(&log).with_interceptor(lost.interceptor()).kms();
    let description = format!("lost answer {}", names().prefix());
    let spec = KeySpec { description: description.clone(), ..KeySpec::new(alias("lost")) };
    let key = kms.ensure(&spec).await.unwrap();
    assert_eq!(lost.hits(), 1);
    assert_eq!(log.count("CreateKey"), 1, "the creation whose answer was lost was sent again");
    let mut same = Vec::new();
    let mut pages = kms.client().list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        for k in page.unwrap().keys() {
            let meta = kms.client().describe_key().key_id(k.key_id().unwrap()).send().await.unwrap();
            if meta.key_metadata().unwrap().description() == Some(description.as_str()) {
                same.push(k.key_id().unwrap().to_owned());
            }
        }
    }
    assert_eq!(same, std::slice::from_ref(&key.info.key_id), "keys made for {}", spec.alias);
    assert!(!key.info.tags.contains_key("deploy:client-token"), "the creation token shows as a tag of the spec");
    log.clear();
    assert!(kms.ensure(&spec).await.unwrap().plan.is_empty());
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());
}

/// A key for AWS services (CloudWatch alarms publishing to an encrypted SNS
/// topic): read back from moto, each service statement is bound to the
/// account (`aws:SourceAccount`), CloudWatch's to its alarms (`aws:SourceArn`).
#[tokio::test]
async fn a_service_key_policy_binds_each_service_to_the_account() {
    let conf = moto!("kms::a_service_key_policy_binds_each_service_to_the_account");
    let kms = AwsBackends::from_conf(&conf).kms();
    let spec = KeySpec::new(alias("alerts")).with_policy(KeyPolicy::ServiceUse { services: vec!["cloudwatch.amazonaws.com".into()] });
    let key = kms.ensure(&spec).await.unwrap().info;
    let policy = kms.client().get_key_policy().key_id(&key.key_id).policy_name("default").send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let service =
        policy["Statement"].as_array().unwrap().iter().find(|s| s["Principal"].get("Service").is_some()).expect("a service statement");
    assert_eq!(service["Condition"]["StringEquals"]["aws:SourceAccount"], serde_json::json!([key.account_id]), "{service}");
    assert_eq!(
        service["Condition"]["ArnLike"]["aws:SourceArn"],
        serde_json::json!([format!("arn:aws:cloudwatch:*:{}:alarm:*", key.account_id)]),
        "{service}"
    );
    assert!(kms.ensure(&spec).await.unwrap().plan.is_empty());
}
