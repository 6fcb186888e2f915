//! The Job flow against the in-process fake API server with a simulated pod lifecycle.

use std::time::Duration;

use deploy_core::bootstrap::direct::Bootstrapper;
use deploy_k8s::{DatabaseBootstrapJob, Error, PgCopyJob};

use crate::fake_api::{Behavior, FakeApi};
use crate::support::{ADMIN_PASSWORD, ROLE_PASSWORD, endpoint, endpoint_of, pg, settings, unique, vectice_spec};
use secrecy::ExposeSecret as _;

const JOB: &str = "vectice-databases";

fn bootstrap_job() -> DatabaseBootstrapJob {
    DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap()
}

fn assert_cleaned_up(fake: &FakeApi) {
    let (secrets, config_maps, jobs, pods) = fake.existing();
    assert!(secrets.is_empty() && config_maps.is_empty() && jobs.is_empty(), "left behind: {secrets:?} {config_maps:?} {jobs:?}");
    assert!(pods.is_empty(), "pods orphaned: {pods:?}");
    let deletions = fake.job_deletions();
    assert!(!deletions.is_empty() && deletions.iter().all(|(_, p)| p.as_deref() == Some("Background")), "{deletions:?}");
}

#[tokio::test]
async fn success_reports_the_changes_and_cleans_up() {
    let logs = "deploy-change: + create role vectice\ndeploy-change: + create database vectice\n";
    let fake = FakeApi::new(Behavior::Succeed { logs: logs.into() });
    let outcome = bootstrap_job().run(fake.client()).await.unwrap();
    assert_eq!(outcome.changes, ["+ create role vectice", "+ create database vectice"]);
    assert_eq!(outcome.job, JOB);
    assert_cleaned_up(&fake);
    let requests = fake.requests();
    assert!(requests.iter().any(|r| r.starts_with("GET /api/v1/namespaces/ns/pods?") && r.contains("labelSelector=job-name%3Dvectice-databases")), "{requests:#?}");
    assert!(requests.iter().any(|r| r.starts_with("GET /api/v1/namespaces/ns/pods/vectice-databases-abcde/log")));
    assert!(requests.iter().any(|r| r.contains("/jobs?") && r.contains("watch=true")) || requests.iter().any(|r| r.contains("/jobs?")));
}

