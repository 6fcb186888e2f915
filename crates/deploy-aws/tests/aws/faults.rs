//! Failures injected into one AWS operation by an SDK interceptor: before the
//! request leaves (the server never sees it) or after the server answered
//! (it applied the request; the answer is lost). Used to fail a credential
//! rotation between its steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// When the injected failure happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Before the request is sent.
    Before,
    /// After the server answered (it applied the request): the answer cannot
    /// be read (an error the SDK does not retry).
    After,
    /// After the server answered (it applied the request): the answer is
    /// replaced by a 500, as a proxy that lost it would (the SDK retries it,
    /// unless the call turned its retries off).
    AfterAs500,
}

/// Fail the next `n` calls of `operation` (`PutSecretValue`, `UpdateAccessKey`).
#[derive(Clone, Debug)]
pub struct FailOperation {
    operation: &'static str,
    when: When,
    remaining: Arc<AtomicU32>,
    hits: Arc<AtomicU32>,
}

impl FailOperation {
    pub fn new(operation: &'static str, when: When, n: u32) -> Self {
        FailOperation { operation, when, remaining: Arc::new(AtomicU32::new(n)), hits: Arc::default() }
    }

    /// Fail `n` more calls.
    pub fn arm(&self, n: u32) {
        self.remaining.store(n, Ordering::SeqCst);
    }

    /// How many calls were failed so far.
    pub fn hits(&self) -> u32 {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }

    /// Whether this call of the operation is one to fail.
    fn hit(&self, cfg: &ConfigBag, when: When) -> bool {
        if when != self.when || cfg.load::<Metadata>().is_none_or(|m| m.name() != self.operation) {
            return false;
        }
        let hit = self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if hit {
            self.hits.fetch_add(1, Ordering::SeqCst);
        }
        hit
    }

    fn take(&self, cfg: &ConfigBag, when: When) -> Result<(), BoxError> {
        if self.hit(cfg, when) {
            return Err(format!("injected failure of {} ({:?} the server)", self.operation, when).into());
        }
        Ok(())
    }
}

impl Intercept for FailOperation {
    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.take(cfg, When::Before)
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.hit(cfg, When::AfterAs500) {
            let response = context.response_mut();
            *response.status_mut() = 500.try_into().expect("a status");
            *response.body_mut() =
                aws_smithy_types::body::SdkBody::from("<Error><Code>InternalError</Code><Message>injected</Message></Error>");
        }
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.take(cfg, When::After)
    }

    fn name(&self) -> &'static str {
        "deploy-aws-tests::FailOperation"
    }
}
