//! deploy-core's integration tests: one binary, one module per subject.

mod bad_input;
mod bootstrap;
mod conformance;
mod dr;
mod env;
mod recipes;
mod rotation;
mod restore;
mod snapshot_guards;
mod secrecy_sentinel;
mod shards;
mod support;
