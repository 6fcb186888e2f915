//! Shards as an Indexed Job on the fake API server and its fake kubelet,
//! which runs each pod's command for real (`sh`) with `JOB_COMPLETION_INDEX`:
//! every index runs once, at most `parallelism` at once; a failed shard is
//! retried alone and named with its error lines; credentials reach the pods
//! only through Secrets; everything the run created is deleted.

use std::time::Duration;

use deploy_core::recipes::SnapshotId;
use deploy_k8s::shards::INDEX_VAR;
use deploy_k8s::{JobSettings, JobState, PodCredentials, SecretKeyEnv, ShardJobSettings, SnapshotJob};
use secrecy::SecretString;

use crate::fake_api::{Behavior, FakeApi};

const SECRET_VALUE: &str = "SENTINEL-shard-secret";

fn settings(script: &str, credentials: PodCredentials) -> ShardJobSettings {
    let job = JobSettings { active_deadline: Duration::from_secs(60), wait_timeout: Duration::from_secs(20), ..JobSettings::new("ns") };
    ShardJobSettings::new(job, vec!["sh".into(), "-c".into(), script.into()], credentials)
}

fn id() -> SnapshotId {
    "2026-11-23T20-21-40.123Z".parse().unwrap()
}

fn values() -> PodCredentials {
    PodCredentials::Values(vec![("SHARD_TOKEN".into(), SecretString::from(SECRET_VALUE))])
}

