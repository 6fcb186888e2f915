//! An in-process fake Kubernetes API server (a `tower::service_fn` behind a
//! real `kube::Client`): Secrets, ConfigMaps, Jobs with list (field and label
//! selectors) + watch, Pods with logs, a simulated pod lifecycle per Job, and
//! server-side apply of ServiceAccounts' labels and annotations.
//!
//! As a cluster does: every object gets a uid; a delete with a uid
//! precondition that does not match is refused (409); deleting a Job with
//! background propagation removes its pods and the Secrets and ConfigMaps it
//! owns (`ownerReferences`), as the garbage collector would, and without it
//! they are orphaned; the kubelet starts a Job's pod only once the Secret and
//! ConfigMap it mounts exist; the job controller fails a Job at its
//! `activeDeadlineSeconds` and deletes it `ttlSecondsAfterFinished` after it
//! finished. Those durations count in "seconds" of [`FakeApi::with_seconds`]
//! (1 s unless a test speeds time up).
//!
//! Indexed Jobs (`completionMode: Indexed`) as the job controller runs them:
//! one pod per index (`NAME-I-ATTEMPT`, labelled `job-name` and
//! `batch.kubernetes.io/job-completion-index`, `JOB_COMPLETION_INDEX` in its
//! environment), at most `parallelism` at once; with `backoffLimitPerIndex` a
//! failed index is retried up to that many times and every other index still
//! runs, and the Job fails (`FailedIndexes`) once every index has finished and
//! one failed; without it the Job fails (`BackoffLimitExceeded`) when its
//! failures pass `backoffLimit` (default 6). `status.completedIndexes` and
//! `status.failedIndexes` name the indexes. A pod's variables from a Secret's
//! key (`secretKeyRef`) come from the Secrets that exist (a missing one
//! fails the pod, as `CreateContainerConfigError` would).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::{Value, json};
use tokio::sync::Notify;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What the simulated pod of a Job does.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Runs, prints `logs`, exits 0: the Job completes.
    Succeed { logs: String },
    /// Runs, prints `logs`, exits 1: the Job fails (`BackoffLimitExceeded`).
    Fail { logs: String },
    /// Runs, prints `logs`, and never exits: at the Job's `activeDeadlineSeconds`
    /// the job controller fails it (`DeadlineExceeded`).
    Hang { logs: String },
    /// Nothing happens: no pod, no deadline (a cluster whose controllers are down).
    Stuck,
    /// Run the container's command for real on this machine: files of the
    /// ConfigMap in a temp dir in place of the mount, env from the Job and
    /// the Secret (a fake kubelet).
    Exec,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    secrets: BTreeMap<String, Value>,
    config_maps: BTreeMap<String, Value>,
    /// ServiceAccounts by `namespace/name`.
    service_accounts: BTreeMap<String, Value>,
    jobs: BTreeMap<String, Job>,
    pods: BTreeMap<String, Pod>,
    logs: BTreeMap<String, String>,
    /// Job watch events: (resourceVersion, type, job).
    events: Vec<(u64, &'static str, Job)>,
    requests: Vec<String>,
    /// Deletions of Jobs: (name, propagationPolicy).
    job_deletions: Vec<(String, Option<String>)>,
    /// Every DELETE: (kind, name, the uid precondition).
    deletions: Vec<Deletion>,
    uids: u64,
    /// Every Secret and ConfigMap ever created.
    created_secrets: Vec<Value>,
    created_config_maps: Vec<Value>,
    /// Indexed Jobs: the indexes completed and failed, by Job name.
    indexes: BTreeMap<String, (std::collections::BTreeSet<usize>, std::collections::BTreeSet<usize>)>,
    /// The most pods of one Job running at once, by Job name.
    max_running: BTreeMap<String, usize>,
    running: BTreeMap<String, usize>,
    /// Indexes whose pods the kubelet fails without running them (an image that cannot start).
    broken_indexes: std::collections::BTreeSet<usize>,
    /// (index, attempt) killed this long after it started.
    kills: BTreeMap<(usize, usize), Duration>,
    /// Every pod ever started: (Job, index, attempt, succeeded).
    pod_runs: Vec<(String, usize, usize, bool)>,
}

/// One DELETE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deletion {
    pub kind: String,
    pub name: String,
    pub uid_precondition: Option<String>,
}

/// The fake API server.
#[derive(Clone)]
pub struct FakeApi {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    behavior: Arc<Mutex<Behavior>>,
    /// How long a "second" of `activeDeadlineSeconds` and `ttlSecondsAfterFinished` lasts.
    seconds: Duration,
}

