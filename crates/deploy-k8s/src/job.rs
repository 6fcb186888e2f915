//! What every database Job shares: its settings, restricted pod security, the
//! Secret + ConfigMap + Job one run is made of, each run's unique name, and
//! the Job's state. Running it is the `run` module's.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvFromSource, EnvVar, PodSecurityContext, PodSpec,
    PodTemplateSpec, SeccompProfile, Secret, SecretEnvSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use secrecy::{ExposeSecret, SecretString};

use crate::error::Result;

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
    /// How long to wait for `Complete` or `Failed` before deleting the Job:
    /// every wait has this deadline.
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

    /// Check the durations: a deadline and a wait of at least a second, a
    /// wait of at most a day.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the field, before any request.
    pub fn validate(&self) -> Result<()> {
        let rule = "Job durations: at least 1 second; the wait at most 24 hours";
        for (field, d) in [("settings.active_deadline", self.active_deadline), ("settings.wait_timeout", self.wait_timeout)] {
            if d < Duration::from_secs(1) {
                return Err(deploy_core::Error::invalid(field, format!("is {d:?}"), rule).into());
            }
        }
        if self.wait_timeout > Duration::from_secs(24 * 3600) {
            return Err(deploy_core::Error::invalid("settings.wait_timeout", format!("is {:?}", self.wait_timeout), rule).into());
        }
        Ok(())
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

/// The longest Job name a caller gives: each run appends `-` and five
/// characters, and the pod's name adds its own suffix to the run's.
pub const MAX_JOB_NAME: usize = 46;

/// Check a Job name: a DNS label of at most [`MAX_JOB_NAME`] characters.
pub(crate) fn check_job_name(name: &str) -> Result<()> {
    let rule = "job names: 1-46 lowercase letters, digits and hyphens; begin with a letter, end with a letter or digit";
    let ok = !name.is_empty()
        && name.len() <= MAX_JOB_NAME
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-');
    if ok { Ok(()) } else { Err(deploy_core::Error::invalid("job_name", format!("`{name}` breaks the rule"), rule).into()) }
}

/// The name of one run of the Job `job`: `job-xxxxx`, five random lowercase
/// letters and digits, so that two runs never share an object.
pub fn run_name(job: &str) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..5).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("{job}-{suffix}")
}

/// The label naming the Job every run belongs to (`app.kubernetes.io/name`).
pub const JOB_LABEL: &str = "app.kubernetes.io/name";
/// The label naming the run (`app.kubernetes.io/instance`).
pub const RUN_LABEL: &str = "app.kubernetes.io/instance";
/// The label every object of a run carries: `app.kubernetes.io/managed-by=deploy`.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "deploy");

/// The label selector of every run of `job`.
pub fn runs_selector(job: &str) -> String {
    format!("{}={},{JOB_LABEL}={job}", MANAGED_BY.0, MANAGED_BY.1)
}

fn labels(job: &str, run: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
        (JOB_LABEL.to_owned(), job.to_owned()),
        (RUN_LABEL.to_owned(), run.to_owned()),
    ])
}

fn meta(name: String, namespace: &str, job: &str, run: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name), namespace: Some(namespace.to_owned()), labels: Some(labels(job, run)), ..ObjectMeta::default() }
}

/// The Secret of run `run` of `job`: every key of `secret_env` (the pod gets
/// them as environment variables through `envFrom`).
pub(crate) fn run_secret(job: &str, run: &str, settings: &JobSettings, secret_env: &[(String, SecretString)]) -> Secret {
    Secret {
        metadata: meta(secret_name(run), &settings.namespace, job, run),
        string_data: Some(secret_env.iter().map(|(k, v)| (k.clone(), v.expose_secret().to_owned())).collect()),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    }
}

/// What the container of a run is given: the rest of the pod (restricted
/// security, `/tmp` as an emptyDir, no service account token) is the same for
/// every Job of this crate.
pub(crate) struct PodContainer {
    /// The command (never a secret).
    pub command: Vec<String>,
    /// Plain variables, and variables from a Secret's key (`valueFrom.secretKeyRef`).
    pub env: Vec<EnvVar>,
    /// A Secret of the run, every key an environment variable (`envFrom`).
    pub env_from_secret: Option<String>,
    /// A ConfigMap of the run, mounted read-only under [`FILES_DIR`].
    pub files: Option<String>,
}