fn assert_nothing_left(fake: &FakeApi) {
    let (secrets, config_maps, jobs, pods) = fake.existing();
    assert!(
        secrets.iter().all(|s| s.starts_with("seeded")) && config_maps.is_empty() && jobs.is_empty() && pods.is_empty(),
        "{:?}",
        fake.existing()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shard_runs_once_with_its_index_at_most_parallelism_at_once() {
    let fake = FakeApi::new(Behavior::Exec);
    // Each pod checks what it was given: its index below the count, the snapshot id, the Secret's value.
    let script = r#"sleep 0.3; [ "$JOB_COMPLETION_INDEX" -lt "$DEPLOY_SHARD_COUNT" ] && [ "$DEPLOY_SNAPSHOT_ID" = 2026-11-23T20-21-40.123Z ] && [ "${#SHARD_TOKEN}" -eq 21 ]"#;
    let mut s = settings(script, values());
    s.parallelism = 2;
    let job = SnapshotJob::new("snap", s, 5).unwrap();
    let outcome = job.run_job(fake.client(), &id()).await.unwrap();
    assert_eq!(outcome.state, JobState::Complete, "{outcome:?}");
    assert_eq!((outcome.completed.clone(), outcome.failed.clone(), outcome.shards), ((0..5).collect(), vec![], 5));
    let runs = fake.pod_runs();
    let mut indexes: Vec<usize> = runs.iter().map(|r| r.1).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [0, 1, 2, 3, 4], "each index once: {runs:?}");
    assert_eq!(fake.max_running(&outcome.job), 2, "parallelism 2");

    // The Job as the API server got it: Indexed, 5 completions, 2 at once, retries per index; no secret in its spec.
    let spec = fake.requests();
    assert!(spec.iter().any(|r| r.starts_with("POST /apis/batch/v1/namespaces/ns/jobs")), "{spec:?}");
    let secret = &fake.created_secrets()[0];
    assert_eq!(secret["metadata"]["ownerReferences"][0]["kind"], "Job");
    assert_eq!(secret["stringData"]["SHARD_TOKEN"], SECRET_VALUE);
    assert_nothing_left(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_object_is_indexed_restricted_and_holds_no_secret() {
    let mut s = settings("true", values());
    s.parallelism = 3;
    s.backoff_limit_per_index = 1;
    let (job, secret) = deploy_k8s::shards::indexed_resources("snap", &s, 8, &[("DEPLOY_SHARD_COUNT", "8".into())]);
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!((spec.completions, spec.parallelism, spec.backoff_limit_per_index, spec.backoff_limit), (Some(8), Some(3), Some(1), None));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.automount_service_account_token, Some(false));
    let c = &pod.containers[0].security_context.as_ref().unwrap();
    assert_eq!((c.allow_privilege_escalation, c.read_only_root_filesystem), (Some(false), Some(true)));
    let text = serde_json::to_string(&job).unwrap();
    assert!(!text.contains(SECRET_VALUE), "{text}");
    assert!(secret.is_some());
    // From a Secret of the namespace: a secretKeyRef, no Secret of the run.
    let s = settings("true", PodCredentials::SecretKeys(vec![SecretKeyEnv::new("AWS_SECRET_ACCESS_KEY", "seeded-aws", "secret-key")]));
    let (job, secret) = deploy_k8s::shards::indexed_resources("snap", &s, 2, &[]);
    assert!(secret.is_none());
    let env = job.spec.unwrap().template.spec.unwrap().containers[0].env.clone().unwrap();
    let r = env.iter().find(|e| e.name == "AWS_SECRET_ACCESS_KEY").unwrap().value_from.as_ref().unwrap().secret_key_ref.as_ref().unwrap();
    assert_eq!((r.name.as_str(), r.key.as_str()), ("seeded-aws", "secret-key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_shard_is_retried_alone_and_named_with_its_error_lines() {
    let fake = FakeApi::new(Behavior::Exec);
    fake.seed_secret("seeded-aws", serde_json::json!({"secret-key": SECRET_VALUE}));
    let script = r#"if [ "$JOB_COMPLETION_INDEX" = 2 ]; then echo "error: shard $JOB_COMPLETION_INDEX broke with $AWS_SECRET_ACCESS_KEY" >&2; exit 1; fi"#;
    let mut s = settings(script, PodCredentials::SecretKeys(vec![SecretKeyEnv::new("AWS_SECRET_ACCESS_KEY", "seeded-aws", "secret-key")]));
    s.backoff_limit_per_index = 1;
    let outcome = SnapshotJob::new("snap", s, 4).unwrap().run_job(fake.client(), &id()).await.unwrap();
    assert_eq!(outcome.state, JobState::Failed("FailedIndexes".into()), "{outcome:?}");
    assert_eq!((outcome.completed.clone(), outcome.failed.clone()), (vec![0, 1, 3], vec![2]));
    assert_eq!(
        outcome.errors,
        ["shard 2: error: shard 2 broke with SENTINEL-shard-secret"],
        "a Secret's key the run never held is not scrubbed: the pod printed it"
    );
    let tries: Vec<(usize, usize)> = fake.pod_runs().iter().filter(|r| r.1 == 2).map(|r| (r.1, r.2)).collect();
    assert_eq!(tries, [(2, 0), (2, 1)], "shard 2 tried twice (backoffLimitPerIndex 1), the others once");
    assert_eq!(fake.pod_runs().len(), 5);
    assert_nothing_left(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_scrubs_the_values_it_put_in_the_secret_from_error_lines() {
    let fake = FakeApi::new(Behavior::Exec);
    let script = r#"echo "error: shard $JOB_COMPLETION_INDEX saw $SHARD_TOKEN" >&2; exit 1"#;
    let mut s = settings(script, values());
    s.backoff_limit_per_index = 0;
    let outcome = SnapshotJob::new("snap", s, 2).unwrap().run_job(fake.client(), &id()).await.unwrap();
    assert_eq!(outcome.failed, [0, 1]);
    assert_eq!(outcome.errors.len(), 2, "{:?}", outcome.errors);
    assert!(outcome.errors.iter().all(|e| !e.contains(SECRET_VALUE)), "{:?}", outcome.errors);
    assert_nothing_left(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_shard_pod_is_run_again_and_the_job_completes() {
    let fake = FakeApi::new(Behavior::Exec);
    fake.kill_pod(1, 0, Duration::from_millis(200));
    let outcome = SnapshotJob::new("snap", settings("sleep 0.5", values()), 3).unwrap().run_job(fake.client(), &id()).await.unwrap();
    assert_eq!(outcome.state, JobState::Complete);
    let runs: Vec<(usize, usize, bool)> = fake.pod_runs().iter().filter(|r| r.1 == 1).map(|r| (r.1, r.2, r.3)).collect();
    assert_eq!(runs, [(1, 0, false), (1, 1, true)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_limit_per_index_the_job_fails_past_its_backoff_limit() {
    // The Job API's other mode, as the fake kubelet runs it (the crate always sets a limit per index).
    let fake = FakeApi::new(Behavior::Exec);
    let s = settings(r#"[ "$JOB_COMPLETION_INDEX" != 0 ]"#, values());
    let (mut job, secret) = deploy_k8s::shards::indexed_resources("snap", &s, 2, &[]);
    let spec = job.spec.as_mut().unwrap();
    spec.backoff_limit_per_index = None;
    spec.backoff_limit = Some(1);
    let client = fake.client();
    let jobs: kube::Api<k8s_openapi::api::batch::v1::Job> = kube::Api::namespaced(client.clone(), "ns");
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(client, "ns");
    secrets.create(&Default::default(), &secret.unwrap()).await.unwrap();
    let name = jobs.create(&Default::default(), &job).await.unwrap().metadata.name.unwrap();
    let mut job = jobs.get(&name).await.unwrap();
    for _ in 0..200 {
        if deploy_k8s::job_state(&job) != JobState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        job = jobs.get(&name).await.unwrap();
    }
    assert_eq!(deploy_k8s::job_state(&job), JobState::Failed("BackoffLimitExceeded".into()));
}

#[test]
fn bad_shard_settings_are_refused_naming_the_field() {
    let field = |r: deploy_k8s::Result<SnapshotJob>| deploy_core::Error::from(r.unwrap_err()).invalid_field().map(str::to_owned);
    assert_eq!(field(SnapshotJob::new("snap", settings("true", values()), 0)).as_deref(), Some("shards"));
    assert_eq!(
        field(SnapshotJob::new("snap", settings("true", PodCredentials::ServiceAccount), 2)).as_deref(),
        Some("job.service_account")
    );
    let mut s = settings("true", values());
    s.env = vec![(INDEX_VAR.into(), "3".into())];
    assert_eq!(field(SnapshotJob::new("snap", s, 2)).as_deref(), Some("env"));
    let leaky = settings(&format!("echo {SECRET_VALUE}"), values());
    assert_eq!(field(SnapshotJob::new("snap", leaky, 2)).as_deref(), Some("command"));
    let mut s = settings("true", values());
    s.parallelism = 0;
    assert_eq!(field(SnapshotJob::new("snap", s, 2)).as_deref(), Some("parallelism"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_job_needs_a_complete_snapshot_and_names_the_shards_that_did_not_complete() {
    use deploy_core::memory::InMemoryCloud;
    use deploy_core::recipes::{Location, SnapshotLayout, SnapshotOptions, snapshot_bucket};
    use deploy_core::{BucketName, BucketSpec, ObjectKey, ObjectStore as _, ObjectStoreExt as _};
    use deploy_k8s::{Error, RestoreJob};

    let cloud = InMemoryCloud::new();
    let (assets, backup) = (BucketName::new("prod-assets").unwrap(), BucketName::new("prod-backup").unwrap());
    for b in [&assets, &backup] {
        cloud.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
    }
    for i in 0..10 {
        cloud.put_bytes(&assets, &ObjectKey::new(format!("k{i}")).unwrap(), bytes::Bytes::from(format!("v{i}"))).await.unwrap();
    }
    let layout = SnapshotLayout::new("").unwrap();
    let fake = FakeApi::new(Behavior::Exec);
    let script = r#"if [ "$JOB_COMPLETION_INDEX" = 1 ]; then echo "error: restore shard 1 failed" >&2; exit 1; fi"#;
    let mut s = settings(script, values());
    s.backoff_limit_per_index = 0;
    let job = RestoreJob::new("restore", s, 3).unwrap();

    // No such snapshot: refused before any Job is created.
    let err = job.run(fake.client(), Location::new(&cloud, &backup), &layout, &id()).await.unwrap_err();
    assert!(matches!(err, Error::Recipe { .. }), "{err:?}");
    assert!(fake.created_jobs().is_empty());

    let snapshot = snapshot_bucket(Location::new(&cloud, &assets), Location::new(&cloud, &backup), &SnapshotOptions::new(layout.clone()))
        .await
        .unwrap();
    let err = job.run(fake.client(), Location::new(&cloud, &backup), &layout, &snapshot.id).await.unwrap_err();
    let Error::ShardsIncomplete { failed, errors, state, .. } = &err else { panic!("{err:?}") };
    assert_eq!((failed.as_slice(), state.as_str()), ([1].as_slice(), "Failed: FailedIndexes"));
    assert_eq!(errors, &["shard 1: error: restore shard 1 failed"]);
    let core = deploy_core::Error::from(err);
    assert!(core.to_string().contains("shards 1"), "{core}");
    assert_nothing_left(&fake);
}
