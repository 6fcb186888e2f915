//! Shared helpers: stores built from an in-memory cloud, and objects to fill them.

use bytes::Bytes;
use deploy_core::memory::InMemoryCloud;
use deploy_core::{BucketName, BucketSpec, ObjectKey, ObjectStore, ObjectStoreExt};
use std::time::Duration;

pub fn bucket(name: &str) -> BucketName {
    BucketName::new(name).unwrap()
}

pub fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

/// A cloud whose resources take 20 ms to provision, so every waiter waits.
pub fn slow_cloud() -> InMemoryCloud {
    InMemoryCloud::with_provisioning_delay(Duration::from_millis(20))
}

/// Create `name`, empty.
pub async fn empty_bucket(store: &dyn ObjectStore, name: &str) -> BucketName {
    let b = bucket(name);
    store.ensure_bucket(&BucketSpec::new(b.clone())).await.unwrap();
    b
}

/// Create `name` and fill it with `n` objects `obj/NNNN` of distinct content.
pub async fn filled_bucket(store: &dyn ObjectStore, name: &str, n: usize) -> BucketName {
    let b = empty_bucket(store, name).await;
    for i in 0..n {
        store.put_bytes(&b, &key(&format!("obj/{i:04}")), Bytes::from(format!("content of object {i}").repeat(i % 7 + 1))).await.unwrap();
    }
    b
}

/// What a [`Hooked`] store is about to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Read `bucket/key`.
    Get(String),
    /// Write `bucket/key`.
    Put(String),
    /// Copy into `bucket/key` from `bucket/key`.
    Copy { from: String, to: String },
}

type Hook = std::sync::Arc<dyn Fn(Step) -> futures::future::BoxFuture<'static, deploy_core::Result<()>> + Send + Sync>;

/// An in-memory store that runs a hook before each read, write and copy:
/// a concurrent writer, at the worst moment; an error of the hook is the
/// call's answer.
#[derive(Clone)]
pub struct Hooked {
    pub inner: InMemoryCloud,
    hook: Hook,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

impl Hooked {
    pub fn new<F, Fut>(inner: InMemoryCloud, hook: F) -> Self
    where
        F: Fn(Step) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = deploy_core::Result<()>> + Send + 'static,
    {
        use futures::FutureExt;
        Hooked { inner, hook: std::sync::Arc::new(move |step| hook(step).boxed()) }
    }
}

#[async_trait::async_trait]
impl ObjectStore for Hooked {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn reconcile_bucket(&self, spec: &BucketSpec, mode: deploy_core::Mode) -> deploy_core::Result<deploy_core::Plan> {
        match mode {
            deploy_core::Mode::Plan => self.inner.plan_bucket(spec).await,
            deploy_core::Mode::Apply => self.inner.ensure_bucket(spec).await,
        }
    }
    async fn describe_bucket(&self, bucket: &BucketName) -> deploy_core::Result<deploy_core::object_store::BucketInfo> {
        self.inner.describe_bucket(bucket).await
    }
    async fn delete_bucket(&self, bucket: &BucketName, confirm: Option<deploy_core::Confirm>) -> deploy_core::Result<()> {
        self.inner.delete_bucket(bucket, confirm).await
    }
    async fn put(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        body: deploy_core::ByteStream,
        options: &deploy_core::object_store::PutOptions,
    ) -> deploy_core::Result<deploy_core::ObjectMeta> {
        (self.hook)(Step::Put(format!("{bucket}/{key}"))).await?;
        self.inner.put(bucket, key, body, options).await
    }
    async fn get_opts(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        options: &deploy_core::object_store::GetOptions,
    ) -> deploy_core::Result<deploy_core::object_store::GetResult> {
        (self.hook)(Step::Get(format!("{bucket}/{key}"))).await?;
        self.inner.get_opts(bucket, key, options).await
    }
    async fn head(&self, bucket: &BucketName, key: &ObjectKey) -> deploy_core::Result<deploy_core::ObjectMeta> {
        self.inner.head(bucket, key).await
    }
    fn list(
        &self,
        bucket: &BucketName,
        options: deploy_core::object_store::ListOptions,
    ) -> futures::stream::BoxStream<'static, deploy_core::Result<deploy_core::ObjectMeta>> {
        self.inner.list(bucket, options)
    }
    fn key_order(&self) -> deploy_core::object_store::KeyOrder {
        self.inner.key_order()
    }
    async fn copy_opts(
        &self,
        from_bucket: &BucketName,
        from: &ObjectKey,
        to_bucket: &BucketName,
        to: &ObjectKey,
        options: &deploy_core::object_store::CopyOptions,
    ) -> deploy_core::Result<deploy_core::ObjectMeta> {
        (self.hook)(Step::Copy { from: format!("{from_bucket}/{from}"), to: format!("{to_bucket}/{to}") }).await?;
        self.inner.copy_opts(from_bucket, from, to_bucket, to, options).await
    }
    async fn delete_opts(
        &self,
        bucket: &BucketName,
        key: &ObjectKey,
        options: &deploy_core::object_store::DeleteOptions,
    ) -> deploy_core::Result<()> {
        self.inner.delete_opts(bucket, key, options).await
    }
    async fn delete_many(&self, bucket: &BucketName, keys: &[ObjectKey]) -> deploy_core::Result<()> {
        self.inner.delete_many(bucket, keys).await
    }
    async fn holds_data(&self, bucket: &BucketName) -> deploy_core::Result<bool> {
        self.inner.holds_data(bucket).await
    }
    async fn versioning_enabled(&self, bucket: &BucketName) -> deploy_core::Result<bool> {
        self.inner.versioning_enabled(bucket).await
    }
}
