//! AWS backends of `deploy`. The services land behind their own cargo features
//! (`s3`, `rds`, `eks`, `backup`, `secrets`, `kms`, `iam`, `ec2`).
#![forbid(unsafe_code)]

pub use deploy_core as core;
