//! What every database Job shares: its settings, restricted pod security, the
//! Secret + ConfigMap + Job it is made of, the wait for `Complete` or `Failed`
//! within a deadline, the pod's logs, and the clean-up.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvFromSource, EnvVar, Pod, PodSecurityContext,
    PodSpec, PodTemplateSpec, SeccompProfile, Secret, SecretEnvSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::runtime::wait::await_condition;
use kube::{Api, Client};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};

/// Where the ConfigMap is mounted in the pod.
pub const FILES_DIR: &str = "/etc/deploy";
/// The container's name.
pub const CONTAINER: &str = "pg";

/// How the Job runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSettings {
    /// The namespace of the Secret, ConfigMap and Job.
    pub namespace: String,
    /// The image with `psql`, `pg_dump` and `pg_restore` (15 or newer: the
    /// script uses `\getenv`; for a copy, at least the server's major version).
    pub image: String,
    /// The non-root user the container runs as (999 is `postgres` in the Debian images).
    pub run_as_user: i64,
    /// `activeDeadlineSeconds`: Kubernetes stops the Job after this long.
    pub active_deadline: Duration,
    /// `ttlSecondsAfterFinished`: a backstop that removes the Job should the clean-up not run.
    pub ttl_after_finished: Duration,
    /// How long to wait for `Complete` or `Failed` before deleting the Job.
    pub wait_timeout: Duration,
    /// The service account of the pod (its token is never mounted).
    pub service_account: Option<String>,
}

impl JobSettings {
    /// Defaults in `namespace`: image `postgres:17`, user 999, 10 minutes
    /// deadline, wait 11 minutes, TTL 1 hour.
    pub fn new(namespace: impl Into<String>) -> Self {
        JobSettings {
            namespace: namespace.into(),
            image: "postgres:17".to_owned(),
            run_as_user: 999,
            active_deadline: Duration::from_secs(600),
            ttl_after_finished: Duration::from_secs(3600),
            wait_timeout: Duration::from_secs(660),
            service_account: None,
        }
    }
}

/// A PostgreSQL instance as the pod reaches it: `verify-full` against `ca_bundle_pem`.
#[derive(Clone, Debug)]
pub struct PgEndpoint {
    /// Host name as in the server's certificate (the RDS endpoint, the Azure FQDN).
    pub host: String,
    /// Port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Database to connect to.
    pub dbname: String,
    /// The user's password (reaches the pod only through a Secret as `PGPASSWORD`).
    pub password: SecretString,
    /// CA bundle (PEM) that signed the server's certificate (the RDS bundle).
    pub ca_bundle_pem: String,
}

impl PgEndpoint {
    /// The connection as `PG*` variables, with `prefix` (`SOURCE_`) before each name; no password.
    pub(crate) fn env(&self, prefix: &str, ca_file: &str) -> Vec<EnvVar> {
        [
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
            ("PGSSLMODE", "verify-full".to_owned()),
            ("PGSSLROOTCERT", format!("{FILES_DIR}/{ca_file}")),
        ]
        .into_iter()
        .map(|(k, v)| env_var(&format!("{prefix}{k}"), &v))
        .collect()
    }
}

pub(crate) fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.to_owned(), value: Some(value.to_owned()), ..EnvVar::default() }
}

/// The objects of one run. Its `Debug` shows the Secret's keys, never its values.
#[derive(Clone)]
pub struct JobResources {
    /// `PGPASSWORD` and the other secret environment variables.
    pub secret: Secret,
    /// CA bundles and the script.
    pub config_map: ConfigMap,
    /// The Job.
    pub job: Job,
}

impl std::fmt::Debug for JobResources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&String> = self.secret.string_data.iter().flat_map(|d| d.keys()).collect();
        f.debug_struct("JobResources")
            .field("secret", &format_args!("Secret {:?} with keys {keys:?} (values redacted)", self.secret.metadata.name))
            .field("config_map", &self.config_map)
            .field("job", &self.job)
            .finish()
    }
}

/// What a run that completed reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOutcome {
    /// The Job's name.
    pub job: String,
    /// The changes the script reported (`deploy-change:` lines), in order.
    pub changes: Vec<String>,
    /// The pod's log, secrets scrubbed.
    pub logs: String,
}

/// The name of a run's Secret.
pub fn secret_name(job: &str) -> String {
    format!("{job}-env")
}

/// The name of a run's ConfigMap.
pub fn config_map_name(job: &str) -> String {
    format!("{job}-files")
}

/// Check a Job name: a DNS label of at most 52 characters (the pod adds a suffix).
pub(crate) fn check_job_name(name: &str) -> Result<()> {
    let rule = "job names: 1-52 lowercase letters, digits and hyphens; begin with a letter, end with a letter or digit";
    let ok = !name.is_empty()
        && name.len() <= 52
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if ok { Ok(()) } else { Err(deploy_core::Error::invalid("job_name", format!("`{name}` breaks the rule"), rule).into()) }
}

fn labels(job: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_owned(), "deploy".to_owned()),
        ("app.kubernetes.io/name".to_owned(), job.to_owned()),
    ])
}

