//! [`DatabaseBootstrapJob`]: a [`BootstrapSpec`] run by `psql` in a Job inside the cluster.

use std::collections::BTreeMap;

use deploy_core::BootstrapSpec;
use kube::Client;
use secrecy::SecretString;

use crate::error::Result;
use crate::job::{self, FILES_DIR, JobOutcome, JobResources, JobSettings, PgEndpoint, check_job_name};

/// The bootstrap of databases, roles, grants and extensions, run from inside
/// the cluster (the instance is reachable only there) by `psql -X -v
/// ON_ERROR_STOP=1 -f` in a Job.
///
/// The admin password reaches the pod only through a Secret as `PGPASSWORD`;
/// role passwords as SCRAM verifiers computed here, also in the Secret; the CA
/// bundle and the script (which holds no secret) in a ConfigMap; TLS is
/// `verify-full`. Idempotent: a second run changes nothing but the passwords,
/// which are set again from fresh verifiers.
///
/// ```no_run
/// # async fn run(client: kube::Client, spec: deploy_core::BootstrapSpec, endpoint: deploy_k8s::PgEndpoint) -> deploy_k8s::Result<()> {
/// use deploy_k8s::{DatabaseBootstrapJob, JobSettings};
/// let job = DatabaseBootstrapJob::new("vectice-databases", endpoint, spec, JobSettings::new("vectice"))?;
/// let outcome = job.run(client).await?;
/// for change in &outcome.changes { println!("{change}"); }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DatabaseBootstrapJob {
    name: String,
    endpoint: PgEndpoint,
    spec: BootstrapSpec,
    settings: JobSettings,
}

/// The file name of the script in the ConfigMap.
pub const SCRIPT_FILE: &str = "bootstrap.sql";
/// The file name of the CA bundle in the ConfigMap.
pub const CA_FILE: &str = "ca.crt";

impl DatabaseBootstrapJob {
    /// A Job named `name` (its Secret and ConfigMap are named after it) that
    /// brings the instance at `endpoint` to `spec`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a bad Job name or spec.
    pub fn new(name: impl Into<String>, endpoint: PgEndpoint, spec: BootstrapSpec, settings: JobSettings) -> Result<Self> {
        let name = name.into();
        check_job_name(&name)?;
        settings.validate()?;
        spec.validate()?;
        Ok(DatabaseBootstrapJob { name, endpoint, spec, settings })
    }

    /// The Job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Secret, ConfigMap and Job of one run (a fresh run name, verifiers freshly computed).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when the script cannot be rendered.
    pub fn resources(&self) -> Result<JobResources> {
        Ok(self.resources_and_secrets()?.0)
    }

    fn resources_and_secrets(&self) -> Result<(JobResources, Vec<SecretString>)> {
        let script = self.spec.psql_script()?;
        let mut secret_env = vec![("PGPASSWORD".to_owned(), self.endpoint.password.clone())];
        secret_env.extend(self.spec.verifier_env()?);
        let secrets = secret_env.iter().map(|(_, v)| v.clone()).collect();
        let files =
            BTreeMap::from([(CA_FILE.to_owned(), self.endpoint.ca_bundle_pem.clone()), (SCRIPT_FILE.to_owned(), script.text().to_owned())]);
        let mut env = self.endpoint.env("", CA_FILE);
        env.push(job::env_var("PGAPPNAME", "deploy-bootstrap"));
        env.push(job::env_var("PGCONNECT_TIMEOUT", "10"));
        let command = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([format!("{FILES_DIR}/{SCRIPT_FILE}")])
            .collect();
        Ok((job::resources(&self.name, &self.settings, command, env, &secret_env, files), secrets))
    }

    /// Run it once: create the Job (named `NAME-xxxxx`, new for each run),
    /// then its Secret and ConfigMap owned by it; wait for the Job to complete
    /// or fail within the wait timeout; read the pod's log; and delete the
    /// Job (background propagation), Secret and ConfigMap this run created
    /// whatever happened — also when the future is dropped (see
    /// [Runs](crate#runs)).
    ///
    /// # Errors
    /// [`crate::Error::AlreadyRunning`] when another run of this Job is still
    /// running (nothing is created, nothing of it touched);
    /// [`crate::Error::JobFailed`] with psql's error lines;
    /// [`crate::Error::Timeout`]; [`crate::Error::Kube`] and
    /// [`crate::Error::Watch`] for API failures.
    pub async fn run(&self, client: Client) -> Result<JobOutcome> {
        let (resources, secrets) = self.resources_and_secrets()?;
        crate::run::run(client, &self.settings, &self.name, resources, &secrets).await
    }
}
