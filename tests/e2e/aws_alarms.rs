//! CloudWatch health alarms and their SNS topic against moto, through the
//! test proxy: current aws-sdk-cloudwatch speaks Smithy RPC v2 CBOR, which
//! moto does not serve; the proxy answers it as JSON 1.0 ([`support::cbor`]).
//! (Moved here from deploy-aws's tests, which have no proxy.)

use deploy_aws::alarms::{AlarmName, Alarms, EmailAddress, HealthAlarmsSpec, TopicName, TopicSpec};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::conformance::Names;
use deploy_core::plan::Action;
use deploy_core::{Confirm, Error, Reconcile as _, ResourceName};

use crate::support::examples::Recorder;
use crate::support::{self, MotoConfig};

/// moto behind a translating proxy, or skip the test (`return`) when there is no moto.
macro_rules! moto_via_proxy {
    () => {{
        let Some(moto) = support::moto_peer() else { return };
        let proxy = Recorder::start(&moto.endpoint).unwrap();
        let conf = MotoConfig { endpoint: proxy.endpoint.clone() }.sdk_config().await;
        (proxy, conf)
    }};
}

fn names() -> Names {
    Names::unique()
}

fn spec(prefix: &str) -> HealthAlarmsSpec {
    let topic = TopicSpec::new(TopicName::new(format!("{prefix}-alerts")).unwrap())
        .with_email(EmailAddress::new(format!("ops+{prefix}@example.com")).unwrap())
        .with_kms_key("alias/aws/sns");
    HealthAlarmsSpec::database_and_backups(
        prefix,
        &ResourceName::new(format!("{prefix}-db")).unwrap(),
        Some(&format!("{prefix}-vault")),
        topic,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_and_topic_are_ensured_once_and_read_back() {
    let (_proxy, conf) = moto_via_proxy!();
    let p = names().prefix().to_owned();
    let log = RequestLog::new();
    let alarms = AwsBackends::from_conf(&conf).with_request_log(&log).alarms();
    let spec = spec(&p);

    let planned = alarms.plan(&spec).await.unwrap();
    assert_eq!(planned.len(), 8, "topic, subscription and six alarms: {planned}");
    assert!(log.mutating().is_empty(), "plan mutated: {:?}", log.mutating());

    let first = alarms.ensure(&spec).await.unwrap();
    assert_eq!(first.plan.len(), 8, "{}", first.plan);
    assert_eq!((log.count("CreateTopic"), log.count("Subscribe"), log.count("PutMetricAlarm")), (1, 1, 6), "{:?}", log.requests());
    assert_eq!(first.info.alarms.len(), 6);

    // The topic, read back through the SDK.
    let topic_arn = first.info.topic.arn.clone();
    assert!(topic_arn.ends_with(&format!(":{p}-alerts")), "{topic_arn}");
    let attributes = alarms.sns().get_topic_attributes().topic_arn(&topic_arn).send().await.unwrap();
    assert_eq!(attributes.attributes().and_then(|a| a.get("KmsMasterKeyId")).map(String::as_str), Some("alias/aws/sns"));
    let subs = alarms.sns().list_subscriptions_by_topic().topic_arn(&topic_arn).send().await.unwrap();
    assert!(
        subs.subscriptions().iter().any(|s| s.protocol() == Some("email") && s.endpoint() == Some(format!("ops+{p}@example.com").as_str())),
        "{subs:?}"
    );

    // The alarms, read back with DescribeAlarms.
    let described = alarms.cloudwatch().describe_alarms().alarm_name_prefix(format!("{p}-")).send().await.unwrap();
    let alarm = |suffix: &str| {
        described
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(format!("{p}-{suffix}").as_str()))
            .unwrap_or_else(|| panic!("no alarm {suffix}"))
    };
    let cpu = alarm("db-cpu");
    assert_eq!((cpu.namespace(), cpu.metric_name(), cpu.threshold()), (Some("AWS/RDS"), Some("CPUUtilization"), Some(80.0)));
    assert_eq!(cpu.comparison_operator().map(|c| c.as_str()), Some("GreaterThanThreshold"));
    assert_eq!((cpu.period(), cpu.evaluation_periods()), (Some(300), Some(3)));
    assert_eq!(cpu.dimensions()[0].value(), Some(format!("{p}-db").as_str()));
    assert_eq!(cpu.alarm_actions(), std::slice::from_ref(&topic_arn));
    assert_eq!(cpu.ok_actions(), std::slice::from_ref(&topic_arn));
    let storage = alarm("db-free-storage");
    assert_eq!(
        (storage.threshold(), storage.comparison_operator().map(|c| c.as_str())),
        (Some(2_147_483_648.0), Some("LessThanThreshold"))
    );
    assert_eq!(alarm("db-connections").threshold(), Some(100.0));
    assert_eq!(alarm("db-burst-balance").metric_name(), Some("BurstBalance"));
    assert_eq!(alarm("db-cpu-credits").metric_name(), Some("CPUCreditBalance"));
    let backup = alarm("backup-jobs-failed");
    assert_eq!((backup.namespace(), backup.metric_name()), (Some("AWS/Backup"), Some("NumberOfBackupJobsFailed")));
    assert_eq!(backup.statistic().map(|s| s.as_str()), Some("Sum"));
    assert_eq!(backup.comparison_operator().map(|c| c.as_str()), Some("GreaterThanOrEqualToThreshold"));
    assert_eq!(
        (backup.dimensions()[0].name(), backup.dimensions()[0].value()),
        (Some("BackupVaultName"), Some(format!("{p}-vault").as_str()))
    );
    assert_eq!(backup.treat_missing_data(), Some("notBreaching"));

    // The second ensure makes no mutating request.
    log.clear();
    let again = alarms.ensure(&spec).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert_eq!(again.info.topic.arn, topic_arn);

    // A changed threshold is one PutMetricAlarm.
    let mut changed = spec.clone();
    changed.alarm_mut(&format!("{p}-db-cpu")).unwrap().threshold = 90.0;
    log.clear();
    let updated = alarms.ensure(&changed).await.unwrap();
    assert!(
        matches!(updated.plan.changes.as_slice(), [c] if matches!(&c.action, Action::Update { fields } if fields[0].field == "threshold")),
        "{}",
        updated.plan
    );
    assert_eq!(log.mutating().len(), 1, "{:?}", log.mutating());
    let listed = alarms.list_alarms(&format!("{p}-")).await.unwrap();
    assert_eq!(listed.len(), 6);
    assert_eq!(listed.iter().find(|a| a.name == format!("{p}-db-cpu")).unwrap().threshold, 90.0);

    // Deleting needs a confirmation covering every alarm.
    let names: Vec<AlarmName> = spec.alarms.iter().map(|a| a.name.clone()).collect();
    let refused = alarms.delete_alarms(&names, &Confirm::new(names[0].as_str())).await.unwrap_err();
    assert!(matches!(refused, Error::ConfirmationRequired { .. }), "{refused}");
    let deleted = alarms.delete_alarms(&names, &Confirm::prefix(format!("{p}-"))).await.unwrap();
    assert_eq!(deleted.len(), 6);
    assert!(alarms.list_alarms(&format!("{p}-")).await.unwrap().is_empty());
    alarms.delete_topic(&spec.topic.name, &Confirm::new(spec.topic.name.as_str())).await.unwrap();
    assert!(alarms.describe_topic(&spec.topic.name).await.unwrap_err().is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_of_an_sdk_config_alone_work_without_the_database() {
    let (_proxy, conf) = moto_via_proxy!();
    let p = names().prefix().to_owned();
    let topic = TopicSpec::new(TopicName::new(format!("{p}-plain")).unwrap());
    let spec = HealthAlarmsSpec::database_and_backups(&p, &ResourceName::new(format!("{p}-nodb")).unwrap(), None, topic).unwrap();
    let alarms = Alarms::new(&deploy_aws::AwsContext::new(&conf));
    let info = alarms.ensure(&spec).await.unwrap().info;
    assert_eq!(info.alarms.len(), 6);
    assert!(info.topic.kms_key_id.is_none() && info.topic.subscriptions.is_empty());
    let backup = info.alarms.iter().find(|a| a.metric_name == "NumberOfBackupJobsFailed").unwrap();
    assert!(backup.dimensions.is_empty(), "an account-wide alarm has no dimension: {:?}", backup.dimensions);
    alarms.delete_alarms(&spec.alarms.iter().map(|a| a.name.clone()).collect::<Vec<_>>(), &Confirm::prefix(&p)).await.unwrap();
    alarms.delete_topic(&spec.topic.name, &Confirm::new(spec.topic.name.as_str())).await.unwrap();
}
