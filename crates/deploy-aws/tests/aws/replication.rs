//! S3 cross-region replication against moto: the destination bucket in its
//! region, the least-privilege role, the rule, the check, drift, bad input.

use aws_sdk_s3::types::{ReplicationConfiguration, ReplicationRuleStatus};
use deploy_aws::iam::IamName;
use deploy_aws::policy::{PolicyDocument, equivalent};
use deploy_aws::s3::{REPLICATION_SERVICE, ReplicationRuleSpec, ReplicationSpec, S3Store};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::{BucketSpec, Error, ObjectStore, Reconcile as _};

use crate::support::{REGION, moto, names, unreachable_config};

const REPLICA_REGION: &str = "us-west-2";

fn spec() -> ReplicationSpec {
    let n = names();
    ReplicationSpec::new(
        n.bucket("assets"),
        n.bucket("assets-replica"),
        REPLICA_REGION,
        IamName::new(format!("{}-replication", n.prefix())).unwrap(),
    )
}

#[tokio::test]
async fn ensure_sets_up_replication_once_check_reports_it_and_drift_is_fixed() {
    let conf = moto!("replication::ensure_sets_up_replication_once_check_reports_it_and_drift_is_fixed");
    let log = RequestLog::new();
    let aws = AwsBackends::from_conf(&conf).with_request_log(&log);
    let (s3, iam) = (aws.s3(), aws.iam());
    let spec = spec();
    // The source as the examples make it; the replica is the Replication's.
    s3.ensure_bucket(&BucketSpec::new(spec.source.clone())).await.unwrap();

    let planned = s3.replication(&iam).plan(&spec).await.unwrap();
    assert!(!planned.is_empty());
    log.clear();
    let made = s3.replication(&iam).ensure(&spec).await.unwrap().plan;
    assert!(!made.is_empty(), "{made:?}");
    assert_eq!(log.count("PutBucketReplication"), 1, "{:?}", log.requests());
    assert_eq!(log.count("CreateBucket"), 1, "{:?}", log.requests());

    // Second ensure: nothing to do, no mutating request; the plan agrees.
    log.clear();
    let again = s3.replication(&iam).ensure(&spec).await.unwrap().plan;
    assert!(again.is_empty(), "{again:?}");
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    assert!(s3.replication(&iam).plan(&spec).await.unwrap().is_empty());

    // The destination bucket lives in the replica region, versioned.
    let replica = S3Store::new(&deploy_aws::AwsContext::new(&conf)).in_region(REPLICA_REGION);
    let location = replica.client().get_bucket_location().bucket(spec.destination.as_str()).send().await.unwrap();
    assert_eq!(location.location_constraint().map(|l| l.as_str()), Some(REPLICA_REGION));
    let info = replica.describe_bucket(&spec.destination).await.unwrap();
    assert!(info.versioning && info.block_public_access && info.require_tls, "{info:?}");

    // The rule as S3 holds it.
    let role = iam.describe_role(&spec.role).await.unwrap();
    let raw = s3.client().get_bucket_replication().bucket(spec.source.as_str()).send().await.unwrap();
    let config = raw.replication_configuration().unwrap();
    assert_eq!(config.role(), role.arn);
    let rule = config.rules().iter().find(|r| r.id() == Some(spec.rule_id().as_str())).expect("our rule");
    assert_eq!(rule.status(), &ReplicationRuleStatus::Enabled);
    assert_eq!(rule.destination().unwrap().bucket(), format!("arn:aws:s3:::{}", spec.destination));
    assert_eq!(rule.filter().and_then(|f| f.prefix()).unwrap_or_default(), "");

    // The role trusts S3 only, acting for this account and the source bucket (read back from moto);
    // its policy names both buckets and never "*".
    let account = role.arn.split(':').nth(4).unwrap();
    assert!(equivalent(&role.trust, &serde_json::to_value(spec.role_trust("aws", account)).unwrap()), "{}", role.trust);
    let statement = &role.trust["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], serde_json::json!([REPLICATION_SERVICE]), "{statement}");
    assert_eq!(statement["Condition"]["StringEquals"]["aws:SourceAccount"], serde_json::json!([account]), "{statement}");
    assert_eq!(
        statement["Condition"]["ArnLike"]["aws:SourceArn"],
        serde_json::json!([format!("arn:aws:s3:::{}", spec.source)]),
        "{statement}"
    );
    let policy = iam.describe_policy(&spec.role).await.unwrap();
    assert!(role.managed_policies.contains(&policy.arn), "{role:?}");
    let text = policy.document.to_string();
    assert!(!PolicyDocument::from_json(&text).unwrap().has_wildcard_resource(), "{text}");
    assert!(
        text.contains(&format!("arn:aws:s3:::{}/*", spec.source)) && text.contains(&format!("arn:aws:s3:::{}/*", spec.destination)),
        "{text}"
    );
    for action in ["s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication", "s3:ReplicateObject", "s3:ReplicateDelete"] {
        assert!(text.contains(action), "{action} missing: {text}");
    }
    assert!(!text.contains("kms:"), "no KMS key was given: {text}");

    // The check: all ok, read-only.
    log.clear();
    let report = s3.check_replication(&spec, &iam).await.unwrap();
    assert!(report.is_ok(), "{report}");
    for name in
        ["source versioning", "destination region", "destination versioning", "role trust", "role policy", "rule status", "rule role"]
    {
        assert!(report.check(name).is_some_and(|c| c.ok), "{name}: {report}");
    }
    assert!(log.mutating().is_empty(), "{:?}", log.mutating());

    // Drift: someone disables the rule with the raw SDK.
    let mut disabled = rule.clone();
    disabled.status = ReplicationRuleStatus::Disabled;
    let drifted = ReplicationConfiguration::builder().role(&role.arn).rules(disabled).build().unwrap();
    s3.client().put_bucket_replication().bucket(spec.source.as_str()).replication_configuration(drifted).send().await.unwrap();
    let report = s3.check_replication(&spec, &iam).await.unwrap();
    let failures: Vec<&str> = report.failures().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(failures, ["rule status"], "{report}");
    assert!(report.check("rule status").unwrap().detail.contains("Disabled"), "{report}");
    log.clear();
    let fixed = s3.replication(&iam).ensure(&spec).await.unwrap().plan;
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert_eq!(log.mutating().len(), 1, "{:?}", log.mutating());
    assert_eq!(log.count("PutBucketReplication"), 1);
    assert!(s3.check_replication(&spec, &iam).await.unwrap().is_ok());
}

#[tokio::test]
async fn bad_specs_fail_naming_the_field_before_any_request() {
    // No peer needed: an unreachable endpoint proves no request was sent.
    let log = RequestLog::new();
    let aws = AwsBackends::from_conf(&unreachable_config().await).with_request_log(&log);
    let (s3, iam) = (aws.s3(), aws.iam());
    let field = |e: Error| e.invalid_field().map(str::to_owned).unwrap_or_else(|| panic!("not InvalidInput: {e}"));

    let mut same_region = spec();
    same_region.destination_region = REGION.to_owned();
    assert_eq!(field(s3.replication(&iam).ensure(&same_region).await.unwrap_err()), "destination_region");
    assert_eq!(field(s3.check_replication(&same_region, &iam).await.unwrap_err()), "destination_region");
    let mut same_bucket = spec();
    same_bucket.destination = same_bucket.source.clone();
    assert_eq!(field(s3.replication(&iam).ensure(&same_bucket).await.unwrap_err()), "destination");
    assert_eq!(field(s3.replication(&iam).plan(&same_bucket).await.unwrap_err()), "destination");
    let mut bad_region = spec();
    bad_region.destination_region = "US West".to_owned();
    assert_eq!(
        field(s3.ensure(&ReplicationRuleSpec::new(bad_region.clone(), "arn:aws:iam::1:role/r")).await.unwrap_err()),
        "destination_region"
    );
    assert!(log.requests().is_empty(), "bad input made requests: {:?}", log.requests());
}