impl FakeApi {
    pub fn new(behavior: Behavior) -> Self {
        FakeApi {
            inner: Arc::default(),
            changed: Arc::new(Notify::new()),
            behavior: Arc::new(Mutex::new(behavior)),
            seconds: Duration::from_secs(1),
        }
    }

    /// Make each second of a Job's deadline and TTL last `second` instead.
    pub fn with_seconds(mut self, second: Duration) -> Self {
        self.seconds = second;
        self
    }

    /// Wait until `done` holds of the fake, at most `timeout` (a failed test then says what it waited for).
    pub async fn wait_until(&self, what: &str, timeout: Duration, done: impl Fn(&FakeApi) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                assert!(done(self), "waited {timeout:?} for {what}");
                return;
            }
        }
    }

    /// Every DELETE request, in order.
    pub fn deletions(&self) -> Vec<Deletion> {
        self.inner.lock().unwrap().deletions.clone()
    }

    /// The names of the Jobs ever created (in order).
    pub fn created_jobs(&self) -> Vec<String> {
        let i = self.inner.lock().unwrap();
        i.events.iter().filter(|(_, kind, _)| *kind == "ADDED").filter_map(|(_, _, j)| j.metadata.name.clone()).collect()
    }

    /// A `kube::Client` talking to this fake, default namespace `ns`.
    pub fn client(&self) -> kube::Client {
        let fake = self.clone();
        let service = tower::service_fn(move |req: Request<kube::client::Body>| {
            let fake = fake.clone();
            async move { Ok::<_, Infallible>(fake.handle(req).await) }
        });
        kube::Client::new(service, "ns")
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn job_deletions(&self) -> Vec<(String, Option<String>)> {
        self.inner.lock().unwrap().job_deletions.clone()
    }

    pub fn created_secrets(&self) -> Vec<Value> {
        self.inner.lock().unwrap().created_secrets.clone()
    }

    /// A Secret made by someone else, with `string_data`.
    pub fn seed_secret(&self, name: &str, string_data: Value) {
        let mut i = self.inner.lock().unwrap();
        i.rv += 1;
        i.uids += 1;
        let object = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-seed-{name}-{}", i.uids)}, "stringData": string_data});
        i.secrets.insert(name.to_owned(), object);
    }

    /// The kubelet fails every pod of `index` of an Indexed Job without running it (used by the e2e tests).
    #[allow(dead_code)]
    pub fn break_index(&self, index: usize, broken: bool) {
        let mut i = self.inner.lock().unwrap();
        if broken {
            i.broken_indexes.insert(index);
        } else {
            i.broken_indexes.remove(&index);
        }
    }

    /// Kill the pod of `index`, attempt `attempt` (0 first), `after` it started (the process is killed).
    pub fn kill_pod(&self, index: usize, attempt: usize, after: Duration) {
        self.inner.lock().unwrap().kills.insert((index, attempt), after);
    }

    /// Every Job as it was created (used by the e2e tests: what the API server was told).
    #[allow(dead_code)]
    pub fn created_job_objects(&self) -> Vec<Job> {
        self.inner.lock().unwrap().events.iter().filter(|e| e.1 == "ADDED").map(|e| e.2.clone()).collect()
    }

    /// The most pods of Job `job` that ran at once.
    pub fn max_running(&self, job: &str) -> usize {
        self.inner.lock().unwrap().max_running.get(job).copied().unwrap_or(0)
    }

    /// Every pod of an Indexed Job that ran: (Job, index, attempt, succeeded), in the order they ended.
    pub fn pod_runs(&self) -> Vec<(String, usize, usize, bool)> {
        self.inner.lock().unwrap().pod_runs.clone()
    }

    pub fn created_config_maps(&self) -> Vec<Value> {
        self.inner.lock().unwrap().created_config_maps.clone()
    }

    /// Names of what exists now: (secrets, config maps, jobs, pods).
    pub fn existing(&self) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
        let i = self.inner.lock().unwrap();
        (
            i.secrets.keys().cloned().collect(),
            i.config_maps.keys().cloned().collect(),
            i.jobs.keys().cloned().collect(),
            i.pods.keys().cloned().collect(),
        )
    }

    /// Put a run `name` of Job `job` (and a pod of it) in place, as a previous run would have left it.
    pub fn seed_job(&self, job: &str, name: &str, state: Option<&str>) {
        let labels = BTreeMap::from([
            ("app.kubernetes.io/managed-by".to_owned(), "deploy".to_owned()),
            ("app.kubernetes.io/name".to_owned(), job.to_owned()),
            ("app.kubernetes.io/instance".to_owned(), name.to_owned()),
        ]);
        let metadata = ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-seed-{name}")),
            labels: Some(labels),
            ..ObjectMeta::default()
        };
        let mut job = Job { metadata, ..Job::default() };
        if let Some(state) = state {
            job.status = Some(JobStatus { conditions: Some(vec![condition(state, "Seeded")]), ..JobStatus::default() });
        }
        let mut i = self.inner.lock().unwrap();
        self.store_job(&mut i, job, "ADDED");
        let pod = format!("{name}-seed");
        i.pods.insert(pod.clone(), pod_of(name, &pod, "Running"));
    }

    fn store_job(&self, i: &mut Inner, mut job: Job, kind: &'static str) {
        i.rv += 1;
        job.metadata.resource_version = Some(i.rv.to_string());
        let name = job.metadata.name.clone().unwrap();
        let rv = i.rv;
        if kind == "DELETED" {
            i.jobs.remove(&name);
        } else {
            i.jobs.insert(name, job.clone());
        }
        i.events.push((rv, kind, job));
        self.changed.notify_waiters();
    }

    /// Answer one request (what `client` routes through; tests that need it over HTTP serve this).
    pub async fn handle(&self, req: Request<kube::client::Body>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let path = parts.uri.path().to_owned();
        let query: BTreeMap<String, String> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), percent_decode(v))
            })
            .collect();
        self.inner.lock().unwrap().requests.push(format!(
            "{} {}{}",
            parts.method,
            path,
            parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default()
        ));
        let delete_options: Value =
            if parts.method == Method::DELETE { serde_json::from_slice(&body).unwrap_or(Value::Null) } else { Value::Null };
        let uid_precondition = delete_options.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_owned);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (&parts.method, segments.as_slice()) {
            (&Method::POST, ["api", "v1", "namespaces", _, kind @ ("secrets" | "configmaps")]) => self.create_plain(kind, &body),
            (&Method::DELETE, ["api", "v1", "namespaces", _, kind @ ("secrets" | "configmaps"), name]) => {
                self.delete_plain(kind, name, uid_precondition)
            }
            (&Method::POST, ["apis", "batch", "v1", "namespaces", _, "jobs"]) => self.create_job(&body),
            (&Method::GET, ["apis", "batch", "v1", "namespaces", _, "jobs", name]) => match self.inner.lock().unwrap().jobs.get(*name) {
                Some(job) => json_response(StatusCode::OK, &serde_json::to_value(job).unwrap()),
                None => not_found("jobs", name),
            },
            (&Method::GET, ["apis", "batch", "v1", "namespaces", _, "jobs"]) => {
                let name = query.get("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=")).map(str::to_owned);
                let selector: Vec<(String, String)> = query
                    .get("labelSelector")
                    .map(|l| l.split(',').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
                    .unwrap_or_default();
                let selected = |j: &Job| {
                    name.as_deref().is_none_or(|n| j.metadata.name.as_deref() == Some(n))
                        && selector.iter().all(|(k, v)| j.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
                };
                if query.get("watch").is_some_and(|w| w == "true") {
                    let since: u64 = query.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
                    self.watch_jobs(name, since)
                } else {
                    let i = self.inner.lock().unwrap();
                    let items: Vec<Value> = i.jobs.values().filter(|j| selected(j)).map(|j| serde_json::to_value(j).unwrap()).collect();
                    json_response(
                        StatusCode::OK,
                        &json!({"apiVersion": "batch/v1", "kind": "JobList", "metadata": {"resourceVersion": i.rv.to_string()}, "items": items}),
                    )
                }
            }
            (&Method::DELETE, ["apis", "batch", "v1", "namespaces", _, "jobs", name]) => {
                let policy = delete_options.get("propagationPolicy").and_then(Value::as_str).map(str::to_owned);
                self.delete_job(name, policy, uid_precondition)
            }
            (&Method::PATCH, ["api", "v1", "namespaces", ns, "serviceaccounts", name]) => {
                let apply = parts.headers.get("content-type").is_some_and(|t| t.as_bytes() == b"application/apply-patch+yaml");
                self.apply_service_account(ns, name, &body, apply, &query)
            }
            (&Method::GET, ["api", "v1", "namespaces", ns, "serviceaccounts", name]) => {
                match self.inner.lock().unwrap().service_accounts.get(&format!("{ns}/{name}")) {
                    Some(sa) => json_response(StatusCode::OK, sa),
                    None => not_found("serviceaccounts", name),
                }
            }
            (&Method::GET, ["api", "v1", "namespaces", _, "pods"]) => {
                let selector: Vec<(String, String)> = query
                    .get("labelSelector")
                    .map(|l| l.split(',').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
                    .unwrap_or_default();
                let i = self.inner.lock().unwrap();
                let items: Vec<Value> = i
                    .pods
                    .values()
                    .filter(|p| selector.iter().all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v)))
                    .map(|p| serde_json::to_value(p).unwrap())
                    .collect();
                json_response(
                    StatusCode::OK,
                    &json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": i.rv.to_string()}, "items": items}),
                )
            }
            (&Method::GET, ["api", "v1", "namespaces", _, "pods", name, "log"]) => match self.inner.lock().unwrap().logs.get(*name) {
                Some(logs) => Response::builder().status(200).body(full(Bytes::from(logs.clone()))).unwrap(),
                None => not_found("pods", name),
            },
            _ => json_response(
                StatusCode::NOT_IMPLEMENTED,
                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": format!("fake: {} {path}", parts.method), "code": 501}),
            ),
        }
    }

    /// Server-side apply, as far as a ServiceAccount's metadata goes: the
    /// applied labels and annotations are set, others (another manager's)
    /// kept; the resourceVersion moves only when something changed. Refused
    /// unless it is an apply patch with a field manager; a conflict with
    /// another manager's annotation needs `force=true`.
    fn apply_service_account(&self, ns: &str, name: &str, body: &[u8], apply: bool, query: &BTreeMap<String, String>) -> Response<Body> {
        let status = |code: StatusCode, reason: &str, message: String| {
            json_response(
                code,
                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code.as_u16()}),
            )
        };
        if !apply || query.get("fieldManager").is_none_or(String::is_empty) {
            return status(StatusCode::BAD_REQUEST, "BadRequest", "fake: only server-side apply with a fieldManager".into());
        }
        let Ok(applied) = serde_json::from_slice::<Value>(body) else {
            return status(StatusCode::BAD_REQUEST, "BadRequest", "fake: the body is not JSON".into());
        };
        if applied["kind"] != "ServiceAccount"
            || applied["metadata"]["name"] != name
            || applied["metadata"]["namespace"].as_str().is_some_and(|n| n != ns)
        {
            return status(StatusCode::BAD_REQUEST, "BadRequest", "fake: kind, name or namespace differ from the URL".into());
        }
        let forced = query.get("force").is_some_and(|f| f == "true");
        let mut i = self.inner.lock().unwrap();
        let key = format!("{ns}/{name}");
        let mut object = i.service_accounts.get(&key).cloned().unwrap_or_else(|| {
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}")}})
        });
        let before = object.clone();
        for field in ["labels", "annotations"] {
            let Some(wanted) = applied["metadata"][field].as_object() else { continue };
            for (k, v) in wanted {
                let current = &object["metadata"][field][k];
                if !current.is_null() && current != v && !forced {
                    return status(
                        StatusCode::CONFLICT,
                        "Conflict",
                        format!("Apply failed with 1 conflict: conflict with another manager: .metadata.{field}.{k}"),
                    );
                }
                object["metadata"][field][k] = v.clone();
            }
        }
        if object != before || !i.service_accounts.contains_key(&key) {
            i.rv += 1;
            object["metadata"]["resourceVersion"] = json!(i.rv.to_string());
            i.service_accounts.insert(key, object.clone());
        }
        json_response(StatusCode::OK, &object)
    }

    /// A ServiceAccount made by someone else (a Helm chart), with these annotations.
    pub fn seed_service_account(&self, ns: &str, name: &str, annotations: Value) {
        let mut i = self.inner.lock().unwrap();
        i.rv += 1;
        let object = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "resourceVersion": i.rv.to_string(), "annotations": annotations}});
        i.service_accounts.insert(format!("{ns}/{name}"), object);
    }

    fn create_plain(&self, kind: &str, body: &[u8]) -> Response<Body> {
        let mut object: Value = serde_json::from_slice(body).unwrap();
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        let mut i = self.inner.lock().unwrap();
        i.rv += 1;
        i.uids += 1;
        object["metadata"]["resourceVersion"] = json!(i.rv.to_string());
        object["metadata"]["uid"] = json!(format!("uid-{kind}-{name}-{}", i.uids));
        let store = if kind == "secrets" { &mut i.secrets } else { &mut i.config_maps };
        if store.contains_key(&name) {
            return json_response(
                StatusCode::CONFLICT,
                &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "message": format!("{kind} \"{name}\" already exists"), "code": 409}),
            );
        }
        store.insert(name, object.clone());
        if kind == "secrets" {
            i.created_secrets.push(object.clone())
        } else {
            i.created_config_maps.push(object.clone())
        }
        drop(i);
        self.changed.notify_waiters();
        json_response(StatusCode::CREATED, &object)
    }

    fn delete_plain(&self, kind: &str, name: &str, uid: Option<String>) -> Response<Body> {
        let mut i = self.inner.lock().unwrap();
        i.deletions.push(Deletion { kind: kind.to_owned(), name: name.to_owned(), uid_precondition: uid.clone() });
        let store = if kind == "secrets" { &mut i.secrets } else { &mut i.config_maps };
        let Some(object) = store.get(name) else { return not_found(kind, name) };
        if let Some(uid) = uid
            && object["metadata"]["uid"] != json!(uid)
        {
            return precondition_failed(kind, name, &uid);
        }
        let object = store.remove(name).unwrap();
        drop(i);
        self.changed.notify_waiters();
        json_response(StatusCode::OK, &object)
    }

    fn create_job(&self, body: &[u8]) -> Response<Body> {
        let mut job: Job = serde_json::from_slice(body).unwrap();
        let name = job.metadata.name.clone().unwrap();
        {
            let mut i = self.inner.lock().unwrap();
            if i.jobs.contains_key(&name) {
                return json_response(
                    StatusCode::CONFLICT,
                    &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "AlreadyExists", "message": "job exists", "code": 409}),
                );
            }
            i.uids += 1;
            job.metadata.uid = Some(format!("uid-job-{name}-{}", i.uids));
            job.metadata.creation_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
            self.store_job(&mut i, job.clone(), "ADDED");
        }
        let fake = self.clone();
        let behavior = self.behavior.lock().unwrap().clone();
        tokio::spawn(async move { fake.lifecycle(job, behavior).await });
        let stored = self.inner.lock().unwrap().jobs.get(&name).cloned().unwrap();
        json_response(StatusCode::CREATED, &serde_json::to_value(stored).unwrap())
    }

    /// The simulated job controller (deadline, TTL) and kubelet (a pod once
    /// the Secret and ConfigMap it mounts exist, running the behavior).
    async fn lifecycle(&self, job: Job, behavior: Behavior) {
        if matches!(behavior, Behavior::Stuck) {
            return;
        }
        if job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) == Some("Indexed") {
            return self.indexed_lifecycle(job, behavior).await;
        }
        let name = job.metadata.name.clone().unwrap();
        let uid = job.metadata.uid.clone().unwrap();
        let pod_name = format!("{name}-abcde");
        let deadline = job.spec.as_ref().and_then(|s| s.active_deadline_seconds).map(|d| self.seconds * u32::try_from(d).unwrap());
        if let Some(deadline) = deadline {
            let (fake, name, uid) = (self.clone(), name.clone(), uid.clone());
            tokio::spawn(async move {
                tokio::time::sleep(deadline).await;
                fake.finish(&name, &uid, None, "DeadlineExceeded");
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The kubelet: the pod starts once its Secret and ConfigMap exist.
        let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let cm_name = pod.volumes.as_ref().unwrap()[0].config_map.as_ref().unwrap().name.clone();
        let secret_name = pod.containers[0].env_from.as_ref().unwrap()[0].secret_ref.as_ref().unwrap().name.clone();
        loop {
            let changed = self.changed.notified();
            {
                let mut i = self.inner.lock().unwrap();
                let running = i.jobs.get(&name).is_some_and(|j| j.metadata.uid.as_deref() == Some(uid.as_str()) && j.status.is_none());
                if !running {
                    return;
                }
                if i.secrets.contains_key(&secret_name) && i.config_maps.contains_key(&cm_name) {
                    i.pods.insert(pod_name.clone(), pod_of(&name, &pod_name, "Running"));
                    break;
                }
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), changed).await;
        }
        let (logs, outcome) = match behavior {
            Behavior::Succeed { logs } => (logs, "Complete"),
            Behavior::Fail { logs } => (logs, "BackoffLimitExceeded"),
            Behavior::Hang { logs } => {
                // Runs until the deadline ends it.
                self.inner.lock().unwrap().logs.insert(pod_name, logs);
                return;
            }
            Behavior::Exec => {
                let (ok, logs) = self.exec(&job).await;
                (logs, if ok { "Complete" } else { "BackoffLimitExceeded" })
            }
            Behavior::Stuck => unreachable!(),
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.finish(&name, &uid, Some(logs), outcome);
    }

    /// The Job `name` (if it is still the one of `uid`, and running) ends:
    /// `Complete`, or `Failed` with `reason`; its pod stops; the TTL starts.
    fn finish(&self, name: &str, uid: &str, logs: Option<String>, outcome: &str) {
        let mut i = self.inner.lock().unwrap();
        let Some(mut job) = i.jobs.get(name).cloned() else { return };
        if job.metadata.uid.as_deref() != Some(uid) || job.status.is_some() {
            return;
        }
        let pod_name = format!("{name}-abcde");
        let phase = if outcome == "Complete" { "Succeeded" } else { "Failed" };
        if let Some(pod) = i.pods.get_mut(&pod_name) {
            pod.status = Some(PodStatus { phase: Some(phase.into()), ..PodStatus::default() });
        }
        if let Some(logs) = logs {
            i.logs.insert(pod_name, logs);
        }
        let condition = if outcome == "Complete" { condition("Complete", "Completed") } else { condition("Failed", outcome) };
        job.status = Some(JobStatus { conditions: Some(vec![condition]), ..JobStatus::default() });
        if let Some((completed, failed)) = i.indexes.get(name) {
            let status = job.status.as_mut().unwrap();
            status.completed_indexes = Some(index_set(completed));
            status.failed_indexes = Some(index_set(failed));
            status.succeeded = Some(i32::try_from(completed.len()).unwrap());
        }
        let ttl = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished).map(|t| self.seconds * u32::try_from(t).unwrap());
        self.store_job(&mut i, job, "MODIFIED");
        if let Some(ttl) = ttl {
            let (fake, name, uid) = (self.clone(), name.to_owned(), uid.to_owned());
            tokio::spawn(async move {
                tokio::time::sleep(ttl).await;
                let _ = fake.delete_job(&name, Some("Background".into()), Some(uid));
            });
        }
    }

    /// The job controller and kubelet of an Indexed Job (see the module docs).
    async fn indexed_lifecycle(&self, job: Job, behavior: Behavior) {
        let name = job.metadata.name.clone().unwrap();
        let uid = job.metadata.uid.clone().unwrap();
        let spec = job.spec.clone().unwrap();
        let count = usize::try_from(spec.completions.unwrap_or(1)).unwrap();
        let parallelism = usize::try_from(spec.parallelism.unwrap_or(1)).unwrap().max(1);
        let per_index = spec.backoff_limit_per_index.map(|l| usize::try_from(l).unwrap());
        let backoff_limit = usize::try_from(spec.backoff_limit.unwrap_or(6)).unwrap();
        if let Some(deadline) = spec.active_deadline_seconds.map(|d| self.seconds * u32::try_from(d).unwrap()) {
            let (fake, name, uid) = (self.clone(), name.clone(), uid.clone());
            tokio::spawn(async move {
                tokio::time::sleep(deadline).await;
                fake.finish(&name, &uid, None, "DeadlineExceeded");
            });
        }
        self.inner.lock().unwrap().indexes.insert(name.clone(), Default::default());
        let running = |fake: &FakeApi| {
            fake.inner
                .lock()
                .unwrap()
                .jobs
                .get(&name)
                .is_some_and(|j| j.metadata.uid.as_deref() == Some(uid.as_str()) && j.status.is_none())
        };
        // The pods start once the Secret they take `envFrom` exists.
        let env_from = spec.template.spec.as_ref().unwrap().containers[0]
            .env_from
            .as_ref()
            .and_then(|e| e.first())
            .and_then(|e| e.secret_ref.as_ref())
            .map(|r| r.name.clone());
        loop {
            let changed = self.changed.notified();
            if !running(self) {
                return;
            }
            if env_from.as_ref().is_none_or(|s| self.inner.lock().unwrap().secrets.contains_key(s)) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), changed).await;
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(parallelism));
        let failures = Arc::new(Mutex::new(0usize));
        let mut tasks = Vec::new();
        for index in 0..count {
            let (fake, job, behavior, permits, failures, name, uid) =
                (self.clone(), job.clone(), behavior.clone(), permits.clone(), failures.clone(), name.clone(), uid.clone());
            tasks.push(tokio::spawn(async move {
                for attempt in 0.. {
                    let _permit = permits.acquire().await.unwrap();
                    let alive = fake
                        .inner
                        .lock()
                        .unwrap()
                        .jobs
                        .get(&name)
                        .is_some_and(|j| j.metadata.uid.as_deref() == Some(uid.as_str()) && j.status.is_none());
                    if !alive {
                        return;
                    }
                    let ok = fake.run_index_pod(&job, &behavior, index, attempt).await;
                    let mut i = fake.inner.lock().unwrap();
                    if ok {
                        i.indexes.get_mut(&name).unwrap().0.insert(index);
                        return;
                    }
                    let mut failures = failures.lock().unwrap();
                    *failures += 1;
                    match per_index {
                        Some(limit) if attempt >= limit => {
                            i.indexes.get_mut(&name).unwrap().1.insert(index);
                            return;
                        }
                        Some(_) => {}
                        None if *failures > backoff_limit => {
                            drop(i);
                            fake.finish(&name, &uid, None, "BackoffLimitExceeded");
                            return;
                        }
                        None => {}
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        let failed = self.inner.lock().unwrap().indexes.get(&name).is_some_and(|(_, failed)| !failed.is_empty());
        self.finish(&name, &uid, None, if failed { "FailedIndexes" } else { "Complete" });
    }

    /// One pod of index `index` of an Indexed Job: started, run, ended. Whether it succeeded.
    async fn run_index_pod(&self, job: &Job, behavior: &Behavior, index: usize, attempt: usize) -> bool {
        let name = job.metadata.name.clone().unwrap();
        let pod_name = format!("{name}-{index}-{attempt}");
        let (broken, kill) = {
            let mut i = self.inner.lock().unwrap();
            let mut pod = pod_of(&name, &pod_name, "Running");
            pod.metadata.labels.as_mut().unwrap().insert(deploy_k8s::shards::INDEX_LABEL.to_owned(), index.to_string());
            i.pods.insert(pod_name.clone(), pod);
            let now = i.running.entry(name.clone()).or_default();
            *now += 1;
            let now = *now;
            let max = i.max_running.entry(name.clone()).or_default();
            *max = (*max).max(now);
            (i.broken_indexes.contains(&index), i.kills.get(&(index, attempt)).copied())
        };
        self.changed.notify_waiters();
        let (ok, logs) = if broken {
            (false, "error: the container could not start (fake kubelet: broken index)\n".to_owned())
        } else {
            match behavior {
                Behavior::Succeed { logs } => (true, logs.clone()),
                Behavior::Fail { logs } => (false, logs.clone()),
                Behavior::Exec => self.exec_pod(job, Some(index), kill).await,
                Behavior::Hang { .. } | Behavior::Stuck => std::future::pending().await,
            }
        };
        let mut i = self.inner.lock().unwrap();
        *i.running.get_mut(&name).unwrap() -= 1;
        if let Some(pod) = i.pods.get_mut(&pod_name) {
            pod.status = Some(PodStatus { phase: Some(if ok { "Succeeded" } else { "Failed" }.into()), ..PodStatus::default() });
        }
        i.logs.insert(pod_name, logs);
        i.pod_runs.push((name, index, attempt, ok));
        drop(i);
        self.changed.notify_waiters();
        ok
    }

    /// Run the Job's container command here, as a kubelet would.
    async fn exec(&self, job: &Job) -> (bool, String) {
        self.exec_pod(job, None, None).await
    }

    /// Run the container command of `job` here, as a kubelet would: with the
    /// ConfigMap's files in a temp dir (if it mounts one), its variables (from
    /// values, Secrets' keys, the Secret of `envFrom`), `JOB_COMPLETION_INDEX`
    /// for an index; killed `kill` after it started.
    async fn exec_pod(&self, job: &Job, index: Option<usize>, kill: Option<Duration>) -> (bool, String) {
        let suffix = index.map(|i| format!("-{i}")).unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("fake-kubelet-{}-{}{suffix}", std::process::id(), job.metadata.name.as_deref().unwrap()));
        std::fs::create_dir_all(&dir).unwrap();
        let files_dir = dir.to_str().unwrap().to_owned();
        let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let container = &pod.containers[0];
        let rewrite = |s: &str| s.replace(deploy_k8s::job::FILES_DIR, &files_dir);
        let mut env: Vec<(String, String)> = Vec::new();
        {
            let i = self.inner.lock().unwrap();
            let config_map = pod.volumes.iter().flatten().find_map(|v| v.config_map.as_ref()).map(|c| i.config_maps[&c.name].clone());
            for (file, content) in config_map.iter().filter_map(|c| c["data"].as_object()).flatten() {
                std::fs::write(dir.join(file), content.as_str().unwrap()).unwrap();
            }
            for e in container.env.iter().flatten() {
                let value = match e.value_from.as_ref().and_then(|f| f.secret_key_ref.as_ref()) {
                    Some(r) => match i.secrets.get(&r.name).and_then(|s| s["stringData"][&r.key].as_str()) {
                        Some(v) => v.to_owned(),
                        None => return (false, format!("error: secret {} key {} not found (CreateContainerConfigError)\n", r.name, r.key)),
                    },
                    None => rewrite(e.value.as_deref().unwrap_or("")),
                };
                env.push((e.name.clone(), value));
            }
            for from in container.env_from.iter().flatten() {
                let name = &from.secret_ref.as_ref().unwrap().name;
                for (k, v) in i.secrets[name]["stringData"].as_object().unwrap() {
                    env.push((k.clone(), v.as_str().unwrap().to_owned()));
                }
            }
        }
        if let Some(index) = index {
            env.push((deploy_k8s::shards::INDEX_VAR.to_owned(), index.to_string()));
        }
        let command = container.command.as_ref().unwrap();
        let mut cmd = tokio::process::Command::new(&command[0]);
        cmd.args(command[1..].iter().map(|a| rewrite(a))).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).envs(env);
        cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        let child = cmd.spawn().unwrap();
        let (ok, mut logs) = match kill {
            None => {
                let out = child.wait_with_output().await.unwrap();
                let mut logs = String::from_utf8_lossy(&out.stdout).into_owned();
                logs.push_str(&String::from_utf8_lossy(&out.stderr));
                (out.status.success(), logs)
            }
            Some(after) => {
                let out = tokio::time::timeout(after, child.wait_with_output()).await;
                match out {
                    Ok(out) => {
                        let out = out.unwrap();
                        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
                    }
                    // The child is killed on drop.
                    Err(_) => (false, String::new()),
                }
            }
        };
        if kill.is_some() && !ok && logs.is_empty() {
            logs.push_str("error: killed (fake kubelet)\n");
        }
        let _ = std::fs::remove_dir_all(&dir);
        (ok, logs)
    }

    fn delete_job(&self, name: &str, policy: Option<String>, uid: Option<String>) -> Response<Body> {
        let mut i = self.inner.lock().unwrap();
        i.job_deletions.push((name.to_owned(), policy.clone()));
        i.deletions.push(Deletion { kind: "jobs".into(), name: name.to_owned(), uid_precondition: uid.clone() });
        let Some(job) = i.jobs.get(name).cloned() else { return not_found("jobs", name) };
        if let Some(uid) = uid
            && job.metadata.uid.as_deref() != Some(uid.as_str())
        {
            return precondition_failed("jobs", name, &uid);
        }
        if matches!(policy.as_deref(), Some("Background" | "Foreground")) {
            // The garbage collector: the Job's pods, and what the Job owns.
            let prefix = format!("{name}-");
            i.pods.retain(|pod, _| !pod.starts_with(&prefix));
            let job_uid = json!(job.metadata.uid.clone().unwrap_or_default());
            let owned = |o: &Value| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == job_uid && r["kind"] == "Job"))
            };
            i.secrets.retain(|_, o| !owned(o));
            i.config_maps.retain(|_, o| !owned(o));
        }
        self.store_job(&mut i, job.clone(), "DELETED");
        json_response(StatusCode::OK, &serde_json::to_value(job).unwrap())
    }

    fn watch_jobs(&self, name: Option<String>, since: u64) -> Response<Body> {
        let fake = self.clone();
        let stream = futures::stream::unfold((fake, since), move |(fake, mut seen)| {
            let name = name.clone();
            async move {
                loop {
                    let changed = fake.changed.clone();
                    let notified = changed.notified();
                    let next = {
                        let i = fake.inner.lock().unwrap();
                        i.events
                            .iter()
                            .find(|(rv, _, job)| *rv > seen && name.as_deref().is_none_or(|n| job.metadata.name.as_deref() == Some(n)))
                            .cloned()
                    };
                    if let Some((rv, kind, job)) = next {
                        seen = rv;
                        let mut line = serde_json::to_vec(&json!({"type": kind, "object": job})).unwrap();
                        line.push(b'\n');
                        return Some((Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(line))), (fake, seen)));
                    }
                    notified.await;
                }
            }
        });
        Response::builder().status(200).header("content-type", "application/json").body(StreamBody::new(stream).boxed_unsync()).unwrap()
    }
}

