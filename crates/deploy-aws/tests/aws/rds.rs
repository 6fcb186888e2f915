//! RdsDatabase against moto (which makes instances and snapshots available at
//! once: the waits poll once).

use std::time::Duration;

use deploy_aws::rds::{RdsDatabase, parameter_group_name};
use deploy_aws::{AwsBackends, RequestLog};
use deploy_core::database::{DatabaseNetwork, DatabaseSpec, FinalSnapshot, RestorePoint, RestoreTarget};
use deploy_core::plan::Action;
use deploy_core::waiter::Waiter;
use deploy_core::{Confirm, Database, Error, PasswordRules, PgIdentifier, ResourceName};
use jiff::{SignedDuration, Timestamp};

use crate::support::{moto, names};

/// PostgreSQL 15 with TLS required and `unaccent` allowed, as the Vectice runbook asks.
fn vectice_spec(names: &deploy_core::conformance::Names) -> DatabaseSpec {
    let mut spec = DatabaseSpec::postgres(names.resource("db"), "15", "db.t3.micro", PgIdentifier::new("dbadmin").unwrap());
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
    spec.max_storage_gib = Some(100);
    spec.admin_password = Some(PasswordRules::rds_master().generate(24).unwrap());
    spec
}

pub(crate) fn fast() -> Waiter {
    Waiter::new(Duration::from_secs(60)).with_delays(Duration::from_millis(10), Duration::from_millis(200))
}

pub(crate) fn rds(conf: &aws_config::SdkConfig, log: &RequestLog) -> RdsDatabase {
    AwsBackends::from_conf(conf).with_request_log(log).with_waiter(fast()).rds()
}

fn updated_fields(plan: &deploy_core::Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Update { fields } => Some(fields.iter().map(|f| f.field.clone())),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test]
async fn conformance_database() {
    let conf = moto!("rds::conformance_database");
    let suite = deploy_core::conformance::DatabaseSuite::postgres("15", "db.t3.micro", &PasswordRules::rds_master());
    suite.run(&rds(&conf, &RequestLog::new()), &names()).await;
}

#[tokio::test]
async fn the_parameter_group_and_instance_settings_are_read_back_and_a_second_ensure_writes_nothing() {
    let conf = moto!("rds::the_parameter_group_and_instance_settings_are_read_back_and_a_second_ensure_writes_nothing");
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut spec = vectice_spec(&n);
    spec.tags.insert("app".into(), "vectice".into());
    db.ensure_database(&spec).await.unwrap();
    assert_eq!((log.count("CreateDBParameterGroup"), log.count("ModifyDBParameterGroup"), log.count("CreateDBInstance")), (1, 1, 1));

    let raw = db.client();
    let group = parameter_group_name(&spec);
    let params = raw.describe_db_parameters().db_parameter_group_name(&group).send().await.unwrap();
    let get = |name: &str| params.parameters().iter().find(|p| p.parameter_name() == Some(name)).cloned().unwrap();
    assert_eq!(get("rds.force_ssl").parameter_value(), Some("1"));
    assert_eq!(get("rds.allowed_extensions").parameter_value(), Some("unaccent"));
    assert_eq!(get("rds.force_ssl").apply_method().map(|m| m.as_str()), Some("immediate"));
    let groups = raw.describe_db_parameter_groups().db_parameter_group_name(&group).send().await.unwrap();
    assert_eq!(groups.db_parameter_groups()[0].db_parameter_group_family(), Some("postgres15"));
    let instance = raw.describe_db_instances().db_instance_identifier(spec.name.as_str()).send().await.unwrap();
    let instance = &instance.db_instances()[0];
    assert_eq!(instance.db_parameter_groups()[0].db_parameter_group_name(), Some(group.as_str()));
    assert_eq!(instance.engine(), Some("postgres"));
    assert_eq!(instance.storage_encrypted(), Some(true));
    assert_eq!((instance.allocated_storage(), instance.max_allocated_storage()), (Some(20), Some(100)));
    assert_eq!((instance.deletion_protection(), instance.backup_retention_period()), (Some(true), Some(7)));
    assert_eq!(instance.copy_tags_to_snapshot(), Some(true));
    assert_eq!(instance.master_username(), Some("dbadmin"));

    log.clear();
    assert!(db.ensure_database(&spec).await.unwrap().is_empty());
    assert!(db.plan_database(&spec).await.unwrap().is_empty());
    assert!(log.mutating().is_empty(), "second ensure made mutating requests: {:?}", log.mutating());

    // TLS off changes the parameter group only; a new class and tags change the instance only where they differ.
    spec.require_tls = false;
    spec.instance_class = "db.t3.small".into();
    spec.tags.remove("app");
    spec.tags.insert("team".into(), "data".into());
    let plan = db.plan_database(&spec).await.unwrap();
    assert_eq!(updated_fields(&plan), ["instance_class", "require_tls", "tags"]);
    log.clear();
    db.ensure_database(&spec).await.unwrap();
    let written: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(written, ["ModifyDBParameterGroup", "ModifyDBInstance", "RemoveTagsFromResource", "AddTagsToResource"]);
    let info = db.describe_database(&spec.name).await.unwrap();
    assert!(!info.require_tls);
    assert_eq!(info.instance_class, "db.t3.small");
    assert_eq!(info.tags, spec.tags);
    assert!(db.plan_database(&spec).await.unwrap().is_empty());

    // Autoscaling off: the ceiling goes back to the allocated storage, read as none.
    spec.max_storage_gib = None;
    db.ensure_database(&spec).await.unwrap();
    assert_eq!(db.describe_database(&spec.name).await.unwrap().max_storage_gib, None);
    assert!(db.plan_database(&spec).await.unwrap().is_empty());

    db.set_deletion_protection(&spec.name, false).await.unwrap();
    db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new(spec.name.as_str())).await.unwrap();
    db.delete_parameter_group(&group).await.unwrap();
}

