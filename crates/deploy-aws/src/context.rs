//! [`AwsContext`]: the one leaf every service of this crate is built from —
//! the caller's [`SdkConfig`], the interceptors installed on every client, the
//! waiter of long operations and the partition of the region, computed here
//! once. A service is built with `X::new(&ctx)`; [`AwsContext::client`] makes
//! the SDK client of any enabled service the same way (timeouts bounded,
//! interceptors installed), for calls this crate does not make.
//!
//! This module imports nothing else of the crate but the request recorder and
//! the Route 53 CDATA interceptor (leaves both), so every service may import it.

use std::fmt;

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_types::SdkConfig;
use aws_types::region::Region;
use deploy_core::waiter::Waiter;

use crate::record::RequestLog;

/// What every service is built from. See the [module docs](self).
///
/// ```no_run
/// # #[cfg(feature = "kms")]
/// # async fn example() -> deploy_core::Result<()> {
/// use deploy_aws::context::AwsContext;
/// use deploy_aws::kms::Kms;
///
/// let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let ctx = AwsContext::new(&sdk_config).with_timeouts(deploy_core::Timeouts::default());
/// let kms = Kms::new(&ctx);
/// println!("{} in partition {}", kms.client().config().region().map_or("-", |r| r.as_ref()), ctx.partition());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AwsContext {
    sdk_config: SdkConfig,
    interceptors: Vec<SharedInterceptor>,
    waiter: Option<Waiter>,
    partition: &'static str,
}

impl AwsContext {
    /// A context over `sdk_config` (region, credentials, retry settings,
    /// endpoint), with no interceptor and each service's waiter preset.
    pub fn new(sdk_config: &SdkConfig) -> Self {
        AwsContext {
            partition: partition(sdk_config.region().map(|r| r.as_ref())),
            sdk_config: sdk_config.clone(),
            interceptors: Vec::new(),
            waiter: None,
        }
    }

    /// Record every operation of the clients made from now on in `log`.
    #[must_use]
    pub fn with_request_log(self, log: &RequestLog) -> Self {
        self.with_interceptor(log.interceptor())
    }

    deploy_core::setters! {
        /// Install an SDK interceptor on every client made from now on.
        pub fn with_interceptor(interceptors.push(interceptor): SharedInterceptor);
    }

    /// Bound every request of the clients made from now on by `timeouts`
    /// (connect, per attempt, per operation), replacing the timeouts of the
    /// `SdkConfig`. Without it, the `SdkConfig`'s own limits apply, and
    /// [`deploy_core::Timeouts::default`] wherever it sets none.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: deploy_core::Timeouts) -> Self {
        self.sdk_config = self.sdk_config.to_builder().timeout_config(timeout_config(&timeouts)).build();
        self
    }

    deploy_core::setters! {
        /// Wait for long operations (an instance becoming available, a job
        /// completing, a VPC becoming available) with `waiter` instead of each
        /// service's preset.
        pub fn with_waiter(Some(waiter): Waiter);
    }

    /// The same context in `region`: same credentials, interceptors, timeouts
    /// and waiter; the partition of that region.
    #[must_use]
    pub fn in_region(&self, region: &str) -> Self {
        let sdk_config = self.sdk_config.to_builder().region(Region::new(region.to_owned())).build();
        AwsContext { partition: partition(Some(region)), sdk_config, interceptors: self.interceptors.clone(), waiter: self.waiter.clone() }
    }

    /// The SDK configuration.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    /// The region, when the configuration names one.
    pub fn region(&self) -> Option<&str> {
        self.sdk_config.region().map(|r| r.as_ref())
    }

    /// The AWS partition of the region (`aws`, `aws-cn`, `aws-us-gov`): what
    /// ARNs are built with.
    pub fn partition(&self) -> &'static str {
        self.partition
    }

    /// The interceptors installed on every client.
    pub fn interceptors(&self) -> &[SharedInterceptor] {
        &self.interceptors
    }

    /// The waiter of long operations: the caller's ([`AwsContext::with_waiter`]),
    /// else the core's provisioning preset ([`Waiter::provisioning`]).
    pub fn waiter(&self) -> Waiter {
        self.waiter_or(Waiter::provisioning)
    }

    /// The caller's waiter, else `preset` (a service's own default).
    pub fn waiter_or(&self, preset: fn() -> Waiter) -> Waiter {
        self.waiter.clone().unwrap_or_else(preset)
    }

    /// The SDK client of a service (`aws_sdk_s3::Client`, `aws_sdk_rds::Client`,
    /// ... of the enabled features): its configuration made from the context's
    /// `SdkConfig`, its timeouts bounded ([`bounded_timeouts`]), the context's
    /// interceptors installed (S3 path-style with a custom endpoint; Route 53
    /// with its CDATA reader).
    pub fn client<C: ServiceClient>(&self) -> C {
        C::from_context(self)
    }
}

