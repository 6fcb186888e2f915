//! Shared setup: the moto endpoint, SDK configs, unique names.

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use deploy_core::conformance::Names;

pub const REGION: &str = "eu-central-1";
/// The account moto answers for every request.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// The moto endpoint, or `None` with the skip reason printed; panics when
/// `DEPLOY_REQUIRE_PEERS=1` and the endpoint is missing
/// ([`deploy_core::conformance::peers`]).
pub fn moto_endpoint(test: &str) -> Option<String> {
    let endpoint = deploy_core::conformance::peers::moto_endpoint();
    if endpoint.is_none() {
        eprintln!("  (in {test})");
    }
    endpoint
}

/// An SDK config for `endpoint`: region eu-central-1, static credentials test/test.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "deploy-aws-tests"))
        .load()
        .await
}

/// An SDK config pointing at a port nothing listens on: any request would fail
/// with a connection error, so an `InvalidInput` proves none was sent.
pub async fn unreachable_config() -> SdkConfig {
    sdk_config("http://127.0.0.1:9").await
}

/// The SDK config of moto, or skip the test (`return`) when there is none.
macro_rules! moto {
    ($test:expr) => {
        match crate::support::moto_endpoint($test) {
            Some(endpoint) => crate::support::sdk_config(&endpoint).await,
            None => return,
        }
    };
}
pub(crate) use moto;

/// Unique names for one test (every resource starts with a random prefix).
pub fn names() -> Names {
    Names::unique()
}

/// moto's quirk with TLS-only buckets: it evaluates bucket policies on object
/// requests but ignores `Bool` conditions, so the statement denying
/// `aws:SecureTransport = false` denies *every* object request (HTTP 403).
/// This rewrites that statement's action `s3:*` to `S3:*`: the same policy for
/// AWS, where action names are case-insensitive (and for `S3Store`, which reads
/// it back as TLS-only), but one that moto's case-sensitive matcher skips.
pub async fn let_moto_serve_tls_only_bucket(client: &aws_sdk_s3::Client, bucket: &deploy_core::BucketName) {
    let Ok(out) = client.get_bucket_policy().bucket(bucket.as_str()).send().await else { return };
    let Some(policy) = out.policy() else { return };
    let mut policy: serde_json::Value = serde_json::from_str(policy).expect("policy JSON");
    let mut changed = false;
    for statement in policy["Statement"].as_array_mut().into_iter().flatten() {
        if statement["Sid"] == "DenyInsecureTransport" && statement["Action"] != serde_json::json!(["S3:*"]) {
            statement["Action"] = serde_json::json!(["S3:*"]);
            changed = true;
        }
    }
    if changed {
        client.put_bucket_policy().bucket(bucket.as_str()).policy(policy.to_string()).send().await.expect("put policy");
    }
}

/// An [`S3Store`](deploy_aws::s3::S3Store) whose `ensure_bucket` is followed by
/// [`let_moto_serve_tls_only_bucket`]; every other call goes straight through.
#[derive(Debug)]
pub struct MotoS3(pub deploy_aws::s3::S3Store);

impl MotoS3 {
    /// The S3 store of `conf` with `options`, its requests recorded in `log`.
    pub fn with_options(conf: &SdkConfig, log: &deploy_aws::RequestLog, options: deploy_aws::s3::S3Options) -> Self {
        MotoS3(deploy_aws::AwsBackends::from_conf(conf).with_request_log(log).s3().with_options(options).unwrap())
    }
}

#[async_trait::async_trait]
impl deploy_core::ObjectStore for MotoS3 {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn reconcile_bucket(&self, spec: &deploy_core::BucketSpec, mode: deploy_core::Mode) -> deploy_core::Result<deploy_core::Plan> {
        match mode {
            deploy_core::Mode::Plan => self.0.plan_bucket(spec).await,
            deploy_core::Mode::Apply => {
                let plan = self.0.ensure_bucket(spec).await?;
                let_moto_serve_tls_only_bucket(self.0.client(), &spec.name).await;
                Ok(plan)
            }
        }
    }
    async fn describe_bucket(&self, bucket: &deploy_core::BucketName) -> deploy_core::Result<deploy_core::object_store::BucketInfo> {
        self.0.describe_bucket(bucket).await
    }
    async fn delete_bucket(&self, bucket: &deploy_core::BucketName, confirm: Option<deploy_core::Confirm>) -> deploy_core::Result<()> {
        self.0.delete_bucket(bucket, confirm).await
    }
    async fn put(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        body: deploy_core::ByteStream,
        options: &deploy_core::object_store::PutOptions,
    ) -> deploy_core::Result<deploy_core::ObjectMeta> {
        self.0.put(bucket, key, body, options).await
    }
    async fn get_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::GetOptions,
    ) -> deploy_core::Result<deploy_core::object_store::GetResult> {
        self.0.get_opts(bucket, key, options).await
    }
    async fn head(&self, bucket: &deploy_core::BucketName, key: &deploy_core::ObjectKey) -> deploy_core::Result<deploy_core::ObjectMeta> {
        self.0.head(bucket, key).await
    }
    fn list(
        &self,
        bucket: &deploy_core::BucketName,
        options: deploy_core::object_store::ListOptions,
    ) -> futures::stream::BoxStream<'static, deploy_core::Result<deploy_core::ObjectMeta>> {
        self.0.list(bucket, options)
    }
    async fn copy_opts(
        &self,
        from_bucket: &deploy_core::BucketName,
        from: &deploy_core::ObjectKey,
        to_bucket: &deploy_core::BucketName,
        to: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::CopyOptions,
    ) -> deploy_core::Result<deploy_core::ObjectMeta> {
        self.0.copy_opts(from_bucket, from, to_bucket, to, options).await
    }
    async fn delete_opts(
        &self,
        bucket: &deploy_core::BucketName,
        key: &deploy_core::ObjectKey,
        options: &deploy_core::object_store::DeleteOptions,
    ) -> deploy_core::Result<()> {
        self.0.delete_opts(bucket, key, options).await
    }
    async fn delete_many(&self, bucket: &deploy_core::BucketName, keys: &[deploy_core::ObjectKey]) -> deploy_core::Result<()> {
        self.0.delete_many(bucket, keys).await
    }
    async fn holds_data(&self, bucket: &deploy_core::BucketName) -> deploy_core::Result<bool> {
        self.0.holds_data(bucket).await
    }
    async fn versioning_enabled(&self, bucket: &deploy_core::BucketName) -> deploy_core::Result<bool> {
        self.0.versioning_enabled(bucket).await
    }
}

/// A context whose clients answer from `rules` (aws-smithy-mocks) instead of
/// a server: what `mock_client!` sets up (the mock HTTP client, the rules'
/// interceptor, test credentials), made through the [`deploy_aws::AwsContext`]
/// every service is built from. `retry` replaces the SDK's default retries.
pub fn mock_context<'a>(
    mode: aws_smithy_mocks::RuleMode,
    rules: impl IntoIterator<Item = &'a aws_smithy_mocks::Rule>,
    region: &str,
    retry: Option<aws_smithy_types::retry::RetryConfig>,
) -> deploy_aws::AwsContext {
    let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(mode);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
            "test",
            "test",
            None,
            None,
            "deploy-aws-mocks",
        )))
        .http_client(aws_smithy_mocks::create_mock_http_client());
    if let Some(retry) = retry {
        config = config.retry_config(retry);
    }
    deploy_aws::AwsContext::new(&config.build())
        .with_interceptor(aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(interceptor))
}
