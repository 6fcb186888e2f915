//! A table of bad inputs across the public specs: each is rejected with
//! `InvalidInput` naming the field, before any call reaches a backend.

use deploy_core::database::DatabaseSpec;
use deploy_core::memory::InMemoryCloud;
use deploy_core::recipes::SnapshotLayout;
use deploy_core::*;

fn field_of<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::InvalidInput { field, problem, rule }) => {
            assert!(!problem.is_empty() && !rule.is_empty(), "{field}: empty problem or rule");
            field
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn db() -> DatabaseSpec {
    let mut spec = DatabaseSpec::postgres(ResourceName::new("db").unwrap(), "15", "db.t3.micro", PgIdentifier::new("admin").unwrap());
    spec.admin_password = Some(PasswordRules::rds_master().generate(16).unwrap());
    spec
}

#[test]
fn names_and_values() {
    let long = |n: usize| "a".repeat(n);
    let rules = PasswordRules::rds_master();
    let cases: Vec<(String, &str)> = vec![
        (field_of(BucketName::new("ab")), "bucket"),
        (field_of(BucketName::new(long(64))), "bucket"),
        (field_of(BucketName::new("Upper-case")), "bucket"),
        (field_of(BucketName::new("under_score")), "bucket"),
        (field_of(BucketName::new("-start")), "bucket"),
        (field_of(BucketName::new("end-")), "bucket"),
        (field_of(BucketName::new("two..dots")), "bucket"),
        (field_of(BucketName::new("192.168.5.4")), "bucket"),
        (field_of(BucketName::new("xn--punycode")), "bucket"),
        (field_of(BucketName::new("access-point-s3alias")), "bucket"),
        (field_of(BucketName::new("dot.-hyphen")), "bucket"),
        (field_of(ContainerName::new("double--hyphen")), "container"),
        (field_of(ContainerName::new("has.dot")), "container"),
        (field_of(ObjectKey::new("")), "key"),
        (field_of(ObjectKey::new("é".repeat(513))), "key"),
        (field_of(PgIdentifier::new("")), "identifier"),
        (field_of(PgIdentifier::new("ü".repeat(32))), "identifier"),
        (field_of(PgIdentifier::new("nul\0byte")), "identifier"),
        (field_of(ResourceName::new("1starts-with-digit")), "name"),
        (field_of(ResourceName::new("double--hyphen")), "name"),
        (field_of(ResourceName::new("trailing-")), "name"),
        (field_of(ResourceName::new("UPPER")), "name"),
        (field_of(ResourceName::new(long(64))), "name"),
        (field_of(SecretName::new("1secret")), "secret"),
        (field_of(SecretName::new("under_score")), "secret"),
        (field_of(SecretName::new(long(128))), "secret"),
        (field_of(KubernetesVersion::new("1.31.2")), "version"),
        (field_of(KubernetesVersion::new("2.0")), "version"),
        (field_of(CronSchedule::new("* * *")), "schedule"),
        (field_of(CronSchedule::new("60 * * * *")), "schedule"),
        (field_of(CronSchedule::new("0 24 * * *")), "schedule"),
        (field_of(CronSchedule::new("cron(0 3 * * * *)")), "schedule"),
        (field_of(RetentionDays::new(0)), "retention_days"),
        (field_of(RetentionDays::new(36_501)), "retention_days"),
        (field_of(CidrBlock::new("10.0.0.1/8")), "cidr"),
        (field_of(CidrBlock::new("10.0.0.0/33")), "cidr"),
        (field_of(CidrBlock::new("10.0.0.0")), "cidr"),
        (field_of(CidrBlock::new("::1/129")), "cidr"),
        (field_of(Password::new("short", &rules)), "password"),
        (field_of(Password::new(long(129), &rules)), "password"),
        (field_of(Password::new("has-an-@-sign", &rules)), "password"),
        (field_of(Password::new("has a space", &rules)), "password"),
        (field_of(Password::new("has/a/slash", &rules)), "password"),
        (field_of(SnapshotLayout::new("/absolute")), "prefix"),
        (field_of(SnapshotLayout::new("a/../b")), "prefix"),
    ];
    for (got, want) in &cases {
        assert_eq!(got, want);
    }
    assert!(cases.len() >= 45);
}

#[tokio::test]
async fn specs_are_rejected_before_any_call() {
    // The same table runs against AWS through a counting proxy (tests/e2e/bad_input.rs).
    let cloud = InMemoryCloud::new();
    let names = conformance::Names::unique();
    let (db_suite, cluster_suite) = (
        conformance::DatabaseSuite::postgres("15", "db.t3.micro", &PasswordRules::rds_master()),
        conformance::ClusterSuite::new("1.31", "m5.large"),
    );
    let n = conformance::bad_specs((&cloud, &db_suite), (&cloud, &cluster_suite), &cloud, &names).await;
    assert!(cloud.calls().is_empty(), "bad specs reached the backend: {:?}", cloud.calls());

    // Restore times are checked against the source's window: reads only, nothing mutated.
    let spec = db();
    cloud.ensure_database(&spec).await.unwrap();
    cloud.reset_calls();
    let m = conformance::bad_restore_times(&cloud, &spec.name, &names).await;
    assert!(cloud.mutating_calls().is_empty(), "a rejected restore mutated: {:?}", cloud.mutating_calls());
    assert!(n + m >= 25);
}