/// An index set as the Job status writes it (`0,2-4`).
fn index_set(set: &std::collections::BTreeSet<usize>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = set.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap();
        }
        out.push(if end == start { start.to_string() } else { format!("{start}-{end}") });
    }
    out.join(",")
}

fn condition(type_: &str, reason: &str) -> JobCondition {
    JobCondition { type_: type_.into(), status: "True".into(), reason: Some(reason.into()), ..JobCondition::default() }
}

fn pod_of(job: &str, name: &str, phase: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            labels: Some(BTreeMap::from([("job-name".to_owned(), job.to_owned())])),
            creation_timestamp: Some(Time(k8s_openapi::jiff::Timestamp::now())),
            ..ObjectMeta::default()
        },
        status: Some(PodStatus { phase: Some(phase.into()), ..PodStatus::default() }),
        ..Pod::default()
    }
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).boxed_unsync()
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(Bytes::from(serde_json::to_vec(value).unwrap())))
        .unwrap()
}

fn precondition_failed(kind: &str, name: &str, uid: &str) -> Response<Body> {
    json_response(
        StatusCode::CONFLICT,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Conflict",
            "message": format!("Precondition failed: UID in precondition: {uid}, UID in object meta: another ({kind} \"{name}\")"), "code": 409}),
    )
}

fn not_found(kind: &str, name: &str) -> Response<Body> {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "NotFound", "message": format!("{kind} \"{name}\" not found"), "code": 404}),
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
