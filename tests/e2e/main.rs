//! End-to-end tests against the local peers started by `scripts/test`.
//!
//! One test binary for the whole root package (`cargo test -p deploy --test e2e`);
//! areas are modules. [`support`] reads the peers' addresses from the
//! environment that `scripts/test` (or `scripts/peers`) sets up.

mod support;

mod aws_alarms;
mod aws_aurora;
mod aws_dns_alarms;
mod aws_examples;
mod aws_pod_role;
mod aws_replication;
mod azure_examples;
mod azure_shard_job;
mod bad_input;
mod cli;
mod cross_cloud;
mod defaults;
mod environment_example;
mod faults;
mod faults_examples;
mod k8s_examples;
mod kill_resume;
mod peers_smoke;
mod pg_examples;
mod restore_safety;
mod rotation_examples;
mod sentinel;
mod shard_job;
mod snapshot_safety;
