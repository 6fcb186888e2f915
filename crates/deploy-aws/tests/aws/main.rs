//! deploy-aws's integration tests: one binary, one module per service, each
//! against the local AWS peer (moto) named by `DEPLOY_MOTO_ENDPOINT`.
//!
//! Without that variable every test prints why it skips and passes, unless
//! `DEPLOY_REQUIRE_PEERS=1` (as `scripts/test` sets it), where a missing peer
//! fails the test. Tests never reset moto: they isolate by unique names.

mod support;

mod alarms;
mod aurora;
mod backup;
mod dns;
mod eks;
mod environment;
mod faults;
mod iam;
mod iam_keys;
mod kms;
mod mocked;
mod network;
mod pod_access;
mod rds;
mod replication;
mod s3;
mod s3_safety;
mod secrets;
