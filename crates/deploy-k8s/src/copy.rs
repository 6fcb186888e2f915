//! [`PgCopyJob`]: SIMPHERA's restore step, `pg_dump -Fc | pg_restore --clean
//! --if-exists`, in a Job, restored in one transaction.

use std::collections::BTreeMap;

use kube::Client;

use crate::error::Result;
use crate::job::{self, FILES_DIR, JobOutcome, JobResources, JobSettings, PgEndpoint, check_job_name};

/// The copy script: fixed text; every name comes from the environment, quoted.
///
/// `--single-transaction` makes the whole restore one transaction: when any
/// statement fails, when the dump ends early (pg_dump failed, `pipefail`) or
/// when the pod is stopped (the Job's deadline, the wait's timeout: the
/// connection drops), PostgreSQL rolls everything back and the target is as
/// it was. It implies `--exit-on-error`.
const COPY_SCRIPT: &str = r#"set -euo pipefail
PGHOST="$SOURCE_PGHOST" PGPORT="$SOURCE_PGPORT" PGUSER="$SOURCE_PGUSER" PGPASSWORD="$SOURCE_PGPASSWORD" \
PGSSLMODE="$SOURCE_PGSSLMODE" PGSSLROOTCERT="$SOURCE_PGSSLROOTCERT" \
  pg_dump -Fc --no-password --dbname="$SOURCE_PGDATABASE" \
| PGHOST="$TARGET_PGHOST" PGPORT="$TARGET_PGPORT" PGUSER="$TARGET_PGUSER" PGPASSWORD="$TARGET_PGPASSWORD" \
  PGSSLMODE="$TARGET_PGSSLMODE" PGSSLROOTCERT="$TARGET_PGSSLROOTCERT" \
  pg_restore --clean --if-exists --single-transaction --exit-on-error --no-password --dbname="$TARGET_PGDATABASE"
echo "deploy-change: ~ restored database $TARGET_PGDATABASE from $SOURCE_PGHOST/$SOURCE_PGDATABASE"
"#;

/// Copy one database into another instance (a point-in-time restore back into
/// production): `pg_dump -Fc | pg_restore --clean --if-exists
/// --single-transaction` in a Job inside the cluster, both ends
/// `verify-full`, both passwords only through the Secret. Overwrites the
/// objects of the target database that the dump holds, all at once or not at
/// all: a copy that fails half-way leaves the target as it was.
///
/// One transaction holds a lock on every object it restores: a database with
/// thousands of tables may need a larger `max_locks_per_transaction` on the
/// target (the copy then fails, and changes nothing, until it is raised).
#[derive(Clone, Debug)]
pub struct PgCopyJob {
    name: String,
    source: PgEndpoint,
    target: PgEndpoint,
    settings: JobSettings,
}

/// Whether two endpoints name the same database: host (case-insensitive,
/// without a trailing dot), port and database name.
fn same_database(a: &PgEndpoint, b: &PgEndpoint) -> bool {
    let host = |e: &PgEndpoint| e.host.trim().trim_end_matches('.').to_ascii_lowercase();
    host(a) == host(b) && a.port == b.port && a.dbname == b.dbname
}

impl PgCopyJob {
    /// A Job named `name` copying `source` (its `dbname`) into `target` (its `dbname`).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a bad Job name or settings, and on field
    /// `target` when it is the source itself (same host, port and database):
    /// `--clean` would drop what it is about to read.
    pub fn new(name: impl Into<String>, source: PgEndpoint, target: PgEndpoint, settings: JobSettings) -> Result<Self> {
        let name = name.into();
        check_job_name(&name)?;
        settings.validate()?;
        if same_database(&source, &target) {
            return Err(deploy_core::Error::invalid(
                "target",
                format!("is the source itself ({}:{}/{})", target.host, target.port, target.dbname),
                "a copy goes into another database: a different host, port or database name than the source",
            )
            .into());
        }
        Ok(PgCopyJob { name, source, target, settings })
    }

    /// The Job's name (each run is `NAME-xxxxx`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database the copy overwrites.
    pub fn target(&self) -> &PgEndpoint {
        &self.target
    }

    /// The Secret, ConfigMap and Job of one run (a fresh run name).
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

    /// Run the copy once and clean up, as [`crate::DatabaseBootstrapJob::run`] does.
    ///
    /// # Errors
    /// As [`crate::DatabaseBootstrapJob::run`], with pg_dump's and pg_restore's
    /// error lines; the target is then unchanged.
    pub async fn run(&self, client: Client) -> Result<JobOutcome> {
        let secrets = [self.source.password.clone(), self.target.password.clone()];
        crate::run::run(client, &self.settings, &self.name, self.resources(), &secrets).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(host: &str, port: u16, dbname: &str) -> PgEndpoint {
        PgEndpoint {
            host: host.into(),
            port,
            user: "postgres".into(),
            dbname: dbname.into(),
            password: "pw".to_owned().into(),
            ca_bundle_pem: String::new(),
        }
    }

    #[test]
    fn a_copy_into_its_own_source_is_refused() {
        let settings = JobSettings::new("ns");
        let source = endpoint("Prod.example.com", 5432, "simphera");
        for target in [endpoint("prod.example.com", 5432, "simphera"), endpoint("prod.example.com.", 5432, "simphera")] {
            let err = PgCopyJob::new("copy", source.clone(), target, settings.clone()).unwrap_err();
            assert_eq!(deploy_core::Error::from(err).invalid_field(), Some("target"));
        }
        for target in [
            endpoint("restored.example.com", 5432, "simphera"),
            endpoint("prod.example.com", 5433, "simphera"),
            endpoint("prod.example.com", 5432, "other"),
        ] {
            assert!(PgCopyJob::new("copy", source.clone(), target, settings.clone()).is_ok());
        }
    }
}