/// The restricted pod of a run: `runAsNonRoot` as `settings.run_as_user`,
/// seccomp `RuntimeDefault`, no privilege escalation, every capability
/// dropped, a read-only root file system (`/tmp` an emptyDir),
/// `restartPolicy: Never`, and no service account token mounted (an IRSA or
/// workload identity webhook mounts its own projected token).
pub(crate) fn restricted_pod(settings: &JobSettings, c: PodContainer) -> PodSpec {
    let mut mounts = vec![VolumeMount { name: "tmp".into(), mount_path: "/tmp".into(), ..VolumeMount::default() }];
    let mut volumes = vec![Volume { name: "tmp".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Volume::default() }];
    if let Some(config_map) = c.files {
        mounts
            .insert(0, VolumeMount { name: "files".into(), mount_path: FILES_DIR.into(), read_only: Some(true), ..VolumeMount::default() });
        volumes.insert(
            0,
            Volume {
                name: "files".into(),
                config_map: Some(ConfigMapVolumeSource { name: config_map, default_mode: Some(0o444), ..ConfigMapVolumeSource::default() }),
                ..Volume::default()
            },
        );
    }
    let container = Container {
        name: CONTAINER.to_owned(),
        image: Some(settings.image.clone()),
        command: Some(c.command),
        env: Some(c.env),
        env_from: c.env_from_secret.map(|name| {
            vec![EnvFromSource { secret_ref: Some(SecretEnvSource { name, optional: Some(false) }), ..EnvFromSource::default() }]
        }),
        volume_mounts: Some(mounts),
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
    PodSpec {
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
        volumes: Some(volumes),
        ..PodSpec::default()
    }
}

/// How a Job runs its pods.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Completion {
    /// One pod, never retried (`backoffLimit: 0`).
    Single,
    /// `completionMode: Indexed`: one successful pod per index `0..completions`,
    /// at most `parallelism` at once, each index retried up to
    /// `backoff_limit_per_index` times; every index runs even when others failed.
    Indexed { completions: i32, parallelism: i32, backoff_limit_per_index: i32 },
}

/// The Job of run `run` of `job` (named `run`), its pods as `pod` with the
/// run's labels and `pod_labels`; the deadline and TTL of `settings`.
pub(crate) fn job_object(
    job: &str,
    run: &str,
    settings: &JobSettings,
    pod: PodSpec,
    pod_labels: &BTreeMap<String, String>,
    completion: Completion,
) -> Job {
    let seconds = |d: Duration| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX);
    let mut template_labels = pod_labels.clone();
    template_labels.extend(labels(job, run));
    let mut spec = JobSpec {
        active_deadline_seconds: Some(seconds(settings.active_deadline)),
        ttl_seconds_after_finished: Some(i32::try_from(settings.ttl_after_finished.as_secs()).unwrap_or(i32::MAX)),
        template: PodTemplateSpec {
            metadata: Some(ObjectMeta { labels: Some(template_labels), ..ObjectMeta::default() }),
            spec: Some(pod),
        },
        ..JobSpec::default()
    };
    match completion {
        Completion::Single => spec.backoff_limit = Some(0),
        Completion::Indexed { completions, parallelism, backoff_limit_per_index } => {
            spec.completion_mode = Some("Indexed".into());
            spec.completions = Some(completions);
            spec.parallelism = Some(parallelism);
            // With a limit per index, `backoffLimit` stays unset (the API then
            // counts failures per index only) and every index runs.
            spec.backoff_limit_per_index = Some(backoff_limit_per_index);
        }
    }
    Job { metadata: meta(run.to_owned(), &settings.namespace, job, run), spec: Some(spec), ..Job::default() }
}

/// Build the Secret, ConfigMap and Job of one run of `job`, named after
/// [`run_name`]: `command` runs in the container with `env` and every key of
/// `secret_env` (through the Secret); `files` are mounted read-only under
/// [`FILES_DIR`]. The run sets the Secret's and ConfigMap's owner (the Job)
/// once the Job exists.
pub(crate) fn resources(
    job: &str,
    settings: &JobSettings,
    command: Vec<String>,
    env: Vec<EnvVar>,
    secret_env: &[(String, SecretString)],
    files: BTreeMap<String, String>,
) -> JobResources {
    let run = run_name(job);
    let secret = run_secret(job, &run, settings, secret_env);
    let config_map =
        ConfigMap { metadata: meta(config_map_name(&run), &settings.namespace, job, &run), data: Some(files), ..ConfigMap::default() };
    let pod = restricted_pod(
        settings,
        PodContainer { command, env, env_from_secret: Some(secret_name(&run)), files: Some(config_map_name(&run)) },
    );
    let job_object = job_object(job, &run, settings, pod, &BTreeMap::new(), Completion::Single);
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
        assert!(check_job_name(&"a".repeat(MAX_JOB_NAME)).is_ok());
        for bad in ["", "Upper", "-a", "a-", "a_b", &"a".repeat(MAX_JOB_NAME + 1)] {
            assert!(check_job_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_run_has_its_own_name_within_the_dns_label_limit() {
        let job = "a".repeat(MAX_JOB_NAME);
        let runs: std::collections::BTreeSet<String> = (0..50).map(|_| run_name(&job)).collect();
        assert_eq!(runs.len(), 50, "{runs:?}");
        assert!(runs.iter().all(|r| r.len() == MAX_JOB_NAME + 6 && r.starts_with(&job)));
        // The pod adds `-xxxxx` to the Job's name: still a 63-character label at most.
        const { assert!(MAX_JOB_NAME + 6 + 6 <= 63) };
    }

    #[test]
    fn settings_need_a_deadline_and_a_bounded_wait() {
        assert!(JobSettings::new("ns").validate().is_ok());
        let mut s = JobSettings::new("ns");
        s.wait_timeout = Duration::ZERO;
        assert_eq!(deploy_core::Error::from(s.validate().unwrap_err()).invalid_field(), Some("settings.wait_timeout"));
        s.wait_timeout = Duration::from_secs(25 * 3600);
        assert!(s.validate().is_err());
        let mut s = JobSettings::new("ns");
        s.active_deadline = Duration::from_millis(10);
        assert_eq!(deploy_core::Error::from(s.validate().unwrap_err()).invalid_field(), Some("settings.active_deadline"));
    }
}
