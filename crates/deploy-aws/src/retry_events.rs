//! [`RetryEvents`]: one tracing event per failed attempt of an SDK call that
//! the SDK's retry policy may retry (throttled, a 5xx answer, a timeout or a
//! broken connection), installed on every client of [`crate::context`]. The
//! SDK retries inside one call, so without it a trace shows a slow call and
//! not why. Target `deploy::retry`: WARN when throttled (429, 503, as S3's
//! `SlowDown`), INFO otherwise; the event sits in the span of the operation
//! that made the call.

// Without a service feature no client is built, so nothing installs it.
#![cfg_attr(
    not(any(
        feature = "s3",
        feature = "secrets",
        feature = "kms",
        feature = "iam",
        feature = "rds",
        feature = "eks",
        feature = "backup",
        feature = "sts",
        feature = "ec2",
        feature = "route53",
        feature = "cloudwatch",
        feature = "efs",
        feature = "logs"
    )),
    allow(dead_code)
)]

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::record::operation_of;

/// The interceptor (stateless).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RetryEvents;

impl Intercept for RetryEvents {
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(error)) = context.output_or_error() else {
            return Ok(());
        };
        let status = context.response().map(|r| r.status().as_u16());
        let throttled = matches!(status, Some(429 | 503));
        let transient = throttled || status.is_some_and(|s| s >= 500) || error.is_timeout_error() || error.is_connector_error();
        if !transient {
            // A 4xx answer is the call's result, not a reason to retry.
            return Ok(());
        }
        let (service, operation) = operation_of(cfg);
        let attempt = cfg.load::<RequestAttempts>().map_or(1, RequestAttempts::attempts);
        let status = status.unwrap_or_default();
        if throttled {
            tracing::warn!(target: "deploy::retry", service, operation, attempt, status, throttled, "throttled; the SDK retries within its policy");
        } else {
            let timeout = error.is_timeout_error();
            tracing::info!(target: "deploy::retry", service, operation, attempt, status, timeout, throttled, "attempt failed; the SDK retries within its policy");
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "deploy_aws::RetryEvents"
    }
}
