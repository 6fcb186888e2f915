//! The conformance suites on the in-memory backends, and proof that they catch a broken backend.

use std::panic::AssertUnwindSafe;

use async_trait::async_trait;
use futures::FutureExt;
use futures::stream::{BoxStream, StreamExt};

use deploy_core::conformance::{self, Names};
use deploy_core::object_store::{BucketInfo, CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, PutOptions};
use deploy_core::{BucketName, BucketSpec, ByteStream, Confirm, ObjectKey, ObjectMeta, ObjectStore, PasswordRules, Plan, Result};

use crate::support::slow_cloud;

#[tokio::test]
async fn object_store_suite_passes_in_memory() {
    conformance::object_store(&slow_cloud(), &Names::unique()).await;
}

#[tokio::test]
async fn database_suite_passes_in_memory() {
    conformance::DatabaseSuite::postgres("15", "db.t3.micro", &PasswordRules::rds_master()).run(&slow_cloud(), &Names::unique()).await;
}

#[tokio::test]
async fn cluster_suite_passes_in_memory() {
    conformance::ClusterSuite::new("1.31", "m5.large").run(&slow_cloud(), &Names::unique()).await;
}

#[tokio::test]
async fn secret_store_suite_passes_in_memory() {
    conformance::secret_store(&slow_cloud(), &Names::unique()).await;
}

#[tokio::test]
async fn backup_suites_pass_in_memory() {
    let cloud = slow_cloud();
    let names = Names::unique();
    conformance::backup_vault_and_plan(&cloud, &names, vec!["arn:aws:rds:eu-central-1:000000000000:db:prod".into()]).await;
    conformance::backup_recovery_points(&cloud, &names, "arn:aws:rds:eu-central-1:000000000000:db:prod").await;
}

/// A backend with one bug: its listings lose their last object.
#[derive(Debug)]
struct DropsLastListed(deploy_core::memory::InMemoryCloud);

#[async_trait]
impl ObjectStore for DropsLastListed {
    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: deploy_core::Mode) -> Result<Plan> {
        self.0.reconcile_bucket(spec, mode).await
    }
    async fn describe_bucket(&self, bucket: &BucketName) -> Result<BucketInfo> {
        self.0.describe_bucket(bucket).await
    }
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<Confirm>) -> Result<()> {
        self.0.delete_bucket(bucket, confirm).await
    }
    async fn put(&self, bucket: &BucketName, key: &ObjectKey, body: ByteStream, options: &PutOptions) -> Result<ObjectMeta> {
        self.0.put(bucket, key, body, options).await
    }
    async fn get_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &GetOptions) -> Result<GetResult> {
        self.0.get_opts(bucket, key, options).await
    }
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> Result<ObjectMeta> {
        self.0.head(bucket, key).await
    }
    fn list(&self, bucket: &BucketName, options: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner = self.0.list(bucket, options);
        async move {
            let mut all: Vec<Result<ObjectMeta>> = inner.collect().await;
            all.pop();
            futures::stream::iter(all)
        }
        .flatten_stream()
        .boxed()
    }
    async fn copy_opts(&self, fb: &BucketName, f: &ObjectKey, tb: &BucketName, t: &ObjectKey, o: &CopyOptions) -> Result<ObjectMeta> {
        self.0.copy_opts(fb, f, tb, t, o).await
    }
    async fn delete_opts(&self, bucket: &BucketName, key: &ObjectKey, options: &DeleteOptions) -> Result<()> {
        self.0.delete_opts(bucket, key, options).await
    }
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> Result<()> {
        self.0.delete_many(bucket, keys).await
    }
    fn backend(&self) -> &'static str {
        "drops-last-listed"
    }
}

#[tokio::test]
async fn suite_catches_a_backend_that_drops_the_last_listed_object() {
    let broken = DropsLastListed(slow_cloud());
    let outcome = AssertUnwindSafe(conformance::object_store(&broken, &Names::unique())).catch_unwind().await;
    let panic = outcome.expect_err("the suite passed a backend whose listings lose an object");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("missing from the listing") || message.contains("listing"), "failed for another reason: {message}");
}

#[tokio::test]
async fn mocks_stand_in_for_any_trait() {
    let mut mock = deploy_core::object_store::MockObjectStore::new();
    mock.expect_backend().return_const("mock");
    mock.expect_describe_bucket().returning(|b| Err(deploy_core::Error::not_found("bucket", b.as_str())));
    let store: std::sync::Arc<dyn ObjectStore> = std::sync::Arc::new(mock);
    assert_eq!(store.backend(), "mock");
    assert!(store.describe_bucket(&BucketName::new("abc").unwrap()).await.unwrap_err().is_not_found());
    let mut db = deploy_core::database::MockDatabase::new();
    db.expect_backend().return_const("mock");
    assert_eq!(deploy_core::Database::backend(&db), "mock");
}
