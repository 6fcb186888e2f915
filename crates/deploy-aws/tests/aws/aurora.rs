//! Aurora clusters, MySQL Multi-AZ and the global database on moto (which makes
//! clusters `creating` for one describe, then `available`), and bad topology
//! refused before any request.

use deploy_aws::RequestLog;
use deploy_aws::rds::{RdsDatabase, parameter_group_name};
use deploy_core::conformance::Names;
use deploy_core::database::{CrossRegionReplica, DatabaseSpec, Engine, FinalSnapshot, Reader, RestorePoint, RestoreTarget};
use deploy_core::plan::Action;
use deploy_core::{Confirm, Database, Error, PasswordRules, PgIdentifier};

use crate::rds::{network, rds};
use crate::support::{REGION, moto, names, unreachable_config};

/// A request log, an RDS backend recording into it, unique names, and the
/// spec of an Aurora cluster `what` with the network of the moto VPC.
async fn placed_aurora(conf: &aws_config::SdkConfig, what: &str) -> (RequestLog, RdsDatabase, Names, DatabaseSpec) {
    let log = RequestLog::new();
    let db = rds(conf, &log);
    let n = names();
    let mut spec = aurora_spec(&n, what);
    spec.network = network(conf, &db, n.prefix()).await;
    (log, db, n, spec)
}

fn aurora_spec(names: &deploy_core::conformance::Names, what: &str) -> DatabaseSpec {
    let mut spec = DatabaseSpec::with_engine(
        names.resource(what),
        Engine::AuroraPostgresql,
        "15",
        "db.r6g.large",
        PgIdentifier::new("dbadmin").unwrap(),
    );
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
    spec.topology.writer_zone = Some(format!("{REGION}a"));
    spec.topology.readers = vec![Reader { zone: format!("{REGION}b") }];
    spec.high_availability = true;
    spec.admin_password = Some(PasswordRules::rds_master().generate(24).unwrap());
    spec
}

/// (instance, zone, is writer) of a cluster, read with the raw client.
async fn members(client: &aws_sdk_rds::Client, cluster: &str) -> Vec<(String, String, bool)> {
    let c = client.describe_db_clusters().db_cluster_identifier(cluster).send().await.unwrap();
    let c = &c.db_clusters()[0];
    let mut out = Vec::new();
    for m in c.db_cluster_members() {
        let id = m.db_instance_identifier().unwrap();
        let db = client.describe_db_instances().db_instance_identifier(id).send().await.unwrap();
        out.push((id.to_owned(), db.db_instances()[0].availability_zone().unwrap().to_owned(), m.is_cluster_writer().unwrap()));
    }
    out.sort();
    out
}

async fn drop_cluster(db: &deploy_aws::rds::RdsDatabase, name: &deploy_core::ResourceName) {
    db.set_deletion_protection(name, false).await.unwrap();
    db.delete_database(name, &FinalSnapshot::Skip, &Confirm::new(name.as_str())).await.unwrap();
}

