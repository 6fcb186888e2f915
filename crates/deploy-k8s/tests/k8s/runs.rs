//! Runs that fail safe, on the fake API server: a dropped future and a
//! crashed caller leave nothing behind for good, and concurrent runs never
//! delete each other's objects.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use deploy_k8s::{DatabaseBootstrapJob, Error, JobOutcome};

use crate::fake_api::{Behavior, FakeApi};
use crate::lifecycle::{JOB, assert_cleaned_up, bootstrap_job};
use crate::support::{ROLE_PASSWORD, endpoint, settings, vectice_spec};

type Run = Pin<Box<dyn Future<Output = deploy_k8s::Result<JobOutcome>> + Send>>;

/// Start `job` on `fake` and poll it until the fake holds its Secret and
/// ConfigMap (the run created all three objects and is waiting): the future, mid-run.
async fn started(fake: &FakeApi, job: DatabaseBootstrapJob) -> Run {
    let client = fake.client();
    let mut run: Run = Box::pin(async move { job.run(client).await });
    let has_secret = fake.wait_until("the run to create its objects", Duration::from_secs(5), |f| {
        let (secrets, config_maps, _, _) = f.existing();
        !secrets.is_empty() && !config_maps.is_empty()
    });
    tokio::select! {
        outcome = &mut run => panic!("the run ended before it was dropped: {outcome:?}"),
        () = has_secret => {}
    }
    run
}

fn nothing_left(f: &FakeApi) -> bool {
    let (secrets, config_maps, jobs, pods) = f.existing();
    secrets.is_empty() && config_maps.is_empty() && jobs.is_empty() && pods.is_empty()
}

#[tokio::test]
async fn a_dropped_run_deletes_what_it_created() {
    let fake = FakeApi::new(Behavior::Hang { logs: String::new() });
    let run = started(&fake, bootstrap_job()).await;
    let (secrets, config_maps, jobs, _) = fake.existing();
    assert_eq!((secrets.len(), config_maps.len(), jobs.len()), (1, 1, 1), "mid-run");
    drop(run);
    // A task on the runtime deletes them: well before the Job's deadline (60 s) would.
    fake.wait_until("the dropped run's objects to be deleted", Duration::from_secs(5), nothing_left).await;
    assert_cleaned_up(&fake);
}

#[tokio::test]
async fn a_crashed_caller_leaves_nothing_behind_for_good() {
    // The caller dies mid-run (the future is forgotten: no drop, no clean-up),
    // so only the cluster acts: the Job's deadline fails it, its TTL deletes
    // it, and the garbage collector deletes the Secret and ConfigMap it owns.
    let fake = FakeApi::new(Behavior::Hang { logs: String::new() }).with_seconds(Duration::from_millis(10));
    let job = DatabaseBootstrapJob::new(
        JOB,
        endpoint(),
        vectice_spec("", ROLE_PASSWORD),
        deploy_k8s::JobSettings { active_deadline: Duration::from_secs(5), ttl_after_finished: Duration::from_secs(5), ..settings() },
    )
    .unwrap();
    let run = started(&fake, job).await;
    std::mem::forget(run);
    fake.wait_until("the deadline, the TTL and the garbage collector", Duration::from_secs(5), nothing_left).await;
    assert!(fake.deletions().iter().all(|d| d.kind == "jobs"), "only the TTL deleted: {:?}", fake.deletions());
    let secret = &fake.created_secrets()[0];
    assert_eq!(secret["metadata"]["ownerReferences"][0]["kind"], "Job");
}

#[tokio::test]
async fn a_second_run_while_the_first_runs_is_refused_and_the_first_finishes() {
    let fake =
        FakeApi::new(Behavior::Hang { logs: "deploy-change: + create role vectice\n".into() }).with_seconds(Duration::from_millis(10));
    // The first run's pod runs until its deadline (60 fake seconds: 600 ms).
    let (job, client) = (bootstrap_job(), fake.client());
    let first = tokio::spawn(async move { job.run(client).await });
    fake.wait_until("the first run's job", Duration::from_secs(5), |f| !f.existing().2.is_empty()).await;
    let first_run = fake.existing().2[0].clone();

    let err = bootstrap_job().run(fake.client()).await.unwrap_err();
    assert!(matches!(&err, Error::AlreadyRunning { job } if *job == first_run), "{err:?}");
    assert_eq!(fake.created_jobs(), std::slice::from_ref(&first_run), "the second run created nothing");
    assert!(fake.deletions().is_empty(), "the second run deleted something: {:?}", fake.deletions());

    let first = first.await.unwrap().unwrap_err();
    assert!(matches!(&first, Error::JobFailed { reason, job, .. } if reason == "DeadlineExceeded" && *job == first_run), "{first:?}");
    assert_cleaned_up(&fake);
}

#[tokio::test]
async fn runs_started_together_run_side_by_side_and_each_cleans_up_only_its_own() {
    let fake = FakeApi::new(Behavior::Succeed { logs: "deploy-change: + create role vectice\n".into() });
    let (one, two) = (bootstrap_job(), bootstrap_job());
    let (a, b) = tokio::join!(one.run(fake.client()), two.run(fake.client()));
    // Both looked before either created its Job (each saw no running run), or one saw the other.
    let outcomes: Vec<_> = [a, b].into_iter().collect();
    let ok: Vec<&JobOutcome> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert!(!ok.is_empty(), "{outcomes:?}");
    for o in &outcomes {
        if let Err(e) = o {
            assert!(matches!(e, Error::AlreadyRunning { .. }), "{e:?}");
        }
    }
    let created = fake.created_jobs();
    assert_eq!(created.len(), ok.len(), "{created:?}");
    for outcome in &ok {
        assert_eq!(outcome.changes, ["+ create role vectice"]);
    }
    // Every object was deleted by the run that created it: on the precondition of its own uid.
    let deletions = fake.deletions();
    assert_eq!(deletions.len(), 3 * ok.len(), "{deletions:?}");
    assert_cleaned_up(&fake);
}
