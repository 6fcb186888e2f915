//! What moto cannot show, with `aws-smithy-mocks` in place of the service:
//! waits following RDS through its states (moto makes instances available at
//! once), a wait ending on a failed state or at its deadline, and the SDK's
//! retries of throttling (503 SlowDown) before an error reaches the caller.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_rds::operation::create_db_instance::CreateDbInstanceOutput;
use aws_sdk_rds::operation::create_db_parameter_group::CreateDbParameterGroupOutput;
use aws_sdk_rds::operation::delete_db_instance::DeleteDbInstanceOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::operation::describe_db_parameters::DescribeDbParametersOutput;
use aws_sdk_rds::operation::modify_db_parameter_group::ModifyDbParameterGroupOutput;
use aws_sdk_rds::types::{DbInstance, DbParameterGroupStatus, Parameter};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_smithy_mocks::{RuleMode, mock};
use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use deploy_aws::rds::RdsDatabase;
use deploy_aws::s3::S3Store;
use deploy_core::database::{DatabaseSpec, FinalSnapshot};
use deploy_core::observe::{Event, Observer};
use deploy_core::plan::Action;
use deploy_core::waiter::Waiter;
use deploy_core::{BucketName, Confirm, Database, Error, ObjectKey, ObjectStoreExt, PasswordRules, PgIdentifier, ResourceName};

use crate::support::mock_context;

const DB: &str = "prod-db";

fn retries(max: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

fn spec() -> DatabaseSpec {
    let mut spec = DatabaseSpec::postgres(ResourceName::new(DB).unwrap(), "15", "db.t4g.medium", PgIdentifier::new("dbadmin").unwrap());
    spec.allowed_extensions = vec![PgIdentifier::new("unaccent").unwrap()];
    spec.admin_password = Some(PasswordRules::rds_master().generate(24).unwrap());
    spec
}

fn instance(status: &str) -> DescribeDbInstancesOutput {
    let db = DbInstance::builder()
        .db_instance_identifier(DB)
        .db_instance_status(status)
        .engine("postgres")
        .engine_version("15.7")
        .db_instance_class("db.t4g.medium")
        .allocated_storage(20)
        .storage_encrypted(true)
        .deletion_protection(true)
        .backup_retention_period(7)
        .db_instance_arn(format!("arn:aws:rds:eu-central-1:123456789012:db:{DB}"))
        .db_parameter_groups(DbParameterGroupStatus::builder().db_parameter_group_name(format!("{DB}-postgres15")).build())
        .build();
    DescribeDbInstancesOutput::builder().db_instances(db).build()
}

/// An RDS error response, as RDS's query protocol sends it.
fn rds_error(status: u16, code: &str) -> HttpResponse {
    let body = format!(
        r#"<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code}</Message></Error><RequestId>1</RequestId></ErrorResponse>"#
    );
    HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
}

fn group_parameters() -> DescribeDbParametersOutput {
    DescribeDbParametersOutput::builder()
        .parameters(Parameter::builder().parameter_name("rds.force_ssl").parameter_value("1").build())
        .parameters(Parameter::builder().parameter_name("rds.allowed_extensions").parameter_value("unaccent").build())
        .build()
}

/// A waiter polling every few milliseconds that records the states it saw.
fn recording_waiter(timeout: Duration) -> (Waiter, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let observer = Observer::new(move |e| {
        if let Event::WaitPolled { state, .. } = e {
            s.lock().unwrap().push(state.clone());
        }
    });
    let waiter = Waiter::new(timeout).with_delays(Duration::from_millis(2), Duration::from_millis(10)).with_observer(observer);
    (waiter, seen)
}

#[tokio::test]
async fn ensure_waits_from_creating_to_available() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .http_response(|| rds_error(404, "DBInstanceNotFound"))
        .output(|| instance("creating"))
        .output(|| instance("creating"))
        .output(|| instance("backing-up"))
        .output(|| instance("available"))
        .repeatedly()
        .build();
    let parameters = mock!(aws_sdk_rds::Client::describe_db_parameters)
        .sequence()
        .http_response(|| rds_error(404, "DBParameterGroupNotFound"))
        .output(group_parameters)
        .repeatedly()
        .build();
    let create_group =
        mock!(aws_sdk_rds::Client::create_db_parameter_group).then_output(|| CreateDbParameterGroupOutput::builder().build());
    let modify_group =
        mock!(aws_sdk_rds::Client::modify_db_parameter_group).then_output(|| ModifyDbParameterGroupOutput::builder().build());
    let create = mock!(aws_sdk_rds::Client::create_db_instance).then_output(|| CreateDbInstanceOutput::builder().build());
    let ctx = mock_context(RuleMode::MatchAny, [&describe, &parameters, &create_group, &modify_group, &create], "us-east-1", None);
    let (waiter, seen) = recording_waiter(Duration::from_secs(10));
    let db = RdsDatabase::new(&ctx).with_waiter(waiter);

    let plan = db.ensure_database(&spec()).await.unwrap();
    assert!(matches!(plan.changes.as_slice(), [c] if c.action == Action::Create));
    assert_eq!(*seen.lock().unwrap(), ["creating", "creating", "backing-up"]);
    assert_eq!((create.num_calls(), describe.num_calls()), (1, 5));
}