/// A VPC with two subnets, a DB subnet group over them and a security group.
pub(crate) async fn network(conf: &aws_config::SdkConfig, db: &RdsDatabase, prefix: &str) -> DatabaseNetwork {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let vpc = ec2.create_vpc().cidr_block("10.7.0.0/16").send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in ["eu-central-1a", "eu-central-1b"].iter().enumerate() {
        let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block(format!("10.7.{i}.0/24")).availability_zone(*zone).send().await.unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let sg = ec2.create_security_group().vpc_id(&vpc).group_name(format!("{prefix}-db")).description("database").send().await.unwrap();
    let group = format!("{prefix}-subnets");
    db.client()
        .create_db_subnet_group()
        .db_subnet_group_name(&group)
        .db_subnet_group_description("db")
        .set_subnet_ids(Some(subnets))
        .send()
        .await
        .unwrap();
    DatabaseNetwork { subnet_group: Some(group), security_groups: vec![sg.group_id().unwrap().to_owned()], ..DatabaseNetwork::default() }
}

#[tokio::test]
async fn restores_are_placed_like_their_source() {
    let conf = moto!("rds::restores_are_placed_like_their_source");
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut spec = vectice_spec(&n);
    spec.network = network(&conf, &db, n.prefix()).await;
    db.ensure_database(&spec).await.unwrap();
    let source = db.describe_database(&spec.name).await.unwrap();
    assert_eq!(source.network.subnet_group, spec.network.subnet_group);
    assert_eq!(source.network.security_groups, spec.network.security_groups);
    assert!(db.ensure_database(&spec).await.unwrap().is_empty());

    // The SIMPHERA runbook: restore to a point in time into a new instance with the source's subnet group and security groups.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let at = Timestamp::now().checked_sub(SignedDuration::from_millis(500)).unwrap();
    let too_early = source.latest_restorable_time.unwrap().checked_sub(SignedDuration::from_hours(24 * 8)).unwrap();
    let e =
        db.restore_to_point_in_time(&spec.name, RestorePoint::At(too_early), &RestoreTarget::new(n.resource("early"))).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("restore_time"), "a time before the 7-day retention window: {e:?}");
    let pitr = RestoreTarget::new(n.resource("pitr"));
    log.clear();
    let restored = db.restore_to_point_in_time(&spec.name, RestorePoint::At(at), &pitr).await.unwrap();
    assert_eq!(restored.network.subnet_group, spec.network.subnet_group);
    assert_eq!(restored.network.security_groups, spec.network.security_groups);
    assert!(restored.require_tls && restored.deletion_protection && restored.encrypted);
    assert_eq!(log.count("RestoreDBInstanceToPointInTime"), 1);

    // From a snapshot, onto another placement the target names.
    let snap = n.resource("snap");
    db.create_snapshot(&spec.name, &snap).await.unwrap();
    let mut elsewhere = RestoreTarget::new(n.resource("from-snap"));
    elsewhere.network = Some(DatabaseNetwork { subnet_group: spec.network.subnet_group.clone(), ..DatabaseNetwork::default() });
    let from_snapshot = db.restore_snapshot(&snap, &elsewhere).await.unwrap();
    assert_eq!(from_snapshot.network.subnet_group, spec.network.subnet_group);
    assert!(from_snapshot.require_tls, "the restored instance lost the parameter group");

    // Deleting with a final snapshot keeps one.
    for name in [&pitr.name, &elsewhere.name, &spec.name] {
        db.set_deletion_protection(name, false).await.unwrap();
    }
    let last = n.resource("final");
    db.delete_database(&spec.name, &FinalSnapshot::Take(last.clone()), &Confirm::new(spec.name.as_str())).await.unwrap();
    assert!(db.client().describe_db_snapshots().db_snapshot_identifier(last.as_str()).send().await.is_ok(), "no final snapshot");
    // Disaster recovery: the source is gone; its final snapshot comes back with the source's parameter group.
    let recovered = RestoreTarget { deletion_protection: false, ..RestoreTarget::new(n.resource("recovered")) };
    let back = db.restore_snapshot(&last, &recovered).await.unwrap();
    assert!(back.require_tls && back.allowed_extensions.iter().any(|e| e.as_str() == "unaccent"), "{back:?}");
    for name in [&pitr.name, &elsewhere.name, &recovered.name] {
        db.delete_database(name, &FinalSnapshot::Skip, &Confirm::new(name.as_str())).await.unwrap();
    }
    for s in [&snap, &last] {
        db.delete_snapshot(s, &Confirm::new(s.as_str())).await.unwrap();
    }
}

