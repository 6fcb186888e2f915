//! One run of a database Job, failing safe:
//!
//! - a run is refused while another run of the same Job is running (its
//!   objects are never touched); two runs that start at the same instant run
//!   side by side under their own names ([`crate::job::run_name`]);
//! - the Job is created first, then its Secret and ConfigMap, each owned by
//!   the Job (`ownerReferences`): whatever happens to this process, the Job's
//!   `activeDeadlineSeconds` and `ttlSecondsAfterFinished` end and remove it,
//!   and the garbage collector removes the Secret and ConfigMap with it;
//! - the wait for `Complete` or `Failed` has a deadline ([`JobSettings::wait_timeout`]);
//! - the clean-up deletes exactly the objects this run created, each on the
//!   precondition of its uid, also when the caller drops the future (a task
//!   on the runtime then deletes them).

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams, Preconditions};
use kube::runtime::wait::await_condition;
use kube::{Api, Client};
use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::job::{
    CONTAINER, JobOutcome, JobResources, JobSettings, JobState, error_lines, is_job_finished, job_state, runs_selector, scrub,
};

/// Run `resources` (one run of Job `job`) and clean up. See the [module docs](self).
pub(crate) async fn run(
    client: Client,
    settings: &JobSettings,
    job: &str,
    resources: JobResources,
    secrets: &[SecretString],
) -> Result<JobOutcome> {
    let owned = vec![Owned::Secret(resources.secret), Owned::ConfigMap(resources.config_map)];
    let started = start(client.clone(), settings, job, resources.job, owned).await?;
    let outcome = async {
        let name = started.name().to_owned();
        let job = started.wait().await?;
        let state = job.as_ref().map_or(JobState::Failed("Deleted".into()), job_state);
        let logs = scrub(&pod_logs(&client, &settings.namespace, &format!("job-name={name}")).await?, secrets);
        match state {
            JobState::Complete => Ok(JobOutcome { job: name, changes: deploy_core::PsqlScript::changes_in_output(&logs), logs }),
            JobState::Failed(reason) => Err(Error::JobFailed { job: name, reason, errors: error_lines(&logs) }),
            JobState::Running => unreachable!("the condition holds"),
        }
    }
    .await;
    let cleaned = started.clean_up().await;
    let outcome = outcome?;
    cleaned?;
    Ok(outcome)
}

/// An object a run creates after its Job, owned by the Job.
pub(crate) enum Owned {
    Secret(Secret),
    ConfigMap(ConfigMap),
}

/// A run whose objects exist: wait for it, read what it left, then
/// [`Started::clean_up`] (dropped before, it deletes its objects from a task).
pub(crate) struct Started {
    created: Created,
    name: String,
    jobs: Api<Job>,
    wait_timeout: Duration,
}

impl Started {
    /// The run's name (its Job's).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Wait until the Job completed or failed (`None`: it was deleted), within
    /// the settings' wait timeout.
    pub(crate) async fn wait(&self) -> Result<Option<Job>> {
        wait_finished(&self.jobs, &self.name, self.wait_timeout).await
    }

    /// Delete what the run created, each object on the precondition of its uid.
    pub(crate) async fn clean_up(self) -> Result<()> {
        self.created.clean_up().await
    }
}

/// Start one run of Job `job`: refused while another run of it is running;
/// else `object` is created, then each of `owned`, owned by it. What was
/// created is deleted again when a creation fails.
pub(crate) async fn start(client: Client, settings: &JobSettings, job: &str, object: Job, owned: Vec<Owned>) -> Result<Started> {
    let ns = settings.namespace.as_str();
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    refuse_while_running(&jobs, job).await?;
    let mut created = Created { client: client.clone(), namespace: ns.to_owned(), objects: Vec::new(), armed: true };
    match create(&client, ns, object, owned, &mut created).await {
        Ok(name) => Ok(Started { created, name, jobs, wait_timeout: settings.wait_timeout }),
        Err(e) => {
            if let Err(cleaning) = created.clean_up().await {
                tracing::warn!(target: "deploy", error = %cleaning, "deleting a run that failed to start failed; the Job's deadline and TTL remove it");
            }
            Err(e)
        }
    }
}

