//! Bad specs every backend must refuse with [`Error::InvalidInput`] naming the
//! field, before it makes any call: the caller counts the calls (the in-memory
//! call log, a provider's request log or a proxy in front of its peer).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::cluster::ClusterSuite;
use super::database::DatabaseSuite;
use super::names::Names;
use crate::backup::{BackupPlanSpec, BackupRule, BackupSpec, BackupVault, VaultSpec};
use crate::cluster::{Cluster, ClusterSpec, EndpointAccess};
use crate::database::{Database, DatabaseSpec, RestorePoint, RestoreTarget};
use crate::error::{Error, Result};
use crate::validate::{CidrBlock, CronSchedule, PgIdentifier, ResourceName, RetentionDays};

/// One fault put into a valid spec.
type Edit<S> = Box<dyn Fn(&mut S)>;

fn field_of<T: std::fmt::Debug>(what: &str, r: Result<T>) -> String {
    match r {
        Err(Error::InvalidInput { field, problem, rule }) => {
            assert!(!problem.is_empty() && !rule.is_empty(), "{what}: {field} has an empty problem or rule");
            field
        }
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
}

/// The database suite's valid spec, under a name of its own.
fn db(suite: &DatabaseSuite, names: &Names) -> DatabaseSpec {
    DatabaseSpec { name: names.resource("bad-db"), ..suite.spec(names) }
}

/// The cluster suite's valid spec, under a name of its own.
fn cluster(suite: &ClusterSuite, names: &Names) -> ClusterSpec {
    ClusterSpec { name: names.resource("bad-cluster"), ..suite.spec(names) }
}

fn backup(names: &Names) -> BackupSpec {
    BackupSpec {
        vault: VaultSpec { name: names.resource("bad-vault"), encryption_key: None, tags: BTreeMap::new() },
        plan: Some(BackupPlanSpec {
            name: names.resource("bad-plan"),
            rules: vec![BackupRule {
                name: ResourceName::new("daily").expect("name"),
                schedule: CronSchedule::new("cron(0 3 * * ? *)").expect("schedule"),
                retention: RetentionDays::new(35).expect("days"),
                continuous: true,
            }],
            resources: vec!["arn:aws:rds:eu-central-1:123456789012:db:x".into()],
            role: None,
        }),
    }
}

/// Bad database, cluster and backup specs (23 of them), each refused by
/// `ensure_*` naming its field: each is the valid spec of the backend's
/// [`DatabaseSuite`] or [`ClusterSuite`] with one fault. Answers how many were
/// checked; the caller asserts that none of them reached its backend.
///
/// # Panics
/// When a spec is accepted or refused otherwise.
pub async fn bad_specs(
    database: (&dyn Database, &DatabaseSuite),
    clusters: (&dyn Cluster, &ClusterSuite),
    backups: &dyn BackupVault,
    names: &Names,
) -> usize {
    let ((database, db_suite), (clusters, cluster_suite)) = (database, clusters);
    let mut n = 0;
    let db_cases: Vec<(&str, Edit<DatabaseSpec>)> = vec![
        ("storage_gib", Box::new(|s| s.storage_gib = 10)),
        ("storage_gib", Box::new(|s| s.storage_gib = 70_000)),
        ("max_storage_gib", Box::new(|s| s.max_storage_gib = Some(20))),
        ("backup_retention_days", Box::new(|s| s.backup_retention_days = 0)),
        ("backup_retention_days", Box::new(|s| s.backup_retention_days = 36)),
        ("engine_version", Box::new(|s| s.engine_version = "fifteen".into())),
        ("engine_version", Box::new(|s| s.engine_version = "9".into())),
        ("instance_class", Box::new(|s| s.instance_class = " ".into())),
        (
            "allowed_extensions[1]",
            Box::new(|s| {
                s.allowed_extensions = vec![PgIdentifier::new("unaccent").expect("name"), PgIdentifier::new("UNACCENT").expect("name")]
            }),
        ),
        ("admin_password", Box::new(|s| s.admin_password = None)),
    ];
    for (field, edit) in db_cases {
        let mut spec = db(db_suite, names);
        edit(&mut spec);
        assert_eq!(field_of(field, database.ensure_database(&spec).await), field);
        n += 1;
    }
    let cluster_cases: Vec<(&str, Edit<ClusterSpec>)> = vec![
        ("node_pools[0].min", Box::new(|s| s.node_pools[0].min = 4)),
        ("node_pools[0].desired", Box::new(|s| s.node_pools[0].desired = 9)),
        (
            "node_pools[0].max",
            Box::new(|s| {
                (s.node_pools[0].max, s.node_pools[0].min, s.node_pools[0].desired) = (0, 0, 0);
            }),
        ),
        ("node_pools[0].instance_types", Box::new(|s| s.node_pools[0].instance_types.clear())),
        ("node_pools[0].instance_types[0]", Box::new(|s| s.node_pools[0].instance_types = vec!["m5 large".into()])),
        ("node_pools[0].disk_gib", Box::new(|s| s.node_pools[0].disk_gib = 10)),
        ("endpoint_access", Box::new(|s| s.endpoint_access = EndpointAccess { public: false, private: false, public_cidrs: vec![] })),
        (
            "endpoint_access.public_cidrs",
            Box::new(|s| {
                s.endpoint_access =
                    EndpointAccess { public: false, private: true, public_cidrs: vec![CidrBlock::new("10.0.0.0/8").expect("cidr")] };
            }),
        ),
        (
            "node_pools[1].name",
            Box::new(|s| {
                let p = s.node_pools[0].clone();
                s.node_pools.push(p);
            }),
        ),
    ];
    for (field, edit) in cluster_cases {
        let mut spec = cluster(cluster_suite, names);
        edit(&mut spec);
        assert_eq!(field_of(field, clusters.ensure_cluster(&spec).await), field);
        n += 1;
    }
    let backup_cases: Vec<(&str, Edit<BackupSpec>)> = vec![
        ("plan.rules[0].retention", Box::new(|s| plan(s).rules[0].retention = RetentionDays::new(40).expect("days"))),
        ("plan.rules", Box::new(|s| plan(s).rules.clear())),
        ("plan.resources[0]", Box::new(|s| plan(s).resources = vec![" ".into()])),
        (
            "plan.rules[1].name",
            Box::new(|s| {
                let r = plan(s).rules[0].clone();
                plan(s).rules.push(r);
            }),
        ),
    ];
    for (field, edit) in backup_cases {
        let mut spec = backup(names);
        edit(&mut spec);
        assert_eq!(field_of(field, backups.ensure_backup(&spec).await), field);
        n += 1;
    }
    n
}

fn plan(s: &mut BackupSpec) -> &mut BackupPlanSpec {
    s.plan.as_mut().expect("a plan")
}

/// Restores of the existing instance `source` to a time in the future and to
/// one 60 days back (before any retention window), each refused naming
/// `restore_time`. The backend may read the source's window first; the
/// caller asserts nothing was mutated. Answers how many were checked.
///
/// # Panics
/// When a restore is accepted or refused otherwise.
pub async fn bad_restore_times(database: &dyn Database, source: &ResourceName, names: &Names) -> usize {
    let target = RestoreTarget::new(names.resource("bad-restored"));
    let future = Timestamp::now().checked_add(SignedDuration::from_hours(2)).expect("time");
    let ancient = Timestamp::now().checked_sub(SignedDuration::from_hours(24 * 60)).expect("time");
    for at in [future, ancient] {
        let r = database.restore_to_point_in_time(source, RestorePoint::At(at), &target).await;
        assert_eq!(field_of("restore to a time outside the window", r), "restore_time");
    }
    2
}
