//! The error type of `deploy-k8s`.

use std::time::Duration;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong running a Job in a cluster. No variant carries
/// a secret: log lines are filtered to error lines and scrubbed of passwords
/// and verifiers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input rejected before any request (a bad name, a bad spec).
    #[error(transparent)]
    Invalid(#[from] deploy_core::Error),
    /// A Kubernetes API call failed.
    #[error("kubernetes {operation} failed: {source}")]
    Kube {
        /// What was being done (`create job deploy-bootstrap`).
        operation: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// Watching the Job failed.
    #[error("watching job `{job}` failed: {source}")]
    Watch {
        /// The Job.
        job: String,
        /// The watcher's error.
        #[source]
        source: kube::runtime::wait::Error,
    },
    /// No client could be built from the kubeconfig or credentials.
    #[error("kubeconfig: {message}")]
    Kubeconfig {
        /// What is wrong.
        message: String,
        /// The cause.
        #[source]
        source: Option<deploy_core::BoxError>,
    },
    /// A Job of the same name is still running: two runs never overlap.
    #[error("job `{job}` from a previous run is still running; wait for it or delete it")]
    AlreadyRunning {
        /// The Job.
        job: String,
    },
    /// The Job failed (its pod exited non-zero, or its deadline passed).
    #[error("job `{job}` failed ({reason}){}", format_errors(.errors))]
    JobFailed {
        /// The Job.
        job: String,
        /// The reason of its `Failed` condition (`BackoffLimitExceeded`, `DeadlineExceeded`).
        reason: String,
        /// The error lines of psql / pg_dump / pg_restore, secrets scrubbed.
        errors: Vec<String>,
    },
    /// A step the caller's process runs around a shard Job (planning the
    /// shards, finalizing the snapshot, checking a restore) failed.
    #[error("{step}: {source}")]
    Recipe {
        /// The step (`plan the shards`).
        step: &'static str,
        /// The recipe's error.
        #[source]
        source: deploy_core::Error,
    },
    /// A shard Job ended and the work is not complete: a shard failed or is
    /// missing, and the finalize step refused, naming it.
    #[error("job `{job}` ended ({state}){}; {source}{}", format_failed(.failed), format_errors(.errors))]
    ShardsIncomplete {
        /// The run's Job.
        job: String,
        /// How the Job ended (`Complete`, `Failed: FailedIndexes`).
        state: String,
        /// The shards that did not complete in this run.
        failed: Vec<usize>,
        /// The error lines of the failed shards' pods, secrets scrubbed.
        errors: Vec<String>,
        /// Why the finalize step refused (boxed: it keeps this error small).
        #[source]
        source: Box<deploy_core::Error>,
    },
    /// The Job neither completed nor failed within the wait timeout (it was deleted).
    #[error("job `{job}` did not finish within {waited:?}; it was deleted")]
    Timeout {
        /// The Job.
        job: String,
        /// How long was waited.
        waited: Duration,
    },
}

fn format_failed(failed: &[usize]) -> String {
    if failed.is_empty() {
        return String::new();
    }
    let named: Vec<String> = failed.iter().take(20).map(ToString::to_string).collect();
    let more = if failed.len() > 20 { format!(" and {} more", failed.len() - 20) } else { String::new() };
    format!(" with shards {}{more} not completed", named.join(", "))
}

fn format_errors(errors: &[String]) -> String {
    if errors.is_empty() { String::new() } else { format!(": {}", errors.join("; ")) }
}

impl Error {
    pub(crate) fn kube(operation: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube { operation: operation.into(), source }
    }

    /// The error lines of a failed Job (empty for other errors).
    pub fn job_errors(&self) -> &[String] {
        match self {
            Error::JobFailed { errors, .. } | Error::ShardsIncomplete { errors, .. } => errors,
            _ => &[],
        }
    }
}

impl From<Error> for deploy_core::Error {
    /// Classify into core's error: a running Job is a conflict, a wait past its
    /// deadline a timeout, a failed Job or an API error a provider error.
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(e) => e,
            Error::AlreadyRunning { job } => deploy_core::Error::conflict("job", job, "a previous run is still running"),
            Error::Recipe { source, .. } => source,
            Error::ShardsIncomplete { job, state, failed, errors, source } if matches!(*source, deploy_core::Error::Conflict { .. }) => {
                let deploy_core::Error::Conflict { kind, name, reason } = *source else { unreachable!("matched above") };
                deploy_core::Error::Conflict {
                    kind,
                    name,
                    reason: format!("{reason} (job {job} ended {state}{}{})", format_failed(&failed), format_errors(&errors)),
                }
            }
            Error::Timeout { job, waited } => {
                deploy_core::Error::Timeout { what: format!("job {job} to finish"), elapsed: waited, last_state: "running".into() }
            }
            other => {
                let retryable = matches!(&other, Error::Kube { source: kube::Error::Api(s), .. } if s.code == 429 || s.code >= 500);
                deploy_core::Error::Provider {
                    provider: "kubernetes",
                    operation: "job".into(),
                    message: other.to_string(),
                    retryable,
                    source: Some(Box::new(other)),
                }
            }
        }
    }
}
