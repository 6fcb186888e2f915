//! deploy-core's integration tests: one binary, one module per subject.

mod bad_input;
mod bootstrap;
mod conformance;
mod env;
mod recipes;
mod secrecy_sentinel;
mod support;
