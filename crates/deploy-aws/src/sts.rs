//! STS: who the caller is — the account id that ARNs of IAM users, roles and
//! the KMS key policy's account root are built from.

use deploy_core::Result;

use crate::context::AwsContext;
use crate::error::{Op, SdkResultExt, missing};

const OP: Op = Op::new("aws-sts", "GetCallerIdentity");

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account id (12 digits).
    pub account: String,
    /// The caller's ARN (a user, or an assumed role's session).
    pub arn: String,
    /// The caller's unique id.
    pub user_id: String,
}

impl CallerIdentity {
    /// The partition of the caller's ARN (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &str {
        self.arn.split(':').nth(1).unwrap_or("aws")
    }

    /// The ARN of an IAM role of this account.
    pub fn role_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition(), self.account)
    }

    /// The ARN of an IAM user of this account.
    pub fn user_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:user/{name}", self.partition(), self.account)
    }
}

/// Who the caller of `ctx` is (`GetCallerIdentity` needs no permission).
///
/// # Errors
/// [`deploy_core::Error::Unauthorized`] for invalid credentials; provider errors.
pub async fn caller_identity(ctx: &AwsContext) -> Result<CallerIdentity> {
    let client: aws_sdk_sts::Client = ctx.client();
    let out = client.get_caller_identity().send().await.on(OP, "caller identity", "self")?;
    Ok(CallerIdentity {
        account: out.account().ok_or_else(|| missing(OP, "account"))?.to_owned(),
        arn: out.arn().ok_or_else(|| missing(OP, "ARN"))?.to_owned(),
        user_id: out.user_id().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_of_the_account() {
        let me =
            CallerIdentity { account: "123456789012".into(), arn: "arn:aws-cn:iam::123456789012:user/ops".into(), user_id: "AIDA".into() };
        assert_eq!(me.partition(), "aws-cn");
        assert_eq!(me.user_arn("deeploy"), "arn:aws-cn:iam::123456789012:user/deeploy");
        assert_eq!(me.role_arn("eks"), "arn:aws-cn:iam::123456789012:role/eks");
    }
}
