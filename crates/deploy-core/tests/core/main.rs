//! deploy-core's integration tests: one binary, one module per subject.

mod bad_input;
mod bootstrap;
mod conformance;
mod dr;
mod env;
mod recipes;
mod restore;
mod rotation;
mod secrecy_sentinel;
mod shards;
mod snapshot_guards;
mod support;
