//! deploy-k8s integration tests: one binary, one module per subject.

mod client;
mod fake_api;
mod lifecycle;
mod resources;
mod sequences;
mod service_account;
mod support;