fn meta(name: String, namespace: &str, job: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name), namespace: Some(namespace.to_owned()), labels: Some(labels(job)), ..ObjectMeta::default() }
}

/// Build the Secret, ConfigMap and Job of a run: `command` runs in the
/// container with `env` and every key of `secret_env` (through the Secret);
/// `files` are mounted read-only under [`FILES_DIR`].
pub(crate) fn resources(
    job: &str,
    settings: &JobSettings,
    command: Vec<String>,
    env: Vec<EnvVar>,
    secret_env: &[(String, SecretString)],
    files: BTreeMap<String, String>,
) -> JobResources {
    let ns = &settings.namespace;
    let secret = Secret {
        metadata: meta(secret_name(job), ns, job),
        string_data: Some(secret_env.iter().map(|(k, v)| (k.clone(), v.expose_secret().to_owned())).collect()),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    };
    let config_map = ConfigMap { metadata: meta(config_map_name(job), ns, job), data: Some(files), ..ConfigMap::default() };
    let container = Container {
        name: CONTAINER.to_owned(),
        image: Some(settings.image.clone()),
        command: Some(command),
        env: Some(env),
        env_from: Some(vec![EnvFromSource {
            secret_ref: Some(SecretEnvSource { name: secret_name(job), optional: Some(false) }),
            ..EnvFromSource::default()
        }]),
        volume_mounts: Some(vec![
            VolumeMount { name: "files".into(), mount_path: FILES_DIR.into(), read_only: Some(true), ..VolumeMount::default() },
            VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() },
        ]),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(settings.run_as_user),
            seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let pod = PodSpec {
        restart_policy: Some("Never".into()),
        automount_service_account_token: Some(false),
        service_account_name: settings.service_account.clone(),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(settings.run_as_user),
            run_as_group: Some(settings.run_as_user),
            seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![
            Volume {
                name: "files".into(),
                config_map: Some(ConfigMapVolumeSource { name: config_map_name(job), default_mode: Some(0o444), ..ConfigMapVolumeSource::default() }),
                ..Volume::default()
            },
            Volume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Volume::default() },
        ]),
        ..PodSpec::default()
    };
    let seconds = |d: Duration| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX);
    let job_object = Job {
        metadata: meta(job.to_owned(), ns, job),
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: Some(seconds(settings.active_deadline)),
            ttl_seconds_after_finished: Some(i32::try_from(settings.ttl_after_finished.as_secs()).unwrap_or(i32::MAX)),
            template: PodTemplateSpec { metadata: Some(ObjectMeta { labels: Some(labels(job)), ..ObjectMeta::default() }), spec: Some(pod) },
            ..JobSpec::default()
        }),
        ..Job::default()
    };
    JobResources { secret, config_map, job: job_object }
}

/// Where a Job is, from its conditions (see [`job_state`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Still running (or not started).
    Running,
    /// The `Complete` condition is true.
    Complete,
    /// The `Failed` condition is true, with its reason.
    Failed(String),
}

/// The state of a Job from its conditions.
pub fn job_state(job: &Job) -> JobState {
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref());
    for c in conditions.into_iter().flatten() {
        if c.status == "True" {
            match c.type_.as_str() {
                "Complete" => return JobState::Complete,
                "Failed" => return JobState::Failed(c.reason.clone().unwrap_or_else(|| "Failed".into())),
                _ => {}
            }
        }
    }
    JobState::Running
}

/// The condition for `await_condition`: the Job completed or failed (or is gone).
pub fn is_job_finished() -> impl Fn(Option<&Job>) -> bool {
    |job| job.is_none_or(|j| job_state(j) != JobState::Running)
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Run the objects: make way for them (a finished Job of the same name is
/// deleted; a running one is an error), create them, wait, read the logs,
/// clean up whatever happens.
pub(crate) async fn run(client: Client, settings: &JobSettings, resources: JobResources, secrets: &[SecretString]) -> Result<JobOutcome> {
    let job_name = resources.job.metadata.name.clone().expect("resources have names");
    let ns = settings.namespace.as_str();
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let secrets_api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);

    make_way(&jobs, &job_name, settings.wait_timeout).await?;
    delete_quietly(&secrets_api, &secret_name(&job_name), "secret").await?;
    delete_quietly(&config_maps, &config_map_name(&job_name), "configmap").await?;

    let pp = PostParams::default();
    let created = async {
        secrets_api.create(&pp, &resources.secret).await.map_err(|e| Error::kube(format!("create secret {}", secret_name(&job_name)), e))?;
        config_maps.create(&pp, &resources.config_map).await.map_err(|e| Error::kube(format!("create configmap {}", config_map_name(&job_name)), e))?;
        jobs.create(&pp, &resources.job).await.map_err(|e| Error::kube(format!("create job {job_name}"), e))?;
        Ok::<_, Error>(())
    }
    .await;
    let outcome = match created {
        Ok(()) => wait_and_collect(&client, ns, &jobs, &job_name, settings.wait_timeout, secrets).await,
        Err(e) => Err(e),
    };
    let cleaned = clean_up(&jobs, &secrets_api, &config_maps, &job_name).await;
    let outcome = outcome?;
    cleaned?;
    Ok(outcome)
}

async fn make_way(jobs: &Api<Job>, name: &str, timeout: Duration) -> Result<()> {
    let Some(previous) = jobs.get_opt(name).await.map_err(|e| Error::kube(format!("get job {name}"), e))? else { return Ok(()) };
    if job_state(&previous) == JobState::Running && previous.metadata.deletion_timestamp.is_none() {
        return Err(Error::AlreadyRunning { job: name.to_owned() });
    }
    tracing::info!(target: "deploy", job = name, "deleting the finished job of a previous run");
    match jobs.delete(name, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(e) if not_found(&e) => return Ok(()),
        Err(e) => return Err(Error::kube(format!("delete job {name}"), e)),
    }
    let gone = await_condition(jobs.clone(), name, |j: Option<&Job>| j.is_none());
    match tokio::time::timeout(timeout, gone).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(source)) => Err(Error::Watch { job: name.to_owned(), source }),
        Err(_) => Err(Error::Timeout { job: name.to_owned(), waited: timeout }),
    }
}

