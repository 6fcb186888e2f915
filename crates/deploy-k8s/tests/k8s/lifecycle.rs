//! The Job flow against the in-process fake API server with a simulated pod lifecycle.

use std::time::Duration;

use deploy_core::Reconcile as _;
use deploy_core::bootstrap::direct::Bootstrapper;
use deploy_k8s::{DatabaseBootstrapJob, Error};

use crate::fake_api::{Behavior, FakeApi};
use crate::support::{ADMIN_PASSWORD, ROLE_PASSWORD, endpoint, endpoint_of, pg, settings, unique, vectice_spec};
use secrecy::ExposeSecret as _;

pub const JOB: &str = "vectice-databases";

pub fn bootstrap_job() -> DatabaseBootstrapJob {
    DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), settings()).unwrap()
}

/// Nothing of any run is left: Secrets, ConfigMaps, Jobs, pods; every Job
/// this run deleted went with background propagation and the uid precondition
/// of the Job it created.
pub fn assert_cleaned_up(fake: &FakeApi) {
    let (secrets, config_maps, jobs, pods) = fake.existing();
    assert!(secrets.is_empty() && config_maps.is_empty() && jobs.is_empty(), "left behind: {secrets:?} {config_maps:?} {jobs:?}");
    assert!(pods.is_empty(), "pods orphaned: {pods:?}");
    let deletions = fake.job_deletions();
    assert!(!deletions.is_empty(), "no job was deleted");
    assert!(deletions.iter().all(|(_, p)| p.as_deref() == Some("Background")), "{deletions:?}");
    let by_uid = fake.deletions();
    assert!(!by_uid.is_empty() && by_uid.iter().all(|d| d.uid_precondition.as_deref().is_some_and(|u| u.contains(&d.name))), "{by_uid:?}");
}

#[tokio::test]
async fn success_reports_the_changes_and_cleans_up() {
    let logs = "deploy-change: + create role vectice\ndeploy-change: + create database vectice\n";
    let fake = FakeApi::new(Behavior::Succeed { logs: logs.into() });
    let outcome = bootstrap_job().run(fake.client()).await.unwrap();
    assert_eq!(outcome.changes, ["+ create role vectice", "+ create database vectice"]);
    let run = outcome.job.clone();
    assert!(run.starts_with(&format!("{JOB}-")) && run.len() == JOB.len() + 6, "{run}");
    assert_eq!(fake.created_jobs(), std::slice::from_ref(&run));
    assert_cleaned_up(&fake);
    let requests = fake.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /api/v1/namespaces/ns/pods?") && r.contains(&format!("labelSelector=job-name%3D{run}"))),
        "{requests:#?}"
    );
    assert!(requests.iter().any(|r| r.starts_with(&format!("GET /api/v1/namespaces/ns/pods/{run}-abcde/log"))), "{requests:#?}");
    assert!(
        requests.iter().any(|r| r.contains("/jobs?") && r.contains("watch=true") && r.contains(&run)),
        "the job was not watched: {requests:#?}"
    );
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
            assert!(job.starts_with(JOB), "{job}");
            assert_eq!(reason, "BackoffLimitExceeded");
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
    let fake =
        FakeApi::new(Behavior::Hang { logs: "deploy-change: + create role vectice\n".into() }).with_seconds(Duration::from_millis(5));
    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    assert!(matches!(&err, Error::JobFailed { reason, .. } if reason == "DeadlineExceeded"), "{err:?}");
    assert_cleaned_up(&fake);
}

#[tokio::test]
async fn a_job_that_never_finishes_times_out_and_is_deleted() {
    let fake = FakeApi::new(Behavior::Stuck);
    let mut s = settings();
    s.wait_timeout = Duration::from_secs(1);
    let job = DatabaseBootstrapJob::new(JOB, endpoint(), vectice_spec("", ROLE_PASSWORD), s).unwrap();
    let started = std::time::Instant::now();
    let err = job.run(fake.client()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_cleaned_up(&fake);
    assert!(matches!(deploy_core::Error::from(err), deploy_core::Error::Timeout { .. }));
}

#[tokio::test]
async fn a_finished_previous_run_is_left_to_its_ttl() {
    let fake = FakeApi::new(Behavior::Succeed { logs: String::new() });
    let previous = format!("{JOB}-old00");
    fake.seed_job(JOB, &previous, Some("Failed"));
    let outcome = bootstrap_job().run(fake.client()).await.unwrap();
    assert!(outcome.changes.is_empty(), "{outcome:?}");
    let deletions = fake.job_deletions();
    assert_eq!(deletions.len(), 1, "only this run's job: {deletions:?}");
    assert_eq!(deletions[0].0, outcome.job);
    assert_eq!(fake.existing().2, [previous], "the previous run's job is not this run's to delete");
}

#[tokio::test]
async fn a_running_previous_run_stops_the_second_run_before_it_creates_anything() {
    let fake = FakeApi::new(Behavior::Succeed { logs: String::new() });
    let previous = format!("{JOB}-old00");
    fake.seed_job(JOB, &previous, None);
    // Another Job's run, and a finished run of this Job, do not count.
    fake.seed_job("another-job", "another-job-xyz12", None);
    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    assert!(matches!(&err, Error::AlreadyRunning { job } if *job == previous), "{err:?}");
    assert!(fake.created_jobs().iter().all(|j| j.contains("old00") || j.contains("xyz12")), "{:?}", fake.created_jobs());
    assert!(fake.created_secrets().is_empty() && fake.created_config_maps().is_empty());
    assert!(fake.deletions().is_empty(), "the running job is left alone: {:?}", fake.deletions());
    assert_eq!(fake.existing().2.len(), 2);
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
    // The Job holds verifiers, not passwords: it sets the two role passwords again, and nothing else.
    assert_eq!(second.changes.len(), 2, "{second:?}");
    assert!(second.changes.iter().all(|c| c.contains("password")), "{second:?}");
    assert_ne!(first.job, second.job, "each run has its own job");
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
