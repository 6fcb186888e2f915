//! Shards as a Kubernetes Indexed Job: what the pods of a
//! [`crate::SnapshotJob`] or [`crate::RestoreJob`] are given, how the Job is
//! built and run, and what each pod reads to know its shard.
//!
//! The Job is `completionMode: Indexed` with `completions: N` (one index per
//! shard), `parallelism: P` and `backoffLimitPerIndex` (a failed shard's pod is
//! retried alone, and every other shard still runs); its pod is the restricted
//! pod of every Job of this crate. Kubernetes gives each pod its index as
//! `JOB_COMPLETION_INDEX`; the run adds the snapshot id and the shard count
//! ([`SNAPSHOT_ID_VAR`], [`SHARD_COUNT_VAR`]). Credentials reach the pod only
//! through a Secret or its service account ([`PodCredentials`]), never through
//! its command line or the Job's spec.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};
use kube::Client;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::job::{self, Completion, JobSettings, JobState, PodContainer, error_lines, job_state, run_name, scrub, secret_name};
use crate::run::{Owned, pod_logs, start};

/// The variable Kubernetes sets in each pod of an Indexed Job: its index.
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";
/// The variable a run sets in each pod: the snapshot's id.
pub const SNAPSHOT_ID_VAR: &str = "DEPLOY_SNAPSHOT_ID";
/// The variable a run sets in each pod: how many shards the work is split in.
pub const SHARD_COUNT_VAR: &str = "DEPLOY_SHARD_COUNT";
/// The pod label (and annotation) naming a pod's index.
pub const INDEX_LABEL: &str = "batch.kubernetes.io/job-completion-index";

/// The most pods of a shard Job at once.
pub const MAX_PARALLELISM: usize = 1024;
/// The most retries of one shard's pod.
pub const MAX_BACKOFF_PER_INDEX: u32 = 10;

/// A variable of the pod read from a key of a Secret that exists in the
/// namespace (`valueFrom.secretKeyRef`): the value never passes through
/// this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretKeyEnv {
    /// The variable (`AWS_SECRET_ACCESS_KEY`).
    pub env: String,
    /// The Secret.
    pub secret: String,
    /// Its key.
    pub key: String,
}

impl SecretKeyEnv {
    /// Variable `env` from key `key` of Secret `secret`.
    pub fn new(env: impl Into<String>, secret: impl Into<String>, key: impl Into<String>) -> Self {
        SecretKeyEnv { env: env.into(), secret: secret.into(), key: key.into() }
    }
}

/// How the shards' pods reach the cloud. Never through their command line
/// or the Job's spec (which anyone who may read Jobs reads).
#[derive(Clone)]
pub enum PodCredentials {
    /// The pod's own identity: the service account of
    /// [`JobSettings::service_account`] bound to a cloud role (EKS IRSA or
    /// Pod Identity, AKS workload identity). No secret at all.
    ServiceAccount,
    /// Variables from keys of Secrets that exist in the namespace.
    SecretKeys(Vec<SecretKeyEnv>),
    /// Values this process holds, put into a Secret the run creates (owned
    /// by the Job, deleted with it) and given to the pods with `envFrom`.
    Values(Vec<(String, SecretString)>),
}

impl std::fmt::Debug for PodCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PodCredentials::ServiceAccount => f.write_str("ServiceAccount"),
            PodCredentials::SecretKeys(keys) => f.debug_tuple("SecretKeys").field(keys).finish(),
            PodCredentials::Values(values) => {
                let names: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
                write!(f, "Values({names:?}, values redacted)")
            }
        }
    }
}

/// How the pods of a shard Job run: the image and its command, the
/// variables and credentials they get, how many run at once and how often a
/// shard is retried.
#[derive(Clone, Debug)]
pub struct ShardJobSettings {
    /// Namespace, image, user, deadline, TTL, wait and service account, as
    /// for every Job of this crate. Give the whole Job's time in
    /// `active_deadline` (and a wait a little longer).
    pub job: JobSettings,
    /// The command each pod runs: the binary in the image and its arguments.
    /// Never a secret: the command is in the Job's spec.
    pub command: Vec<String>,
    /// Plain variables of each pod (`AWS_REGION`); never a secret.
    pub env: Vec<(String, String)>,
    /// The pods' credentials.
    pub credentials: PodCredentials,
    /// Pods at once (`parallelism`, 1 to [`MAX_PARALLELISM`]; at most the shards).
    pub parallelism: usize,
    /// Retries of a failed shard's pod (`backoffLimitPerIndex`, 0 to [`MAX_BACKOFF_PER_INDEX`]).
    pub backoff_limit_per_index: u32,
    /// Labels on each pod (`azure.workload.identity/use: "true"` for AKS workload identity).
    pub pod_labels: BTreeMap<String, String>,
}

