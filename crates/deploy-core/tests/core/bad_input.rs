//! A table of bad inputs across the public specs: each is rejected with
//! `InvalidInput` naming the field, before any call reaches a backend.

use std::collections::BTreeMap;

use deploy_core::backup::{BackupPlanSpec, BackupRule, BackupSpec, VaultSpec};
use deploy_core::cluster::{ClusterSpec, EndpointAccess, NodePoolSpec};
use deploy_core::database::DatabaseSpec;
use deploy_core::memory::InMemoryCloud;
use deploy_core::recipes::SnapshotLayout;
use deploy_core::*;
use jiff::{SignedDuration, Timestamp};

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
    spec.admin_password = Some(PasswordRules::simphera().generate(16).unwrap());
    spec
}

fn cluster() -> ClusterSpec {
    ClusterSpec {
        name: ResourceName::new("c").unwrap(),
        version: KubernetesVersion::new("1.31").unwrap(),
        endpoint_access: EndpointAccess::default(),
        node_pools: vec![NodePoolSpec {
            name: ResourceName::new("p").unwrap(),
            instance_types: vec!["m5.large".into()],
            min: 1,
            max: 3,
            desired: 2,
            disk_gib: 50,
            labels: BTreeMap::new(),
        }],
        secrets_encryption_key: None,
        subnets: vec![],
        tags: BTreeMap::new(),
    }
}

fn backup() -> BackupSpec {
    BackupSpec {
        vault: VaultSpec { name: ResourceName::new("v").unwrap(), encryption_key: None, tags: BTreeMap::new() },
        plan: Some(BackupPlanSpec {
            name: ResourceName::new("p").unwrap(),
            rules: vec![BackupRule {
                name: ResourceName::new("daily").unwrap(),
                schedule: CronSchedule::new("cron(0 3 * * ? *)").unwrap(),
                retention: RetentionDays::new(35).unwrap(),
                continuous: true,
            }],
            resources: vec!["arn:aws:rds:eu-central-1:1:db:x".into()],
            role: None,
        }),
    }
}

#[test]
fn names_and_values() {
    let long = |n: usize| "a".repeat(n);
    let simphera = PasswordRules::simphera();
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
        (field_of(Password::new("short", &simphera)), "password"),
        (field_of(Password::new(long(129), &simphera)), "password"),
        (field_of(Password::new("has-an-@-sign", &simphera)), "password"),
        (field_of(Password::new("has a space", &simphera)), "password"),
        (field_of(Password::new("has/a/slash", &simphera)), "password"),
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
    let cloud = InMemoryCloud::new();
    let mut cases: Vec<(String, &str)> = Vec::new();
    macro_rules! db_case {
        ($edit:expr, $field:expr) => {{
            let mut spec = db();
            let edit: &dyn Fn(&mut DatabaseSpec) = &$edit;
            edit(&mut spec);
            cases.push((field_of(Database::ensure_database(&cloud, &spec).await), $field));
        }};
    }
    db_case!(|s| s.storage_gib = 10, "storage_gib");
    db_case!(|s| s.storage_gib = 70_000, "storage_gib");
    db_case!(|s| s.max_storage_gib = Some(20), "max_storage_gib");
    db_case!(|s| s.backup_retention_days = 0, "backup_retention_days");
    db_case!(|s| s.backup_retention_days = 36, "backup_retention_days");
    db_case!(|s| s.engine_version = "fifteen".into(), "engine_version");
    db_case!(|s| s.engine_version = "9".into(), "engine_version");
    db_case!(|s| s.instance_class = " ".into(), "instance_class");
    db_case!(|s| s.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap(), PgIdentifier::new("UNACCENT").unwrap()], "allowed_extensions[1]");
    db_case!(|s| s.admin_password = None, "admin_password");
    macro_rules! cluster_case {
        ($edit:expr, $field:expr) => {{
            let mut spec = cluster();
            let edit: &dyn Fn(&mut ClusterSpec) = &$edit;
            edit(&mut spec);
            cases.push((field_of(Cluster::ensure_cluster(&cloud, &spec).await), $field));
        }};
    }
    cluster_case!(|s| s.node_pools[0].min = 4, "node_pools[0].min");
    cluster_case!(|s| s.node_pools[0].desired = 9, "node_pools[0].desired");
    cluster_case!(|s| { s.node_pools[0].max = 0; s.node_pools[0].min = 0; s.node_pools[0].desired = 0 }, "node_pools[0].max");
    cluster_case!(|s| s.node_pools[0].instance_types.clear(), "node_pools[0].instance_types");
    cluster_case!(|s| s.node_pools[0].instance_types = vec!["m5 large".into()], "node_pools[0].instance_types[0]");
    cluster_case!(|s| s.node_pools[0].disk_gib = 10, "node_pools[0].disk_gib");
    cluster_case!(|s| s.endpoint_access = EndpointAccess { public: false, private: false, public_cidrs: vec![] }, "endpoint_access");
    cluster_case!(
        |s| s.endpoint_access = EndpointAccess { public: false, private: true, public_cidrs: vec![CidrBlock::new("10.0.0.0/8").unwrap()] },
        "endpoint_access.public_cidrs"
    );
    cluster_case!(|s| { let p = s.node_pools[0].clone(); s.node_pools.push(p) }, "node_pools[1].name");
    macro_rules! backup_case {
        ($edit:expr, $field:expr) => {{
            let mut spec = backup();
            let edit: &dyn Fn(&mut BackupSpec) = &$edit;
            edit(&mut spec);
            cases.push((field_of(BackupVault::ensure_backup(&cloud, &spec).await), $field));
        }};
    }
    backup_case!(|s| s.plan.as_mut().unwrap().rules[0].retention = RetentionDays::new(40).unwrap(), "plan.rules[0].retention");
    backup_case!(|s| s.plan.as_mut().unwrap().rules.clear(), "plan.rules");
    backup_case!(|s| s.plan.as_mut().unwrap().resources = vec![" ".into()], "plan.resources[0]");
    backup_case!(|s| { let r = s.plan.as_ref().unwrap().rules[0].clone(); s.plan.as_mut().unwrap().rules.push(r) }, "plan.rules[1].name");
    assert!(cloud.calls().is_empty(), "bad specs reached the backend: {:?}", cloud.calls());
    for (got, want) in &cases {
        assert_eq!(got, want);
    }

    // Restore times are checked against the source's window: reads only, nothing mutated.
    let spec = db();
    cloud.ensure_database(&spec).await.unwrap();
    cloud.reset_calls();
    let target = RestoreTarget::new(ResourceName::new("restored").unwrap());
    let future = Timestamp::now().checked_add(SignedDuration::from_hours(2)).unwrap();
    let ancient = Timestamp::now().checked_sub(SignedDuration::from_hours(24 * 60)).unwrap();
    for at in [future, ancient] {
        let field = field_of(cloud.restore_to_point_in_time(&spec.name, RestorePoint::At(at), &target).await);
        assert_eq!(field, "restore_time");
    }
    assert!(cloud.mutating_calls().is_empty(), "a rejected restore mutated: {:?}", cloud.mutating_calls());
    assert!(cases.len() >= 23);
}
