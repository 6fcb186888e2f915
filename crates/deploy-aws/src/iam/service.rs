//! [`Iam`]: the service every IAM call goes through (users, policies and roles
//! in the parent module, access keys in `access_keys`).

use aws_sdk_iam::Client;

use crate::context::AwsContext;
use crate::error::Op;

pub(super) const SERVICE: &str = "aws-iam";

pub(super) const fn op(operation: &'static str) -> Op {
    Op::new(SERVICE, operation)
}

/// IAM. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct Iam {
    pub(super) client: Client,
}

impl Iam {
    /// IAM built from `ctx`.
    pub fn new(ctx: &AwsContext) -> Self {
        Iam { client: ctx.client() }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