impl ShardJobSettings {
    /// Pods running `command` with `credentials`, 4 at once, each shard
    /// retried twice, under `job`.
    pub fn new(job: JobSettings, command: Vec<String>, credentials: PodCredentials) -> Self {
        ShardJobSettings {
            job,
            command,
            env: Vec::new(),
            credentials,
            parallelism: 4,
            backoff_limit_per_index: 2,
            pod_labels: BTreeMap::new(),
        }
    }

    /// Check everything before any request.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field: the Job settings; an empty
    /// command; parallelism or retries out of range; a variable name that is
    /// not `[A-Za-z_][A-Za-z0-9_]*`, or one a run sets itself
    /// ([`INDEX_VAR`], [`SNAPSHOT_ID_VAR`], [`SHARD_COUNT_VAR`]) or given
    /// twice; [`PodCredentials::ServiceAccount`] without a service account;
    /// empty credentials; a Secret name or key Kubernetes would refuse; a
    /// credential value that also appears in the command or a plain variable.
    pub fn validate(&self) -> Result<()> {
        self.job.validate()?;
        let invalid =
            |field: &str, problem: String, rule: &str| -> Result<()> { Err(deploy_core::Error::invalid(field, problem, rule).into()) };
        if self.command.is_empty() || self.command[0].is_empty() {
            return invalid("command", "is empty".into(), "the binary each pod runs, and its arguments");
        }
        if !(1..=MAX_PARALLELISM).contains(&self.parallelism) {
            return invalid("parallelism", format!("is {}", self.parallelism), "1 to 1024 pods at once");
        }
        if self.backoff_limit_per_index > MAX_BACKOFF_PER_INDEX {
            return invalid("backoff_limit_per_index", format!("is {}", self.backoff_limit_per_index), "0 to 10 retries of a shard");
        }
        let mut names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        match &self.credentials {
            PodCredentials::ServiceAccount => {
                if self.job.service_account.as_deref().is_none_or(str::is_empty) {
                    return invalid(
                        "job.service_account",
                        "is missing".into(),
                        "credentials from the pod's service account need the service account",
                    );
                }
            }
            PodCredentials::SecretKeys(keys) => {
                if keys.is_empty() {
                    return invalid("credentials", "names no Secret key".into(), "at least one variable from a Secret");
                }
                for k in keys {
                    check_dns_subdomain("credentials.secret", &k.secret)?;
                    let key_ok =
                        !k.key.is_empty() && k.key.len() <= 253 && k.key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
                    if !key_ok {
                        return invalid(
                            "credentials.key",
                            format!("`{}` is not a Secret key", k.key),
                            "Secret keys: 1-253 of letters, digits, `-`, `_`, `.`",
                        );
                    }
                    names.push(&k.env);
                }
            }
            PodCredentials::Values(values) => {
                if values.is_empty() {
                    return invalid("credentials", "holds no value".into(), "at least one variable");
                }
                for (name, value) in values {
                    names.push(name);
                    let v = value.expose_secret();
                    let leaks =
                        !v.is_empty() && (self.command.iter().any(|a| a.contains(v)) || self.env.iter().any(|(_, e)| e.contains(v)));
                    if leaks {
                        return invalid(
                            "command",
                            format!("holds the value of credential {name}"),
                            "credentials reach the pod only through the Secret",
                        );
                    }
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in names {
            let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return invalid(
                    "env",
                    format!("`{name}` is not a variable name"),
                    "variable names: letters, digits and `_`, not starting with a digit",
                );
            }
            if [INDEX_VAR, SNAPSHOT_ID_VAR, SHARD_COUNT_VAR].contains(&name) {
                return invalid("env", format!("`{name}` is set by the run"), "the index, snapshot id and shard count are the run's");
            }
            if !seen.insert(name) {
                return invalid("env", format!("`{name}` is given twice"), "each variable once");
            }
        }
        Ok(())
    }
}

fn check_dns_subdomain(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(deploy_core::Error::invalid(
            field,
            format!("`{name}` is not a Secret name"),
            "lowercase letters, digits, `-` and `.`, at most 253",
        )
        .into())
    }
}

/// How an Indexed Job of shards ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardsOutcome {
    /// The run's Job (`NAME-xxxxx`).
    pub job: String,
    /// Its indexes (`completions`).
    pub shards: usize,
    /// How it ended (`Complete`, or `Failed` with `FailedIndexes`, `DeadlineExceeded`...).
    pub state: JobState,
    /// The indexes whose pod succeeded (`status.completedIndexes`).
    pub completed: Vec<usize>,
    /// The indexes that did not complete: failed past their retries
    /// (`status.failedIndexes`), or left unfinished when the Job ended.
    pub failed: Vec<usize>,
    /// The error lines of the last pod of each failed index (the first 20),
    /// as `shard I: line`, secrets scrubbed.
    pub errors: Vec<String>,
}

