//! CloudWatch health alarms: input checks before any request. The runs
//! against moto are in the e2e tests (tests/e2e/aws_alarms.rs), behind the
//! proxy that answers the SDK's RPC v2 CBOR as moto's JSON 1.0.

use deploy_aws::alarms::{EmailAddress, HealthAlarmsSpec, HealthMetric, TopicName, TopicSpec};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::{Reconcile as _, ResourceName};

use crate::support::unreachable_config;

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

#[tokio::test]
async fn thresholds_out_of_range_fail_before_any_request() {
    let log = RequestLog::new();
    let alarms = AwsBackends::from_conf(&unreachable_config().await).with_request_log(&log).alarms();
    let mut bad = spec("bad");
    bad.alarms[0].threshold = 120.0;
    let e = alarms.ensure(&bad).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("alarms[0].threshold"), "{e}");
    assert!(e.to_string().contains("0 to 100"), "{e}");
    let e = alarms.plan(&bad).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("alarms[0].threshold"), "{e}");

    let mut bad = spec("bad");
    bad.alarms[1].threshold = -5.0;
    assert_eq!(alarms.ensure(&bad).await.unwrap_err().invalid_field(), Some("alarms[1].threshold"));
    let mut bad = spec("bad");
    bad.alarms[2].period_seconds = 45;
    assert_eq!(alarms.ensure(&bad).await.unwrap_err().invalid_field(), Some("alarms[2].period_seconds"));
    let mut bad = spec("bad");
    bad.alarms[5].metric = HealthMetric::BackupJobsFailed(None);
    bad.alarms[5].evaluation_periods = 0;
    assert_eq!(alarms.ensure(&bad).await.unwrap_err().invalid_field(), Some("alarms[5].evaluation_periods"));
    assert_eq!(alarms.list_alarms("").await.unwrap_err().invalid_field(), Some("prefix"));
    assert!(log.requests().is_empty(), "requests were sent: {:?}", log.requests());
}
