//! deploy-k8s integration tests: one binary, one module per subject.

mod client;
mod copy;
mod fake_api;
mod lifecycle;
mod resources;
mod runs;
mod sequences;
mod service_account;
mod shards;
mod support;