/// Parse an index set as the Job status writes it (`1,3-5,7`).
///
/// # Errors
/// [`Error::Invalid`] on `status` for anything else.
pub fn parse_indexes(text: &str) -> Result<Vec<usize>> {
    let bad = || Error::from(deploy_core::Error::invalid("status.completedIndexes", format!("`{text}`"), "indexes as `1,3-5,7`"));
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b || b - a > 1_000_000 {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(out)
}

/// The Indexed Job of one run of `job`: `shards` indexes, the pods of
/// `settings` with `run_env` added (the run's own variables), and the
/// Secret of [`PodCredentials::Values`] when there is one (a fresh run name).
/// [`crate::SnapshotJob`] and [`crate::RestoreJob`] create them; this is for
/// reading what they would create.
pub fn indexed_resources(
    job: &str,
    settings: &ShardJobSettings,
    shards: usize,
    run_env: &[(&str, String)],
) -> (Job, Option<k8s_openapi::api::core::v1::Secret>) {
    let run = run_name(job);
    let mut env: Vec<EnvVar> = settings.env.iter().map(|(k, v)| job::env_var(k, v)).collect();
    env.extend(run_env.iter().map(|(k, v)| job::env_var(k, v)));
    let (mut secret, mut env_from_secret) = (None, None);
    match &settings.credentials {
        PodCredentials::ServiceAccount => {}
        PodCredentials::SecretKeys(keys) => env.extend(keys.iter().map(|k| EnvVar {
            name: k.env.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector { name: k.secret.clone(), key: k.key.clone(), optional: Some(false) }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        })),
        PodCredentials::Values(values) => {
            secret = Some(job::run_secret(job, &run, &settings.job, values));
            env_from_secret = Some(secret_name(&run));
        }
    }
    let pod = job::restricted_pod(&settings.job, PodContainer { command: settings.command.clone(), env, env_from_secret, files: None });
    let count = i32::try_from(shards).unwrap_or(i32::MAX);
    let completion = Completion::Indexed {
        completions: count,
        parallelism: i32::try_from(settings.parallelism.min(shards.max(1))).unwrap_or(i32::MAX),
        backoff_limit_per_index: i32::try_from(settings.backoff_limit_per_index).unwrap_or(0),
    };
    (job::job_object(job, &run, &settings.job, pod, &settings.pod_labels, completion), secret)
}

/// Run `shards` indexes of Job `job` to the end and clean up: the Job (and
/// its Secret) created, waited for within the wait timeout, the error lines
/// of each failed index's last pod read, everything this run created deleted
/// by uid (also when the future is dropped, see [Runs](crate#runs)).
pub(crate) async fn run_indexed(
    client: Client,
    job: &str,
    settings: &ShardJobSettings,
    shards: usize,
    run_env: &[(&str, String)],
) -> Result<ShardsOutcome> {
    let (object, secret) = indexed_resources(job, settings, shards, run_env);
    let secrets: Vec<SecretString> = match &settings.credentials {
        PodCredentials::Values(values) => values.iter().map(|(_, v)| v.clone()).collect(),
        _ => Vec::new(),
    };
    let started = start(client.clone(), &settings.job, job, object, secret.into_iter().map(Owned::Secret).collect()).await?;
    let outcome = async {
        let name = started.name().to_owned();
        let ended = started.wait().await?;
        outcome_of(&client, &settings.job.namespace, &name, shards, ended.as_ref(), &secrets).await
    }
    .await;
    let cleaned = started.clean_up().await;
    let outcome = outcome?;
    cleaned?;
    Ok(outcome)
}

async fn outcome_of(
    client: &Client,
    ns: &str,
    name: &str,
    shards: usize,
    ended: Option<&Job>,
    secrets: &[SecretString],
) -> Result<ShardsOutcome> {
    let state = ended.map_or(JobState::Failed("Deleted".into()), job_state);
    let status = ended.and_then(|j| j.status.as_ref());
    let completed = parse_indexes(status.and_then(|s| s.completed_indexes.as_deref()).unwrap_or(""))?;
    // Failed past their retries, or (the Job ended otherwise: deadline, deleted) not completed.
    let mut failed = parse_indexes(status.and_then(|s| s.failed_indexes.as_deref()).unwrap_or(""))?;
    failed.extend((0..shards).filter(|i| !completed.contains(i)));
    failed.sort_unstable();
    failed.dedup();
    let mut errors = Vec::new();
    for &i in failed.iter().take(20) {
        let logs = scrub(&pod_logs(client, ns, &format!("job-name={name},{INDEX_LABEL}={i}")).await?, secrets);
        errors.extend(error_lines(&logs).into_iter().map(|l| format!("shard {i}: {l}")));
    }
    Ok(ShardsOutcome { job: name.to_owned(), shards, state, completed, failed, errors })
}

/// What a shard's pod reads from its environment: its index, the shard
/// count and the snapshot's id, as a run of a [`crate::SnapshotJob`] or
/// [`crate::RestoreJob`] sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardAssignment {
    /// This pod's shard ([`INDEX_VAR`]).
    pub index: usize,
    /// Of how many ([`SHARD_COUNT_VAR`]).
    pub count: usize,
    /// The snapshot ([`SNAPSHOT_ID_VAR`]).
    pub snapshot_id: deploy_core::recipes::SnapshotId,
}