impl From<&SdkConfig> for AwsContext {
    fn from(sdk_config: &SdkConfig) -> Self {
        AwsContext::new(sdk_config)
    }
}

impl fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsContext")
            .field("region", &self.sdk_config.region())
            .field("endpoint_url", &self.sdk_config.endpoint_url())
            .field("partition", &self.partition)
            .field("interceptors", &self.interceptors.len())
            .field("waiter", &self.waiter)
            .finish()
    }
}

/// The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// The SDK's timeout configuration for `timeouts`: connect, read and
/// per-attempt limits, and the per-operation limit over every retry. The
/// SDK's stalled-stream protection (on with `behavior-version-latest`) keeps
/// bounding streamed bodies, which outlive an operation.
pub fn timeout_config(timeouts: &deploy_core::Timeouts) -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.attempt)
        .operation_attempt_timeout(timeouts.attempt)
        .operation_timeout(timeouts.operation)
        .build()
}

/// The caller's timeout configuration (from its `SdkConfig`) with every limit
/// it leaves unset taken from [`deploy_core::Timeouts::default`]: no client
/// of this crate waits forever on a server that does not answer.
pub fn bounded_timeouts(caller: Option<&aws_smithy_types::timeout::TimeoutConfig>) -> aws_smithy_types::timeout::TimeoutConfig {
    let defaults = timeout_config(&deploy_core::Timeouts::default());
    match caller {
        None => defaults,
        Some(caller) => caller.to_builder().take_unset_from(defaults.to_builder()).build(),
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An SDK client [`AwsContext::client`] can make: one per enabled service.
pub trait ServiceClient: sealed::Sealed + Sized {
    /// The client for `ctx`.
    fn from_context(ctx: &AwsContext) -> Self;
}

/// `ServiceClient` for one service crate behind `$feature`: the config from
/// the context's `SdkConfig`, timeouts bounded, the retry events
/// (`retry_events`), the context's interceptors, then `$adjust` (a service's own setting) when given.
macro_rules! service_client {
    ($feature:literal, $krate:ident $(, $adjust:expr)?) => {
        #[cfg(feature = $feature)]
        impl sealed::Sealed for $krate::Client {}

        #[cfg(feature = $feature)]
        impl ServiceClient for $krate::Client {
            fn from_context(ctx: &AwsContext) -> Self {
                let mut builder = $krate::config::Builder::from(&ctx.sdk_config);
                builder.set_timeout_config(Some(bounded_timeouts(ctx.sdk_config.timeout_config())));
                builder.push_interceptor(SharedInterceptor::new(crate::retry_events::RetryEvents));
                for i in &ctx.interceptors {
                    builder.push_interceptor(i.clone());
                }
                $(builder = ($adjust)(builder, &ctx.sdk_config);)?
                $krate::Client::from_conf(builder.build())
            }
        }
    };
}

service_client!("s3", aws_sdk_s3, |b: aws_sdk_s3::config::Builder, c: &SdkConfig| b.force_path_style(c.endpoint_url().is_some()));
service_client!("secrets", aws_sdk_secretsmanager);
service_client!("kms", aws_sdk_kms);
service_client!("iam", aws_sdk_iam);
service_client!("rds", aws_sdk_rds);
service_client!("eks", aws_sdk_eks);
service_client!("backup", aws_sdk_backup);
service_client!("sts", aws_sdk_sts);
service_client!("ec2", aws_sdk_ec2);
service_client!("route53", aws_sdk_route53, |mut b: aws_sdk_route53::config::Builder, _: &SdkConfig| {
    b.push_interceptor(SharedInterceptor::new(crate::cdata::UnwrapCdata));
    b
});
service_client!("cloudwatch", aws_sdk_cloudwatch);
service_client!("cloudwatch", aws_sdk_sns);
service_client!("efs", aws_sdk_efs);
service_client!("logs", aws_sdk_cloudwatchlogs);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition(Some("eu-central-1")), "aws");
        assert_eq!(partition(Some("cn-north-1")), "aws-cn");
        assert_eq!(partition(Some("us-gov-west-1")), "aws-us-gov");
        assert_eq!(partition(None), "aws");
        let ctx = AwsContext::new(&SdkConfig::builder().region(Region::new("eu-central-1")).build());
        assert_eq!((ctx.partition(), ctx.in_region("cn-north-1").partition()), ("aws", "aws-cn"));
        assert_eq!(ctx.in_region("cn-north-1").region(), Some("cn-north-1"));
    }
}
