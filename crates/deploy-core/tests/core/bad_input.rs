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

/// Each value refused by `new`, the error naming `field`; answers how many.
#[track_caller]
fn refused<V, T: std::fmt::Debug>(new: impl Fn(V) -> Result<T>, values: impl IntoIterator<Item = V>, field: &str) -> usize {
    let mut n = 0;
    for v in values {
        assert_eq!(field_of(new(v)), field);
        n += 1;
    }
    n
}

#[test]
fn names_and_values() {
    let long = |n: usize| "a".repeat(n);
    let rules = PasswordRules::rds_master();
    let counts = [
        refused(
            |v: &str| BucketName::new(v),
            [
                "ab",
                &long(64),
                "Upper-case",
                "under_score",
                "-start",
                "end-",
                "two..dots",
                "192.168.5.4",
                "xn--punycode",
                "access-point-s3alias",
                "dot.-hyphen",
            ],
            "bucket",
        ),
        refused(|v: &str| ContainerName::new(v), ["double--hyphen", "has.dot"], "container"),
        refused(|v: &str| ObjectKey::new(v), ["", &"é".repeat(513)], "key"),
        refused(|v: &str| PgIdentifier::new(v), ["", &"ü".repeat(32), "nul\0byte"], "identifier"),
        refused(|v: &str| ResourceName::new(v), ["1starts-with-digit", "double--hyphen", "trailing-", "UPPER", &long(64)], "name"),
        refused(|v: &str| SecretName::new(v), ["1secret", "under_score", &long(128)], "secret"),
        refused(|v: &str| KubernetesVersion::new(v), ["1.31.2", "2.0"], "version"),
        refused(|v: &str| CronSchedule::new(v), ["* * *", "60 * * * *", "0 24 * * *", "cron(0 3 * * * *)"], "schedule"),
        refused(RetentionDays::new, [0, 36_501], "retention_days"),
        refused(|v: &str| CidrBlock::new(v), ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0", "::1/129"], "cidr"),
        refused(|v: &str| Password::new(v, &rules), ["short", &long(129), "has-an-@-sign", "has a space", "has/a/slash"], "password"),
        refused(|v: &str| SnapshotLayout::new(v), ["/absolute", "a/../b"], "prefix"),
    ];
    assert!(counts.iter().sum::<usize>() >= 45);
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
