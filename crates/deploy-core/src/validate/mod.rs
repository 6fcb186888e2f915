//! Validated names and values, each a type.
//!
//! Every constructor checks the value against its rule and answers
//! [`Error::InvalidInput`](crate::Error::InvalidInput) naming the field, the value's fault and the rule, so
//! that bad input is rejected before any request. All types deserialize through
//! the same check.
//!
//! One file a concern: [the newtype macro](crate::validated_string) and its
//! [`Check`] (`newtype.rs`), names (`names.rs`), Kubernetes versions
//! (`version.rs`), cron schedules (`cron.rs`), retention periods
//! (`retention.rs`), CIDR blocks (`cidr.rs`), passwords and their rules
//! (`password.rs`).

mod cidr;
mod cron;
mod names;
mod newtype;
mod password;
mod retention;
mod version;

pub use cidr::CidrBlock;
pub use cron::CronSchedule;
pub use names::{BucketName, ContainerName, ObjectKey, PgIdentifier, ResourceName, SecretName};
pub use newtype::{Check, fault};
pub use password::{Password, PasswordRules};
pub use retention::RetentionDays;
pub use version::KubernetesVersion;

#[cfg(test)]
#[path = "tests/support.rs"]
mod test_support;