#[tokio::test]
async fn aurora_cluster_has_a_writer_and_a_reader_in_another_zone_and_a_second_ensure_writes_nothing() {
    let conf = moto!("aurora::aurora_cluster_has_a_writer_and_a_reader_in_another_zone_and_a_second_ensure_writes_nothing");
    let (log, db, _, mut spec) = placed_aurora(&conf, "aurora").await;
    log.clear();

    let plan = db.plan_database(&spec).await.unwrap();
    assert!(plan.changes.iter().all(|c| c.action == Action::Create), "{plan}");
    assert!(log.mutating().is_empty());
    db.ensure_database(&spec).await.unwrap();
    assert_eq!((log.count("CreateDBClusterParameterGroup"), log.count("CreateDBCluster"), log.count("CreateDBInstance")), (1, 1, 2));

    let raw = db.client();
    let name = spec.name.as_str();
    let found = members(raw, name).await;
    assert_eq!(
        found,
        [(format!("{name}-1"), format!("{REGION}a"), true), (format!("{name}-2"), format!("{REGION}b"), false)],
        "writer in {REGION}a, reader in another zone"
    );
    let group = parameter_group_name(&spec);
    assert_eq!(group, format!("{name}-aurora-postgresql15"));
    let params = raw.describe_db_cluster_parameters().db_cluster_parameter_group_name(&group).send().await.unwrap();
    let get =
        |p: &str| params.parameters().iter().find(|x| x.parameter_name() == Some(p)).and_then(|x| x.parameter_value()).map(str::to_owned);
    assert_eq!((get("rds.force_ssl").as_deref(), get("rds.allowed_extensions").as_deref()), (Some("1"), Some("unaccent")));
    let cluster = raw.describe_db_clusters().db_cluster_identifier(name).send().await.unwrap();
    let cluster = &cluster.db_clusters()[0];
    assert_eq!(
        (cluster.engine(), cluster.storage_encrypted(), cluster.deletion_protection()),
        (Some("aurora-postgresql"), Some(true), Some(true))
    );
    assert_eq!(cluster.db_cluster_parameter_group(), Some(group.as_str()));
    assert_eq!(cluster.db_subnet_group(), spec.network.subnet_group.as_deref());

    let info = db.describe_database(&spec.name).await.unwrap();
    assert_eq!(info.engine, Engine::AuroraPostgresql);
    assert_eq!(info.topology.writer_zone.as_deref(), Some(format!("{REGION}a").as_str()));
    assert_eq!(info.topology.readers, spec.topology.readers);
    assert!(info.high_availability && info.require_tls);

    log.clear();
    assert!(db.ensure_database(&spec).await.unwrap().is_empty());
    assert!(db.plan_database(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());

    // One more reader: one instance created, nothing else; then back to one reader.
    spec.topology.readers.push(Reader { zone: format!("{REGION}c") });
    log.clear();
    db.ensure_database(&spec).await.unwrap();
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["CreateDBInstance"]);
    assert_eq!(members(raw, name).await.iter().filter(|m| !m.2).count(), 2);
    spec.topology.readers.pop();
    log.clear();
    db.ensure_database(&spec).await.unwrap();
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["DeleteDBInstance"]);
    assert!(db.plan_database(&spec).await.unwrap().is_empty());

    // Deletion needs the confirmation and protection off.
    let e = db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }), "{e}");
    let e = db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new(name)).await.unwrap_err();
    assert!(matches!(e, Error::DeletionProtected { .. }), "{e}");
    drop_cluster(&db, &spec.name).await;
    assert!(db.describe_database(&spec.name).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn cluster_snapshot_and_point_in_time_restore_make_new_clusters_placed_like_the_source() {
    let conf = moto!("aurora::cluster_snapshot_and_point_in_time_restore_make_new_clusters_placed_like_the_source");
    let (log, db, n, spec) = placed_aurora(&conf, "src").await;
    db.ensure_database(&spec).await.unwrap();

    let snapshot = n.resource("snap");
    let snap = db.create_snapshot(&spec.name, &snapshot).await.unwrap();
    assert_eq!(snap.database, spec.name);
    assert!(db.list_snapshots(&spec.name).await.unwrap().iter().any(|s| s.name == snapshot));
    assert_eq!(log.count("CreateDBClusterSnapshot"), 1);

    let from_snapshot = db.restore_snapshot(&snapshot, &RestoreTarget::new(n.resource("from-snap"))).await.unwrap();
    let pitr = db.restore_to_point_in_time(&spec.name, RestorePoint::Latest, &RestoreTarget::new(n.resource("pitr"))).await.unwrap();
    assert_eq!((log.count("RestoreDBClusterFromSnapshot"), log.count("RestoreDBClusterToPointInTime")), (1, 1));
    for restored in [&from_snapshot, &pitr] {
        assert_eq!(restored.network.subnet_group, spec.network.subnet_group, "{}", restored.name);
        assert_eq!(restored.network.security_groups, spec.network.security_groups, "{}", restored.name);
        assert_eq!(restored.engine, Engine::AuroraPostgresql);
        assert_eq!(restored.topology.writer_zone, spec.topology.writer_zone, "{}", restored.name);
        assert_eq!(restored.topology.readers, spec.topology.readers, "{}", restored.name);
        assert!(restored.deletion_protection && restored.require_tls, "{}", restored.name);
        assert_eq!(members(db.client(), restored.name.as_str()).await.len(), 2);
    }

    // A final snapshot on delete; the snapshot is data, deleted only when named.
    let last = n.resource("last");
    db.set_deletion_protection(&spec.name, false).await.unwrap();
    db.delete_database(&spec.name, &FinalSnapshot::Take(last.clone()), &Confirm::new(spec.name.as_str())).await.unwrap();
    assert!(db.list_snapshots(&spec.name).await.unwrap().iter().any(|s| s.name == last));
    db.delete_snapshot(&snapshot, &Confirm::new(snapshot.as_str())).await.unwrap();
    db.delete_snapshot(&last, &Confirm::new(last.as_str())).await.unwrap();
    for restored in [&from_snapshot, &pitr] {
        drop_cluster(&db, &restored.name).await;
    }
}

#[tokio::test]
async fn a_cross_region_replica_is_an_aurora_global_database_secondary() {
    let conf = moto!("aurora::a_cross_region_replica_is_an_aurora_global_database_secondary");
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut spec = aurora_spec(&n, "global");
    spec.engine = Engine::AuroraMysql;
    spec.engine_version = "8.0.mysql_aurora.3.05.2".into();
    spec.allowed_extensions.clear();
    spec.topology.cross_region_replica = Some(CrossRegionReplica { region: "eu-west-1".into(), network: Default::default() });
    db.ensure_database(&spec).await.unwrap();
    assert_eq!((log.count("CreateGlobalCluster"), log.count("CreateDBCluster"), log.count("CreateDBInstance")), (1, 2, 3));

    let info = db.describe_database(&spec.name).await.unwrap();
    assert_eq!(info.topology.cross_region_replica.as_ref().map(|r| r.region.as_str()), Some("eu-west-1"));
    assert!(info.require_tls);
    let raw = db.client();
    let params = raw.describe_db_cluster_parameters().db_cluster_parameter_group_name(parameter_group_name(&spec)).send().await.unwrap();
    assert!(
        params.parameters().iter().any(|p| p.parameter_name() == Some("require_secure_transport") && p.parameter_value() == Some("ON"))
    );

    // The secondary, read in its own region.
    let west =
        aws_sdk_rds::Client::from_conf(aws_sdk_rds::config::Builder::from(&conf).region(aws_config::Region::new("eu-west-1")).build());
    let secondary = format!("{}-replica", spec.name);
    let c = west.describe_db_clusters().db_cluster_identifier(&secondary).send().await.unwrap();
    let c = &c.db_clusters()[0];
    assert_eq!(c.engine(), Some("aurora-mysql"));
    assert!(c.db_cluster_arn().unwrap().contains(":eu-west-1:"));
    assert_eq!(c.db_cluster_members().len(), 1);

    log.clear();
    assert!(db.ensure_database(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    // moto keeps global databases in us-east-1 and cannot detach a member
    // outside it (RemoveFromGlobalCluster), so DeleteGlobalCluster refuses:
    // the global database is left to the moto server's lifetime.
}

#[tokio::test]
async fn mysql_gets_a_multi_az_standby_and_require_secure_transport() {
    let conf = moto!("aurora::mysql_gets_a_multi_az_standby_and_require_secure_transport");
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut spec =
        DatabaseSpec::with_engine(n.resource("mysql"), Engine::Mysql, "8.0", "db.t3.micro", PgIdentifier::new("dbadmin").unwrap());
    spec.high_availability = true;
    spec.admin_password = Some(PasswordRules::rds_master().generate(24).unwrap());
    db.ensure_database(&spec).await.unwrap();

    let raw = db.client();
    let group = parameter_group_name(&spec);
    assert_eq!(group, format!("{}-mysql8-0", spec.name));
    let groups = raw.describe_db_parameter_groups().db_parameter_group_name(&group).send().await.unwrap();
    assert_eq!(groups.db_parameter_groups()[0].db_parameter_group_family(), Some("mysql8.0"));
    let params = raw.describe_db_parameters().db_parameter_group_name(&group).send().await.unwrap();
    assert!(
        params.parameters().iter().any(|p| p.parameter_name() == Some("require_secure_transport") && p.parameter_value() == Some("ON"))
    );
    let instance = raw.describe_db_instances().db_instance_identifier(spec.name.as_str()).send().await.unwrap();
    let instance = &instance.db_instances()[0];
    assert_eq!((instance.engine(), instance.multi_az(), instance.storage_encrypted()), (Some("mysql"), Some(true), Some(true)));
    let info = db.describe_database(&spec.name).await.unwrap();
    assert_eq!((info.engine, info.high_availability, info.require_tls), (Engine::Mysql, true, true));

    log.clear();
    assert!(db.ensure_database(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());
    drop_cluster(&db, &spec.name).await;
    db.delete_parameter_group(&group).await.unwrap();
}

#[tokio::test]
async fn bad_topology_and_engine_input_fails_before_any_request() {
    let conf = unreachable_config().await;
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();

    let mut same_zone = aurora_spec(&n, "bad");
    same_zone.topology.readers = vec![Reader { zone: format!("{REGION}a") }];
    let mut same_region = aurora_spec(&n, "bad");
    same_region.topology.cross_region_replica = Some(CrossRegionReplica { region: REGION.into(), network: Default::default() });
    // No writer zone: only the client's region says the replica is in the same region.
    let mut same_region_no_zone = aurora_spec(&n, "bad");
    same_region_no_zone.topology = deploy_core::database::Topology {
        cross_region_replica: Some(CrossRegionReplica { region: REGION.into(), network: Default::default() }),
        ..Default::default()
    };
    same_region_no_zone.high_availability = false;
    let mut mismatch =
        DatabaseSpec::with_engine(n.resource("bad"), Engine::Mysql, "15", "db.t3.micro", PgIdentifier::new("dbadmin").unwrap());
    mismatch.admin_password = same_zone.admin_password.clone();
    let mut aurora_mysql_version = aurora_spec(&n, "bad");
    aurora_mysql_version.engine = Engine::AuroraMysql;
    aurora_mysql_version.allowed_extensions.clear();
    let mut mysql_extensions = mismatch.clone();
    mysql_extensions.engine_version = "8.0".into();
    mysql_extensions.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
    let mut aurora_ha_without_reader = aurora_spec(&n, "bad");
    aurora_ha_without_reader.topology.readers.clear();
    let mut mysql_readers = mysql_extensions.clone();
    mysql_readers.allowed_extensions.clear();
    mysql_readers.topology.writer_zone = Some(format!("{REGION}a"));
    mysql_readers.topology.readers = vec![Reader { zone: format!("{REGION}b") }];

    for (spec, field) in [
        (&same_zone, "topology.readers[0].zone"),
        (&same_region, "topology.cross_region_replica.region"),
        (&same_region_no_zone, "topology.cross_region_replica.region"),
        (&mismatch, "engine_version"),
        (&aurora_mysql_version, "engine_version"),
        (&mysql_extensions, "allowed_extensions"),
        (&aurora_ha_without_reader, "high_availability"),
    ] {
        for e in [db.plan_database(spec).await.unwrap_err(), db.ensure_database(spec).await.unwrap_err()] {
            assert_eq!(e.invalid_field(), Some(field), "{e}");
        }
    }
    let e = db.ensure_database(&mysql_readers).await.unwrap_err();
    assert!(matches!(&e, Error::NotSupported { field, .. } if field == "topology.readers"), "{e}");
    assert!(log.requests().is_empty(), "requests were made: {:?}", log.requests());
}

/// `RdsInstances` takes no Aurora engine and `AuroraClusters` no instance
/// engine: each refuses the other's spec before any request (the `RdsDatabase`
/// front picks the right one by the engine).
#[tokio::test]
async fn each_backend_refuses_the_other_backends_engine_before_any_request() {
    let conf = unreachable_config().await;
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut aurora = aurora_spec(&n, "bad");
    aurora.topology = Default::default();
    aurora.high_availability = false;
    let mut postgres = DatabaseSpec::postgres(n.resource("bad"), "15", "db.t3.micro", PgIdentifier::new("dbadmin").unwrap());
    postgres.admin_password = aurora.admin_password.clone();
    for e in [
        db.instances().plan_database(&aurora).await.unwrap_err(),
        db.instances().ensure_database(&aurora).await.unwrap_err(),
        db.clusters().plan_database(&postgres).await.unwrap_err(),
        db.clusters().ensure_database(&postgres).await.unwrap_err(),
    ] {
        assert!(matches!(&e, Error::NotSupported { field, .. } if field == "engine"), "{e}");
    }
    assert!(log.requests().is_empty(), "requests were made: {:?}", log.requests());
}

/// The core Database suite on an Aurora PostgreSQL cluster (no storage
/// ceiling: Aurora storage grows by itself).
#[tokio::test]
async fn conformance_database_on_aurora() {
    let conf = moto!("aurora::conformance_database_on_aurora");
    let mut suite = deploy_core::conformance::DatabaseSuite::postgres("15", "db.r6g.large", &PasswordRules::rds_master());
    suite.spec.engine = Engine::AuroraPostgresql;
    suite.spec.max_storage_gib = None;
    suite.run(&rds(&conf, &RequestLog::new()), &names()).await;
}
