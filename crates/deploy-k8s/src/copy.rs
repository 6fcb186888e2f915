//! [`PgCopyJob`]: SIMPHERA's restore step, `pg_dump -Fc | pg_restore --clean --if-exists`, in a Job.

use std::collections::BTreeMap;

use kube::Client;

use crate::error::Result;
use crate::job::{self, FILES_DIR, JobOutcome, JobResources, JobSettings, PgEndpoint, check_job_name};

/// The copy script: fixed text; every name comes from the environment, quoted.
const COPY_SCRIPT: &str = r#"set -euo pipefail
PGHOST="$SOURCE_PGHOST" PGPORT="$SOURCE_PGPORT" PGUSER="$SOURCE_PGUSER" PGPASSWORD="$SOURCE_PGPASSWORD" \
PGSSLMODE="$SOURCE_PGSSLMODE" PGSSLROOTCERT="$SOURCE_PGSSLROOTCERT" \
  pg_dump -Fc --no-password --dbname="$SOURCE_PGDATABASE" \
| PGHOST="$TARGET_PGHOST" PGPORT="$TARGET_PGPORT" PGUSER="$TARGET_PGUSER" PGPASSWORD="$TARGET_PGPASSWORD" \
  PGSSLMODE="$TARGET_PGSSLMODE" PGSSLROOTCERT="$TARGET_PGSSLROOTCERT" \
  pg_restore --clean --if-exists --exit-on-error --no-password --dbname="$TARGET_PGDATABASE"
echo "deploy-change: ~ restored database $TARGET_PGDATABASE from $SOURCE_PGHOST/$SOURCE_PGDATABASE"
"#;

/// Copy one database into another instance (a point-in-time restore back into
/// production): `pg_dump -Fc | pg_restore --clean --if-exists --exit-on-error`
/// in a Job inside the cluster, both ends `verify-full`, both passwords only
/// through the Secret. Overwrites the objects of the target database that the
/// dump holds.
#[derive(Clone, Debug)]
pub struct PgCopyJob {
    name: String,
    source: PgEndpoint,
    target: PgEndpoint,
    settings: JobSettings,
}

impl PgCopyJob {
    /// A Job named `name` copying `source` (its `dbname`) into `target` (its `dbname`).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a bad Job name.
    pub fn new(name: impl Into<String>, source: PgEndpoint, target: PgEndpoint, settings: JobSettings) -> Result<Self> {
        let name = name.into();
        check_job_name(&name)?;
        Ok(PgCopyJob { name, source, target, settings })
    }

    /// The Secret, ConfigMap and Job this run creates.
    pub fn resources(&self) -> JobResources {
        let secret_env = vec![
            ("SOURCE_PGPASSWORD".to_owned(), self.source.password.clone()),
            ("TARGET_PGPASSWORD".to_owned(), self.target.password.clone()),
        ];
        let files = BTreeMap::from([
            ("source-ca.crt".to_owned(), self.source.ca_bundle_pem.clone()),
            ("target-ca.crt".to_owned(), self.target.ca_bundle_pem.clone()),
            ("copy.sh".to_owned(), COPY_SCRIPT.to_owned()),
        ]);
        let mut env = self.source.env("SOURCE_", "source-ca.crt");
        env.extend(self.target.env("TARGET_", "target-ca.crt"));
        let command = vec!["bash".to_owned(), format!("{FILES_DIR}/copy.sh")];
        job::resources(&self.name, &self.settings, command, env, &secret_env, files)
    }

    /// Run the copy and clean up, as [`crate::DatabaseBootstrapJob::run`] does.
    ///
    /// # Errors
    /// As [`crate::DatabaseBootstrapJob::run`], with pg_dump's and pg_restore's error lines.
    pub async fn run(&self, client: Client) -> Result<JobOutcome> {
        let secrets = [self.source.password.clone(), self.target.password.clone()];
        job::run(client, &self.settings, self.resources(), &secrets).await
    }
}