#[tokio::test]
async fn delete_waits_until_the_instance_is_gone() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(|| {
            let mut out = instance("available");
            out.db_instances.as_mut().unwrap()[0].deletion_protection = Some(false);
            out
        })
        .output(|| instance("deleting"))
        .output(|| instance("deleting"))
        .http_response(|| rds_error(404, "DBInstanceNotFound"))
        .build();
    let parameters = mock!(aws_sdk_rds::Client::describe_db_parameters).then_output(group_parameters);
    let delete = mock!(aws_sdk_rds::Client::delete_db_instance).then_output(|| DeleteDbInstanceOutput::builder().build());
    let ctx = mock_context(RuleMode::MatchAny, [&describe, &parameters, &delete], "us-east-1", None);
    let (waiter, seen) = recording_waiter(Duration::from_secs(10));
    let db = RdsDatabase::new(&ctx).with_waiter(waiter);
    let name = ResourceName::new(DB).unwrap();
    db.delete_database(&name, &FinalSnapshot::Skip, &Confirm::new(DB)).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["deleting", "deleting"]);
    assert_eq!(delete.num_calls(), 1);
}

#[tokio::test]
async fn a_failed_state_ends_the_wait_and_a_stuck_one_times_out() {
    let failing = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(|| instance("modifying"))
        .output(|| instance("incompatible-parameters"))
        .repeatedly()
        .build();
    let parameters = mock!(aws_sdk_rds::Client::describe_db_parameters).then_output(group_parameters);
    let ctx = mock_context(RuleMode::MatchAny, [&failing, &parameters], "us-east-1", None);
    let (waiter, _) = recording_waiter(Duration::from_secs(10));
    let e = RdsDatabase::new(&ctx).with_waiter(waiter).ensure_database(&spec()).await.unwrap_err();
    assert!(matches!(&e, Error::Conflict { reason, .. } if reason.contains("failed")), "{e:?}");

    let stuck = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| instance("modifying"));
    let parameters = mock!(aws_sdk_rds::Client::describe_db_parameters).then_output(group_parameters);
    let ctx = mock_context(RuleMode::MatchAny, [&stuck, &parameters], "us-east-1", None);
    let (waiter, _) = recording_waiter(Duration::from_millis(100));
    let e = RdsDatabase::new(&ctx).with_waiter(waiter).ensure_database(&spec()).await.unwrap_err();
    match e {
        Error::Timeout { what, last_state, .. } => {
            assert_eq!(what, format!("database {DB} to be available"));
            // The deadline also bounds each poll: a poll it cuts short is named after the state last seen.
            assert!(last_state == "modifying" || last_state.starts_with("modifying (poll "), "{last_state}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_while_waiting_is_one_more_pending_poll() {
    let describe = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(|| instance("creating"))
        .times(2)
        .http_response(|| rds_error(400, "Throttling"))
        .output(|| instance("available"))
        .repeatedly()
        .build();
    let parameters = mock!(aws_sdk_rds::Client::describe_db_parameters).then_output(group_parameters);
    // No SDK retries: the waiter sees the throttling error itself.
    let ctx = mock_context(RuleMode::MatchAny, [&describe, &parameters], "us-east-1", Some(retries(1)));
    let (waiter, seen) = recording_waiter(Duration::from_secs(10));
    RdsDatabase::new(&ctx).with_waiter(waiter).ensure_database(&spec()).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], "creating");
    assert!(seen[1].starts_with("error: throttled by aws-rds"), "{seen:?}");
}