async fn delete_quietly<K>(api: &Api<K>, name: &str, kind: &str) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(Error::kube(format!("delete {kind} {name}"), e)),
    }
}

async fn wait_and_collect(client: &Client, ns: &str, jobs: &Api<Job>, name: &str, timeout: Duration, secrets: &[SecretString]) -> Result<JobOutcome> {
    let finished = await_condition(jobs.clone(), name, is_job_finished());
    let job = match tokio::time::timeout(timeout, finished).await {
        Ok(Ok(job)) => job,
        Ok(Err(source)) => return Err(Error::Watch { job: name.to_owned(), source }),
        Err(_) => return Err(Error::Timeout { job: name.to_owned(), waited: timeout }),
    };
    let state = job.as_ref().map_or(JobState::Failed("Deleted".into()), job_state);
    let logs = scrub(&pod_logs(client, ns, name).await?, secrets);
    match state {
        JobState::Complete => Ok(JobOutcome { job: name.to_owned(), changes: deploy_core::PsqlScript::changes_in_output(&logs), logs }),
        JobState::Failed(reason) => Err(Error::JobFailed { job: name.to_owned(), reason, errors: error_lines(&logs) }),
        JobState::Running => unreachable!("the condition holds"),
    }
}

/// The log of the newest pod labelled `job-name=<job>` (empty when none ran).
async fn pod_logs(client: &Client, ns: &str, job: &str) -> Result<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let list = pods.list(&ListParams::default().labels(&format!("job-name={job}"))).await.map_err(|e| Error::kube(format!("list pods of job {job}"), e))?;
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

async fn clean_up(jobs: &Api<Job>, secrets: &Api<Secret>, config_maps: &Api<ConfigMap>, job: &str) -> Result<()> {
    // batch/v1 Jobs orphan their pods unless deleted with background (or foreground) propagation.
    let results = [
        delete_quietly(jobs, job, "job").await,
        delete_quietly(secrets, &secret_name(job), "secret").await,
        delete_quietly(config_maps, &config_map_name(job), "configmap").await,
    ];
    results.into_iter().collect()
}

/// `logs` with every secret value and every SCRAM verifier replaced by `<redacted>`.
pub(crate) fn scrub(logs: &str, secrets: &[SecretString]) -> String {
    let mut out = logs.to_owned();
    for s in secrets {
        let s = s.expose_secret();
        if !s.is_empty() {
            out = out.replace(s, "<redacted>");
        }
    }
    let mut scrubbed = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("SCRAM-SHA-256$") {
        scrubbed.push_str(&rest[..at]);
        scrubbed.push_str("<redacted>");
        let tail = &rest[at..];
        let end = tail.find(|c: char| c.is_whitespace() || c == '\'' || c == '"').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    scrubbed.push_str(rest);
    scrubbed
}

/// The error lines of psql, pg_dump and pg_restore in a log.
pub(crate) fn error_lines(logs: &str) -> Vec<String> {
    logs.lines()
        .filter(|l| l.contains("ERROR:") || l.contains("FATAL:") || l.contains("error:") || l.contains("PANIC:"))
        .map(|l| l.trim().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_secrets_and_verifiers() {
        let secrets = [SecretString::from("hunter2")];
        let logs = "psql: FATAL: password hunter2\nALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'\n";
        let s = scrub(logs, &secrets);
        assert!(!s.contains("hunter2") && !s.contains("abc$def"), "{s}");
        assert_eq!(error_lines(&s), ["psql: FATAL: password <redacted>"]);
    }

    #[test]
    fn job_names_are_dns_labels() {
        assert!(check_job_name("deploy-bootstrap").is_ok());
        for bad in ["", "Upper", "-a", "a-", "a_b", &"a".repeat(53)] {
            assert!(check_job_name(bad).is_err(), "{bad}");
        }
    }
}
