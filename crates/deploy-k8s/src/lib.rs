//! In-cluster database bootstrap for `deploy`, with `kube`.
#![forbid(unsafe_code)]

pub use deploy_core as core;