fn slow_down() -> Option<String> {
    Some("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".to_owned())
}

#[tokio::test]
async fn s3_slow_down_is_retried_by_the_sdk_then_reported_as_throttled() {
    let bucket = BucketName::new("prod-assets").unwrap();
    let key = ObjectKey::new("k").unwrap();
    let recovering = mock!(aws_sdk_s3::Client::get_object)
        .sequence()
        .http_status(503, slow_down())
        .times(2)
        .output(|| GetObjectOutput::builder().body(aws_sdk_s3::primitives::ByteStream::from_static(b"data")).content_length(4).build())
        .build();
    let ctx = mock_context(RuleMode::Sequential, [&recovering], "us-east-1", Some(retries(3)));
    let store = S3Store::new(&ctx);
    assert_eq!(store.get_bytes(&bucket, &key).await.unwrap(), "data");
    assert_eq!(recovering.num_calls(), 3);

    let throttled = mock!(aws_sdk_s3::Client::get_object).sequence().http_status(503, slow_down()).times(3).build();
    let ctx = mock_context(RuleMode::Sequential, [&throttled], "us-east-1", Some(retries(3)));
    let e = S3Store::new(&ctx).get_bytes(&bucket, &key).await.unwrap_err();
    assert!(matches!(&e, Error::Throttled { provider: "aws-s3", message, .. } if message.contains("SlowDown")), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(throttled.num_calls(), 3);
}

/// An Aurora cluster as RDS answers it, with its writer listed as a member.
fn cluster(status: &str) -> aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput {
    let c = aws_sdk_rds::types::DbCluster::builder()
        .db_cluster_identifier(DB)
        .status(status)
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .storage_encrypted(true)
        .deletion_protection(true)
        .backup_retention_period(7)
        .db_cluster_arn(format!("arn:aws:rds:eu-central-1:123456789012:cluster:{DB}"))
        .db_cluster_parameter_group(format!("{DB}-aurora-postgresql15"))
        .db_cluster_members(
            aws_sdk_rds::types::DbClusterMember::builder().db_instance_identifier(format!("{DB}-1")).is_cluster_writer(true).build(),
        )
        .build();
    aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput::builder().db_clusters(c).build()
}

fn cluster_instances(status: Option<&str>) -> DescribeDbInstancesOutput {
    let mut out = DescribeDbInstancesOutput::builder();
    if let Some(status) = status {
        out = out.db_instances(
            DbInstance::builder()
                .db_instance_identifier(format!("{DB}-1"))
                .db_cluster_identifier(DB)
                .db_instance_status(status)
                .db_instance_class("db.r6g.large")
                .availability_zone("eu-central-1a")
                .build(),
        );
    }
    out.build()
}

#[tokio::test]
async fn an_aurora_ensure_waits_for_the_cluster_then_for_its_writer() {
    let clusters = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .sequence()
        .http_response(|| rds_error(404, "DBClusterNotFoundFault"))
        .times(2)
        .output(|| cluster("creating"))
        .output(|| cluster("creating"))
        .output(|| cluster("available"))
        .repeatedly()
        .build();
    let instances = mock!(aws_sdk_rds::Client::describe_db_instances)
        .sequence()
        .output(|| cluster_instances(None))
        .times(3)
        .output(|| cluster_instances(Some("creating")))
        .output(|| cluster_instances(Some("available")))
        .repeatedly()
        .build();
    let parameters = mock!(aws_sdk_rds::Client::describe_db_cluster_parameters)
        .sequence()
        .http_response(|| rds_error(404, "DBParameterGroupNotFound"))
        .output(|| {
            aws_sdk_rds::operation::describe_db_cluster_parameters::DescribeDbClusterParametersOutput::builder()
                .parameters(Parameter::builder().parameter_name("rds.force_ssl").parameter_value("1").build())
                .build()
        })
        .repeatedly()
        .build();
    let globals = mock!(aws_sdk_rds::Client::describe_global_clusters).then_http_response(|| rds_error(404, "GlobalClusterNotFoundFault"));
    let create_group = mock!(aws_sdk_rds::Client::create_db_cluster_parameter_group)
        .then_output(|| aws_sdk_rds::operation::create_db_cluster_parameter_group::CreateDbClusterParameterGroupOutput::builder().build());
    let modify_group = mock!(aws_sdk_rds::Client::modify_db_cluster_parameter_group)
        .then_output(|| aws_sdk_rds::operation::modify_db_cluster_parameter_group::ModifyDbClusterParameterGroupOutput::builder().build());
    let create_cluster = mock!(aws_sdk_rds::Client::create_db_cluster)
        .then_output(|| aws_sdk_rds::operation::create_db_cluster::CreateDbClusterOutput::builder().build());
    let create_instance = mock!(aws_sdk_rds::Client::create_db_instance).then_output(|| CreateDbInstanceOutput::builder().build());
    let ctx = mock_context(
        RuleMode::MatchAny,
        [&clusters, &instances, &parameters, &globals, &create_group, &modify_group, &create_cluster, &create_instance],
        "us-east-1",
        None,
    );
    let (waiter, seen) = recording_waiter(Duration::from_secs(10));
    let db = RdsDatabase::new(&ctx).with_waiter(waiter);
    let mut spec = DatabaseSpec::with_engine(
        ResourceName::new(DB).unwrap(),
        deploy_core::database::Engine::AuroraPostgresql,
        "15",
        "db.r6g.large",
        PgIdentifier::new("dbadmin").unwrap(),
    );
    spec.admin_password = Some(PasswordRules::rds_master().generate(24).unwrap());

    let plan = db.ensure_database(&spec).await.unwrap();
    assert!(plan.changes.iter().all(|c| c.action == Action::Create), "{plan}");
    assert_eq!(*seen.lock().unwrap(), ["creating", "creating", &format!("instance {DB}-1 creating")]);
    assert_eq!((create_cluster.num_calls(), create_instance.num_calls()), (1, 1));
}

/// EKS Pod Identity associations (moto does not model them): created when
/// missing, left alone when they name the role, updated in place when they
/// name another, deleted.
mod pod_identity {
    use crate::support::mock_context;
    use aws_sdk_eks::operation::create_pod_identity_association::CreatePodIdentityAssociationOutput;
    use aws_sdk_eks::operation::delete_pod_identity_association::DeletePodIdentityAssociationOutput;
    use aws_sdk_eks::operation::describe_pod_identity_association::DescribePodIdentityAssociationOutput;
    use aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput;
    use aws_sdk_eks::operation::update_pod_identity_association::UpdatePodIdentityAssociationOutput;
    use aws_sdk_eks::types::{PodIdentityAssociation, PodIdentityAssociationSummary};
    use aws_smithy_mocks::{RuleMode, mock};
    use deploy_aws::pod_access::PodAccess;
    use deploy_aws::pod_access::PodIdentityAssociationSpec;
    use deploy_core::Reconcile as _;
    use deploy_core::plan::Action;
    use deploy_core::{ResourceName, ServiceAccountRef};

    const ROLE: &str = "arn:aws:iam::123456789012:role/prod-pod-app";
    const OTHER: &str = "arn:aws:iam::123456789012:role/prod-pod-old";

    fn association(role: &str) -> PodIdentityAssociation {
        PodIdentityAssociation::builder()
            .cluster_name("prod-eks")
            .namespace("deeploy")
            .service_account("deeploy-app")
            .role_arn(role)
            .association_id("a-123")
            .association_arn("arn:aws:eks:eu-central-1:123456789012:podidentityassociation/prod-eks/a-123")
            .build()
    }

    fn listed(found: bool) -> ListPodIdentityAssociationsOutput {
        let mut out = ListPodIdentityAssociationsOutput::builder();
        if found {
            out = out.associations(
                PodIdentityAssociationSummary::builder()
                    .cluster_name("prod-eks")
                    .namespace("deeploy")
                    .service_account("deeploy-app")
                    .association_id("a-123")
                    .build(),
            );
        }
        out.build()
    }

    fn access(eks: deploy_aws::AwsContext) -> PodAccess {
        // IAM is not called by the association methods: only the EKS operations have rules.
        PodAccess::new(&eks)
    }

    fn names() -> (ResourceName, ServiceAccountRef) {
        (ResourceName::new("prod-eks").unwrap(), ServiceAccountRef::new("deeploy", "deeploy-app").unwrap())
    }

    #[tokio::test]
    async fn created_when_missing() {
        let list = mock!(aws_sdk_eks::Client::list_pod_identity_associations)
            .match_requests(|r| r.namespace() == Some("deeploy") && r.service_account() == Some("deeploy-app"))
            .then_output(|| listed(false));
        let create = mock!(aws_sdk_eks::Client::create_pod_identity_association)
            .match_requests(|r| {
                r.role_arn() == Some(ROLE) && r.namespace() == Some("deeploy") && r.service_account() == Some("deeploy-app")
            })
            .then_output(|| CreatePodIdentityAssociationOutput::builder().association(association(ROLE)).build());
        let eks = mock_context(RuleMode::MatchAny, [&list, &create], "us-east-1", None);
        let (cluster, sa) = names();
        let done = access(eks)
            .ensure(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: ROLE.to_owned() })
            .await
            .unwrap();
        assert!(matches!(done.plan.changes.as_slice(), [c] if c.action == Action::Create), "{}", done.plan);
        assert_eq!((done.info.role_arn.as_str(), done.info.id.as_str()), (ROLE, "a-123"));
        assert_eq!((list.num_calls(), create.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn no_call_when_it_names_the_role() {
        let list = mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_output(|| listed(true));
        let describe = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
            .match_requests(|r| r.association_id() == Some("a-123"))
            .then_output(|| DescribePodIdentityAssociationOutput::builder().association(association(ROLE)).build());
        let create = mock!(aws_sdk_eks::Client::create_pod_identity_association)
            .then_output(|| CreatePodIdentityAssociationOutput::builder().build());
        let update = mock!(aws_sdk_eks::Client::update_pod_identity_association)
            .then_output(|| UpdatePodIdentityAssociationOutput::builder().build());
        let eks = mock_context(RuleMode::MatchAny, [&list, &describe, &create, &update], "us-east-1", None);
        let (cluster, sa) = names();
        let access = access(eks);
        let done = access
            .ensure(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: ROLE.to_owned() })
            .await
            .unwrap();
        assert!(done.plan.is_empty(), "{}", done.plan);
        assert!(
            access
                .plan(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: ROLE.to_owned() })
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!((describe.num_calls(), create.num_calls(), update.num_calls()), (2, 0, 0));
    }

    #[tokio::test]
    async fn updated_in_place_when_the_role_differs_then_deleted() {
        let list = mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_output(|| listed(true));
        let describe = mock!(aws_sdk_eks::Client::describe_pod_identity_association)
            .then_output(|| DescribePodIdentityAssociationOutput::builder().association(association(OTHER)).build());
        let update = mock!(aws_sdk_eks::Client::update_pod_identity_association)
            .match_requests(|r| r.association_id() == Some("a-123") && r.role_arn() == Some(ROLE))
            .then_output(|| UpdatePodIdentityAssociationOutput::builder().association(association(ROLE)).build());
        let create = mock!(aws_sdk_eks::Client::create_pod_identity_association)
            .then_output(|| CreatePodIdentityAssociationOutput::builder().build());
        let delete = mock!(aws_sdk_eks::Client::delete_pod_identity_association)
            .match_requests(|r| r.association_id() == Some("a-123") && r.cluster_name() == Some("prod-eks"))
            .then_output(|| DeletePodIdentityAssociationOutput::builder().build());
        let eks = mock_context(RuleMode::MatchAny, [&list, &describe, &update, &create, &delete], "us-east-1", None);
        let (cluster, sa) = names();
        let access = access(eks);
        let planned = access
            .plan(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: ROLE.to_owned() })
            .await
            .unwrap();
        assert_eq!(update.num_calls(), 0, "planning changes nothing");
        let done = access
            .ensure(&PodIdentityAssociationSpec { cluster: cluster.clone(), service_account: sa.clone(), role_arn: ROLE.to_owned() })
            .await
            .unwrap();
        for plan in [&planned, &done.plan] {
            let [c] = plan.changes.as_slice() else { panic!("{plan}") };
            let Action::Update { fields } = &c.action else { panic!("{plan}") };
            assert_eq!((fields[0].field.as_str(), fields[0].from.as_str(), fields[0].to.as_str()), ("role_arn", OTHER, ROLE));
        }
        assert_eq!(done.info.role_arn, ROLE);
        assert_eq!((update.num_calls(), create.num_calls()), (1, 0));
        access.delete_pod_identity_association(&cluster, &sa).await.unwrap();
        assert_eq!(delete.num_calls(), 1);
    }
}