impl ShardAssignment {
    /// Read the assignment from the process's environment.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the variable that is missing or malformed,
    /// or an index not below the count.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Read the assignment from `var` (a variable's value by name).
    ///
    /// # Errors
    /// As [`ShardAssignment::from_env`].
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let number = |name: &str| -> Result<usize> {
            let value = var(name).ok_or_else(|| {
                deploy_core::Error::invalid(name, "is not set", "set by the shard Job's run (and Kubernetes, for the index)")
            })?;
            value
                .trim()
                .parse()
                .map_err(|_| deploy_core::Error::invalid(name, format!("`{value}` is not a number"), "a whole number").into())
        };
        let (index, count) = (number(INDEX_VAR)?, number(SHARD_COUNT_VAR)?);
        if count == 0 || index >= count {
            return Err(
                deploy_core::Error::invalid(INDEX_VAR, format!("is {index} of {count} shards"), "an index below the shard count").into()
            );
        }
        let id =
            var(SNAPSHOT_ID_VAR).ok_or_else(|| deploy_core::Error::invalid(SNAPSHOT_ID_VAR, "is not set", "set by the shard Job's run"))?;
        let snapshot_id = id.parse().map_err(|e: deploy_core::Error| e.in_field(SNAPSHOT_ID_VAR))?;
        Ok(ShardAssignment { index, count, snapshot_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_sets_parse_as_the_job_status_writes_them() {
        assert_eq!(parse_indexes("").unwrap(), Vec::<usize>::new());
        assert_eq!(parse_indexes("1,3-5,7").unwrap(), [1, 3, 4, 5, 7]);
        assert_eq!(parse_indexes("0-2").unwrap(), [0, 1, 2]);
        for bad in ["a", "3-1", "1,,x", "-"] {
            assert!(parse_indexes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_assignment_comes_from_the_pods_environment() {
        let vars = |index: &'static str, count: &'static str| {
            move |name: &str| match name {
                INDEX_VAR => Some(index.to_owned()),
                SHARD_COUNT_VAR => Some(count.to_owned()),
                SNAPSHOT_ID_VAR => Some("2026-11-23T20-21-40.123Z".to_owned()),
                _ => None,
            }
        };
        let a = ShardAssignment::from_vars(vars("2", "4")).unwrap();
        assert_eq!((a.index, a.count, a.snapshot_id.as_str()), (2, 4, "2026-11-23T20-21-40.123Z"));
        let field = |r: Result<ShardAssignment>| deploy_core::Error::from(r.unwrap_err()).invalid_field().map(str::to_owned);
        assert_eq!(field(ShardAssignment::from_vars(vars("4", "4"))).as_deref(), Some(INDEX_VAR));
        assert_eq!(field(ShardAssignment::from_vars(vars("x", "4"))).as_deref(), Some(INDEX_VAR));
        assert_eq!(field(ShardAssignment::from_vars(|_| None)).as_deref(), Some(INDEX_VAR));
    }
}