/// [`Error::AlreadyRunning`] when a run of `job` is still running.
async fn refuse_while_running(jobs: &Api<Job>, job: &str) -> Result<()> {
    let list = jobs
        .list(&ListParams::default().labels(&runs_selector(job)))
        .await
        .map_err(|e| Error::kube(format!("list runs of job {job}"), e))?;
    let running = list.items.iter().find(|j| j.metadata.deletion_timestamp.is_none() && job_state(j) == JobState::Running);
    match running {
        Some(other) => Err(Error::AlreadyRunning { job: other.metadata.name.clone().unwrap_or_else(|| job.to_owned()) }),
        None => Ok(()),
    }
}

/// Create the Job, then each owned object with the Job as its owner; answers the Job's name.
async fn create(client: &Client, ns: &str, object: Job, owned: Vec<Owned>, created: &mut Created) -> Result<String> {
    let pp = PostParams::default();
    let name = object.metadata.name.clone().expect("resources have names");
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let job = jobs.create(&pp, &object).await.map_err(|e| Error::kube(format!("create job {name}"), e))?;
    let uid = created.push(Kind::Job, &name, job.metadata.uid.as_deref())?;
    let owner = OwnerReference { api_version: "batch/v1".into(), kind: "Job".into(), name: name.clone(), uid, ..OwnerReference::default() };
    for object in owned {
        match object {
            Owned::Secret(secret) => {
                create_owned(&Api::<Secret>::namespaced(client.clone(), ns), secret, &owner, Kind::Secret, created).await?;
            }
            Owned::ConfigMap(config_map) => {
                create_owned(&Api::<ConfigMap>::namespaced(client.clone(), ns), config_map, &owner, Kind::ConfigMap, created).await?;
            }
        }
    }
    Ok(name)
}

/// Whether a watch error may heal by watching again (the connection, not the request, failed).
fn transient(e: &kube::runtime::wait::Error) -> bool {
    use kube::runtime::watcher::Error as W;
    let kube::runtime::wait::Error::ProbeFailed(e) = e;
    let api_refused = |e: &kube::Error| matches!(e, kube::Error::Api(s) if (400..500).contains(&s.code) && s.code != 410 && s.code != 429);
    match e {
        W::InitialListFailed(e) | W::WatchStartFailed(e) | W::WatchFailed(e) => !api_refused(e),
        W::WatchError(s) => s.code == 410 || s.code == 429 || s.code >= 500,
        W::NoResourceVersion => false,
    }
}

/// Wait until the Job completed or failed (or is gone), at most `timeout`
/// in all: a watch that breaks (a read timeout, a restarted API server) is
/// started again within the same deadline.
async fn wait_finished(jobs: &Api<Job>, name: &str, timeout: Duration) -> Result<Option<Job>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let finished = await_condition(jobs.clone(), name, is_job_finished());
        match tokio::time::timeout_at(deadline, finished).await {
            Ok(Ok(job)) => return Ok(job),
            Ok(Err(source)) if transient(&source) => {
                tracing::warn!(target: "deploy", job = name, error = %source, "watching the job failed; watching again");
                tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + Duration::from_millis(500))).await;
            }
            Ok(Err(source)) => return Err(Error::Watch { job: name.to_owned(), source }),
            Err(_) => return Err(Error::Timeout { job: name.to_owned(), waited: timeout }),
        }
    }
}

/// The log of the newest pod matching the label `selector` (empty when none ran).
pub(crate) async fn pod_logs(client: &Client, ns: &str, selector: &str) -> Result<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods.list(&ListParams::default().labels(selector)).await.map_err(|e| Error::kube(format!("list pods {selector}"), e))?;
    let Some(pod) = list.items.iter().max_by_key(|p| p.metadata.creation_timestamp.clone()) else { return Ok(String::new()) };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let params = LogParams { container: Some(CONTAINER.to_owned()), tail_lines: Some(2000), ..LogParams::default() };
    match pods.logs(&pod_name, &params).await {
        Ok(logs) => Ok(logs),
        // A pod that never started has no log.
        Err(kube::Error::Api(s)) if s.code == 400 || s.code == 404 => Ok(String::new()),
        Err(e) => Err(Error::kube(format!("read the log of pod {pod_name}"), e)),
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Job,
    Secret,
    ConfigMap,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Job => "job",
            Kind::Secret => "secret",
            Kind::ConfigMap => "configmap",
        }
    }
}

