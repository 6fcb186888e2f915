//! In-cluster database work for `deploy`, with `kube`: [`DatabaseBootstrapJob`]
//! runs a [`deploy_core::BootstrapSpec`] as a psql script in a Job (Vectice
//! appendix 4: the `vectice` and `keycloak` databases created from inside the
//! cluster), [`PgCopyJob`] runs SIMPHERA's `pg_dump -Fc | pg_restore --clean
//! --if-exists` between two instances.
//!
//! Both run as a Job with `backoffLimit: 0`, `activeDeadlineSeconds`,
//! `ttlSecondsAfterFinished`, `restartPolicy: Never` and restricted pod
//! security; passwords only through a Secret; TLS `verify-full` with the CA
//! bundle from a ConfigMap. The caller waits for `Complete` or `Failed` within
//! a timeout, gets the pod's log (secrets scrubbed) and the changes made, and
//! everything is deleted afterwards. [`minimal_role_yaml`] is the RBAC the
//! caller needs.
//!
//! [`SnapshotJob`] and [`RestoreJob`] split a bucket snapshot or restore in
//! shards, one pod of a Kubernetes Indexed Job per shard (see [`shards`] and
//! [`snapshot_job`]), with the same restricted pods, runs and clean-up.
//!
//! # Runs
//!
//! Each run has its own name (`NAME-xxxxx`) and objects. The Job is created
//! first and owns its Secret and ConfigMap (`ownerReferences`), so the
//! garbage collector removes them with it, and the Job's deadline and TTL
//! remove the Job even when this process dies. A run deletes only what it
//! created, each object on the precondition of its uid, also when its future
//! is dropped. A run is refused while another run of the same Job is running.
//!
//! The clients [`client_from_env`] and [`client_from_credentials`] build have
//! the connect and read timeouts of [`deploy_core::timeouts::Timeouts`]
//! (`*_with` variants take the caller's).
//!
//! # Example
//!
//! The Secret, ConfigMap and Job a [`DatabaseBootstrapJob`] run creates, and
//! the Role the caller needs, are plain values: no cluster is needed to see
//! them (`job.run(client)` creates them, waits and cleans up).
//!
//! ```
//! use deploy_core::{BootstrapSpec, DatabaseSetup, PgIdentifier};
//! use deploy_k8s::{DatabaseBootstrapJob, JobSettings, PgEndpoint};
//! use secrecy::SecretString;
//!
//! let (app, owner) = (PgIdentifier::new("keycloak")?, PgIdentifier::new("postgres")?);
//! let spec = BootstrapSpec::new().database(DatabaseSetup::new(app, owner));
//! let endpoint = PgEndpoint {
//!     host: "db.example.internal".into(),
//!     port: 5432,
//!     user: "postgres".into(),
//!     dbname: "postgres".into(),
//!     password: SecretString::from("not-a-real-password"),
//!     ca_bundle_pem: "-----BEGIN CERTIFICATE-----\n...".into(),
//! };
//! let job = DatabaseBootstrapJob::new("app-databases", endpoint, spec, JobSettings::new("app"))?;
//! let resources = job.resources()?;
//! let script = resources.config_map.data.as_ref().and_then(|d| d.get("bootstrap.sql")).cloned().unwrap_or_default();
//! assert!(script.contains("keycloak"));
//! assert!(!format!("{resources:?}").contains("not-a-real-password"));
//! assert!(deploy_k8s::minimal_role_yaml("app", "deploy-database-jobs").contains("kind: Role"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The cloud-neutral crate this one implements, under its own name (never as `core`, which would shadow the built-in crate in a glob import).
pub use deploy_core;

pub mod bootstrap;
pub mod client;
pub mod copy;
pub mod error;
pub mod job;
pub mod rbac;
mod run;
pub mod service_account;
pub mod shards;
pub mod snapshot_job;

pub use bootstrap::DatabaseBootstrapJob;
pub use client::{client_from_credentials, client_from_credentials_with, client_from_env, client_from_env_with};
pub use copy::PgCopyJob;
pub use error::{Error, Result};
pub use job::{JobOutcome, JobResources, JobSettings, JobState, PgEndpoint, is_job_finished, job_state, run_name};
pub use rbac::minimal_role_yaml;
pub use service_account::{apply_irsa_service_account, irsa_service_account, service_account_object};
pub use shards::{PodCredentials, SecretKeyEnv, ShardAssignment, ShardJobSettings, ShardsOutcome};
pub use snapshot_job::{RestoreJob, ShardedSnapshot, SnapshotJob};
