//! [`RequestLog`]: an SDK interceptor that records every operation the
//! backends call, so a test or an example can prove that a second `ensure`
//! makes no mutating request.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One recorded operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The service, as the SDK names it (`S3`, `RDS`, `Secrets Manager`).
    pub service: String,
    /// The operation (`CreateBucket`, `GetSecretValue`).
    pub operation: String,
}

/// Whether AWS operation `operation` (`CreateBucket`) may change state:
/// everything but `Get*`, `Head*`, `List*` and `Describe*`.
pub fn is_mutating_operation(operation: &str) -> bool {
    !["Get", "Head", "List", "Describe"].iter().any(|p| operation.starts_with(p))
}

impl Request {
    /// Whether the operation may change state ([`is_mutating_operation`]).
    pub fn is_mutating(&self) -> bool {
        is_mutating_operation(&self.operation)
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)
    }
}

/// Records the operations of every client it is installed on (once per
/// operation, not per retry attempt). Clones share the record.
///
/// Install it through [`crate::AwsBackends::with_request_log`], or on a
/// service config of your own with `.interceptor(log.clone())`.
#[derive(Clone, Default)]
pub struct RequestLog {
    requests: Arc<Mutex<Vec<Request>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> Self {
        RequestLog::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Request>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every operation recorded so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().clone()
    }

    /// The operations that may have changed state ([`Request::is_mutating`]).
    pub fn mutating(&self) -> Vec<Request> {
        self.lock().iter().filter(|r| r.is_mutating()).cloned().collect()
    }

    /// How many times `operation` was called.
    pub fn count(&self, operation: &str) -> usize {
        self.lock().iter().filter(|r| r.operation == operation).count()
    }

    /// Forget what was recorded.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The log as the SDK's shared interceptor type.
    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLog").field("requests", &self.lock().len()).finish()
    }
}

/// The service and operation of the call `cfg` configures (`unknown` when
/// the SDK has not named them).
pub(crate) fn operation_of(cfg: &ConfigBag) -> (&str, &str) {
    cfg.load::<Metadata>().map_or(("unknown", "unknown"), |m| (m.service(), m.name()))
}

impl Intercept for RequestLog {
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Not `read_before_execution`: the operation's metadata is not in the bag yet there.
        let (service, operation) = operation_of(cfg);
        let request = Request { service: service.to_owned(), operation: operation.to_owned() };
        self.lock().push(request);
        Ok(())
    }

    fn name(&self) -> &'static str {
        "deploy_aws::RequestLog"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_mutations() {
        let r = |op: &str| Request { service: "s3".into(), operation: op.into() };
        assert!(!r("GetBucketPolicy").is_mutating());
        assert!(!r("HeadBucket").is_mutating());
        assert!(!r("ListObjectsV2").is_mutating());
        assert!(!r("DescribeDBInstances").is_mutating());
        assert!(r("PutBucketPolicy").is_mutating());
        assert!(r("CreateBucket").is_mutating());
        assert!(r("DeleteObjects").is_mutating());
        assert_eq!(r("CreateBucket").to_string(), "s3:CreateBucket");
    }
}