#[tokio::test]
async fn failure_carries_psql_error_lines_without_secrets() {
    let logs = format!(
        "deploy-change: + create role vectice\npsql:/etc/deploy/bootstrap.sql:40: ERROR:  permission denied to create database\nALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2Vy'\npsql: FATAL: echo {ADMIN_PASSWORD}\n"
    );
    let fake = FakeApi::new(Behavior::Fail { logs });
    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    match &err {
        Error::JobFailed { job, reason, errors } => {
            assert_eq!((job.as_str(), reason.as_str()), (JOB, "BackoffLimitExceeded"));
            assert_eq!(errors[0], "psql:/etc/deploy/bootstrap.sql:40: ERROR:  permission denied to create database");
            assert_eq!(errors.len(), 2, "{errors:?}");
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    let text = format!("{err} {err:?}");
    assert!(text.contains("permission denied to create database"));
    assert!(!text.contains("SENTINEL") && !text.contains("SCRAM-SHA-256$4096"), "{text}");
    assert_cleaned_up(&fake);
    let core: deploy_core::Error = err.into();
    assert!(!core.is_retryable());
}

#[tokio::test]
async fn a_deadline_exceeded_job_fails_with_its_reason() {
    let fake = FakeApi::new(Behavior::Hang { logs: "deploy-change: + create role vectice\n".into() });
    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    assert!(matches!(&err, Error::JobFailed { reason, .. } if reason == "DeadlineExceeded"), "{err:?}");
    assert_cleaned_up(&fake);
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out_and_is_deleted() {
    let fake = FakeApi::new(Behavior::Stuck);
    let mut s = settings();
    s.wait_timeout = Duration::from_millis(300);
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), s).unwrap();
    let started = std::time::Instant::now();
    let err = job.run(fake.client()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_cleaned_up(&fake);
    assert!(matches!(deploy_core::Error::from(err), deploy_core::Error::Timeout { .. }));
}

#[tokio::test]
async fn a_finished_previous_job_is_deleted_first() {
    let fake = FakeApi::new(Behavior::Succeed { logs: String::new() });
    fake.seed_job(JOB, Some("Failed"));
    let outcome = bootstrap_job().run(fake.client()).await.unwrap();
    assert!(outcome.changes.is_empty());
    let deletions = fake.job_deletions();
    assert_eq!(deletions.len(), 2, "the previous job, then this run's: {deletions:?}");
    assert_cleaned_up(&fake);
}

#[tokio::test]
async fn a_running_previous_job_stops_the_second_run_before_it_creates_anything() {
    let fake = FakeApi::new(Behavior::Succeed { logs: String::new() });
    fake.seed_job(JOB, None);
    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    assert!(matches!(&err, Error::AlreadyRunning { job } if job == JOB), "{err:?}");
    assert!(fake.created_secrets().is_empty() && fake.created_config_maps().is_empty());
    assert!(fake.job_deletions().is_empty(), "the running job is left alone");
    assert_eq!(fake.existing().2, [JOB]);
    assert!(matches!(deploy_core::Error::from(err), deploy_core::Error::Conflict { .. }));
}

/// The fake kubelet runs the Job's real command (psql with the script, CA and
/// Secret) against the harness's PostgreSQL: the in-cluster path end to end.
#[tokio::test]
async fn the_job_command_bootstraps_a_real_server_twice() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let suffix = format!("_k8s_{u}");
    let spec = vectice_spec(&suffix, "role-pw-k8s");
    let job = DatabaseBootstrapJob::new(format!("boot-{u}"), endpoint_of(&pg, "postgres", &pg.ca_file), spec.clone(), settings()).unwrap();
    let fake = FakeApi::new(Behavior::Exec);
    let first = job.run(fake.client()).await.unwrap();
    assert!(first.changes.iter().any(|c| c.contains("create database") && c.contains(&format!("keycloak{suffix}"))), "{first:?}");
    let second = job.run(fake.client()).await.unwrap();
    assert!(second.changes.iter().all(|c| c.contains("password")), "{second:?}");
    assert!(Bootstrapper::new(pg.admin()).plan(&spec).await.unwrap().is_empty());
    assert_cleaned_up(&fake);

    // Under verify-full, a CA that did not sign the server's certificate fails the Job with psql's error.
    let wrong = DatabaseBootstrapJob::new(format!("wrong-{u}"), endpoint_of(&pg, "postgres", &pg.wrong_ca_file), spec, settings()).unwrap();
    let err = wrong.run(fake.client()).await.unwrap_err();
    assert!(err.job_errors().iter().any(|l| l.contains("certificate verify failed")), "{err:?}");
    assert!(!format!("{err:?}").contains(pg.password.expose_secret()));

    let admin = pg.admin().connect().await.unwrap();
    for db in [format!("vectice{suffix}"), format!("keycloak{suffix}")] {
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)")).await.unwrap();
    }
    for role in [format!("deeploy{suffix}"), format!("vectice{suffix}")] {
        admin.batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\"")).await.unwrap();
    }
}

/// SIMPHERA's restore step for real: pg_dump | pg_restore --clean --if-exists, twice.
#[tokio::test]
async fn the_copy_job_copies_a_real_database_twice() {
    let Some(pg) = pg() else { return };
    let u = unique();
    let (source, target) = (format!("copy_src_{u}"), format!("copy_dst_{u}"));
    let admin = pg.admin().connect().await.unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {source}")).await.unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {target}")).await.unwrap();
    let src = pg.admin().connect_to(&source).await.unwrap();
    src.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')").await.unwrap();
    let dst = pg.admin().connect_to(&target).await.unwrap();
    dst.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (9, 'stale')").await.unwrap();

    let copy = PgCopyJob::new(format!("copy-{u}"), endpoint_of(&pg, &source, &pg.ca_file), endpoint_of(&pg, &target, &pg.ca_file), settings()).unwrap();
    let fake = FakeApi::new(Behavior::Exec);
    for _ in 0..2 {
        let outcome = copy.run(fake.client()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.changes.len(), 1, "{outcome:?}");
        let rows = dst.query("SELECT id, v FROM t ORDER BY id", &[]).await.unwrap();
        let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        assert_eq!(rows, [(1, "a".to_owned()), (2, "b".to_owned())]);
    }
    assert_cleaned_up(&fake);
    drop((src, dst));
    admin.batch_execute(&format!("DROP DATABASE {source} WITH (FORCE)")).await.unwrap();
    admin.batch_execute(&format!("DROP DATABASE {target} WITH (FORCE)")).await.unwrap();
}