/// What this run created, by name and uid. Dropped before [`Created::clean_up`]
/// ran (the caller dropped the run's future), it deletes them from a task on
/// the current runtime.
struct Created {
    client: Client,
    namespace: String,
    objects: Vec<(Kind, String, String)>,
    armed: bool,
}

impl Created {
    /// Record an object; its uid, which every answer to a create carries.
    fn push(&mut self, kind: Kind, name: &str, uid: Option<&str>) -> Result<String> {
        let uid = uid.ok_or_else(|| Error::Kube {
            operation: format!("create {} {name}", kind.as_str()),
            source: kube::Error::Service("the API server answered without metadata.uid".into()),
        })?;
        self.objects.push((kind, name.to_owned(), uid.to_owned()));
        Ok(uid.to_owned())
    }

    async fn clean_up(mut self) -> Result<()> {
        self.armed = false;
        let objects = std::mem::take(&mut self.objects);
        delete_all(self.client.clone(), &self.namespace, objects).await
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if !self.armed || self.objects.is_empty() {
            return;
        }
        let objects = std::mem::take(&mut self.objects);
        let names: Vec<String> = objects.iter().map(|(k, n, _)| format!("{} {n}", k.as_str())).collect();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                tracing::warn!(target: "deploy", objects = ?names, "the run was dropped: deleting what it created");
                let (client, namespace) = (self.client.clone(), self.namespace.clone());
                handle.spawn(async move {
                    if let Err(e) = delete_all(client, &namespace, objects).await {
                        tracing::warn!(target: "deploy", error = %e, "deleting a dropped run's objects failed; the Job's deadline and TTL remove them");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(target: "deploy", objects = ?names, "the run was dropped outside a runtime; the Job's deadline and TTL remove it, and its owned objects with it")
            }
        }
    }
}

/// Delete the objects, the Job first (with its pods: batch/v1 Jobs orphan
/// them unless deleted with background propagation), each only if its uid
/// is still the one created. Every deletion is tried; the first error is answered.
async fn delete_all(client: Client, ns: &str, objects: Vec<(Kind, String, String)>) -> Result<()> {
    let mut first_error = None;
    for (kind, name, uid) in objects {
        let deleted = match kind {
            Kind::Job => delete_owned(&Api::<Job>::namespaced(client.clone(), ns), kind, &name, &uid).await,
            Kind::Secret => delete_owned(&Api::<Secret>::namespaced(client.clone(), ns), kind, &name, &uid).await,
            Kind::ConfigMap => delete_owned(&Api::<ConfigMap>::namespaced(client.clone(), ns), kind, &name, &uid).await,
        };
        if let Err(e) = deleted {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Create `object` through `api` with `owner` as its owner, and record it in `created`.
async fn create_owned<K>(api: &Api<K>, mut object: K, owner: &OwnerReference, kind: Kind, created: &mut Created) -> Result<()>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    object.meta_mut().owner_references = Some(vec![owner.clone()]);
    let name = object.meta().name.clone().expect("resources have names");
    let made = api.create(&PostParams::default(), &object).await.map_err(|e| Error::kube(format!("create {} {name}", kind.as_str()), e))?;
    created.push(kind, &name, made.meta().uid.as_deref())?;
    Ok(())
}

async fn delete_owned<K>(api: &Api<K>, kind: Kind, name: &str, uid: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let params = DeleteParams {
        preconditions: Some(Preconditions { uid: Some(uid.to_owned()), resource_version: None }),
        ..DeleteParams::background()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        // Gone already (the garbage collector, a TTL), or no longer the object this run created.
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
        Err(e) => Err(Error::kube(format!("delete {} {name}", kind.as_str()), e)),
    }
}