#[tokio::test]
async fn bad_input_fails_before_any_request() {
    let conf = crate::support::unreachable_config().await;
    let log = RequestLog::new();
    let db = rds(&conf, &log);
    let n = names();
    let mut spec = vectice_spec(&n);
    spec.instance_class = "Standard_D2ds_v4".into();
    assert_eq!(db.ensure_database(&spec).await.unwrap_err().invalid_field(), Some("instance_class"));
    let mut spec = vectice_spec(&n);
    spec.max_storage_gib = Some(10);
    assert_eq!(db.plan_database(&spec).await.unwrap_err().invalid_field(), Some("max_storage_gib"));
    let mut spec = vectice_spec(&n);
    spec.network.security_groups = vec!["web".into()];
    assert_eq!(db.ensure_database(&spec).await.unwrap_err().invalid_field(), Some("network.security_groups[0]"));
    let future = Timestamp::now().checked_add(SignedDuration::from_hours(2)).unwrap();
    let target = RestoreTarget::new(ResourceName::new("never").unwrap());
    let e = db.restore_to_point_in_time(&spec.name, RestorePoint::At(future), &target).await.unwrap_err();
    assert_eq!(e.invalid_field(), Some("restore_time"));
    let e = db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new("other")).await.unwrap_err();
    assert!(matches!(e, Error::ConfirmationRequired { .. }));
    assert!(log.requests().is_empty(), "{:?}", log.requests());
}

/// SIMPHERA's credential rotation of the administrator password on moto: the
/// new password goes to the pending secret, then to the instance
/// (`ModifyDBInstance` `MasterUserPassword`), then to the secret; with
/// `ModifyDBInstance` failing, the secret keeps the old password and the
/// pending one holds the new, which the next run finishes with.
#[tokio::test]
async fn the_admin_password_rotates_through_a_pending_secret_and_survives_a_failed_modify() {
    use deploy_core::SecretStore as _;
    use deploy_core::recipes::{password::pending_secret, rotate_admin_password};
    use secrecy::ExposeSecret as _;

    use crate::faults::{FailOperation, When};
    let conf = moto!("rds::the_admin_password_rotates_through_a_pending_secret_and_survives_a_failed_modify");
    let log = RequestLog::new();
    let modify = FailOperation::new("ModifyDBInstance", When::Before, 0);
    let aws = AwsBackends::from_conf(&conf).with_request_log(&log).with_waiter(fast()).with_interceptor(modify.interceptor());
    let (db, secrets) = (aws.rds(), aws.secrets());
    let n = names();
    let mut spec = vectice_spec(&n);
    let secret = deploy_core::SecretName::new(format!("{}-db-admin", n.prefix())).unwrap();
    let first = spec.admin_password.clone().unwrap();
    secrets.put_secret(&secret, first.secret().clone(), &Default::default()).await.unwrap();
    spec.admin_password_secret = Some(secret.clone());
    db.ensure_database(&spec).await.unwrap();
    let value = |s: deploy_core::SecretName| {
        let secrets = secrets.clone();
        async move { secrets.get_secret(&s).await.unwrap().value.expose_secret().to_owned() }
    };

    log.clear();
    rotate_admin_password(&db, &spec.name, &secrets, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    let second = value(secret.clone()).await;
    assert_ne!(second, first.expose());
    let ops: Vec<String> = log.mutating().iter().map(|r| r.operation.clone()).collect();
    assert_eq!(ops, ["CreateSecret", "ModifyDBInstance", "PutSecretValue", "DeleteSecret"], "{ops:?}");
    let pending = pending_secret(&secret).unwrap();
    assert!(!secrets.secret_exists(&pending).await.unwrap());

    modify.arm(1);
    rotate_admin_password(&db, &spec.name, &secrets, &secret, &PasswordRules::rds_master(), 24).await.unwrap_err();
    assert_eq!(modify.hits(), 1);
    assert_eq!(value(secret.clone()).await, second, "the secret changed before the instance took the password");
    let third = value(pending.clone()).await;
    let finished = rotate_admin_password(&db, &spec.name, &secrets, &secret, &PasswordRules::rds_master(), 24).await.unwrap();
    assert!(finished.resumed);
    assert_eq!(value(secret.clone()).await, third);
    assert!(!secrets.secret_exists(&pending).await.unwrap());

    db.set_deletion_protection(&spec.name, false).await.unwrap();
    db.delete_database(&spec.name, &FinalSnapshot::Skip, &Confirm::new(spec.name.as_str())).await.unwrap();
    secrets.delete_secret(&secret, &Confirm::new(secret.as_str())).await.unwrap();
}
